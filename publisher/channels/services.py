"""Connected channels: connecting, changing, testing and disconnecting them, and building their adapters.

Tokens and other secrets are split from a channel's settings when it is saved and stored encrypted; nothing here
logs or returns them. Other areas plug in through two lists:

- :data:`RECONNECT_HOOKS`: callables ``hook(channel)`` run (inside the caller's unit of work, before commit)
  whenever a channel is connected again — new tokens, or a test that works again after ``needs_reconnect`` —
  so that the pipeline can resume the deliveries it ``paused`` for it.
- :data:`DISCONNECT_HOOKS`: callables ``hook(channel)`` run (in the caller's unit of work) when an admin disconnects
  a channel, so that the deliveries waiting for it are ``paused`` until it is connected again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from publisher.accounts.models import Unit, User
from publisher.accounts.services import can_see_unit, get_unit, require_role, visible_filter
from publisher.audit import record
from publisher.channels import load_adapters
from publisher.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionStatus,
    ErrorKind,
    adapter_class,
    descriptions,
)
from publisher.channels.models import Channel
from publisher.crypto import decrypt_json, encrypt_json
from publisher.db import db, utcnow
from publisher.errors import Conflict, NotFound, ValidationFailed
from publisher.settings import Settings

log = logging.getLogger(__name__)

NAME_MAX = 200
SECRET_KEYS = {"access_token", "refresh_token", "client_secret", "password", "expires_at"}
# Kinds whose credentials are checked against the platform before they are saved, besides those whose description
# says ``check_at_connect``.
CHECK_AT_CONNECT: set[str] = set()

RECONNECT_HOOKS: list[Callable[[Channel], None]] = []
DISCONNECT_HOOKS: list[Callable[[Channel], None]] = []
# {kind: check(channel, at, pending_between, settings)}: refuse (ValidationFailed) one more delivery at ``at`` that the
# platform's daily limits cannot carry; ``pending_between(start, end)`` counts the channel's deliveries already
# waiting in that window (YouTube registers its quota check).
SCHEDULE_CHECKS: dict[str, Callable[..., None]] = {}


# --- loading -------------------------------------------------------------------------------------------------


def get_channel(channel_id: int, user: User) -> Channel:
    channel = db.session.get(Channel, channel_id)
    if channel is None or not can_see_unit(user, channel.unit.path):
        raise NotFound(_l("No such channel."))
    return channel


def list_channels(user: User, kind: str | None = None) -> list[Channel]:
    query = select(Channel).where(visible_filter(user, Channel.unit_id)).order_by(Channel.kind, Channel.name)
    if kind:
        query = query.where(Channel.kind == kind)
    return list(db.session.scalars(query))


def channel_secrets(channel: Channel, settings: Settings) -> dict:
    return decrypt_json(settings.secret_key, channel.secrets_encrypted)


def store_secrets(channel: Channel, settings: Settings, secrets: dict) -> None:
    channel.secrets_encrypted = encrypt_json(settings.secret_key, secrets) if secrets else None


def secret_names(channel: Channel, settings: Settings) -> list[str]:
    """Which secrets a channel holds (names only, for display)."""
    try:
        return sorted(channel_secrets(channel, settings))
    except ValueError:
        return []


def adapter_for(channel: Channel, settings: Settings) -> ChannelAdapter:
    """The channel's adapter, with its decrypted secrets (never logged, never returned by the API)."""
    cls = adapter_class(channel.kind)
    return cls(settings, dict(channel.settings or {}), channel_secrets(channel, settings), channel_id=channel.id)


def keep_refreshed_secrets(channel: Channel, adapter: ChannelAdapter, settings: Settings) -> bool:
    """Store, encrypted, credentials an adapter refreshed during its calls (``adapter.updated_secrets``); True
    when there were some. Callers commit."""
    updated = getattr(adapter, "updated_secrets", None)
    if not updated:
        return False
    store_secrets(channel, settings, updated)
    db.session.flush()
    return True


