"""Connecting Facebook Pages with Facebook Login for Pages, their tokens' health, and Meta's required callbacks.

The flow (Meta's "Manually Build a Login Flow", "Long-Lived Access Tokens" and "Pages API: Manage a Page",
read 2026-12-02; the sandbox in ``channels/sandbox/facebook_login.py`` follows the same pages):

1. :func:`start_facebook_login` answers the dialog URL ``{dialog base}/{version}/dialog/oauth`` with
   ``client_id``, ``redirect_uri``, ``state`` and ``scope`` (:data:`SCOPES`); the caller keeps the state in the
   admin's session, for one use.
2. :func:`finish_facebook_login` checks the state, trades the code for a short-lived user token
   (``/oauth/access_token``), that for a long-lived one (``grant_type=fb_exchange_token``), and reads who signed
   in and which permissions they declined (``/me/permissions``) → a :class:`PendingLogin` the caller keeps,
   encrypted, until the admin has picked Pages.
3. :func:`list_pages` reads the person's Pages (``/me/accounts``) with their tasks; :func:`connect_pages`
   connects the chosen ones with each Page's own token through :func:`~publisher.channels.services.create_channel`
   or, for a Page Loa has already, :func:`~publisher.channels.services.update_channel` (which resumes its paused
   deliveries). All chosen Pages connect, or none.

Token health (:func:`read_token_health`): ``GET /debug_token`` with the app token ``APPID|SECRET`` gives a
token's expiry, data-access expiry and scopes; kept in the channel's ``settings["token_health"]`` at connect time
and by the daily job, and :func:`expiry_warnings` names what ends within :data:`WARN_DAYS` days.

Meta's callbacks (:func:`parse_signed_request`, :func:`deauthorize`, :func:`delete_user_data`): the
``signed_request`` is ``base64url(HMAC-SHA256(payload, app secret)).base64url(payload)``; anything else is refused.

Services flush, never commit; nothing here logs or returns a token.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import secrets
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from publisher import audit
from publisher.accounts.models import Unit, User
from publisher.accounts.services import can_see_unit, require_role
from publisher.channels import services
from publisher.channels.facebook import (  # noqa: F401  (re-exported: the token health lives with the adapter)
    PERMISSION_USES,
    WARN_DAYS,
    GraphCallError,
    GraphClient,
    expiry_warnings,
    health_view,
    keep_token_health,
    login_app,
    login_client,
    login_configured,
    read_token_health,
    token_warning_key,
)
from publisher.channels.models import Channel
from publisher.crypto import decrypt_json, encrypt_json
from publisher.db import db, utcnow
from publisher.errors import PermissionDenied, ValidationFailed
from publisher.settings import Settings

log = logging.getLogger(__name__)

SCOPES: tuple[str, ...] = tuple(PERMISSION_USES)
REQUIRED_PERMISSIONS = frozenset({"pages_show_list", "pages_manage_posts", "pages_read_engagement"})
# Page tasks ("Pages API: Manage a Page"): publishing needs CREATE_CONTENT; comments need MODERATE.
REQUIRED_TASKS = frozenset({"CREATE_CONTENT"})
TASK_USES: dict[str, Any] = {"MODERATE": _l("answering comments"), "ANALYZE": _l("reading insights")}
PAGES_LIMIT = 100


@dataclass(frozen=True)
class LoginStart:
    url: str
    state: str


@dataclass
class PendingLogin:
    """What the callback learnt, kept (encrypted) until the admin has picked Pages."""

    user_token: str
    facebook_user_id: str
    facebook_user_name: str
    granted: list[str]
    declined: list[str]
    created: float = field(default_factory=time.time)

    def seal(self, settings: Settings) -> str:
        return encrypt_json(settings.secret_key, asdict(self))

    @classmethod
    def unseal(cls, settings: Settings, sealed: str | None) -> PendingLogin | None:
        if not sealed:
            return None
        try:
            data = decrypt_json(settings.secret_key, sealed)
            pending = cls(**data)
        except (ValueError, TypeError):
            return None
        if time.time() - pending.created > 3600:  # an hour to pick Pages, then sign in again
            return None
        return pending


@dataclass(frozen=True)
class PageChoice:
    id: str
    name: str
    tasks: tuple[str, ...]
    access_token: str = field(repr=False)

    @property
    def missing_tasks(self) -> list[str]:
        return sorted(REQUIRED_TASKS - set(self.tasks))

    @property
    def can_connect(self) -> bool:
        return not self.missing_tasks


# --- 1. the dialog ------------------------------------------------------------------------------------------


def start_facebook_login(settings: Settings, user: User, unit: Unit, redirect_uri: str) -> LoginStart:
    """The dialog URL, with a fresh ``state`` the caller binds to the admin's session."""
    require_role(user, "admin", unit)
    app_id, _secret = login_app(settings)
    state = secrets.token_urlsafe(32)
    query = urlencode({"client_id": app_id, "redirect_uri": redirect_uri, "state": state,
                       "scope": ",".join(SCOPES), "response_type": "code"})
    return LoginStart(f"{settings.facebook_dialog_url}/{settings.facebook_graph_version}/dialog/oauth?{query}", state)


