"""Connecting a YouTube channel with Google's OAuth 2 web flow (google-auth-oauthlib).

``start_youtube_connect`` gives the consent URL plus the state and PKCE verifier the caller keeps in the session;
``finish_youtube_connect`` trades the code for tokens, asks YouTube which channel they belong to, and creates or
updates that channel with the tokens stored encrypted. Services flush, never commit.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from google_auth_oauthlib.flow import Flow
from sqlalchemy import select

from publisher import audit
from publisher.accounts.models import Unit, User
from publisher.accounts.services import require_role
from publisher.channels.base import ChannelError, ErrorKind
from publisher.channels.models import Channel
from publisher.channels.services import keep_refreshed_secrets, store_secrets
from publisher.channels.youtube import SCOPES, YouTubeAdapter
from publisher.db import db
from publisher.errors import Conflict, ValidationFailed
from publisher.settings import Settings


@dataclass(frozen=True)
class ConnectStart:
    url: str
    state: str
    code_verifier: str


def store_refreshed_tokens(channel: Channel, adapter: Any, settings: Settings) -> bool:
    """Keep, encrypted, an access token the adapter refreshed during its calls; True when there was one."""
    return keep_refreshed_secrets(channel, adapter, settings)


def _client(settings: Settings) -> tuple[str, str]:
    if not settings.google_client_id or not settings.google_client_secret:
        raise Conflict(_l("YouTube connection is not configured: set PUBLISHER_GOOGLE_CLIENT_ID and "
                          "PUBLISHER_GOOGLE_CLIENT_SECRET."), code="not_configured")
    return settings.google_client_id, settings.google_client_secret


def _flow(settings: Settings, redirect_uri: str, state: str | None = None, code_verifier: str | None = None) -> Flow:
    client_id, client_secret = _client(settings)
    config = {"web": {"client_id": client_id, "client_secret": client_secret, "auth_uri": settings.google_auth_url,
                      "token_uri": settings.google_token_url, "redirect_uris": [redirect_uri]}}
    return Flow.from_client_config(config, scopes=list(SCOPES), redirect_uri=redirect_uri, state=state,
                                   code_verifier=code_verifier)


@contextlib.contextmanager
def _loopback_transport(url: str) -> Iterator[None]:
    """oauthlib insists on https; a sandbox token endpoint on the loopback interface is plain http."""
    host = urlsplit(url).hostname or ""
    if not url.startswith("http://") or host not in ("127.0.0.1", "localhost", "::1"):
        yield
        return
    previous = os.environ.get("OAUTHLIB_INSECURE_TRANSPORT")
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("OAUTHLIB_INSECURE_TRANSPORT", None)
        else:
            os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = previous


def start_youtube_connect(settings: Settings, user: User, unit: Unit, redirect_uri: str) -> ConnectStart:
    """The Google consent URL (offline access, so that a refresh token comes back)."""
    require_role(user, "admin", unit)
    flow = _flow(settings, redirect_uri, state=secrets.token_urlsafe(24))
    with _loopback_transport(settings.google_auth_url):
        url, state = flow.authorization_url(access_type="offline", prompt="consent", include_granted_scopes="true")
    return ConnectStart(url, state, flow.code_verifier or "")


def finish_youtube_connect(settings: Settings, user: User, unit: Unit, redirect_uri: str, *, code: str,
                           state: str, expected_state: str | None, code_verifier: str | None) -> Channel:
    """Trade the code for tokens and create or update the YouTube channel they belong to."""
    require_role(user, "admin", unit)
    if not expected_state or not secrets.compare_digest(state or "", expected_state):
        raise ValidationFailed({"state": [_l("The answer from Google does not match this sign-in; start again.")]})
    if not code:
        raise ValidationFailed({"code": [_l("Google did not grant access.")]})
    flow = _flow(settings, redirect_uri, state=expected_state, code_verifier=code_verifier)
    try:
        with _loopback_transport(settings.google_token_url):
            token = flow.fetch_token(code=code)
    except Exception as exc:  # noqa: BLE001 - oauthlib raises many types; all mean "no tokens"
        raise ValidationFailed({"code": [_l("Google refused the sign-in: %(error)s", error=str(exc)[:200])]}) from exc
    client_id, client_secret = _client(settings)
    tokens: dict[str, Any] = {"access_token": token["access_token"], "refresh_token": token.get("refresh_token"),
                              "client_id": client_id, "client_secret": client_secret}
    creds = flow.credentials
    if creds.expiry:
        tokens["expiry"] = creds.expiry.replace(tzinfo=UTC).isoformat()
    status = YouTubeAdapter(settings, {}, tokens).check_connection()
    if not status.ok:
        error = status.error or ChannelError(ErrorKind.REJECTED, status.message)
        raise ValidationFailed({"channel": [str(error)]})
    remote_id, title = status.details["channel_id"], status.details.get("title") or "YouTube"
    existing = [c for c in db.session.scalars(select(Channel).where(Channel.kind == "youtube",
                                                                      Channel.unit_id == unit.id))
                if (c.settings or {}).get("channel_id") == remote_id]
    channel = existing[0] if existing else None
    if channel is None:
        channel = Channel(unit_id=unit.id, kind="youtube", name=title, settings={"channel_id": remote_id})
        db.session.add(channel)
        action = "channel.create"
    else:
        if not tokens.get("refresh_token"):  # Google sends a refresh token only on first consent; keep the old one
            from publisher.channels.services import channel_secrets

            tokens["refresh_token"] = channel_secrets(channel, settings).get("refresh_token")
        action = "channel.reconnect"
    store_secrets(channel, settings, tokens)
    channel.state = "connected"
    channel.last_error = ""
    db.session.flush()
    audit.record(user, action, channel, kind="youtube", channel_id=remote_id)
    return channel
