"""The Zalo Official Account (OA) channel adapter: a post goes out as an OA article, optionally broadcast.

Platform rules followed (each with the page read and the date):

- Article API (Zalo "Official Account API v2.0 — Article", as summarised by the @warriorteam/redai-zalo-sdk 1.32.17
  ``ArticleService`` notes, read 2026-12-02): ``POST /v2.0/article/create`` with a ``normal`` article — ``title``
  (required, ≤ 150 characters), ``author`` (≤ 50), ``description`` (≤ 300), ``cover`` (``cover_type`` ``photo``
  with a ``photo_url``), ``body`` items of ``text`` (``content``), ``image`` (``url``, ``caption``) and ``video``
  (``url``), ``status`` ``show``, ``comment`` ``show``, images ≤ 1 MB each. The create answers a *token*: the
  article is processed asynchronously and ``POST /v2.0/article/verify {"token"}`` answers its ``id`` once done;
  while processing Zalo answers error -214 ("Article is processing"), which Loa treats as transient and polls with
  a bounded back-off (:data:`VERIFY_DELAYS`). ``GET /v2.0/article/getslice`` lists at most 10 articles a call
  (``offset``, ``limit``); ``GET /v2.0/article/getdetail?id=`` reads one (``total_view``, ``total_share``);
  ``POST /v2.0/article/update`` (answers a token, verified the same way) and ``POST /v2.0/article/remove {"id"}``.
  The access token travels in the ``access_token`` header. The same shapes are in Zalo's own Java SDK's examples
  (github.com/zaloplatform/zalo-java-sdk, ``src/test/java/CreateNormalArticle.java``, ``GetArticleId.java``,
  ``GetListArticle.java``, ``GetAccessTokenByRefreshToken.java``; read 2026-12-02, learnt from, not copied): a video
  body item is ``{"type": "video", "url", "thumb"}`` for a video elsewhere (their example links a YouTube video).
- Videos in an article (read 2026-12-03): the video itself goes to Zalo first. ``POST
  /v2.0/article/upload_video/preparevideo`` with the file as multipart field ``file`` (zalo-java-sdk
  ``src/test/java/UploadVideoForArticle.java``) answers a ``token``; ``GET /v2.0/article/upload_video/verify`` with
  that token in a ``token`` header (``CheckStatusVideo.java``) answers the video's ``status`` — 1 processed, with its
  ``video_id``; 3 still processing; 2 locked, 4 processing failed, 5 deleted; 0 unknown — and the body item is then
  ``{"type": "video", "video_id"}`` (@warriorteam/redai-zalo-sdk 1.32.17 ``VideoUploadService`` notes and its
  ``ArticleBodyItem`` type, read from unpkg on 2026-12-03). Zalo takes MP4 and AVI files of at most 50 MB
  (:data:`VIDEO_MAX_BYTES`, same notes); any other video still goes as a link to the public site's copy.
- Errors (Zalo's OA API "Mã lỗi" appendix; the search corpus held no copy on 2026-12-02 nor on 2026-12-03 — the one
  table it held, CareSoft's "Bảng mã khi gửi tin nhắn theo Zalo ID", is an integrator's own numbering and disagrees
  with the OA API's, so it is not followed; the codes below are those Zalo has documented for years and the sandbox
  answers them): the JSON body carries a negative ``error`` and a
  ``message``, on HTTP 200. :data:`ERRORS` maps each to a sentence and to Loa's error set.
- OAuth v4 for OAs (Zalo "Lấy Access Token bằng Zalo Login v4" guides, read 2026-12-02 from hanghieugiatot.com and
  beehexa.com, and the redai SDK's ``AuthService`` endpoints): the permission page
  ``{oauth}/v4/oa/permission?app_id&redirect_uri&code_challenge&state`` with PKCE (``code_challenge`` =
  base64url(SHA-256(``code_verifier``)) without padding) and a random ``state``; the code is traded at
  ``POST {oauth}/v4/oa/access_token`` (header ``secret_key``; form ``app_id``, ``grant_type=authorization_code``,
  ``code``, ``code_verifier``). The access token is short-lived (``expires_in`` seconds; 1 hour in beehexa's
  guide), and each refresh (``grant_type=refresh_token``) answers a NEW refresh token — the old one is spent.
  Loa refreshes :data:`REFRESH_AHEAD` before expiry, under a Redis lock per channel plus a row lock on PostgreSQL,
  and stores the rotated pair encrypted in its own committed transaction before anything else happens, so two
  workers never spend the same refresh token and a rotation is never lost to a rolled-back job.
- Broadcast (``POST /v2.0/oa/message`` with a ``media`` template holding the article, redai SDK
  ``BroadcastService``; quotas from Zalo OA's help centre "Broadcast – Các câu hỏi thường gặp" (zalooa.freshdesk.com)
  and goby's "Phân biệt các loại tin của Zalo OA", read 2026-12-02): a verified OA sends at most 40 broadcasts a
  month, and a follower receives at most 1 a day and 4 a month — so Loa counts per OA at most
  :data:`BROADCAST_PER_DAY` a day (a second one that day would reach nobody) and the channel's
  ``broadcast_monthly_limit`` (default :data:`BROADCAST_PER_MONTH`) a calendar month in Vietnam time, and refuses
  a schedule that would exceed them. (Zalo resets an OA's own quota on its package's monthly date; the calendar
  month is the stricter reading when that date is unknown.) Sent broadcasts are rows of ``zalo_broadcasts``
  (:class:`ZaloBroadcast`, kept with the job that published), not Redis counters, so the embedded in-process
  stand-in's restart or a Redis flush forgets none of them.

Idempotency (``find_existing``): Zalo keeps no caller metadata on an article except its ``tracking_link``; Loa
sets it to the post's public address with ``utm_content=loa-<key>``, then scans the newest articles
(:data:`LOOKUP_PAGES` × 10) for the exact title and reads each candidate's detail for the marker.

Engagement: ``total_view`` → ``views``, ``total_share`` → ``shares``. Zalo's API gives no article comment count or
comments: those are absent (never 0) and the comments capability is off.
"""