# --- 2. the callback ----------------------------------------------------------------------------------------


def _refused(exc: GraphCallError) -> ValidationFailed:
    if exc.subcode == 36007:
        message = _l("The answer from Facebook came too late (the sign-in code expired). Nothing was connected: "
                     "start again.")
    elif exc.subcode == 36009:
        message = _l("This sign-in was already used. Nothing was connected: start again.")
    elif exc.timed_out or exc.unreachable:
        message = _l("Facebook could not be reached. Nothing was connected: try again shortly.")
    else:
        message = _l("Facebook refused the sign-in (%(reason)s). Nothing was connected: start again.",
                     reason=(exc.platform_message or "?")[:200])
    return ValidationFailed({"code": [message]}, message=message)


def finish_facebook_login(settings: Settings, user: User, unit: Unit, redirect_uri: str, *, args: Mapping[str, str],
                          expected_state: str | None) -> PendingLogin:
    """Check the state, trade the code for a long-lived user token and read the declined permissions."""
    require_role(user, "admin", unit)
    app_id, app_secret = login_app(settings)
    state = args.get("state") or ""
    if not expected_state or not secrets.compare_digest(state.encode(), expected_state.encode()):
        message = _l("This answer from Facebook does not belong to a sign-in started here (or was already used). "
                     "Nothing was connected: start again.")
        raise ValidationFailed({"state": [message]}, message=message)
    if args.get("error"):
        message = _l("You cancelled Facebook's dialog or did not allow Loa access. Nothing was connected.")
        raise ValidationFailed({"dialog": [message]}, message=message)
    code = args.get("code") or ""
    if not code:
        message = _l("Facebook sent no sign-in code. Nothing was connected: start again.")
        raise ValidationFailed({"code": [message]}, message=message)
    try:
        short = login_client(settings).get_access_token_from_code(code, redirect_uri, app_id, app_secret)
        long_lived = login_client(settings, short["access_token"]).extend_access_token(app_id, app_secret)
        token = long_lived["access_token"]
        graph = login_client(settings, token)
        me = graph.get_object("me", fields="id,name")
        permissions = graph.get_connections("me", "permissions").get("data", [])
    except GraphCallError as exc:
        raise _refused(exc) from None
    except (KeyError, TypeError):
        message = _l("Facebook gave an answer Loa did not understand. Nothing was connected: start again.")
        raise ValidationFailed({"code": [message]}, message=message) from None
    granted = sorted(p["permission"] for p in permissions if p.get("status") == "granted")
    declined = sorted(p for p in SCOPES if p not in granted)
    missing = sorted(REQUIRED_PERMISSIONS - set(granted))
    if missing:
        message = _l("Facebook did not grant what Loa needs: %(sentence)s Nothing was connected: start again and "
                     "allow these permissions.", sentence=declined_sentence(missing))
        raise ValidationFailed({"permissions": [message]}, message=message)
    return PendingLogin(token, str(me.get("id") or ""), str(me.get("name") or ""), granted, declined)


def declined_sentence(declined: list[str]) -> str:
    """One sentence naming the declined permissions and what will not work without them ("" when none)."""
    if not declined:
        return ""
    parts = [_("%(permission)s (%(use)s)", permission=p, use=PERMISSION_USES.get(p, p)) for p in declined]
    return _("Without %(permissions)s, Loa cannot do these things on the connected Pages.",
             permissions="; ".join(parts))


# --- 3. the picker ------------------------------------------------------------------------------------------


