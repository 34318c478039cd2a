"""Shared conventions for adapter tests (every channel kind uses these):

- ``make_channel(kind, settings=..., secrets=..., unit=...)`` -> a committed Channel row (secrets encrypted);
- ``adapter(channel)`` -> its adapter, built the way the pipeline builds it (``adapter_for``);
- ``make_media(kind="image", caption=..., alt_text=...)`` -> an uploaded MediaItem with real renditions;
- ``publish_request(post, kind="website", key=None, **overrides)`` -> the PublishRequest the pipeline would send
  (``publisher.scheduler.requests.publish_request_for``), with dataclass fields overridden;
- ``assert_channel_error(kind, fn, *args)`` -> the ChannelError raised, checked for its ErrorKind.
"""

from __future__ import annotations

import dataclasses
import io
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from publisher.channels.base import ChannelAdapter, ChannelError, ErrorKind, PublishRequest
from publisher.db import db
from tests.conftest import image_bytes


@pytest.fixture
def make_channel(app, root_unit, settings) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel
    from publisher.channels.services import store_secrets

    def make(kind: str = "website", name: str | None = None, channel_settings: dict[str, Any] | None = None,
             secrets: dict[str, Any] | None = None, unit: Any = None) -> Channel:
        channel = Channel(kind=kind, name=name or f"{kind} channel", unit_id=(unit or root_unit).id,
                          settings=channel_settings or {})
        store_secrets(channel, settings, secrets or {})
        db.session.add(channel)
        db.session.commit()
        return channel

    return make


@pytest.fixture
def adapter(settings) -> Callable[..., ChannelAdapter]:  # type: ignore[no-untyped-def]
    from publisher.channels.services import adapter_for

    def build(channel: Any) -> ChannelAdapter:
        return adapter_for(channel, settings)

    return build


@pytest.fixture
def make_media(app, make_user, settings) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.content.media import MediaLimits, save_upload

    def make(kind: str = "image", user: Any = None, caption: str = "Ảnh minh hoạ", alt_text: str = "Công nhân",
             data: bytes | None = None, filename: str = "anh.jpg") -> Any:
        if data is None:
            data = image_bytes() if kind == "image" else b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 2048
        item = save_upload(io.BytesIO(data), filename, user or make_user("editor"), settings.media_dir,
                           MediaLimits(settings.max_image_mb * 2**20, settings.max_video_mb * 2**20),
                           caption=caption, alt_text=alt_text)
        db.session.commit()
        return item

    return make


@pytest.fixture
def publish_request(settings) -> Callable[..., PublishRequest]:  # type: ignore[no-untyped-def]
    from publisher.scheduler.requests import publish_request_for

    def make(post: Any, kind: str = "website", key: str | None = None, **overrides: Any) -> PublishRequest:
        request = publish_request_for(post, kind, key or uuid.uuid4().hex, settings)
        return dataclasses.replace(request, **overrides) if overrides else request

    return make


def assert_channel_error(kind: ErrorKind, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        fn(*args, **kwargs)
    assert caught.value.kind == kind, caught.value
    return caught.value
