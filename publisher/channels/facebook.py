"""The Facebook Page adapter, on facebook-sdk 3.1.0 through one small wrapper (:class:`GraphClient`).

facebook-sdk 3.1.0 refuses current Graph versions at construction, takes its base URL from a module global, has
no default time-out, raises only when a body has an ``error`` key and cannot reach the video-upload host.
:class:`GraphClient` fixes all of that in one place: the version and both base URLs come from settings, every
call has ``channel_timeout_seconds``, the HTTP status is checked, and errors keep Graph's code, subcode,
``is_transient``, ``fbtrace_id`` and the response headers (usage headers tell how long a rate limit lasts).
:func:`classify` is the one place that maps Graph errors to Loa's :class:`ErrorKind`.

Graph as a new app meets it (December 2026): the default version is v27.0 (settings), and Loa uses none of the
legacy features that apps created after 4 November 2026 may not use (Meta developer blog, 2026-11-04,
"Introducing Graph API v27.0 and Marketing API v27.0", entry "Graph API - Legacy features": multi-ID requests,
date/time formatting, HTTP method override, field aliases, JSONP callbacks, asynchronous batch requests).
Many posts are read with synchronous batch requests (:meth:`GraphClient.batch`, Graph's "Batch Requests" page,
read 2026-12-02); facebook-sdk's multi-ID ``get_objects`` is refused; deletes use the HTTP verb DELETE.

Idempotency (``find_existing``): Graph keeps no caller-supplied metadata on a Page post, so the marker is the
post's message itself. Loa composes the message deterministically from the request (variant message, or title
and summary, plus the campaign's hashtags), and Facebook refuses an identical message on the same Page within a
short time (error 506, "Duplicate status message"), so among the Page's recent posts at most one carries that
exact text. ``find_existing`` reads the Page's newest posts (``published_posts``, :data:`LOOKUP_LIMIT`) and
matches the message with whitespace normalised.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import facebook
import requests
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

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
    HealthLine,
    MediaRules,
    MetricMapping,
    SignIn,
    TokenHealth,
    VariantField,
)
from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.errors import Conflict
from publisher.settings import Settings

log = logging.getLogger(__name__)

# Graph API reference, "Page Feed" (read 2026-12-02): a post's ``message`` holds at most 63,206 characters.
MESSAGE_MAX = 63206
LINK_MAX = 2000  # Loa's own bound on a link's length (no platform limit is meant)
PHOTO_MAX_BYTES = 4 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg", "image/png", "image/gif", "image/bmp", "image/tiff", "image/webp"}
VIDEO_MAX_BYTES = 10 * 1024 * 1024 * 1024
VIDEO_TYPES = {"video/mp4", "video/quicktime", "video/webm", "video/x-msvideo", "video/x-matroska", "video/mpeg"}
# Graph's "Batch Requests" page (read 2026-12-02): "Batch requests are limited to 50 requests per batch."
BATCH_MAX = 50
IDS_PER_CALL = BATCH_MAX  # posts read per Graph call (one batch)
LOOKUP_LIMIT = 50
COMMENTS_MAX = 2000
CHUNK_RETRIES = 3
# What a post's figures are read from: three fields Graph answers on the post itself, and Page Insights metrics.
# Which insights metrics is the engagement configuration's (publisher/engagement/engagement.toml), handed over
# as ``wanted_metrics``; DEFAULT_INSIGHTS only serves callers that set none (tests, look-ups by hand).
POST_FIELDS = ("reactions", "comments", "shares")
POST_FIELD_SPECS = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"
DEFAULT_INSIGHTS = ("post_media_view", "post_total_media_view_unique")
RATE_LIMIT_CODES = {4, 17, 32, 613}
AUTH_SUBCODES = {458, 459, 460, 463, 464, 467, 492}
# Graph's refusals Loa words itself (classify below); a failed delivery quotes them as its reason (the description's
# error_sentences, read by publisher/scheduler/explain.py).
# Graph's codes for a photo or video file it refused (#324, #6000, #6001).
MEDIA_REFUSED_CODES = ("324", "6000", "6001")
REFUSALS: dict[str, Any] = {
    # a retired or legacy Graph feature: a Loa bug, not the post's fault (but no retry helps)
    "12": _l("Facebook no longer accepts this kind of request from Loa (a retired Graph API feature); update Loa."),
    "368": _l("Facebook blocked this post under its community standards."),
    **dict.fromkeys(MEDIA_REFUSED_CODES, _l("Facebook refused the photo or video file.")),
}
DEFAULT_RATE_LIMIT_WAIT = {4: 300.0, 17: 300.0, 32: 300.0, 613: 60.0}
USAGE_HEADERS = ("X-Business-Use-Case-Usage", "X-App-Usage", "X-Page-Usage", "X-Ad-Account-Usage")
PERMALINK = "https://www.facebook.com/{}"


# --- the one wrapper around facebook-sdk -------------------------------------------------------------------


class GraphCallError(facebook.GraphAPIError):
    """A failed Graph call with everything Graph said about it."""

    def __init__(self, result: Any, *, http_status: int | None = None, headers: Any = None, timed_out: bool = False,
                 unreachable: bool = False):
        super().__init__(result)
        error = result.get("error") if isinstance(result, dict) and isinstance(result.get("error"), dict) else {}
        self.http_status = http_status
        self.headers = dict(headers or {})
        self.timed_out = timed_out
        self.unreachable = unreachable
        self.code = _int(error.get("code"))
        self.subcode = _int(error.get("error_subcode"))
        self.is_transient = bool(error.get("is_transient"))
        self.fbtrace_id = error.get("fbtrace_id")
        self.error_type = error.get("type", "")
        self.error_data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
        self.platform_message = str(error.get("message") or self.message or "")


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


_redaction_installed = threading.Lock()
_redacted = False


class _RedactTokens(logging.Filter):
    """urllib3 logs request lines at DEBUG, with the access token in the query string: hide it."""

    pattern = re.compile(r"(access_token=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(self.pattern.sub(r"\1[hidden]", a) if isinstance(a, str) else a
                                for a in (record.args if isinstance(record.args, tuple) else (record.args,)))
        if isinstance(record.msg, str):
            record.msg = self.pattern.sub(r"\1[hidden]", record.msg)
        return True


def _install_redaction() -> None:
    global _redacted
    with _redaction_installed:
        if not _redacted:
            logging.getLogger("urllib3.connectionpool").addFilter(_RedactTokens())
            _redacted = True


class GraphClient(facebook.GraphAPI):
    """facebook-sdk's GraphAPI with the version, base URLs and time-out from settings and strict error checks.

    The sdk's own methods (``get_object``, ``get_objects``, ``put_object``, ``put_photo``, ``delete_object``,
    ``get_connections``, ``put_comment``) all go through :meth:`request`, which this class replaces: the base URL
    is per instance (never the sdk's module global), so clients for different settings can run in parallel.
    """

    def __init__(self, access_token: str, *, base_url: str, video_url: str, version: str, timeout: float,
                 session: requests.Session | None = None):
        # Without a session the sdk makes a plain one, which reads .netrc and proxies again on every call.
        super().__init__(access_token=access_token, timeout=timeout, session=session or http_session())
        self.version = version  # after construction: the sdk refuses versions newer than 3.1 in __init__
        self.base_url = base_url.rstrip("/")
        self.video_url = video_url.rstrip("/")
        self.last_headers: dict[str, str] = {}
        _install_redaction()

    @classmethod
    def from_settings(cls, settings: Settings, access_token: str, session: requests.Session | None = None) -> GraphClient:
        return cls(access_token, base_url=settings.facebook_graph_url, video_url=settings.facebook_graph_video_url,
                   version=settings.facebook_graph_version, timeout=settings.channel_timeout_seconds, session=session)

    def request(self, path: str, args: dict[str, Any] | None = None, post_args: dict[str, Any] | None = None,
                files: dict[str, Any] | None = None, method: str | None = None, *, host: str | None = None) -> Any:
        args = dict(args or {})
        if post_args is not None:
            method = "POST"
            post_args = dict(post_args)
        if self.access_token:
            if post_args is not None and "access_token" not in post_args:
                post_args["access_token"] = self.access_token
            elif "access_token" not in args:
                args["access_token"] = self.access_token
        url = f"{host or self.base_url}/{path.lstrip('/')}"
        try:
            response = self.session.request(method or "GET", url, timeout=self.timeout, params=args, data=post_args,
                                            files=files, proxies=self.proxies)
        except requests.Timeout:
            raise GraphCallError({"error": {"message": f"no answer within {self.timeout:g} s"}}, timed_out=True) from None
        except requests.RequestException as exc:
            raise GraphCallError({"error": {"message": f"{exc.__class__.__name__}: cannot reach {host or self.base_url}"}},
                                 unreachable=True) from None
        self.last_headers = dict(response.headers)
        try:
            result = response.json()
        except ValueError:
            result = None
        if isinstance(result, dict) and isinstance(result.get("error"), dict):
            raise GraphCallError(result, http_status=response.status_code, headers=response.headers)
        if response.status_code >= 400 or result is None:
            text = response.text[:200].strip() or response.reason
            raise GraphCallError({"error": {"message": f"HTTP {response.status_code}: {text}"}},
                                 http_status=response.status_code, headers=response.headers)
        return result

    def path(self, *parts: str) -> str:
        return "/".join((self.version, *parts))

    def get_objects(self, ids: Any, **args: Any) -> Any:
        """Refused: facebook-sdk sends a multi-ID request (``?ids=a,b``), a legacy feature new apps may not use
        ("Introducing Graph API v27.0", Meta developer blog, 2026-11-04, entry "Graph API - Legacy features").
        Use :meth:`batch`."""
        raise NotImplementedError("multi-ID requests are a Graph legacy feature: use GraphClient.batch")

    def batch(self, operations: list[dict[str, str]]) -> list[Any]:
        """One synchronous Graph batch (``POST /{version}/`` with ``batch=[…]``, Graph's "Batch Requests" page,
        read 2026-12-02): at most :data:`BATCH_MAX` operations ``{"method", "relative_url"}``, answered in the
        same order. Each item of the answer is the operation's own decoded body, or a :class:`GraphCallError`
        built from its own ``code`` and error body (an operation Graph did not complete in time answers ``null``:
        a transient error). A failure of the batch as a whole (token, rate limit, network) raises."""
        if not operations or len(operations) > BATCH_MAX:
            raise ValueError(f"a Graph batch holds 1 to {BATCH_MAX} operations, not {len(operations)}")
        answers = self.request(self.path(""), post_args={"batch": json.dumps(operations), "include_headers": "false"})
        if not isinstance(answers, list) or len(answers) != len(operations):
            raise GraphCallError({"error": {"message": "Graph answered the batch with something other than one "
                                                       "answer per operation", "is_transient": True}},
                                 http_status=200, headers=self.last_headers)
        return [_batch_answer(answer) for answer in answers]

    def upload_video(self, page_id: str, path: Path, *, title: str, description: str,
                     progress: Callable[[int, int], None] | None = None) -> str:
        """Chunked upload to the video host (start, transfer…, finish); the file is read one chunk at a time.

        A chunk whose transfer fails transiently (time-out, 5xx) is sent again; when Graph says it already has
        more than we thought (start_offset mismatch), the upload resumes where Graph says.
        """
        size = path.stat().st_size
        edge = self.path(page_id, "videos")
        started = self.request(edge, post_args={"upload_phase": "start", "file_size": str(size)}, host=self.video_url)
        session_id, video_id = started["upload_session_id"], str(started["video_id"])
        start, end = int(started["start_offset"]), int(started["end_offset"])
        failures = 0
        with path.open("rb") as fh:
            while start < end:
                fh.seek(start)
                chunk = fh.read(end - start)
                try:
                    answer = self.request(edge, post_args={"upload_phase": "transfer", "upload_session_id": session_id,
                                                           "start_offset": str(start)},
                                          files={"video_file_chunk": ("chunk", chunk, "application/octet-stream")},
                                          host=self.video_url)
                except GraphCallError as exc:
                    failures += 1
                    if exc.subcode == 1363037 and exc.error_data.get("start_offset") is not None \
                            and failures <= CHUNK_RETRIES:
                        start, end = int(exc.error_data["start_offset"]), int(exc.error_data["end_offset"])
                        continue
                    if classify(exc).kind is ErrorKind.TRANSIENT and failures <= CHUNK_RETRIES:
                        continue
                    raise
                del chunk
                start, end = int(answer["start_offset"]), int(answer["end_offset"])
                if progress is not None:
                    progress(start, size)
        self.request(edge, post_args={"upload_phase": "finish", "upload_session_id": session_id, "title": title,
                                      "description": description}, host=self.video_url)
        return video_id


def _batch_answer(answer: Any) -> Any:
    """One operation's answer in a batch: its decoded body, or the GraphCallError its own code and body say."""
    if answer is None:
        return GraphCallError({"error": {"message": "Graph did not complete this operation of the batch in time",
                                         "is_transient": True}})
    if not isinstance(answer, dict):
        return GraphCallError({"error": {"message": f"unexpected batch answer {str(answer)[:100]!r}",
                                         "is_transient": True}})
    status = _int(answer.get("code")) or 0
    headers = {str(h.get("name")): str(h.get("value")) for h in answer.get("headers") or [] if isinstance(h, dict)}
    try:
        body = json.loads(answer.get("body") or "null")
    except (TypeError, ValueError):
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        return GraphCallError(body, http_status=status, headers=headers)
    if status >= 400 or body is None:
        return GraphCallError({"error": {"message": f"HTTP {status} in a batch answer"}}, http_status=status,
                              headers=headers)
    return body


# --- the one place Graph errors become Loa's error kinds ----------------------------------------------------


def classify(exc: GraphCallError) -> ChannelError:
    """Map a failed Graph call to an :class:`ErrorKind` with a sentence for people and Graph's own words."""
    code, subcode = exc.code, exc.subcode
    platform = exc.platform_message
    if exc.fbtrace_id:
        platform = f"{platform} (fbtrace_id {exc.fbtrace_id})"
    details = {"code": str(code) if code is not None else (str(exc.http_status) if exc.http_status else None),
               "subcode": str(subcode) if subcode is not None else None, "platform_message": platform,
               "http_status": exc.http_status}

    if exc.timed_out:
        return ChannelError(ErrorKind.TRANSIENT, _("Facebook did not answer in time; Loa will try again (it first "
                                                   "checks whether the post went out)."),
                            code="timeout", platform_message=platform)
    if exc.unreachable:
        return ChannelError(ErrorKind.TRANSIENT, _("Facebook could not be reached; Loa will try again."),
                            code="unreachable", platform_message=platform)
    if code == 190 or code == 102 or subcode in AUTH_SUBCODES:
        if subcode == 463:
            sentence = _("The Facebook Page access token has expired: reconnect the Page with a new token.")
        else:
            sentence = _("Facebook no longer accepts this Page's access token (it is invalid or was revoked): "
                         "reconnect the Page with a new token.")
        return ChannelError(ErrorKind.AUTH_EXPIRED, sentence, **details)
    if code in RATE_LIMIT_CODES or (code is not None and 80001 <= code <= 80099) or exc.http_status == 429:
        wait = retry_after_from_headers(exc.headers)
        if wait is None:
            wait = DEFAULT_RATE_LIMIT_WAIT.get(code or 0, 300.0)
        return ChannelError(ErrorKind.RATE_LIMITED,
                            _("Facebook is limiting how often Loa may call it; Loa will try again in about "
                              "%(minutes)s minutes.", minutes=max(1, round(wait / 60))),
                            retry_after=wait, **details)
    if code == 506:
        return ChannelError(ErrorKind.DUPLICATE, _("Facebook says this Page already has a post with the same text."),
                            **details)
    if exc.is_transient or code in (1, 2) or (exc.http_status or 0) >= 500 or code == 390:
        return ChannelError(ErrorKind.TRANSIENT, _("Facebook had a temporary problem; Loa will try again."), **details)
    if code == 10 or (code is not None and 200 <= code <= 299):
        return ChannelError(ErrorKind.REJECTED,
                            _("Facebook refused: the token lacks a permission for this Page. If every post fails "
                              "like this, the channel was probably connected with a user token instead of a Page "
                              "access token: reconnect it with the Page's own token."), **details)
    if code is not None and str(code) in REFUSALS:
        return ChannelError(ErrorKind.REJECTED, str(REFUSALS[str(code)]), **details)
    if code == 100 or (exc.http_status or 0) >= 400:
        return ChannelError(ErrorKind.REJECTED, _("Facebook refused the request."), **details)
    return ChannelError(ErrorKind.TRANSIENT, _("Facebook gave an answer Loa did not understand; Loa will try "
                                               "again."), **details)


def retry_after_from_headers(headers: dict[str, str]) -> float | None:
    """Seconds until access returns, from the largest ``estimated_time_to_regain_access`` (minutes) in the usage
    headers; ``None`` when no header says."""
    minutes: list[float] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if key == "estimated_time_to_regain_access" and isinstance(inner, (int, float)):
                    minutes.append(float(inner))
                else:
                    walk(inner)
        elif isinstance(value, list):
            for inner in value:
                walk(inner)

    lowered = {k.lower(): v for k, v in headers.items()}
    for name in USAGE_HEADERS:
        raw = lowered.get(name.lower())
        if raw:
            try:
                walk(json.loads(raw))
            except ValueError:
                continue
    positive = [m for m in minutes if m > 0]
    if positive:
        return max(positive) * 60
    retry_after = lowered.get("retry-after", "")
    return float(retry_after) if retry_after.isdigit() else None


# --- the adapter ---------------------------------------------------------------------------------------------


def compose_message(request: PublishRequest) -> str:
    """The post's text: the variant's message (or title and summary), then the campaign's hashtags not yet in it."""
    message = str((request.variant or {}).get("message") or "").strip()
    if not message:
        message = "\n\n".join(part.strip() for part in (request.title, request.summary) if part and part.strip())
    tags = []
    for tag in request.hashtags:
        tag = "#" + tag.strip().lstrip("#")
        if len(tag) > 1 and tag.lower() not in message.lower():
            tags.append(tag)
    if tags:
        message = f"{message}\n\n{' '.join(tags)}" if message else " ".join(tags)
    return message


def _normalised(text: str | None) -> str:
    return " ".join((text or "").split())


def _parse_time(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").astimezone(UTC)


# --- the token's health (read with Facebook Login's app; the channels page shows it) ---------------------------


# What Loa asks for, each with what it is used for (Meta's permissions reference and "Pages API: Manage a Page",
# read 2026-12-02). REQUIRED: without these nothing can be connected (no Page list, no publishing).
PERMISSION_USES: dict[str, Any] = {
    "pages_show_list": _l("listing your Pages to pick from"),
    "pages_manage_posts": _l("publishing, editing and removing posts"),
    "pages_read_engagement": _l("reading the Page's posts and their reactions, comments and shares"),
    "pages_read_user_content": _l("reading readers' comments in the comment inbox"),
    "pages_manage_engagement": _l("answering and hiding comments"),
    "read_insights": _l("reading views and reach (insights) for the reports"),
    "publish_video": _l("publishing videos"),
}
WARN_DAYS = 14


def login_configured(settings: Settings) -> bool:
    return bool(settings.facebook_app_id and settings.facebook_app_secret)


def login_app(settings: Settings) -> tuple[str, str]:
    if not login_configured(settings):
        raise Conflict(_l("Facebook Login is not configured: set PUBLISHER_FACEBOOK_APP_ID and "
                          "PUBLISHER_FACEBOOK_APP_SECRET (see the README's “Meta app set-up”)."),
                       code="not_configured")
    return settings.facebook_app_id or "", settings.facebook_app_secret or ""


class _RedactLoginSecrets(logging.Filter):
    """urllib3 logs request lines at DEBUG: the login calls carry the code, the app secret and tokens in their
    query strings (the adapter's own filter hides ``access_token``)."""

    pattern = re.compile(r"((?:input_token|fb_exchange_token|client_secret|code)=)[^&\s\"']+")

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            args = record.args if isinstance(record.args, tuple) else (record.args,)
            record.args = tuple(self.pattern.sub(r"\1[hidden]", a) if isinstance(a, str) else a for a in args)
        if isinstance(record.msg, str):
            record.msg = self.pattern.sub(r"\1[hidden]", record.msg)
        return True


login_redaction = _RedactLoginSecrets()


def login_client(settings: Settings, token: str = "") -> GraphClient:
    logger = logging.getLogger("urllib3.connectionpool")
    if login_redaction not in logger.filters:
        logger.addFilter(login_redaction)
    return GraphClient.from_settings(settings, token)


def _iso(epoch: Any) -> str | None:
    """Graph's epoch seconds (0: never) as ISO-8601 UTC."""
    try:
        value = int(epoch or 0)
    except (TypeError, ValueError):
        return None
    return datetime.fromtimestamp(value, UTC).isoformat() if value > 0 else None


def read_token_health(settings: Settings, token: str) -> dict[str, Any]:
    """``debug_token`` for one token: ``{"checked_at", "is_valid", "type", "expires_at", "data_access_expires_at",
    "scopes"}`` (ISO times, ``None`` for never); ``{"checked_at", "error"}`` when Graph could not say."""
    now = utcnow().isoformat()
    if not login_configured(settings):
        return {"checked_at": now, "error": "not_configured"}
    app_id, app_secret = login_app(settings)
    try:
        data = login_client(settings).debug_access_token(token, app_id, app_secret).get("data") or {}
    except GraphCallError as exc:
        log.warning("debug_token failed: code %s subcode %s", exc.code, exc.subcode)
        return {"checked_at": now, "error": f"graph_{exc.code or exc.http_status or 'error'}"}
    return {"checked_at": now, "is_valid": bool(data.get("is_valid")), "type": str(data.get("type") or ""),
            "expires_at": _iso(data.get("expires_at")), "data_access_expires_at": _iso(data.get("data_access_expires_at")),
            "scopes": sorted(str(s) for s in data.get("scopes") or [])}


def keep_token_health(channel: Channel, health: dict[str, Any]) -> None:
    old = (channel.settings or {}).get("token_health") or {}
    if old.get("warned") and old.get("warned") == token_warning_key(health):
        health = {**health, "warned": old["warned"]}
    channel.settings = {**(channel.settings or {}), "token_health": health}
    db.session.flush()


def expiry_warnings(channel: Channel, now: datetime | None = None) -> list[tuple[str, datetime]]:
    """``[("token" | "data_access", when)]`` for what ends within :data:`WARN_DAYS` days (or has ended)."""
    health = (channel.settings or {}).get("token_health") or {}
    limit = (now or utcnow()) + timedelta(days=WARN_DAYS)
    out = []
    for key, what in (("expires_at", "token"), ("data_access_expires_at", "data_access")):
        raw = health.get(key)
        if not raw:
            continue
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            continue
        if when <= limit:
            out.append((what, when))
    return out


def health_view(channel: Channel) -> dict[str, Any] | None:
    """The stored token health with its times as datetimes (for pages), ``None`` when never read."""
    health = (channel.settings or {}).get("token_health")
    if not isinstance(health, dict):
        return None
    view: dict[str, Any] = dict(health)
    for key in ("checked_at", "expires_at", "data_access_expires_at"):
        try:
            view[key] = datetime.fromisoformat(health[key]) if health.get(key) else None
        except (TypeError, ValueError):
            view[key] = None
    view["expiring"] = dict(expiry_warnings(channel))
    return view


def token_warning_key(health: dict[str, Any]) -> str:
    return f"{health.get('expires_at')}|{health.get('data_access_expires_at')}"


def token_health(channel: Channel) -> TokenHealth | None:
    """The channels page's token-health cell of a Page: what ``debug_token`` said when last read (None: never)."""
    health = health_view(channel)
    if health is None:
        return None
    if health.get("error"):
        return TokenHealth(lines=(HealthLine(text=_l("Token not checked: Facebook did not say (%(error)s).",
                                                     error=health["error"])),))
    lines = []
    if health.get("is_valid") is False:
        lines.append(HealthLine(text=_l("Facebook says this token is not valid."), error=True))
    expiring = health["expiring"]
    lines.append(HealthLine(_l("Token expires:"), when=health.get("expires_at"), empty=_l("never"),
                            warn="token" in expiring))
    lines.append(HealthLine(_l("Data access until:"), when=health.get("data_access_expires_at"),
                            empty=_l("no limit"), warn="data_access" in expiring))
    scopes = health.get("scopes") or []
    lines.append(HealthLine(_l("Permissions:"), text="; ".join(str(PERMISSION_USES.get(s, s)) for s in scopes) or "—"))
    alert = (_l("Ends within %(days)s days: reconnect this Page with Facebook Login before then.", days=WARN_DAYS)
             if expiring else "")
    return TokenHealth(lines=tuple(lines), alert=alert)


def read_health_after_connect(channel: Channel, settings: Settings) -> None:
    """A Page connected with a typed token: keep what Facebook says about that token (with Facebook Login set up)."""
    if not login_configured(settings):
        return
    token = channel_services.channel_secrets(channel, settings).get("access_token") or ""
    keep_token_health(channel, read_token_health(settings, token))


@register
class FacebookAdapter(ChannelAdapter):
    """A Facebook Page. Settings: ``page_id``; secrets: ``access_token`` (a Page access token)."""

    kind = "facebook"
    description = ChannelDescription(
        kind="facebook",
        label=_l("Facebook Page"),
        short_label=_l("Facebook"),
        icon="f",
        colour="#1877f2",
        connect_fields=(
            ConnectField("page_id", _l("Facebook Page id"), max_length=100,
                         required_message=_l("The Page id is required.")),
            ConnectField("access_token", _l("Page access token"), secret=True, max_length=2000,
                         required_message=_l("A Page access token is required."), reconnect=True,
                         reconnect_label=_l("New Page access token")),
        ),
        sign_in=SignIn("channels_ui.facebook_connect", _l("Facebook Pages (sign in with Facebook)"), "facebook-login",
                       configured=login_configured, reconnect_label=_l("Reconnect with Facebook")),
        token_health=token_health,
        after_connect=read_health_after_connect,
        check_at_connect=True,
        # Graph's codes for a refused photo or video file, and the sentences of the refusals Loa words itself.
        media_error_codes=frozenset(MEDIA_REFUSED_CODES),
        error_sentences=REFUSALS,
        connect_hint=_l("Use the Page access token of the Page itself, not your personal (user) token: Loa checks "
                        "it with Facebook before saving."),
        variant=(
            VariantField("message", "text", _l("Facebook message"), max_length=MESSAGE_MAX, multiline=True,
                         fill_from_story=True, fill="story", preview="message",
                         limit_message=lambda **kw: _l("Facebook allows at most %(n)s characters (this has "
                                                       "%(have)s).", **kw)),
            VariantField("link", "link", _l("Link (optional)"), max_length=LINK_MAX),
            VariantField("media_ids", "media", _l("Pictures or video on Facebook"), compose=False),
        ),
        # Graph "Page Photos" / "Video API" pages (read 2026-12-02): photos up to 4 MB of these types; a post
        # carries photos or one video, and a link preview goes with neither.
        media=MediaRules(accepts=("image", "video"), max_videos=1, mix=False, link_with_media=False,
                         image_types=frozenset(PHOTO_TYPES), video_types=frozenset(VIDEO_TYPES),
                         image_max_bytes=PHOTO_MAX_BYTES, video_max_bytes=VIDEO_MAX_BYTES,
                         rule=_l("Facebook takes either pictures or one video in a post, not both."),
                         choose_label=_l("Pictures or video on Facebook"),
                         mix_message=_l("Facebook takes pictures or one video, not both: untick the pictures or "
                                        "the video."),
                         videos_message=_l("Facebook takes one video per post: keep one ticked."),
                         link_message=_l("Facebook shows no link preview with pictures or a video: remove the link "
                                         "or untick the media.")),
        rate_per_minute=60,
        metrics_batch_size=BATCH_MAX,
        capabilities=Capabilities(edit=True, delete=True, metrics=True, comments=True, reply=True),
        metrics=MetricMapping(
            measures={"views": ("post_media_view",),
                      "reactions": ("reactions", "reactions_total", "post_reactions_by_type_total"),
                      "comments": ("comments", "comments_total"), "shares": ("shares",)},
            zero_when_missing=("reactions", "comments", "shares"),
            # post_impressions*: replaced by post_media_view (Pages API changelog, 2025); total_video_consumption_
            # rate: no data on any Graph version from early November 2026 ("Introducing Graph API v27.0", Meta
            # developer blog, 2026-11-04).
            retired=("post_impressions", "post_impressions_unique", "post_impressions_paid",
                     "post_impressions_organic", "post_engaged_users", "post_reach", "total_video_consumption_rate"),
        ),
        preview="card",
    )

    @property
    def page_id(self) -> str:
        return str(self.channel_settings.get("page_id") or "")

    def graph(self) -> GraphClient:
        # One HTTP session per adapter instance, so its connections to Graph stay alive from call to call (the
        # pipeline keeps adapters per channel; an adapter is used by one thread at a time).
        session = self.__dict__.get("_http_session")
        if session is None:
            session = self.__dict__["_http_session"] = http_session()
        return GraphClient.from_settings(self.settings, str(self.secrets.get("access_token") or ""), session=session)

    @contextmanager
    def _errors(self) -> Iterator[None]:
        try:
            yield
        except GraphCallError as exc:
            error = classify(exc)
            log.info("facebook call failed for channel %s: %s %s/%s", self.channel_id, error.kind, error.code,
                     error.subcode)
            raise error from exc

    # --- what will be sent ---------------------------------------------------------------------------------

    def _photo_file(self, media: MediaFile) -> Path | None:
        """The file to upload for an image: the original when Facebook takes it, else the largest rendition."""
        if media.content_type in PHOTO_TYPES and media.size_bytes <= PHOTO_MAX_BYTES:
            return media.path
        for name in ("w1600", "w960", "w480"):
            path = media.renditions.get(name)
            if path is not None and path.is_file() and path.stat().st_size <= PHOTO_MAX_BYTES:
                return path
        return None

    def validate(self, request: PublishRequest) -> list[Problem]:
        problems: list[Problem] = []
        message = compose_message(request)
        link = str((request.variant or {}).get("link") or "")
        images = [m for m in request.media if m.kind == "image"]
        videos = [m for m in request.media if m.kind == "video"]
        if len(message) > MESSAGE_MAX:
            problems.append(Problem("variants.facebook.message", _(
                "Facebook allows at most %(n)s characters (this has %(have)s).", n=MESSAGE_MAX, have=len(message))))
        if not (message or link or request.media):
            problems.append(Problem("variants.facebook.message", _("A Facebook post needs text, a link or media.")))
        if link and not re.match(r"^https?://[^\s/]+", link):
            problems.append(Problem("variants.facebook.link", _("A link must start with http:// or https://.")))
        if link and request.media:
            problems.append(Problem("variants.facebook.link", _(
                "Facebook cannot show a link preview together with photos or a video: remove the link (or put it "
                "in the text) or the media.")))
        if videos and images:
            problems.append(Problem("media", _("A Facebook post carries either photos or one video, not both.")))
        if len(videos) > 1:
            problems.append(Problem("media", _("A Facebook post carries at most one video.")))
        for image in images:
            if image.content_type not in PHOTO_TYPES:
                problems.append(Problem("media", _(
                    "Facebook does not accept %(type)s photos (%(name)s): use JPEG, PNG, GIF, BMP, TIFF or WebP.",
                    type=image.content_type, name=image.path.name)))
            elif self._photo_file(image) is None:
                problems.append(Problem("media", _(
                    "The photo %(name)s is larger than Facebook's %(mb)s MB limit.", name=image.path.name,
                    mb=PHOTO_MAX_BYTES // (1024 * 1024))))
        for video in videos:
            if video.content_type not in VIDEO_TYPES:
                problems.append(Problem("media", _(
                    "Facebook does not accept this video format (%(type)s): use MP4 or MOV.",
                    type=video.content_type)))
            if video.size_bytes > VIDEO_MAX_BYTES:
                problems.append(Problem("media", _("Facebook accepts videos of at most 10 GB.")))
            if video.size_bytes <= 0:
                problems.append(Problem("media", _("The video file is empty.")))
        if not self.page_id:
            problems.append(Problem("channel", _("The channel has no Facebook Page id: reconnect it.")))
        return problems

    def _refuse_invalid(self, request: PublishRequest) -> None:
        problems = self.validate(request)
        if problems:
            raise ChannelError(ErrorKind.REJECTED, " ".join(p.message for p in problems), code="validation")

    # --- publishing ----------------------------------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        self._refuse_invalid(request)
        graph = self.graph()
        message = compose_message(request)
        images = [m for m in request.media if m.kind == "image"]
        videos = [m for m in request.media if m.kind == "video"]
        link = str((request.variant or {}).get("link") or "")
        with self._errors():
            if videos:
                remote_id = self._publish_video(graph, request, videos[0], message)
            elif len(images) == 1:
                remote_id = self._publish_photo(graph, images[0], message)
            elif images:
                remote_id = self._publish_album(graph, images, message)
            else:
                fields = {"message": message}
                if link:
                    fields["link"] = link
                remote_id = str(graph.put_object(self.page_id, "feed", **fields)["id"])
        return PublishResult(remote_id=remote_id, remote_url=PERMALINK.format(remote_id))

    def _photo_fields(self, media: MediaFile) -> dict[str, str]:
        return {"alt_text_custom": media.alt_text} if media.alt_text else {}

    def _publish_photo(self, graph: GraphClient, media: MediaFile, message: str) -> str:
        path = self._photo_file(media)
        assert path is not None  # validate() refused it otherwise
        with path.open("rb") as fh:
            answer = graph.put_photo(fh, album_path=f"{self.page_id}/photos", message=message,
                                     **self._photo_fields(media))
        return str(answer.get("post_id") or answer["id"])

    def _publish_album(self, graph: GraphClient, images: list[MediaFile], message: str) -> str:
        """Photos uploaded unpublished, then attached to one feed post with ``attached_media``."""
        fields: dict[str, str] = {"message": message}
        for index, media in enumerate(images):
            path = self._photo_file(media)
            assert path is not None
            with path.open("rb") as fh:
                photo = graph.put_photo(fh, album_path=f"{self.page_id}/photos", published="false",
                                        message=media.caption or "", **self._photo_fields(media))
            fields[f"attached_media[{index}]"] = json.dumps({"media_fbid": str(photo["id"])})
        return str(graph.put_object(self.page_id, "feed", **fields)["id"])

    def _publish_video(self, graph: GraphClient, request: PublishRequest, video: MediaFile, message: str) -> str:
        video_id = graph.upload_video(self.page_id, video.path, title=request.title[:255], description=message,
                                      progress=request.progress)
        try:
            info = graph.get_object(video_id, fields="id,post_id,permalink_url")
        except GraphCallError:
            return video_id  # the video is live; its feed post id can be looked up later
        return str(info.get("post_id") or video_id)

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        message = compose_message(request)
        if len(message) > MESSAGE_MAX:
            self._refuse_invalid(request)
        graph = self.graph()
        with self._errors():
            graph.request(graph.path(remote_id), post_args={"message": message})
        return PublishResult(remote_id=remote_id, remote_url=PERMALINK.format(remote_id))

    def unpublish(self, remote_id: str) -> None:
        graph = self.graph()
        try:
            graph.delete_object(remote_id)
        except GraphCallError as exc:
            if exc.code == 100 and exc.subcode == 33:
                return  # already gone
            raise classify(exc) from exc

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        wanted = _normalised(compose_message(request))
        graph = self.graph()
        with self._errors():
            answer = graph.get_connections(self.page_id, "published_posts", fields="id,message,created_time",
                                           limit=LOOKUP_LIMIT)
        for post in answer.get("data", []):
            if _normalised(post.get("message")) == wanted:
                remote_id = str(post["id"])
                return PublishResult(remote_id=remote_id, remote_url=PERMALINK.format(remote_id))
        return None

    # --- reading back ----------------------------------------------------------------------------------------

    def insight_metrics(self) -> list[str]:
        """The Page Insights metrics to read: those of ``wanted_metrics`` (the engagement configuration's names)
        that are post insights metrics (Graph names them all ``post_…``); :data:`DEFAULT_INSIGHTS` when nobody
        said. Other names (``reactions``, ``shares``…) are fields of the post, always read."""
        wanted = self.wanted_metrics if self.wanted_metrics is not None else DEFAULT_INSIGHTS
        return [m for m in dict.fromkeys(wanted) if re.fullmatch(r"post_[a-z0-9_]+", m)]

    def metric_fields(self, insights: list[str]) -> str:
        """The ``fields`` of one post's read: its reactions, comments and shares, and those insights metrics."""
        return f"{POST_FIELD_SPECS},insights.metric({','.join(insights)})" if insights else POST_FIELD_SPECS

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        """Totals for many posts, one Graph batch of :data:`BATCH_MAX` reads per call (never a multi-ID request).

        Each post's answer stands on its own: a post Graph no longer has is ``removed``, a post whose read failed
        carries its classified error (``Metrics.error``) and the others keep their figures. A failure of a whole
        batch (token, rate limit, network) raises.
        """
        out: dict[str, Metrics] = {}
        graph = self.graph()
        insights = self.insight_metrics()
        query = urlencode({"fields": self.metric_fields(insights)})
        pending = list(dict.fromkeys(str(r) for r in remote_ids))
        while pending:
            chunk, pending = pending[:BATCH_MAX], pending[BATCH_MAX:]
            operations = [{"method": "GET", "relative_url": f"{graph.path(quote(r, safe='_'))}?{query}"} for r in chunk]
            with self._errors():
                answers = graph.batch(operations)
            for remote_id, answer in zip(chunk, answers, strict=True):
                if not isinstance(answer, GraphCallError):
                    out[remote_id] = _metrics(remote_id, answer if isinstance(answer, dict) else {}, insights)
                elif _is_missing(answer):
                    out[remote_id] = Metrics(remote_id=remote_id, values={}, removed=True)
                else:
                    error = classify(answer)
                    log.info("facebook read of %s failed for channel %s: %s %s/%s", remote_id, self.channel_id,
                             error.kind, error.code, error.subcode)
                    out[remote_id] = Metrics(remote_id=remote_id, values={}, error=error)
        return out

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        graph = self.graph()
        args: dict[str, Any] = {"fields": "id,from,message,created_time,parent{id},like_count", "filter": "stream",
                                "order": "chronological", "limit": 100}
        if since is not None:
            args["since"] = str(int(since.timestamp()))
        comments: list[RemoteComment] = []
        with self._errors():
            for item in graph.get_all_connections(remote_id, "comments", **args):
                comments.append(RemoteComment(
                    remote_id=str(item["id"]), post_remote_id=remote_id,
                    author_name=str((item.get("from") or {}).get("name") or ""), message=str(item.get("message") or ""),
                    created_at=_parse_time(item.get("created_time")),
                    parent_remote_id=str(item["parent"]["id"]) if item.get("parent") else None,
                    like_count=int(item.get("like_count") or 0)))
                if len(comments) >= COMMENTS_MAX:
                    break
        comments.sort(key=lambda c: c.created_at)
        return comments

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        message = (message or "").strip()
        if not message:
            raise ChannelError(ErrorKind.REJECTED, _("A reply needs some text."), code="validation")
        graph = self.graph()
        with self._errors():
            return str(graph.put_comment(comment_remote_id, message)["id"])

    def check_connection(self) -> ConnectionStatus:
        """The token must be a Page access token for this very Page: ``GET /me`` answers the Page itself."""
        if not self.page_id or not self.secrets.get("access_token"):
            error = ChannelError(ErrorKind.AUTH_EXPIRED, _("A Page id and a Page access token are required."),
                                 code="missing_credentials")
            return ConnectionStatus(ok=False, message=error.message, error=error)
        graph = self.graph()
        try:
            me = graph.get_object("me", fields="id,name")
        except GraphCallError as exc:
            error = classify(exc)
            return ConnectionStatus(ok=False, message=str(error), error=error)
        if str(me.get("id")) != self.page_id:
            message = _("This token belongs to %(name)s (id %(id)s), not to the Page %(page)s: it is most likely a "
                        "user access token, and with it every post would be refused. Use the Page's own access "
                        "token (in Graph API Explorer pick the Page under “User or Page”, or read it from "
                        "/me/accounts).", name=me.get("name") or "?", id=me.get("id"), page=self.page_id)
            error = ChannelError(ErrorKind.AUTH_EXPIRED, message, code="not_a_page_token")
            return ConnectionStatus(ok=False, message=message, error=error,
                                    details={"token_owner_id": str(me.get("id")), "token_owner_name": me.get("name")})
        return ConnectionStatus(ok=True, message=_("Connected to the Facebook Page %(name)s.", name=me.get("name")),
                                details={"page_id": self.page_id, "page_name": me.get("name")})


def _is_missing(exc: GraphCallError) -> bool:
    """Graph no longer has the object: 100/33 ("Object with ID … does not exist") or 803 (unknown alias)."""
    return exc.code == 803 or (exc.code == 100 and exc.subcode == 33)


def _metrics(remote_id: str, data: dict[str, Any], insights: list[str]) -> Metrics:
    values = {
        "reactions": int(((data.get("reactions") or {}).get("summary") or {}).get("total_count") or 0),
        "comments": int(((data.get("comments") or {}).get("summary") or {}).get("total_count") or 0),
        "shares": int((data.get("shares") or {}).get("count") or 0),  # Graph leaves "shares" out when it is 0
        **dict.fromkeys(insights, 0),
    }
    for insight in (data.get("insights") or {}).get("data", []):
        name = insight.get("name")
        if not name or name in POST_FIELDS:
            continue
        points = insight.get("values") or [{}]
        value = points[-1].get("value")
        if isinstance(value, dict):  # by-type totals ({"like": 3, "love": 1}) count as their sum
            value = sum(v for v in value.values() if isinstance(v, (int, float)))
        values[name] = int(value) if isinstance(value, (int, float)) else 0
    return Metrics(remote_id=remote_id, values=values)