def list_pages(settings: Settings, pending: PendingLogin) -> list[PageChoice]:
    """The Pages the person can act on, with their tasks and own tokens (``/me/accounts``)."""
    try:
        answer = login_client(settings, pending.user_token).get_connections(
            "me", "accounts", fields="id,name,access_token,tasks", limit=PAGES_LIMIT)
    except GraphCallError as exc:
        raise _refused(exc) from None
    pages = []
    for item in answer.get("data", []):
        if item.get("id") and item.get("access_token"):
            pages.append(PageChoice(str(item["id"]), str(item.get("name") or item["id"]),
                                    tuple(str(t) for t in item.get("tasks") or ()), str(item["access_token"])))
    return pages


def _existing_channel(unit: Unit, page_id: str) -> Channel | None:
    for channel in db.session.scalars(select(Channel).where(Channel.kind == "facebook", Channel.unit_id == unit.id)):
        if (channel.settings or {}).get("page_id") == page_id:
            return channel
    return None


def connect_pages(settings: Settings, user: User, unit: Unit, pending: PendingLogin, page_ids: list[str], *,
                  reconnect: Channel | None = None, names: Mapping[str, str] | None = None) -> list[Channel]:
    """Connect the chosen Pages, each with its own Page token (all of them, or none: the caller rolls back on
    an error). A Page Loa has already in this unit (or ``reconnect``) gets the new token and resumes."""
    require_role(user, "admin", unit)
    wanted = list(dict.fromkeys(str(p) for p in page_ids if p))
    if not wanted:
        raise ValidationFailed({"pages": [_l("Choose at least one Page.")]})
    pages = {p.id: p for p in list_pages(settings, pending)}
    problems: list[Any] = []
    for page_id in wanted:
        page = pages.get(page_id)
        if page is None:
            problems.append(_l("The Page %(id)s is not among the Pages you allowed Loa to use.", id=page_id))
        elif not page.can_connect:
            problems.append(_l("On the Page “%(name)s” you may not publish (Facebook gives you the tasks %(tasks)s, "
                               "not %(missing)s): ask one of its admins for full control, then connect it.",
                               name=page.name, tasks=", ".join(page.tasks) or "—",
                               missing=", ".join(page.missing_tasks)))
    if reconnect is not None and reconnect.settings.get("page_id") not in wanted:
        problems.append(_l("Pick the Page of the channel “%(name)s” to reconnect it.", name=reconnect.name))
    if problems:
        raise ValidationFailed({"pages": problems}, message=problems[0])
    connected = []
    for page_id in wanted:
        page = pages[page_id]
        health = read_token_health(settings, page.access_token)
        if health.get("is_valid") is False:
            message = _l("Facebook says the token of the Page “%(name)s” is not valid. Nothing was connected.",
                         name=page.name)
            raise ValidationFailed({"pages": [message]}, message=message)
        new = {"page_id": page.id, "access_token": page.access_token, "facebook_user_id": pending.facebook_user_id}
        channel = reconnect if reconnect is not None and reconnect.settings.get("page_id") == page_id else \
            _existing_channel(unit, page.id)
        if channel is None:
            name = (names or {}).get(page.id) or page.name
            channel = services.create_channel(user, {"kind": "facebook", "name": name[:200], "settings": new},
                                              settings, unit_id=unit.id)
        else:
            services.update_channel(channel, user, {"settings": new}, settings)
        keep_token_health(channel, health)
        audit.record(user, "channel.facebook_login", channel, page_id=page.id, declined=pending.declined)
        connected.append(channel)
    db.session.flush()
    return connected


# --- token health -------------------------------------------------------------------------------------------


def refresh_token_health(settings: Settings) -> list[tuple[Channel, list[tuple[str, datetime]]]]:
    """Read every connected Facebook channel's token health again (the daily job); answer the channels with
    something ending within :data:`WARN_DAYS` days that admins were not yet told about (they are marked told)."""
    notices = []
    if not login_configured(settings):
        return notices
    for channel in db.session.scalars(select(Channel).where(Channel.kind == "facebook", Channel.state != "disconnected")):
        token = services.channel_secrets(channel, settings).get("access_token") if channel.secrets_encrypted else None
        if not token:
            continue
        health = read_token_health(settings, token)
        if "error" in health:
            continue
        keep_token_health(channel, health)
        if health.get("is_valid") is False:  # revoked or expired: say so now, not when the next post fails
            if channel.state == "connected":
                services.mark_needs_reconnect(channel, _("Facebook says this Page's token is no longer valid: "
                                                         "reconnect the Page with Facebook Login."))
                notices.append((channel, [("invalid", utcnow())]))
            continue
        warnings = expiry_warnings(channel)
        if warnings and channel.settings["token_health"].get("warned") != token_warning_key(health):
            channel.settings = {**channel.settings, "token_health": {**health, "warned": token_warning_key(health)}}
            notices.append((channel, warnings))
    db.session.flush()
    return notices