from __future__ import annotations

import base64
import hashlib
import html
import logging
import re
import secrets as secrets_module
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps
from sqlalchemy import ForeignKey, Index, String, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from publisher.channels import services as channel_services
from publisher.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionStatus,
    ErrorKind,
    MediaFile,
    Metrics,
    Problem,
    PublishRequest,
    PublishResult,
    RemoteComment,
    http_session,
    register,
)
from publisher.channels.description import (
    Capabilities,
    ChannelDescription,
    ConnectField,
    MediaRules,
    MetricMapping,
    SignIn,
    VariantField,
)
from publisher.channels.models import Channel
from publisher.crypto import decrypt_json, encrypt_json
from publisher.db import db, utcnow
from publisher.errors import ValidationFailed
from publisher.queue import redis_connection
from publisher.settings import Settings

log = logging.getLogger(__name__)

# Article limits (Zalo Article API, read 2026-12-02; see the module docstring).
TITLE_MAX = 150
AUTHOR_MAX = 50
DESCRIPTION_MAX = 300
IMAGE_MAX_BYTES = 1024 * 1024
IMAGE_MAX_SIDE = 2048  # the rendition's longest side; Zalo shows articles at phone width
LIST_LIMIT = 10  # getslice answers at most 10 articles a call
# Video upload (redai VideoUploadService notes, read 2026-12-03): MP4 or AVI, at most 50 MB; verify's status codes.
VIDEO_MAX_BYTES = 50 * 1024 * 1024
VIDEO_TYPES = frozenset({"video/mp4", "video/avi", "video/x-msvideo"})
VIDEO_READY, VIDEO_PROCESSING = 1, 3
VIDEO_UPLOAD_TIMEOUT = 300.0  # seconds for sending a video of up to 50 MB
LOOKUP_PAGES = 5  # find_existing scans the newest 50 articles
VERIFY_DELAYS = (0.2, 0.5, 1.0, 2.0, 3.0)  # seconds between verify polls; then "still processing" is transient
REFRESH_AHEAD = timedelta(minutes=5)
LOCK_SECONDS = 60
BROADCAST_PER_DAY = 1
BROADCAST_PER_MONTH = 40
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")
MARKER_PREFIX = "loa-"
RENDITION_NAME = "zalo.jpg"

PROCESSING = -214
TOKEN_INVALID = (-216, -220)
# Zalo's error codes -> (Loa's error kind, the sentence people read). OAuth errors (-14xxx) are all AUTH_EXPIRED.
ERRORS: dict[int, tuple[ErrorKind, Any]] = {
    -32: (ErrorKind.RATE_LIMITED, _l("Zalo limits how many requests an app may send a minute; Loa will try again "
                                     "shortly.")),
    -100: (ErrorKind.TRANSIENT, _l("Zalo had an unexpected error; Loa will try again.")),
    -201: (ErrorKind.REJECTED, _l("Zalo refused the article's content: a field is missing or not valid.")),
    -204: (ErrorKind.AUTH_EXPIRED, _l("This Zalo Official Account has been deleted.")),
    -205: (ErrorKind.AUTH_EXPIRED, _l("This Zalo Official Account does not exist.")),
    -209: (ErrorKind.REJECTED, _l("Zalo does not support this request for this Official Account.")),
    -210: (ErrorKind.REJECTED, _l("A field of the article is longer than Zalo allows.")),
    -211: (ErrorKind.RATE_LIMITED, _l("The Official Account has used up its Zalo quota for now.")),
    -212: (ErrorKind.REJECTED, _l("The Official Account has not registered this Zalo API.")),
    PROCESSING: (ErrorKind.TRANSIENT, _l("Zalo is still processing the article; Loa will check again.")),
    -216: (ErrorKind.AUTH_EXPIRED, _l("Zalo no longer accepts the Official Account's access token; reconnect the "
                                      "channel.")),
    -219: (ErrorKind.AUTH_EXPIRED, _l("The Zalo app was removed or disabled; reconnect the channel.")),
    -220: (ErrorKind.AUTH_EXPIRED, _l("The Official Account's Zalo access token has expired or was revoked; "
                                      "reconnect the channel.")),
    -221: (ErrorKind.REJECTED, _l("The Official Account is not verified, which this Zalo feature requires.")),
    -223: (ErrorKind.RATE_LIMITED, _l("The Official Account has used up its Zalo broadcast quota.")),
    -224: (ErrorKind.AUTH_EXPIRED, _l("The Official Account has not granted Loa this permission; reconnect the "
                                      "channel and allow it.")),
}
# The video statuses verify answers that end an upload (redai VideoUploadService notes, read 2026-12-03).
VIDEO_REFUSED: dict[int, Any] = {
    2: _l("Zalo has locked the video, so the article cannot show it."),
    4: _l("Zalo could not process the video; try another file (MP4 or AVI, at most 50 MB)."),
    5: _l("The video was deleted on Zalo before the article could use it."),
}
AUTH_SENTENCE = _l("The Zalo authorisation has expired or was revoked; reconnect the Official Account.")


# --- errors ------------------------------------------------------------------------------------------------------


def zalo_error(code: int, message: str, *, http_status: int | None = None) -> ChannelError:
    """Zalo's own (negative) error code and message as a classified ChannelError with a sentence for people."""
    if code <= -14000:  # OAuth v4: invalid/expired refresh token, code, verifier, app
        return ChannelError(ErrorKind.AUTH_EXPIRED, AUTH_SENTENCE, code=str(code), platform_message=message[:300],
                            http_status=http_status)
    kind, sentence = ERRORS.get(code, (ErrorKind.REJECTED, _l("Zalo refused the request.")))
    retry_after = 60.0 if code == -32 else (_seconds_to_vietnam_midnight() if kind is ErrorKind.RATE_LIMITED else None)
    return ChannelError(kind, sentence, code=str(code), platform_message=message[:300], retry_after=retry_after,
                        http_status=http_status)


