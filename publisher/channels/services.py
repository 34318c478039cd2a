"""Connected channels: loading them within a user's scope and building their adapters."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l

from publisher.accounts.models import User
from publisher.accounts.services import can_see_unit
from publisher.channels.base import ChannelAdapter, adapter_class
from publisher.channels.models import Channel
from publisher.crypto import decrypt_json, encrypt_json
from publisher.db import db
from publisher.errors import NotFound
from publisher.settings import Settings


def get_channel(channel_id: int, user: User) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None or not can_see_unit(user, channel.unit.path):
        raise NotFound(_l("No such channel."))
    return channel


def channel_secrets(channel: Channel, settings: Settings) -> dict:
    return decrypt_json(settings.secret_key, channel.secrets_encrypted)


def store_secrets(channel: Channel, settings: Settings, secrets: dict) -> None:
    channel.secrets_encrypted = encrypt_json(settings.secret_key, secrets) if secrets else None


def adapter_for(channel: Channel, settings: Settings) -> ChannelAdapter:
    """The channel's adapter, with its decrypted secrets (never logged, never returned by the API)."""
    cls = adapter_class(channel.kind)
    return cls(settings, dict(channel.settings or {}), channel_secrets(channel, settings), channel_id=channel.id)


# Called with the channel after it was reconnected (new tokens): the scheduler resumes its paused deliveries.
RECONNECT_HOOKS: list[Callable[[Channel], Any]] = []