def expiring_channels(user: User) -> list[tuple[Channel, list[tuple[str, datetime]]]]:
    """The channels this user sees whose Facebook token or data access ends within :data:`WARN_DAYS` days."""
    out = []
    for channel in services.list_channels(user, kind="facebook"):
        if channel.state != "disconnected":
            warnings = expiry_warnings(channel)
            if warnings:
                out.append((channel, warnings))
    return out


# --- Meta's callbacks ---------------------------------------------------------------------------------------


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def parse_signed_request(settings: Settings, raw: str | None) -> dict[str, Any]:
    """The payload of a ``signed_request`` whose HMAC-SHA256 matches the app secret; anything else is refused
    (:class:`PermissionDenied` for a bad signature, :class:`ValidationFailed` for a malformed request)."""
    _app_id, app_secret = login_app(settings)
    signature_part, dot, payload_part = (raw or "").partition(".")
    if not dot or not signature_part or not payload_part:
        raise ValidationFailed({"signed_request": ["malformed"]}, message="signed_request is missing or malformed")
    try:
        signature = _b64decode(signature_part)
        payload = json.loads(_b64decode(payload_part))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise ValidationFailed({"signed_request": ["malformed"]}, message="signed_request is malformed") from None
    expected = hmac.new(app_secret.encode(), payload_part.encode("ascii", "replace"), hashlib.sha256).digest()
    if not hmac.compare_digest(signature, expected):
        raise PermissionDenied("signed_request signature does not match", code="bad_signature")
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256" \
            or not payload.get("user_id"):
        raise ValidationFailed({"signed_request": ["unexpected payload"]}, message="signed_request payload unexpected")
    return payload


def _channels_of(facebook_user_id: str) -> list[Channel]:
    return [c for c in db.session.scalars(select(Channel).where(Channel.kind == "facebook"))
            if facebook_user_id in ((c.settings or {}).get("facebook_user_id"), (c.settings or {}).get("page_id"))]


def deauthorize(settings: Settings, payload: dict[str, Any]) -> list[Channel]:
    """The person removed Loa on Facebook: their Pages' channels lose their tokens and need reconnecting."""
    channels = _channels_of(str(payload["user_id"]))
    if payload.get("profile_id"):  # a Page removed the app
        channels += [c for c in _channels_of(str(payload["profile_id"])) if c not in channels]
    for channel in channels:
        services.store_secrets(channel, settings, {})
        channel.settings = {k: v for k, v in (channel.settings or {}).items() if k != "token_health"}
        services.mark_needs_reconnect(channel, _("The person who connected this Page removed Loa's access on "
                                                 "Facebook: connect it again with Facebook Login."))
        audit.record(None, "channel.facebook_deauthorized", channel)
    db.session.flush()
    return channels


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt="loa.facebook.data-deletion")


def delete_user_data(settings: Settings, payload: dict[str, Any]) -> str:
    """Erase what Loa keeps of the person (their tokens, their Facebook id on the channels they connected);
    answer the confirmation code, which the status page reads back."""
    channels = _channels_of(str(payload["user_id"]))
    for channel in channels:
        services.store_secrets(channel, settings, {})
        channel.settings = {k: v for k, v in (channel.settings or {}).items()
                            if k not in ("token_health", "facebook_user_id")}
        services.mark_needs_reconnect(channel, _("Facebook asked Loa to delete the data of the person who connected "
                                                 "this Page; its tokens were erased: connect it again."))
        audit.record(None, "channel.facebook_data_deleted", channel)
    db.session.flush()
    return _serializer(settings).dumps({"n": len(channels), "at": int(time.time()), "r": secrets.token_hex(4)})


def deletion_status(settings: Settings, code: str) -> dict[str, Any] | None:
    """``{"channels", "at"}`` for a confirmation code Loa gave, else ``None``."""
    try:
        data = _serializer(settings).loads(code)
    except BadSignature:
        return None
    return {"channels": int(data.get("n", 0)), "at": datetime.fromtimestamp(int(data.get("at", 0)), UTC)}


def visible_channel(user: User, channel_id: int) -> Channel:
    channel = services.get_channel(channel_id, user)
    if channel.kind != "facebook" or not can_see_unit(user, channel.unit.path):
        raise ValidationFailed({"channel": [_l("Only a Facebook channel reconnects with Facebook Login.")]})
    return channel