def _seconds_to_vietnam_midnight(now: datetime | None = None) -> float:
    local = (now or datetime.now(UTC)).astimezone(VIETNAM)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=VIETNAM)
    return max((tomorrow - local).total_seconds(), 1.0)


def _transport_error(exc: Exception) -> ChannelError:
    return ChannelError(ErrorKind.TRANSIENT, _l("Zalo could not be reached; Loa will try again."),
                        code=exc.__class__.__name__, platform_message=str(exc)[:300])


def _answer(response: requests.Response) -> dict[str, Any]:
    """The JSON answer of a Zalo call, or the classified error it carries (on HTTP 200 as on others)."""
    if response.status_code >= 500:
        raise ChannelError(ErrorKind.TRANSIENT, _l("Zalo had an unexpected error; Loa will try again."),
                           code=str(response.status_code), platform_message=response.text[:300],
                           http_status=response.status_code)
    try:
        data = response.json()
    except ValueError:
        raise ChannelError(ErrorKind.TRANSIENT, _l("Zalo answered something Loa cannot read; Loa will try again."),
                           code=str(response.status_code), platform_message=response.text[:300],
                           http_status=response.status_code) from None
    if not isinstance(data, dict):
        raise ChannelError(ErrorKind.TRANSIENT, _l("Zalo answered something Loa cannot read; Loa will try again."),
                           code=str(response.status_code), http_status=response.status_code)
    code = data.get("error")
    if isinstance(code, str) and code.lstrip("-").isdigit():
        code = int(code)
    if isinstance(code, int) and code != 0:
        message = str(data.get("message") or data.get("error_description") or data.get("error_name") or "")
        raise zalo_error(code, message, http_status=response.status_code)
    if response.status_code == 429:
        raise zalo_error(-32, response.text[:300], http_status=429)
    if response.status_code >= 400:
        raise ChannelError(ErrorKind.REJECTED, _l("Zalo refused the request."), code=str(response.status_code),
                           platform_message=response.text[:300], http_status=response.status_code)
    return data


# --- OAuth v4 with PKCE --------------------------------------------------------------------------------------------


def pkce_pair() -> tuple[str, str]:
    """``(code_verifier, code_challenge)``: 43 characters of base64url, and its S256 challenge."""
    verifier = secrets_module.token_urlsafe(32)[:43]
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).decode().rstrip("=")
    return verifier, challenge