def quota_for(channel: Channel, settings: Settings) -> dict[str, Any] | None:
    """The quota use ``{"used", "limit"}`` the channel kind's description reports (``quota``), else ``None``."""
    described = descriptions().get(channel.kind)
    provider = described.quota if described is not None else None
    if provider is None:
        return None
    try:
        return provider(channel, settings)
    except Exception:  # a broken tracker must not break the channel list
        log.exception("quota provider for %s failed", channel.kind)
        return None


# --- input ------------------------------------------------------------------------------------------------------


def is_secret_key(key: str, kind: str | None = None) -> bool:
    """A setting kept encrypted: one the kind's description calls secret, or one named like a token or secret."""
    described = descriptions().get(kind) if kind is not None else None
    if described is not None and key in described.secret_settings:
        return True
    return key in SECRET_KEYS or key.endswith("_token") or key.endswith("_secret")


def split_settings(raw: dict[str, Any], kind: str | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(shown, secret)``: tokens and other secrets go to the encrypted store, the rest may be displayed."""
    shown, secret = {}, {}
    for key, value in raw.items():
        if isinstance(value, str):
            value = value.strip()
        (secret if is_secret_key(key, kind) else shown)[key] = value
    return shown, secret


def _clean_name(data: dict[str, Any], problems: dict[str, list[Any]], required: bool) -> str | None:
    if "name" not in data and not required:
        return None
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        problems.setdefault("name", []).append(_l("A name is required."))
        return None
    if len(name.strip()) > NAME_MAX:
        problems.setdefault("name", []).append(_l("At most %(n)s characters.", n=NAME_MAX))
        return None
    return name.strip()


def _settings_input(data: dict[str, Any], problems: dict[str, list[Any]], kind: str | None = None) -> dict[str, Any]:
    """The settings given, checked: a setting the kind describes (its connect fields: ids, tokens) is text, as the
    OpenAPI bodies say; other settings may be text, a number or a yes/no."""
    raw = data.get("settings", {})
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        problems.setdefault("settings", []).append(_l("Expected an object."))
        return {}
    described = descriptions().get(kind) if isinstance(kind, str) else None
    for key, value in raw.items():
        text_only = described is not None and described.connect_field(key) is not None
        if value is not None and not isinstance(value, str if text_only else (str, int, bool)):
            problems.setdefault(f"settings.{key}", []).append(_l("Wrong type of value."))
    return {k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in raw.items()}


def _require_keys(kind: str, shown: dict[str, Any], secret: dict[str, Any], problems: dict[str, list[Any]]) -> None:
    for key in descriptions()[kind].required_settings:
        if not (shown.get(key) if key in shown else secret.get(key)):
            problems.setdefault(f"settings.{key}", []).append(_l("Required for a %(kind)s channel.", kind=kind))


def _check_credentials(kind: str, settings: Settings, shown: dict[str, Any], secret: dict[str, Any],
                       channel_id: int | None = None) -> ConnectionStatus | None:
    """Ask the platform whether these credentials work; ``None`` for kinds not checked at connect time."""
    load_adapters()
    if kind not in CHECK_AT_CONNECT and not descriptions()[kind].check_at_connect:
        return None
    try:
        cls = adapter_class(kind)
    except KeyError:
        return None
    status = cls(settings, shown, secret, channel_id=channel_id).check_connection()
    if not status.ok:
        raise ValidationFailed({"settings.access_token": status.message},
                               message=_l("The channel could not be connected: %(reason)s", reason=status.message))
    return status


# --- changing -------------------------------------------------------------------------------------------------


def create_channel(actor: User, data: dict[str, Any], settings: Settings, unit_id: int | None = None) -> Channel:
    """Connect a channel (admins of the unit). Facebook credentials are checked first: a user token is refused."""
    unit: Unit = actor.unit if unit_id is None else get_unit(unit_id)
    if not can_see_unit(actor, unit.path):
        raise NotFound(_l("No such organisation unit."))
    require_role(actor, "admin", unit)
    problems: dict[str, list[Any]] = {}
    kind = data.get("kind")
    known = descriptions()
    if kind not in known:
        problems["kind"] = [_l("Choose one of: %(kinds)s.", kinds=", ".join(known))]
    name = _clean_name(data, problems, required=True)
    shown, secret = split_settings(_settings_input(data, problems, kind if isinstance(kind, str) else None),
                                   kind if isinstance(kind, str) else None)
    if kind in known:
        _require_keys(kind, shown, secret, problems)
    if problems:
        raise ValidationFailed(problems)
    status = _check_credentials(kind, settings, shown, secret)
    if status is not None and status.details.get("page_name"):
        shown.setdefault("page_name", status.details["page_name"])
    channel = Channel(unit_id=unit.id, kind=kind, name=name, settings=shown, state="connected", last_error="",
                      last_checked_at=utcnow() if status is not None else None)
    store_secrets(channel, settings, secret)
    db.session.add(channel)
    db.session.flush()
    record(actor, "channel.create", channel, kind=kind, name=name, settings=shown, secrets=sorted(secret))
    return channel


def update_channel(channel: Channel, actor: User, data: dict[str, Any], settings: Settings) -> Channel:
    """PATCH semantics: ``name`` replaces, ``settings`` merge into the old ones (``null`` removes a key). New
    tokens (or a new page/channel id) reconnect the channel: they are checked, the state goes back to
    ``connected`` and :data:`RECONNECT_HOOKS` run."""
    require_role(actor, "admin", channel.unit)
    problems: dict[str, list[Any]] = {}
    name = _clean_name(data, problems, required=False)
    if "kind" in data and data["kind"] != channel.kind:
        problems["kind"] = [_l("The kind of a channel cannot change; connect a new channel instead.")]
    shown_in, secret_in = split_settings(_settings_input(data, problems, channel.kind), channel.kind)
    if problems:
        raise ValidationFailed(problems)
    old_secrets = channel_secrets(channel, settings)
    shown = {k: v for k, v in {**(channel.settings or {}), **shown_in}.items() if v is not None}
    secret = {k: v for k, v in {**old_secrets, **secret_in}.items() if v is not None}
    reconnecting = bool(secret_in) or any(shown_in.get(k) != (channel.settings or {}).get(k)
                                          for k in descriptions()[channel.kind].connection_settings if k in shown_in)
    if channel.state == "disconnected" and not reconnecting and shown_in:
        raise Conflict(_l("This channel is disconnected: send new credentials to connect it again."))
    if reconnecting:
        _require_keys(channel.kind, shown, secret, problems)
        if problems:
            raise ValidationFailed(problems)
        status = _check_credentials(channel.kind, settings, shown, secret, channel_id=channel.id)
        if status is not None and status.details.get("page_name"):
            shown["page_name"] = status.details["page_name"]
    if name is not None:
        channel.name = name
    channel.settings = shown
    store_secrets(channel, settings, secret)
    changed = sorted(set(shown_in) | set(secret_in))
    if reconnecting:
        channel.state = "connected"
        channel.last_error = ""
        channel.last_checked_at = utcnow()
    db.session.flush()
    record(actor, "channel.update", channel, name=channel.name, changed=changed, reconnected=reconnecting)
    if reconnecting:
        _run_reconnect_hooks(channel)
    return channel


def disconnect_channel(channel: Channel, actor: User, settings: Settings) -> Channel:
    """Forget the channel's credentials; nothing goes out on it until it is connected again."""
    require_role(actor, "admin", channel.unit)
    store_secrets(channel, settings, {})
    channel.state = "disconnected"
    channel.last_error = ""
    db.session.flush()
    record(actor, "channel.disconnect", channel)
    for hook in DISCONNECT_HOOKS:
        hook(channel)
    return channel


def check_channel(channel: Channel, settings: Settings, actor: User | None = None) -> ConnectionStatus:
    """Check the stored credentials on the platform now and keep the outcome on the channel."""
    if actor is not None:
        require_role(actor, "admin", channel.unit)
    if channel.state == "disconnected":
        status = ConnectionStatus(ok=False, message=_("This channel is disconnected."))
    else:
        try:
            status = adapter_for(channel, settings).check_connection()
        except KeyError:
            status = ConnectionStatus(ok=False, message=_("Loa has no adapter for %(kind)s channels.",
                                                          kind=channel.kind))
        except ValueError as exc:  # secrets stored under another secret key
            error = ChannelError(ErrorKind.AUTH_EXPIRED, str(exc), code="secrets_unreadable")
            status = ConnectionStatus(ok=False, message=_("The stored credentials cannot be read: connect the "
                                                          "channel again."), error=error)
    channel.last_checked_at = utcnow()
    if status.ok:
        was = channel.state
        channel.state = "connected"
        channel.last_error = ""
        db.session.flush()
        if was == "needs_reconnect":
            _run_reconnect_hooks(channel)
    elif status.error is not None and status.error.kind is ErrorKind.AUTH_EXPIRED and channel.state != "disconnected":
        mark_needs_reconnect(channel, status.message)
    else:
        channel.last_error = status.message
    db.session.flush()
    record(actor, "channel.test", channel, ok=status.ok, message=status.message)
    return status


def token_health(channel: Channel) -> Any:
    """What the platform last said about the channel's credentials (the description's ``token_health``), or None."""
    described = descriptions().get(channel.kind)
    if described is None or described.token_health is None:
        return None
    return described.token_health(channel)


def after_connect(channel: Channel, settings: Settings) -> None:
    """What the kind does once a channel was connected from its form (the description's ``after_connect``)."""
    described = descriptions().get(channel.kind)
    if described is not None and described.after_connect is not None:
        described.after_connect(channel, settings)


def oauth_adapter(kind: str) -> type[ChannelAdapter] | None:
    """The adapter class of ``kind`` when it offers a platform sign-in (``oauth_configured(settings)``,
    ``authorization_url(settings, redirect_uri) -> (url, kept)``, ``exchange_code(settings, args, kept) ->
    {"name", "settings", "secrets"}``), else ``None``."""
    try:
        cls = adapter_class(kind)
    except KeyError:
        return None
    offered = all(hasattr(cls, name) for name in ("authorization_url", "exchange_code", "oauth_configured"))
    return cls if offered else None


def connect_with_oauth(actor: User, kind: str, connected: dict[str, Any], settings: Settings, unit: Unit,
                       channel: Channel | None = None) -> Channel:
    """Connect what a platform sign-in gave (``{"name", "settings", "secrets"}`` from the adapter's
    ``exchange_code``): reconnect ``channel``, or the unit's channel of that kind for the same account, or a new
    one. Callers commit."""
    values = {**connected.get("settings", {}), **connected.get("secrets", {})}
    keys = descriptions()[kind].connection_settings
    if channel is None:
        channel = next((c for c in db.session.scalars(select(Channel).where(Channel.unit_id == unit.id,
                                                                              Channel.kind == kind))
                        if keys and all((c.settings or {}).get(k) == values.get(k) for k in keys)), None)
    if channel is not None:
        if channel.kind != kind:
            raise ValidationFailed({"kind": [_l("The kind of a channel cannot change; connect a new channel "
                                                "instead.")]})
        return update_channel(channel, actor, {"settings": values}, settings)
    return create_channel(actor, {"kind": kind, "name": connected.get("name") or kind, "settings": values},
                          settings, unit_id=unit.id)


def mark_needs_reconnect(channel: Channel, reason: str) -> Channel:
    """The platform no longer accepts the channel's credentials (the pipeline calls this on AUTH_EXPIRED)."""
    if channel.state == "disconnected":
        return channel
    changed = channel.state != "needs_reconnect"
    channel.state = "needs_reconnect"
    channel.last_error = reason
    db.session.flush()
    if changed:
        log.warning("channel %s needs reconnecting", channel.id)
        record(None, "channel.needs_reconnect", channel, reason=reason)
    return channel


def _run_reconnect_hooks(channel: Channel) -> None:
    for hook in RECONNECT_HOOKS:
        hook(channel)
