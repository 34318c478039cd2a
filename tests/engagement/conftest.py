from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.channels import base
from publisher.db import db
from tests.engagement.testchannel import MetricsServer, TestChannelAdapter

TEST_CONFIG = """
[batch]
testchannel = 3

[measures.testchannel]
views = ["post_media_view"]
reactions = ["reactions"]
comments = ["comments"]
shares = ["shares"]
zero_when_missing = ["shares"]
retired = ["post_impressions"]
"""

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "engagement.toml"
    path.write_text(TEST_CONFIG, encoding="utf-8")
    return {**app_config, "engagement_config": path}


@pytest.fixture
def testchannel() -> Iterator[type]:
    base.REGISTRY["testchannel"] = TestChannelAdapter
    yield TestChannelAdapter
    base.REGISTRY.pop("testchannel", None)


@pytest.fixture
def metrics_server(testchannel: type) -> Iterator[MetricsServer]:
    server = MetricsServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_channel(app, root_unit, metrics_server) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel

    def make(name: str = "Kênh thử", kind: str = "testchannel", unit: Any = None, **settings: Any) -> Any:
        channel = Channel(unit_id=(unit or root_unit).id, kind=kind, name=name,
                          settings={"url": metrics_server.url, **settings}, state="connected")
        db.session.add(channel)
        db.session.commit()
        return channel

    return make


@pytest.fixture
def make_delivery(app, make_post) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.scheduler.models import Delivery

    counter = itertools.count(1)

    def make(channel: Any, post: Any = None, remote_id: str | None = None, published_at: datetime | None = None,
             state: str = "published") -> Any:
        post = post or make_post(state="approved")
        n = next(counter)
        published_at = published_at or NOW - timedelta(hours=2)
        delivery = Delivery(post_id=post.id, channel_id=channel.id, unit_id=channel.unit_id, state=state,
                            scheduled_at=published_at, idempotency_key=f"test-{n}-{channel.id}-{post.id}",
                            remote_id=remote_id or f"r{n}", published_at=published_at)
        db.session.add(delivery)
        db.session.commit()
        return delivery

    return make