def _token_fields(data: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The secrets Loa keeps from a token answer: both tokens and when the access token expires."""
    if not data.get("access_token") or not data.get("refresh_token"):
        raise ChannelError(ErrorKind.AUTH_EXPIRED, AUTH_SENTENCE, code="no_token",
                           platform_message=str({k: v for k, v in data.items() if "token" not in k})[:300])
    try:
        expires_in = int(data.get("expires_in") or 3600)
    except (TypeError, ValueError):
        expires_in = 3600
    return {"access_token": str(data["access_token"]), "refresh_token": str(data["refresh_token"]),
            "expires_at": (now + timedelta(seconds=expires_in)).isoformat()}


def _oauth_post(settings: Settings, session: Any, form: dict[str, str]) -> dict[str, Any]:
    if not settings.zalo_app_id or not settings.zalo_app_secret:
        raise ChannelError(ErrorKind.AUTH_EXPIRED, _l("The Zalo app is not configured: set PUBLISHER_ZALO_APP_ID and "
                                                      "PUBLISHER_ZALO_APP_SECRET."), code="no_app")
    try:
        response = session.post(f"{settings.zalo_oauth_url}/v4/oa/access_token",
                                data={"app_id": settings.zalo_app_id, **form},
                                headers={"secret_key": settings.zalo_app_secret},
                                timeout=settings.channel_timeout_seconds)
    except requests.RequestException as exc:
        raise _transport_error(exc) from exc
    return _answer(response)


def _parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class TokenKeeper:
    """The OA's access token, refreshed ahead of expiry. A refresh spends the refresh token and yields a new pair,
    so it happens under a per-channel Redis lock (and a row lock on PostgreSQL), re-reads the stored pair first (a
    worker that lost the race takes the winner's tokens instead of spending a dead refresh token), and commits the
    new pair, encrypted, in its own transaction before the lock is released."""

    def __init__(self, settings: Settings, channel_id: int | None, secrets: dict[str, Any], session: Any):
        self.settings = settings
        self.channel_id = channel_id
        self.secrets = dict(secrets)
        self.session = session
        self.rotated = False  # True when this keeper refreshed without a stored channel (the caller keeps them)
        self.refreshes = 0  # refresh calls this keeper made to Zalo (tests count them)

    def access_token(self) -> str:
        expires_at = _parse_time(self.secrets.get("expires_at"))
        if expires_at is not None and expires_at - REFRESH_AHEAD <= datetime.now(UTC):
            self.refresh()
        token = self.secrets.get("access_token")
        if not token:
            raise ChannelError(ErrorKind.AUTH_EXPIRED, AUTH_SENTENCE, code="no_token")
        return str(token)

    def _call_refresh(self, refresh_token: str) -> dict[str, Any]:
        now = datetime.now(UTC)
        self.refreshes += 1
        data = _oauth_post(self.settings, self.session, {"grant_type": "refresh_token",
                                                         "refresh_token": refresh_token})
        return _token_fields(data, now)

    def refresh(self, rejected: str | None = None) -> None:
        """Get a fresh access token; ``rejected`` is an access token Zalo just refused (then a stored one that
        differs from it is taken as fresh)."""
        if self.channel_id is None:
            if not self.secrets.get("refresh_token"):
                raise ChannelError(ErrorKind.AUTH_EXPIRED, AUTH_SENTENCE, code="no_refresh_token")
            self.secrets.update(self._call_refresh(str(self.secrets["refresh_token"])))
            self.rotated = True
            return
        lock = redis_connection(self.settings).lock(f"loa:zalo:token:{self.channel_id}", timeout=LOCK_SECONDS,
                                                    blocking_timeout=LOCK_SECONDS + 10)
        if not lock.acquire():
            raise ChannelError(ErrorKind.TRANSIENT, _l("Another worker is renewing the Zalo token; Loa will try "
                                                       "again."), code="token_lock")
        try:
            self._refresh_locked(rejected)
        finally:
            try:
                lock.release()
            except Exception:  # noqa: BLE001 - the lock expired meanwhile; the row lock still held the writes apart
                log.warning("zalo token lock of channel %s had expired", self.channel_id)

    def _refresh_locked(self, rejected: str | None) -> None:
        with db.engine.begin() as connection:
            query = select(Channel.secrets_encrypted).where(Channel.id == self.channel_id)
            if connection.dialect.name == "postgresql":
                query = query.with_for_update()
            sealed = connection.execute(query).scalar_one_or_none()
            stored = decrypt_json(self.settings.secret_key, sealed) if sealed else {}
            if not stored.get("refresh_token"):
                raise ChannelError(ErrorKind.AUTH_EXPIRED, AUTH_SENTENCE, code="no_refresh_token")
            expires_at = _parse_time(stored.get("expires_at"))
            still_fresh = expires_at is None or expires_at - REFRESH_AHEAD > datetime.now(UTC)
            others = stored.get("refresh_token") != self.secrets.get("refresh_token") or (
                rejected is not None and stored.get("access_token") != rejected)
            if others and still_fresh:  # another worker rotated meanwhile: use its tokens
                self.secrets = dict(stored)
                return
            fresh = self._call_refresh(str(stored["refresh_token"]))
            merged = {**stored, **fresh}
            connection.execute(update(Channel).where(Channel.id == self.channel_id).values(
                secrets_encrypted=encrypt_json(self.settings.secret_key, merged), updated_at=utcnow()))
        self.secrets = merged
        log.info("zalo channel %s: access token renewed", self.channel_id)


# --- body: the post's HTML as Zalo article items ---------------------------------------------------------------


class _BodyParser(HTMLParser):
    """Top-level blocks → ``text`` items (their HTML kept: Zalo's text item takes simple markup); figures with an
    image → ``image`` items with their caption."""

    BLOCKS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "blockquote", "pre", "table"}

    def __init__(self, base_url: str):
        super().__init__(convert_charrefs=True)
        self.base_url = base_url
        self.items: list[dict[str, Any]] = []
        self.depth = 0
        self.buffer: list[str] = []
        self.figure: dict[str, Any] | None = None
        self.in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "figure" and self.depth == 0:
            self.figure = {"url": "", "caption": ""}
            return
        if self.figure is not None:
            if tag == "img" and values.get("src"):
                src = str(values["src"])
                self.figure["url"] = src if re.match(r"^https?://", src) else self.base_url + src
            elif tag == "figcaption":
                self.in_caption = True
            return
        if tag in self.BLOCKS:
            self.depth += 1
        if self.depth:
            rendered = "".join(f' {k}="{html.escape(v or "")}"' for k, v in attrs if k in ("href",))
            self.buffer.append(f"<{tag}{rendered}>")

    def handle_endtag(self, tag: str) -> None:
        if self.figure is not None:
            if tag == "figcaption":
                self.in_caption = False
            elif tag == "figure":
                if self.figure["url"]:
                    self.items.append({"type": "image", "url": self.figure["url"],
                                       "caption": self.figure["caption"].strip()})
                self.figure = None
            return
        if self.depth:
            self.buffer.append(f"</{tag}>")
        if tag in self.BLOCKS and self.depth:
            self.depth -= 1
            if self.depth == 0:
                content = "".join(self.buffer).strip()
                self.buffer = []
                if re.sub(r"<[^>]+>", "", content).strip():
                    self.items.append({"type": "text", "content": content})

    def handle_data(self, data: str) -> None:
        if self.figure is not None:
            if self.in_caption:
                self.figure["caption"] += data
            return
        if self.depth:
            self.buffer.append(html.escape(data, quote=False))


def body_items(body_html: str, base_url: str) -> list[dict[str, Any]]:
    parser = _BodyParser(base_url)
    parser.feed(body_html or "")
    parser.close()
    return parser.items


# --- images: a ≤ 1 MB JPEG rendition per picture -----------------------------------------------------------------


def zalo_rendition(media: MediaFile) -> Path:
    """The picture as a JPEG of at most 1 MB (Zalo's limit per image), made once beside the media's other
    renditions with Pillow: at most :data:`IMAGE_MAX_SIDE` pixels on its longest side, quality lowered (then the
    size) until it fits."""
    source = media.renditions.get("w1600") or media.path
    target = source.parent / RENDITION_NAME
    if target.is_file() and target.stat().st_size <= IMAGE_MAX_BYTES:
        return target
    with Image.open(media.path if not source.is_file() else source) as opened:
        image = ImageOps.exif_transpose(opened).convert("RGB")
    image.thumbnail((IMAGE_MAX_SIDE, IMAGE_MAX_SIDE), Image.Resampling.LANCZOS)
    partial = target.with_suffix(".part")
    quality = 88
    while True:
        image.save(partial, "JPEG", quality=quality, optimize=True, progressive=True)
        if partial.stat().st_size <= IMAGE_MAX_BYTES:
            break
        if quality > 50:
            quality -= 10
        else:
            image.thumbnail((int(image.width * 0.8), int(image.height * 0.8)), Image.Resampling.LANCZOS)
    partial.replace(target)
    return target


# --- broadcast quota ---------------------------------------------------------------------------------------------


class ZaloBroadcast(db.Model):
    """One broadcast an OA sent: the quota is counted from these rows, so that it survives a restart of the
    embedded in-process Redis stand-in and a Redis flush (the broadcasts Zalo counts are in the database)."""

    __tablename__ = "zalo_broadcasts"
    __table_args__ = (Index("ix_zalo_broadcasts_channel_sent", "channel_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"))
    article_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(100), default="")
    sent_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<ZaloBroadcast channel={self.channel_id} article={self.article_id} {self.sent_at:%Y-%m-%d %H:%M}>"


def vietnam_day_and_month(at: datetime) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """``at``'s day and calendar month in Vietnam time, each as ``(start, end)`` (time-zone aware)."""
    local = at.astimezone(VIETNAM)
    day_start = datetime.combine(local.date(), datetime.min.time(), tzinfo=VIETNAM)
    month_start = day_start.replace(day=1)
    next_month = (month_start + timedelta(days=32)).replace(day=1)
    return (day_start, day_start + timedelta(days=1)), (month_start, next_month)


def _sent_between(channel_id: int, start: datetime, end: datetime) -> int:
    return int(db.session.scalar(select(func.count(ZaloBroadcast.id)).where(
        ZaloBroadcast.channel_id == channel_id, ZaloBroadcast.sent_at >= start.astimezone(UTC),
        ZaloBroadcast.sent_at < end.astimezone(UTC))) or 0)


def broadcasts_sent(settings: Settings, channel_id: int, at: datetime) -> tuple[int, int]:
    """Broadcasts this OA sent on ``at``'s day and month (Vietnam time), counted from the database."""
    day, month = vietnam_day_and_month(at)
    return _sent_between(channel_id, *day), _sent_between(channel_id, *month)


def count_broadcast(settings: Settings, channel_id: int, at: datetime, article_id: str = "",
                    message_id: str = "") -> None:
    """Keep one sent broadcast (flushes; the job's commit keeps it with the delivery it published)."""
    db.session.add(ZaloBroadcast(channel_id=channel_id, article_id=article_id[:64], message_id=message_id[:100],
                                 sent_at=at))
    db.session.flush()


def broadcast_quota_for_list(channel: Any, settings: Settings) -> dict[str, Any]:
    """The channels page's quota cell: broadcasts sent this calendar month (Vietnam time) of the OA's monthly
    quota."""
    _day, month = broadcasts_sent(settings, channel.id, datetime.now(UTC))
    return {"used": month, "limit": monthly_limit(dict(channel.settings or {}))}


def monthly_limit(channel_settings: dict[str, Any]) -> int:
    try:
        return max(int(channel_settings.get("broadcast_monthly_limit") or BROADCAST_PER_MONTH), 0)
    except (TypeError, ValueError):
        return BROADCAST_PER_MONTH


def broadcasting(channel_settings: dict[str, Any]) -> bool:
    return str(channel_settings.get("broadcast", "")).lower() in ("1", "true", "yes", "on")


def check_broadcast_quota(channel: Any, at: datetime, pending_between: Callable[[datetime, datetime], int],
                          settings: Settings) -> None:
    """Refuse one more delivery at ``at`` on an OA that broadcasts every article when the day's or the month's
    broadcast quota, counting what was sent and what is already scheduled, cannot carry it."""
    channel_settings = dict(channel.settings or {})
    if not broadcasting(channel_settings):
        return
    local = at.astimezone(VIETNAM)
    day, month = vietnam_day_and_month(at)
    sent_day, sent_month = broadcasts_sent(settings, channel.id, at)
    day_total = sent_day + pending_between(*day) + 1
    month_total = sent_month + pending_between(*month) + 1
    limit = monthly_limit(channel_settings)
    if day_total > BROADCAST_PER_DAY:
        raise ValidationFailed({"broadcast": [_l(
            "Zalo delivers at most %(n)s broadcast a day to each follower: %(date)s already has one for this "
            "Official Account. Choose another day.", n=BROADCAST_PER_DAY, date=local.strftime("%d/%m/%Y"))]})
    if month_total > limit:
        raise ValidationFailed({"broadcast": [_l(
            "This Official Account may broadcast %(n)s articles a month on Zalo; %(month)s is already full. "
            "Choose a day next month.", n=limit, month=local.strftime("%m/%Y"))]})


# --- the adapter ---------------------------------------------------------------------------------------------------


def marker(idempotency_key: str) -> str:
    return MARKER_PREFIX + re.sub(r"[^A-Za-z0-9-]", "-", idempotency_key)[:60]


def tracking_link(public_url: str, idempotency_key: str) -> str:
    separator = "&" if "?" in public_url else "?"
    return f"{public_url}{separator}{urlencode({'utm_source': 'zalo', 'utm_content': marker(idempotency_key)})}"


def zalo_app_configured(settings: Settings) -> bool:
    """Loa's Zalo app is set up, so admins connect Official Accounts through Zalo's OAuth v4."""
    return bool(settings.zalo_app_id and settings.zalo_app_secret)


@register
class ZaloAdapter(ChannelAdapter):
    """A Zalo Official Account: ``channel_settings`` ``oa_id`` (+ optional ``broadcast``,
    ``broadcast_monthly_limit``); secrets ``access_token``, ``refresh_token``, ``expires_at``."""

    kind = "zalo"
    description = ChannelDescription(
        kind="zalo",
        label=_l("Zalo Official Account"),
        short_label=_l("Zalo"),
        icon="Z",
        colour="#0068ff",
        connect_fields=(
            ConnectField("oa_id", _l("Zalo Official Account id"), max_length=100,
                         required_message=_l("The OA id is required.")),
            ConnectField("access_token", _l("Access token"), secret=True, max_length=4000,
                         required_message=_l("An access token is required."), reconnect=True,
                         reconnect_label=_l("New access token")),
            ConnectField("refresh_token", _l("Refresh token"), secret=True, max_length=4000,
                         required_message=_l("A refresh token is required."), reconnect=True,
                         reconnect_label=_l("New refresh token")),
            ConnectField("author", _l("Author shown on Zalo articles (optional)"), required=False,
                         max_length=AUTHOR_MAX),
        ),
        sign_in=SignIn("channels_ui.oauth_connect", _l("Zalo Official Account (sign in with Zalo)"), "zalo-oauth",
                       configured=zalo_app_configured, pass_kind=True, reconnect_label=_l("Reconnect by signing in")),
        variant=(
            # Zalo Article API (read 2026-12-02, module docstring): title ≤ 150, author ≤ 50, description ≤ 300.
            VariantField("title", "text", _l("Title of the Zalo article"), max_length=TITLE_MAX, fill="title",
                         preview="title", limit_message=lambda **kw: _l(
                             "Zalo allows at most %(n)s characters in an article's title (this has %(have)s).",
                             **kw)),
            VariantField("author", "text", _l("Author shown on Zalo"), max_length=AUTHOR_MAX,
                         limit_message=lambda **kw: _l(
                             "Zalo allows at most %(n)s characters in an article's author (this has %(have)s).",
                             **kw)),
            VariantField("description", "text", _l("Description of the Zalo article"), max_length=DESCRIPTION_MAX,
                         multiline=True, fill_from_story=True, fill="summary", preview="summary",
                         limit_message=lambda **kw: _l(
                             "Zalo allows at most %(n)s characters in an article's description (this has "
                             "%(have)s).", **kw)),
            VariantField("media_ids", "media", _l("Pictures and videos in the Zalo article"), compose=False),
        ),
        # Images ≤ 1 MB each (Article API): Loa sends a JPEG rendition made to fit, so any picture may be chosen.
        media=MediaRules(accepts=("image", "video"), image_max_bytes=IMAGE_MAX_BYTES,
                         rule=_l("The Zalo article shows the cover and every picture and video chosen here below "
                                 "its text; Loa makes each picture a JPEG of at most 1 MB for Zalo."),
                         choose_label=_l("Pictures and videos in the Zalo article")),
        rate_per_minute=10,  # Loa's choice: Zalo's pages read name no per-minute article limit (-32 if exceeded)
        metrics_batch_size=20,  # one getdetail call per article
        capabilities=Capabilities(edit=True, delete=True, metrics=True, comments=False, reply=False),
        # The channels page's quota cell: broadcasts this month of the OA's monthly quota (counted in the database).
        quota=broadcast_quota_for_list,
        quota_label=_l("broadcasts this month"),
        # Zalo gives an article's views and shares; no reactions, no comment count: "not available", never 0.
        metrics=MetricMapping(measures={"views": ("views",), "shares": ("shares",)}),
        preview="article",
        # The sentences a failed delivery quotes as its reason: Zalo's codes and the video statuses that end an upload.
        error_sentences={**{str(code): sentence for code, (_kind, sentence) in ERRORS.items()},
                         **{f"video_status_{status}": sentence for status, sentence in VIDEO_REFUSED.items()}},
        media_error_codes=frozenset(f"video_status_{status}" for status in VIDEO_REFUSED),
    )
    supports_comments = False
    verify_delays: tuple[float, ...] = VERIFY_DELAYS
    sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, settings, channel_settings, secrets, channel_id=None):  # type: ignore[no-untyped-def]
        super().__init__(settings, channel_settings, secrets, channel_id)
        self.session = http_session()
        self.tokens = TokenKeeper(settings, channel_id, secrets, self.session)

    # --- OAuth connect (offered to the generic connect view) -----------------------------------------------------

    @classmethod
    def oauth_configured(cls, settings: Settings) -> bool:
        return zalo_app_configured(settings)

    @classmethod
    def authorization_url(cls, settings: Settings, redirect_uri: str) -> tuple[str, dict[str, str]]:
        """Zalo's permission page for an OA admin, and what the caller keeps for one use (``state``,
        ``code_verifier``)."""
        verifier, challenge = pkce_pair()
        state = secrets_module.token_urlsafe(24)
        query = urlencode({"app_id": settings.zalo_app_id or "", "redirect_uri": redirect_uri,
                           "code_challenge": challenge, "state": state})
        return f"{settings.zalo_oauth_url}/v4/oa/permission?{query}", {"state": state, "code_verifier": verifier}

    @classmethod
    def exchange_code(cls, settings: Settings, args: dict[str, str], kept: dict[str, str]) -> dict[str, Any]:
        """Check the single-use ``state``, trade the code (with the PKCE verifier) for tokens and read the OA:
        ``{"name", "settings", "secrets"}`` for the channel to connect."""
        state = str(args.get("state") or "")
        expected = str(kept.get("state") or "")
        if not expected or not secrets_module.compare_digest(state.encode(), expected.encode()):
            raise ValidationFailed({"state": [_l("This Zalo answer does not belong to a connection started here, "
                                                 "or was already used; start again.")]})
        if not args.get("code"):
            raise ValidationFailed({"code": [_l("Zalo gave no authorisation: the Official Account admin did not "
                                                "allow Loa.")]})
        session = http_session()
        try:
            data = _oauth_post(settings, session, {"grant_type": "authorization_code", "code": str(args["code"]),
                                                   "code_verifier": str(kept.get("code_verifier") or "")})
            tokens = _token_fields(data, datetime.now(UTC))
            adapter = cls(settings, {"oa_id": str(args.get("oa_id") or "")}, tokens)
            info = adapter._get("/v2.0/oa/getoa")
        except ChannelError as exc:
            raise ValidationFailed({"code": [str(exc)]}, message=exc.message) from exc
        oa = info.get("data") or {}
        oa_id = str(oa.get("oa_id") or args.get("oa_id") or "")
        return {"name": str(oa.get("name") or f"Zalo OA {oa_id}"),
                "settings": {"oa_id": oa_id, "oa_name": str(oa.get("name") or "")},
                "secrets": adapter.tokens.secrets}

    # --- plumbing ------------------------------------------------------------------------------------------------

    @property
    def updated_secrets(self) -> dict[str, Any] | None:
        """Only a keeper without a stored channel hands tokens back; a stored channel's rotation is committed by
        the keeper itself (a caller writing its older copy back could lose a newer rotation)."""
        return dict(self.tokens.secrets) if self.tokens.rotated else None

    def _call(self, method: str, path: str, headers: dict[str, str] | None = None, timeout: float | None = None,
              **kwargs: Any) -> dict[str, Any]:
        token = self.tokens.access_token()
        for attempt in (1, 2):
            try:
                response = self.session.request(method, f"{self.settings.zalo_api_url}{path}",
                                                headers={**(headers or {}), "access_token": token}, **kwargs,
                                                timeout=timeout or self.settings.channel_timeout_seconds)
            except requests.RequestException as exc:
                raise _transport_error(exc) from exc
            try:
                return _answer(response)
            except ChannelError as exc:
                if attempt == 1 and exc.code in {str(c) for c in TOKEN_INVALID} and self.tokens.secrets.get(
                        "refresh_token"):
                    self.tokens.refresh(rejected=token)  # expired early or revoked: renew once, then believe Zalo
                    token = self.tokens.access_token()
                    continue
                raise
        raise AssertionError("unreachable")

    def _get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return self._call("GET", path, params=params)

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", path, json=body)

    def _verify(self, token: str) -> str:
        """The article id once Zalo has processed the create (or update) answered by ``token``."""
        last: ChannelError | None = None
        for delay in (0.0, *self.verify_delays):
            if delay:
                self.sleep(delay)
            try:
                data = self._post("/v2.0/article/verify", {"token": token})
            except ChannelError as exc:
                if exc.code != str(PROCESSING):
                    raise
                last = exc
                continue
            article_id = (data.get("data") or {}).get("id")
            if article_id:
                return str(article_id)
        raise last or ChannelError(ErrorKind.TRANSIENT, ERRORS[PROCESSING][1], code=str(PROCESSING))

    # --- what an article looks like ------------------------------------------------------------------------------

    def _fields(self, request: PublishRequest) -> dict[str, str]:
        variant = request.variant or {}
        return {"title": str(variant.get("title") or request.title or "").strip(),
                "author": str(variant.get("author") or self.channel_settings.get("author")
                              or self.channel_settings.get("oa_name", "")[:AUTHOR_MAX] or "").strip(),
                "description": str(variant.get("description") or request.summary or "").strip()}

    def _public_media_url(self, path: Path) -> str:
        relative = path.resolve().relative_to(Path(self.settings.media_dir).resolve())
        return f"{self.settings.public_url}/media/{relative.as_posix()}"

    def _article(self, request: PublishRequest) -> dict[str, Any]:
        fields = self._fields(request)
        items = body_items(request.body_html, self.settings.public_url)
        in_body = {item.get("url") for item in items}
        for media in request.media:
            if media.kind == "image":
                url = self._public_media_url(zalo_rendition(media))
                if url not in in_body:
                    items.append({"type": "image", "url": url, "caption": media.caption or media.alt_text})
            elif media.kind == "video":
                video_id = self._upload_video(media)
                if video_id is not None:
                    items.append({"type": "video", "video_id": video_id})
                    continue
                video = {"type": "video", "url": self._public_media_url(media.path)}  # a file Zalo does not take
                if media.renditions.get("poster") is not None:
                    video["thumb"] = self._public_media_url(media.renditions["poster"])
                items.append(video)
        if not items:
            items = [{"type": "text", "content": html.escape(fields["description"] or fields["title"])}]
        cover = request.cover
        return {"type": "normal", **fields,
                "cover": {"cover_type": "photo", "photo_url": self._public_media_url(zalo_rendition(cover))
                          if cover is not None else "", "status": "show"},
                "body": items, "tracking_link": tracking_link(request.public_url, request.idempotency_key),
                "status": "show", "comment": "show"}

    def _upload_video(self, media: MediaFile) -> str | None:
        """The ``video_id`` of the video once Zalo has processed it (upload → token → verify, polled with
        :attr:`verify_delays`), or ``None`` for a file Zalo does not take (not MP4/AVI, over 50 MB)."""
        suffix = media.path.suffix.lower()
        if media.size_bytes > VIDEO_MAX_BYTES or (media.content_type not in VIDEO_TYPES
                                                  and suffix not in (".mp4", ".avi")):
            return None
        data = media.path.read_bytes()  # at most 50 MB; read once, so that a retried call sends it whole again
        answer = self._call("POST", "/v2.0/article/upload_video/preparevideo", timeout=VIDEO_UPLOAD_TIMEOUT,
                            files={"file": (f"video-{media.media_id}{suffix or '.mp4'}", data,
                                            media.content_type or "video/mp4")})
        token = str((answer.get("data") or {}).get("token") or "")
        for delay in (0.0, *self.verify_delays):
            if delay:
                self.sleep(delay)
            info = self._call("GET", "/v2.0/article/upload_video/verify", headers={"token": token}).get("data") or {}
            try:
                status = int(info.get("status") or 0)
            except (TypeError, ValueError):
                status = 0
            if status == VIDEO_READY and info.get("video_id"):
                return str(info["video_id"])
            if status in VIDEO_REFUSED:
                raise ChannelError(ErrorKind.REJECTED, VIDEO_REFUSED[status], code=f"video_status_{status}",
                                   platform_message=str(info)[:300])
        raise ChannelError(ErrorKind.TRANSIENT, _l("Zalo is still processing the video; Loa will try again."),
                           code="video_processing")

    def validate(self, request: PublishRequest) -> list[Problem]:
        fields = self._fields(request)
        problems = []
        for name, limit in (("title", TITLE_MAX), ("author", AUTHOR_MAX), ("description", DESCRIPTION_MAX)):
            if not fields[name]:
                problems.append(Problem(f"variant.{name}", str(_l("Zalo requires the article's %(field)s.",
                                                                  field=_FIELD_NAMES[name]))))
            elif len(fields[name]) > limit:
                problems.append(Problem(f"variant.{name}", str(_l(
                    "Zalo allows at most %(n)s characters in the article's %(field)s (now %(count)s).", n=limit,
                    field=_FIELD_NAMES[name], count=len(fields[name])))))
        if request.cover is None or request.cover.kind != "image":
            problems.append(Problem("cover", str(_l("A Zalo article needs a cover picture."))))
        return problems

    def _refuse_invalid(self, request: PublishRequest) -> None:
        problems = self.validate(request)
        if problems:
            raise ChannelError(ErrorKind.REJECTED, "; ".join(p.message for p in problems), code="validation")

    def _link(self, article_id: str) -> str:
        return f"https://zalo.me/{self.channel_settings.get('oa_id', '')}/article/{article_id}"

    # --- the interface ---------------------------------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        self._refuse_invalid(request)
        broadcast = broadcasting(self.channel_settings) and self.channel_id is not None
        if broadcast:
            sent_day, sent_month = broadcasts_sent(self.settings, self.channel_id, datetime.now(UTC))
            if sent_day >= BROADCAST_PER_DAY or sent_month >= monthly_limit(self.channel_settings):
                raise ChannelError(ErrorKind.RATE_LIMITED, str(ERRORS[-223][1]), code="broadcast_quota",
                                   retry_after=_seconds_to_vietnam_midnight())
        created = self._post("/v2.0/article/create", self._article(request))
        article_id = self._verify(str((created.get("data") or {}).get("token") or ""))
        warnings: tuple[str, ...] = ()
        if broadcast:
            try:
                self.broadcast(article_id)
            except ChannelError as exc:  # the article is out; only its broadcast failed
                warnings = (str(_l("The article is published, but Zalo refused its broadcast: %(reason)s",
                                   reason=str(exc))),)
        return PublishResult(remote_id=article_id, remote_url=self._link(article_id), warnings=warnings)

    def broadcast(self, article_id: str) -> str:
        """Send the article to the OA's followers; counts it against the OA's broadcast quota."""
        data = self._post("/v2.0/oa/message", {"recipient": {"target": {"gender": "0"}}, "message": {
            "attachment": {"type": "template", "payload": {"template_type": "media", "elements": [
                {"media_type": "article", "attachment_id": article_id}]}}}})
        message_id = str((data.get("data") or {}).get("message_id") or "")
        if self.channel_id is not None:
            count_broadcast(self.settings, self.channel_id, datetime.now(UTC), article_id, message_id)
        return message_id

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        self._refuse_invalid(request)
        answer = self._post("/v2.0/article/update", {"id": remote_id, **self._article(request)})
        token = (answer.get("data") or {}).get("token")
        article_id = self._verify(str(token)) if token else remote_id
        return PublishResult(remote_id=article_id, remote_url=self._link(article_id))

    def unpublish(self, remote_id: str) -> None:
        try:
            self._post("/v2.0/article/remove", {"id": remote_id})
        except ChannelError as exc:
            if exc.kind is ErrorKind.REJECTED and exc.code == "-201":  # no such article: already removed
                return
            raise

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        title = self._fields(request)["title"]
        wanted = marker(request.idempotency_key)
        for page in range(LOOKUP_PAGES):
            data = self._get("/v2.0/article/getslice", {"offset": page * LIST_LIMIT, "limit": LIST_LIMIT,
                                                        "type": "normal"})
            articles = (data.get("data") or {}).get("medias") or []
            for article in articles:
                if str(article.get("title") or "").strip() != title:
                    continue
                detail = (self._get("/v2.0/article/getdetail", {"id": article.get("id")}).get("data") or {})
                if wanted in str(detail.get("tracking_link") or ""):
                    return PublishResult(remote_id=str(article["id"]), remote_url=self._link(str(article["id"])))
            if len(articles) < LIST_LIMIT:
                break
        return None

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        results: dict[str, Metrics] = {}
        for remote_id in remote_ids:
            try:
                detail = self._get("/v2.0/article/getdetail", {"id": remote_id}).get("data") or {}
            except ChannelError as exc:
                if exc.kind is ErrorKind.REJECTED and exc.code == "-201":
                    results[remote_id] = Metrics(remote_id, {}, removed=True)
                    continue
                if exc.kind in (ErrorKind.AUTH_EXPIRED, ErrorKind.RATE_LIMITED):
                    raise
                results[remote_id] = Metrics(remote_id, {}, error=exc)
                continue
            values = {name: int(detail[field]) for field, name in (("total_view", "views"), ("total_share", "shares"))
                      if isinstance(detail.get(field), (int, float)) or str(detail.get(field, "")).isdigit()}
            results[remote_id] = Metrics(remote_id, values)  # no comment count: Zalo gives none (absent, not 0)
        return results

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        return []  # Zalo's Open API gives no article comments (capability off)

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        raise ChannelError(ErrorKind.REJECTED, _l("Zalo's API does not let Loa answer article comments."),
                           code="unsupported")

    def check_connection(self) -> ConnectionStatus:
        try:
            data = self._get("/v2.0/oa/getoa").get("data") or {}
        except ChannelError as exc:
            return ConnectionStatus(ok=False, message=str(exc), error=exc)
        oa_id = str(data.get("oa_id") or "")
        expected = str(self.channel_settings.get("oa_id") or "")
        if expected and oa_id and oa_id != expected:
            error = ChannelError(ErrorKind.AUTH_EXPIRED, _l("These tokens belong to another Zalo Official Account."),
                                 code="other_oa")
            return ConnectionStatus(ok=False, message=str(error.message), error=error)
        return ConnectionStatus(ok=True, message=str(_l("Connected to the Zalo Official Account %(name)s.",
                                                        name=data.get("name") or oa_id)),
                                details={"oa_name": data.get("name") or "", "oa_id": oa_id})


_FIELD_NAMES = {"title": _l("title"), "author": _l("author"), "description": _l("description")}


channel_services.SCHEDULE_CHECKS["zalo"] = check_broadcast_quota  # a broadcast schedule the quota cannot carry
