"""The YouTube channel adapter, on google-api-python-client.

The service is built from the library's bundled discovery document with its ``rootUrl`` replaced by
``PUBLISHER_YOUTUBE_API_URL`` (``client_options`` would move the API calls but not the ``/upload/`` paths).
Requests go through ``google_auth_httplib2.AuthorizedHttp`` over an ``httplib2.Http`` with the channel time-out;
an expired access token is refreshed with the stored refresh token and handed back in ``updated_secrets`` for the
caller to store encrypted.

Idempotency marker: every video Loa uploads carries the tag ``loa-<idempotency key>`` (tags are not shown to
viewers). ``find_existing`` looks for it among the channel's 50 newest uploads: playlistItems.list on the
uploads playlist (1 unit; its id is derived from the channel id, ``UC…`` → ``UU…``) + videos.list on those ids
(1 unit) — 2 quota units per look-up.

Retries: API calls pass ``num_retries`` (the library retries 5xx, 429, ``rateLimitExceeded`` and
``userRateLimitExceeded`` with back-off, and never ``quotaExceeded``, ``dailyLimitExceeded`` or
``uploadLimitExceeded``); an upload chunk that fails is resumed from what YouTube confirms it received.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any

import google.auth.exceptions
import google_auth_httplib2
import httplib2
from flask_babel import lazy_gettext as _l
from google.oauth2.credentials import Credentials
from googleapiclient.discovery import build_from_document
from googleapiclient.errors import HttpError
from googleapiclient.http import HttpRequest, MediaFileUpload

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
    register,
)
from publisher.channels.description import (
    COUNT_BYTES,
    COUNT_TAGS,
    Capabilities,
    ChannelDescription,
    ConnectField,
    MediaRules,
    MetricMapping,
    SignIn,
    VariantField,
)
from publisher.channels.youtube_quota import quota_for_channel_list

log = logging.getLogger(__name__)

# YouTube Data API, "Videos" resource (read 2026-12-02): snippet.title at most 100 characters, snippet.description
# at most 5,000 bytes, no < or > in either; snippet.tags at most 500 characters, counted as joined by commas, a tag
# with a space counting its quotes.
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
TAG_COUNT_MAX = 500  # with the 500-character total, more tags than this cannot fit anyway
PRIVACY = ("public", "unlisted", "private")
VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/x-msvideo", "video/webm", "video/x-matroska", "video/mpeg",
               "video/3gpp", "video/x-flv", "video/x-ms-wmv", "video/ogg", "application/octet-stream")
VIDEO_MAX_BYTES = 256 * 1024**3  # YouTube: 256 GB (or 12 hours)
# YouTube Data API revision history, 14 September 2026: "The maximum file size for uploaded thumbnails has been
# increased from 2 MB to 50 MB" (thumbnails.set; read 2026-12-02).
THUMBNAIL_MAX_BYTES = 50 * 1024 * 1024
NEWS_AND_POLITICS = "25"
SCOPES = ("https://www.googleapis.com/auth/youtube.upload", "https://www.googleapis.com/auth/youtube.force-ssl")
MARKER_PREFIX = "loa-"
NEVER_RETRIED = ("quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded")
RATE_REASONS = ("rateLimitExceeded", "userRateLimitExceeded")
AUTH_REASONS = ("authError", "invalidCredentials", "unauthorized", "insufficientPermissions")
TRANSIENT_REASONS = ("backendError", "internalError", "serviceUnavailable", "processingFailure")


@lru_cache(maxsize=1)
def _bundled_discovery() -> str:
    path = resources.files("googleapiclient.discovery_cache").joinpath("documents/youtube.v3.json")
    return path.read_text(encoding="utf-8")


def discovery_document(root_url: str) -> dict[str, Any]:
    """The bundled youtube v3 discovery document, pointed at ``root_url`` (uploads included)."""
    doc = json.loads(_bundled_discovery())
    root = root_url if root_url.endswith("/") else root_url + "/"
    doc["rootUrl"] = root
    doc["mtlsRootUrl"] = root
    doc["baseUrl"] = root + doc.get("servicePath", "")
    return doc


def marker_tag(idempotency_key: str) -> str:
    """The tag that lets Loa find a video again after a time-out (letters, digits and - only)."""
    return MARKER_PREFIX + re.sub(r"[^A-Za-z0-9-]", "-", idempotency_key)[:60]


def tags_length(tags: list[str]) -> int:
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _error_details(exc: HttpError) -> tuple[str, str]:
    """YouTube's own (reason, message) from an error body."""
    try:
        data = json.loads(exc.content.decode("utf-8") if isinstance(exc.content, bytes) else exc.content)
    except (ValueError, AttributeError, UnicodeDecodeError):
        return "", str(exc.content or "")[:300]
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict):
        errors = error.get("errors") or [{}]
        reason = errors[0].get("reason") or error.get("status") or ""
        return str(reason), str(error.get("message") or errors[0].get("message") or "")
    if isinstance(error, str):  # OAuth endpoint shape
        return error, str(data.get("error_description", ""))
    return "", ""


def classify_error(exc: BaseException) -> ChannelError:
    """Every YouTube failure mapped to Loa's error set — the one place where this happens."""
    from publisher.channels.youtube_quota import seconds_until_quota_reset

    if isinstance(exc, ChannelError):
        return exc
    if isinstance(exc, google.auth.exceptions.RefreshError):
        text = str(exc)
        code = "invalid_grant" if "invalid_grant" in text else "refresh_failed"
        if isinstance(exc, google.auth.exceptions.TransportError) or "timed out" in text.lower():
            return ChannelError(ErrorKind.TRANSIENT, _l("Google's sign-in service could not be reached."),
                                code=code, platform_message=text[:300])
        return ChannelError(ErrorKind.AUTH_EXPIRED, _l("The YouTube authorisation has expired or was revoked; "
                                                       "reconnect the channel."), code=code,
                            platform_message=text[:300])
    if isinstance(exc, google.auth.exceptions.TransportError):
        return ChannelError(ErrorKind.TRANSIENT, _l("Google's sign-in service could not be reached."),
                            code="transport", platform_message=str(exc)[:300])
    if isinstance(exc, HttpError):
        status = exc.resp.status
        reason, message = _error_details(exc)
        common = {"code": reason or str(status), "platform_message": message, "http_status": status}
        if status == 401 or reason in AUTH_REASONS or reason == "invalid_grant":
            return ChannelError(ErrorKind.AUTH_EXPIRED, _l("YouTube no longer accepts the channel's authorisation; "
                                                           "reconnect the channel."), **common)
        if reason in ("quotaExceeded", "dailyLimitExceeded"):
            return ChannelError(ErrorKind.RATE_LIMITED, _l("The YouTube API daily quota is used up; it resets at "
                                                           "midnight Pacific time."),
                                retry_after=seconds_until_quota_reset(), **common)
        if reason == "uploadLimitExceeded":
            return ChannelError(ErrorKind.RATE_LIMITED, _l("The channel has reached YouTube's limit of uploads for "
                                                           "today."), retry_after=seconds_until_quota_reset(),
                                **common)
        if reason in RATE_REASONS or status == 429:
            retry_after = exc.resp.get("retry-after")
            return ChannelError(ErrorKind.RATE_LIMITED, _l("YouTube asks Loa to slow down."),
                                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else 60.0,
                                **common)
        if status >= 500 or reason in TRANSIENT_REASONS:
            return ChannelError(ErrorKind.TRANSIENT, _l("YouTube had a temporary failure."), **common)
        return ChannelError(ErrorKind.REJECTED, _l("YouTube refused the request."), **common)
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return ChannelError(ErrorKind.TRANSIENT, _l("YouTube did not answer in time."), code="timeout",
                            platform_message=str(exc)[:300])
    if isinstance(exc, (OSError, httplib2.HttpLib2Error)):
        return ChannelError(ErrorKind.TRANSIENT, _l("YouTube could not be reached."), code="network",
                            platform_message=f"{type(exc).__name__}: {exc}"[:300])
    raise exc


def _record_quota(channel_id: int, method: str) -> None:
    from publisher.channels.youtube_quota import record_quota_use

    record_quota_use(channel_id, method)


def google_sign_in_configured(settings: Any) -> bool:
    """Loa's Google OAuth client is set up, so admins connect channels by signing in with Google."""
    return bool(settings.google_client_id and settings.google_client_secret)


@register
class YouTubeAdapter(ChannelAdapter):
    kind = "youtube"
    description = ChannelDescription(
        kind="youtube",
        label=_l("YouTube"),
        icon="▶",
        colour="#cc0000",
        # YouTube's error reason for a file larger than it takes.
        media_error_codes=frozenset({"mediaBodyTooLarge"}),
        connect_fields=(
            ConnectField("channel_id", _l("YouTube channel id"), max_length=100,
                         required_message=_l("The channel id is required.")),
            ConnectField("access_token", _l("Access token"), secret=True, max_length=4000,
                         required_message=_l("An access token is required."), reconnect=True,
                         reconnect_label=_l("New access token")),
            ConnectField("refresh_token", _l("Refresh token (optional)"), required=False, secret=True,
                         max_length=4000, reconnect=True, reconnect_label=_l("New refresh token (optional)")),
            ConnectField("client_id", _l("OAuth client id (optional)"), required=False, max_length=300),
            ConnectField("client_secret", _l("OAuth client secret (optional)"), required=False, secret=True,
                         max_length=300),
        ),
        sign_in=SignIn("youtube_oauth.connect", _l("YouTube (sign in with Google)"), "youtube-google",
                       configured=google_sign_in_configured),
        # The channels page's quota cell: YouTube Data API units spent today (Pacific time) of the daily quota.
        quota=quota_for_channel_list,
        quota_label=_l("API units today"),
        check_at_connect=True,
        variant=(
            VariantField("title", "text", _l("YouTube title"), max_length=TITLE_MAX, forbidden_chars="<>",
                         fill="title", preview="title",
                         forbidden_message=_l("YouTube does not accept the characters < and >."),
                         limit_message=lambda **kw: _l("YouTube allows at most %(n)s characters in a title (this "
                                                       "has %(have)s).", **kw)),
            VariantField("description", "text", _l("YouTube description"), max_length=DESCRIPTION_MAX_BYTES,
                         count=COUNT_BYTES, multiline=True, fill_from_story=True, fill="summary",
                         preview="description", forbidden_chars="<>",
                         forbidden_message=_l("YouTube does not accept the characters < and >."),
                         limit_message=lambda **kw: _l("YouTube allows at most %(n)s bytes in a description (this "
                                                       "has %(have)s; a Vietnamese letter with tone marks takes "
                                                       "2–3 bytes).", **kw)),
            VariantField("tags", "tags", _l("YouTube tags"), max_length=TAGS_MAX, count=COUNT_TAGS,
                         max_items=TAG_COUNT_MAX,
                         limit_message=lambda **kw: _l("YouTube allows at most %(n)s characters of tags (these "
                                                       "take %(have)s).", **kw)),
            VariantField("privacy", "choice", _l("Visibility"), max_length=20, default="public",
                         choices=(("public", _l("Public")), ("unlisted", _l("Unlisted")),
                                  ("private", _l("Private"))),
                         choice_message=_l("Choose public, unlisted or private.")),
            VariantField("category_id", "text", max_length=50, compose=False),
            VariantField("playlist_id", "text", max_length=100, compose=False),
            VariantField("publish_at", "datetime", max_length=40, compose=False),
            VariantField("made_for_kids", "bool", compose=False),
            VariantField("media_ids", "media", _l("Video and thumbnail on YouTube"), compose=False),
        ),
        # A post is one video; one picture chosen with it becomes the thumbnail (thumbnails.set, read 2026-12-02).
        media=MediaRules(accepts=("image", "video"), max_images=1, max_videos=1, needs_video=True,
                         media_without_text=False, cover_from_chosen=True,
                         video_types=frozenset(VIDEO_TYPES), video_max_bytes=VIDEO_MAX_BYTES,
                         image_max_bytes=THUMBNAIL_MAX_BYTES,
                         rule=_l("YouTube takes one video; a picture chosen with it becomes its thumbnail."),
                         choose_label=_l("Video and thumbnail on YouTube"),
                         videos_message=_l("YouTube takes one video per post: keep one ticked."),
                         images_message=_l("Only one picture can be the YouTube thumbnail: keep one ticked."),
                         needs_video_message=_l("YouTube publishes videos: attach a video to this post or leave "
                                                "the YouTube fields empty.")),
        rate_per_minute=10,
        metrics_batch_size=50,  # videos.list takes at most 50 ids
        capabilities=Capabilities(edit=True, delete=True, metrics=True, comments=True, reply=True,
                                  platform_scheduling=True),
        metrics=MetricMapping(
            measures={"views": ("viewCount",), "reactions": ("likeCount",), "comments": ("commentCount",),
                      "watch_time": ("estimatedMinutesWatched",)},
            zero_when_missing=("reactions", "comments"),
            retired=("dislikeCount", "favoriteCount"),
        ),
        preview="video",
    )

    num_retries = 3  # library retries of one API call (5xx, 429, rate limits, network); never quota errors
    upload_resumes = 5  # times an interrupted upload (5xx, network, time-out) is resumed from what YouTube has
    chunk_size = 8 * 1024 * 1024  # a multiple of 256 KiB
    retry_sleep: Callable[[float], None] = staticmethod(time.sleep)

    def __init__(self, settings, channel_settings, secrets, channel_id=None):  # type: ignore[no-untyped-def]
        super().__init__(settings, channel_settings, secrets, channel_id)
        self.quota_recorder: Callable[[int, str], None] | None = _record_quota if channel_id is not None else None
        self._service: Any = None
        self._http: httplib2.Http | None = None
        self._credentials: Credentials | None = None

    # --- plumbing: credentials, service, calls ---------------------------------------------------------------

    @property
    def credentials(self) -> Credentials:
        if self._credentials is None:
            expiry = self.secrets.get("expiry")
            self._credentials = Credentials(
                token=self.secrets.get("access_token"),
                refresh_token=self.secrets.get("refresh_token"),
                token_uri=self.settings.google_token_url,
                client_id=self.secrets.get("client_id") or self.settings.google_client_id,
                client_secret=self.secrets.get("client_secret") or self.settings.google_client_secret,
                # google-auth compares expiry with a naive UTC datetime
                expiry=_parse_time(expiry).astimezone(UTC).replace(tzinfo=None) if expiry else None,
            )
        return self._credentials

    @property
    def updated_secrets(self) -> dict[str, Any] | None:
        """The secrets with a refreshed access token, when one was refreshed; the caller stores them encrypted."""
        creds = self._credentials
        if creds is None or not creds.token or creds.token == self.secrets.get("access_token"):
            return None
        secrets = dict(self.secrets)
        secrets["access_token"] = creds.token
        if creds.refresh_token:
            secrets["refresh_token"] = creds.refresh_token
        secrets["expiry"] = creds.expiry.replace(tzinfo=UTC).isoformat() if creds.expiry else None
        return secrets

    @property
    def service(self) -> Any:
        if self._service is None:
            raw = httplib2.Http(timeout=self.settings.channel_timeout_seconds)
            # 308 means "resume incomplete" to the upload protocol, not a redirect (as googleapiclient.build_http)
            raw.redirect_codes = raw.redirect_codes - {308}
            self._http = raw
            http = google_auth_httplib2.AuthorizedHttp(self.credentials, http=raw)
            sleep = self.retry_sleep

            class _Request(HttpRequest):
                def __init__(self, *args: Any, **kwargs: Any):
                    super().__init__(*args, **kwargs)
                    self._sleep = sleep  # the library's back-off between retries; tests shorten it

            self._service = build_from_document(discovery_document(self.settings.youtube_api_url), http=http,
                                                requestBuilder=_Request)
        return self._service

    def _count(self, method: str) -> None:
        if self.quota_recorder is not None and self.channel_id is not None:
            self.quota_recorder(self.channel_id, method)

    def _execute(self, method: str, request: Any) -> Any:
        """Run one API call with the library's retries, count its quota, classify its failure."""
        self._count(method)
        try:
            return request.execute(num_retries=self.num_retries)
        except Exception as exc:  # noqa: BLE001 - classify_error re-raises what it does not know
            raise classify_error(exc) from exc

    @property
    def remote_channel_id(self) -> str:
        return str(self.channel_settings.get("channel_id") or "")

    # --- what a video would look like ------------------------------------------------------------------------

    def _video_file(self, request: PublishRequest) -> MediaFile | None:
        return next((m for m in request.media if m.kind == "video"), None)

    def _metadata(self, request: PublishRequest) -> dict[str, Any]:
        variant = request.variant or {}
        tags = list(variant.get("tags") or request.tags or [])
        tags.extend(h.lstrip("#") for h in request.hashtags if h.lstrip("#") not in tags)
        privacy = variant.get("privacy") or "public"
        snippet = {"title": (variant.get("title") or request.title or "").strip(),
                   "description": variant.get("description") if variant.get("description") is not None
                   else request.summary,
                   "tags": tags + [marker_tag(request.idempotency_key)],
                   "categoryId": str(variant.get("category_id") or NEWS_AND_POLITICS),
                   "defaultLanguage": "vi"}
        status: dict[str, Any] = {"privacyStatus": privacy,
                                  "selfDeclaredMadeForKids": bool(variant.get("made_for_kids", False))}
        if variant.get("publish_at"):
            status["publishAt"] = _parse_time(variant["publish_at"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"snippet": snippet, "status": status}

    def validate(self, request: PublishRequest) -> list[Problem]:
        problems: list[Problem] = []
        body = self._metadata(request)
        snippet, status = body["snippet"], body["status"]
        title, description = snippet["title"], snippet["description"] or ""
        if not title:
            problems.append(Problem("youtube.title", _l("A YouTube video needs a title.")))
        elif len(title) > TITLE_MAX:
            problems.append(Problem("youtube.title", _l("YouTube allows at most %(n)s characters in a title (this "
                                                        "has %(have)s).", n=TITLE_MAX, have=len(title))))
        for name, value in (("title", title), ("description", description)):
            if "<" in value or ">" in value:
                problems.append(Problem(f"youtube.{name}", _l("YouTube does not accept the characters < and >.")))
        size = len(description.encode("utf-8"))
        if size > DESCRIPTION_MAX_BYTES:
            problems.append(Problem("youtube.description", _l("YouTube allows at most %(n)s bytes in a description "
                                                              "(this has %(have)s).", n=DESCRIPTION_MAX_BYTES,
                                                              have=size)))
        length = tags_length(snippet["tags"])
        if length > TAGS_MAX:
            problems.append(Problem("youtube.tags", _l("YouTube allows at most %(n)s characters of tags (these take "
                                                       "%(have)s with Loa's own marker tag).", n=TAGS_MAX,
                                                       have=length)))
        if status["privacyStatus"] not in PRIVACY:
            problems.append(Problem("youtube.privacy", _l("Choose public, unlisted or private.")))
        publish_at = (request.variant or {}).get("publish_at")
        if publish_at:
            try:
                when = _parse_time(publish_at)
            except ValueError:
                problems.append(Problem("youtube.publish_at", _l("Not a valid date and time.")))
            else:
                if status["privacyStatus"] != "private":
                    problems.append(Problem("youtube.publish_at", _l("YouTube publishes at a set time only videos "
                                                                     "uploaded as private.")))
                if when.tzinfo is None or when <= datetime.now(UTC):
                    problems.append(Problem("youtube.publish_at", _l("The publishing time must be in the future, "
                                                                     "with a time zone.")))
        video = self._video_file(request)
        if video is None:
            problems.append(Problem("media", _l("A YouTube post needs a video.")))
        else:
            if video.content_type not in VIDEO_TYPES:
                problems.append(Problem("media", _l("YouTube does not accept files of type %(type)s.",
                                                    type=video.content_type)))
            limit = min(VIDEO_MAX_BYTES, self.settings.max_video_mb * 1024 * 1024)
            if video.size_bytes > limit:
                problems.append(Problem("media", _l("The video is larger than %(mb)s MB.", mb=limit // 1024**2)))
            if video.size_bytes <= 0:
                problems.append(Problem("media", _l("The video file is empty.")))
        if request.cover is not None:
            thumb = request.cover.renditions.get("youtube_thumb")
            if thumb is not None and thumb.exists() and thumb.stat().st_size > THUMBNAIL_MAX_BYTES:
                problems.append(Problem("cover", _l("YouTube thumbnails may be at most %(mb)s MB.",
                                                    mb=THUMBNAIL_MAX_BYTES // (1024 * 1024))))
        if self.channel_id is not None:
            from publisher.channels.youtube_quota import UNITS_PER_UPLOAD, quota_left

            left = quota_left(_ChannelRef(self.channel_id), self.settings)
            if left["uploads"] < 1 or left["units"] < UNITS_PER_UPLOAD:
                problems.append(Problem("channel", _l("The channel's YouTube quota for today is used up; it resets "
                                                      "at midnight Pacific time.")))
        return problems

    # --- publishing ------------------------------------------------------------------------------------------

    def publish(self, request: PublishRequest) -> PublishResult:
        problems = self.validate(request)
        if problems:
            raise ChannelError(ErrorKind.REJECTED, "; ".join(str(p.message) for p in problems), code="validation")
        video = self._video_file(request)
        assert video is not None
        media = MediaFileUpload(str(video.path), mimetype=video.content_type, chunksize=self.chunk_size,
                                resumable=True)
        self._fresh_token_for_upload()
        insert = self.service.videos().insert(part="snippet,status", body=self._metadata(request),
                                              media_body=media, notifySubscribers=True)
        self._count("videos.insert")
        resource = self._upload(insert, video.size_bytes, request.progress)
        video_id = resource["id"]
        log.info("youtube: uploaded post %s as video %s", request.post_id, video_id)
        # The video is live from here on: a failing secondary step is a warning, never a failure.
        warnings: list[str] = []
        warning = self._set_thumbnail(video_id, request)
        if warning:
            warnings.append(warning)
        warning = self._add_to_playlist(video_id, request)
        if warning:
            warnings.append(warning)
        return PublishResult(video_id, self.watch_url(video_id), tuple(warnings))

    def _fresh_token_for_upload(self) -> None:
        """Refresh an access token of unknown age before a long upload.

        google-auth then knows its expiry and renews it before it runs out; a 401 in the middle of an upload would
        make google_auth_httplib2 re-send the chunk from a stream it cannot rewind.
        """
        creds = self.credentials
        if creds.refresh_token and (creds.expiry is None or not creds.valid):
            self.service  # noqa: B018 - builds the authorised http the refresh goes through
            try:
                creds.refresh(google_auth_httplib2.Request(self._http))
            except Exception as exc:  # noqa: BLE001
                raise classify_error(exc) from exc

    @staticmethod
    def watch_url(video_id: str) -> str:
        return f"https://www.youtube.com/watch?v={video_id}"

    def _upload(self, insert: Any, total: int, progress: Callable[[int, int], None] | None) -> dict[str, Any]:
        """Send the video chunk by chunk; after a failed chunk, resume from what YouTube says it has."""
        resumes = 0
        response = None
        while response is None:
            try:
                # num_retries=0 on purpose: the library re-sends a failed chunk from a file stream it has already
                # read to the end (an empty body that hangs until the time-out), so Loa resumes instead — asking
                # YouTube what it has (PUT bytes */TOTAL) and sending the rest from there.
                status, response = insert.next_chunk(num_retries=0)
            except Exception as exc:  # noqa: BLE001
                error = classify_error(exc)
                if error.kind != ErrorKind.TRANSIENT or resumes >= self.upload_resumes:
                    raise error from exc
                resumes += 1
                log.warning("youtube: upload interrupted (%s); resuming (%s of %s)", error.code, resumes,
                            self.upload_resumes)
                insert._in_error_state = True  # next call asks YouTube how much it has (PUT bytes */TOTAL)
                self.retry_sleep(min(2.0**resumes, 30.0))
                continue
            if status is not None and progress is not None:
                progress(status.resumable_progress, total)
        if progress is not None:
            progress(total, total)
        return response

    def _warning(self, step: Any, exc: ChannelError) -> str:
        return f"{step}: {exc}"

    def _set_thumbnail(self, video_id: str, request: PublishRequest) -> str | None:
        thumb = request.cover.renditions.get("youtube_thumb") if request.cover else None
        if thumb is None:
            return None
        try:
            media = MediaFileUpload(str(thumb), mimetype="image/jpeg", resumable=False)
            self._execute("thumbnails.set", self.service.thumbnails().set(videoId=video_id, media_body=media))
        except ChannelError as exc:
            return self._warning(_l("The video is live but its thumbnail was not set"), exc)
        return None

    def _add_to_playlist(self, video_id: str, request: PublishRequest) -> str | None:
        playlist_id = (request.variant or {}).get("playlist_id")
        if not playlist_id and not request.campaign_name:
            return None
        try:
            if not playlist_id:
                playlist_id = self.find_or_create_playlist(request.campaign_name)
            body = {"snippet": {"playlistId": playlist_id,
                                "resourceId": {"kind": "youtube#video", "videoId": video_id}}}
            self._execute("playlistItems.insert", self.service.playlistItems().insert(part="snippet", body=body))
        except ChannelError as exc:
            return self._warning(_l("The video is live but was not added to the campaign playlist"), exc)
        return None

    def find_or_create_playlist(self, title: str) -> str:
        """The channel's playlist with this title (the campaign's name), created when missing."""
        title = title.replace("<", "").replace(">", "")[:150]
        page_token = None
        while True:
            answer = self._execute("playlists.list", self.service.playlists().list(
                part="snippet", mine=True, maxResults=50, pageToken=page_token))
            for item in answer.get("items", []):
                if item["snippet"]["title"] == title:
                    return item["id"]
            page_token = answer.get("nextPageToken")
            if not page_token:
                break
        created = self._execute("playlists.insert", self.service.playlists().insert(
            part="snippet,status", body={"snippet": {"title": title, "defaultLanguage": "vi"},
                                         "status": {"privacyStatus": "public"}}))
        return created["id"]

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        body = self._metadata(request)
        body["id"] = remote_id
        try:
            self._execute("videos.update", self.service.videos().update(part="snippet,status", body=body))
        except ChannelError as exc:
            if exc.code == "videoNotFound":
                exc.message = _l("The video no longer exists on YouTube.")
            raise
        return PublishResult(remote_id, self.watch_url(remote_id))

    def unpublish(self, remote_id: str) -> None:
        try:
            self._execute("videos.delete", self.service.videos().delete(id=remote_id))
        except ChannelError as exc:
            if exc.http_status == 404 or exc.code == "videoNotFound":
                return  # already gone: what we wanted
            raise

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        """The video carrying this request's marker tag among the channel's 50 newest uploads (2 quota units)."""
        channel = self.remote_channel_id
        if channel.startswith("UC"):
            uploads = "UU" + channel[2:]
        else:
            answer = self._execute("channels.list", self.service.channels().list(part="contentDetails", mine=True))
            items = answer.get("items") or []
            if not items:
                return None
            uploads = items[0]["contentDetails"]["relatedPlaylists"]["uploads"]
        answer = self._execute("playlistItems.list", self.service.playlistItems().list(
            part="contentDetails", playlistId=uploads, maxResults=50))
        ids = [i["contentDetails"]["videoId"] for i in answer.get("items", [])]
        if not ids:
            return None
        marker = marker_tag(request.idempotency_key)
        videos = self._execute("videos.list", self.service.videos().list(part="snippet", id=",".join(ids)))
        for video in videos.get("items", []):
            if marker in (video["snippet"].get("tags") or []):
                return PublishResult(video["id"], self.watch_url(video["id"]))
        return None

    # --- engagement ------------------------------------------------------------------------------------------

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        result: dict[str, Metrics] = {}
        for start in range(0, len(remote_ids), 50):
            chunk = remote_ids[start:start + 50]
            answer = self._execute("videos.list", self.service.videos().list(
                part="statistics", id=",".join(chunk), maxResults=50))
            for item in answer.get("items", []):
                stats = item.get("statistics") or {}
                result[item["id"]] = Metrics(item["id"], {
                    name: int(stats.get(name) or 0) for name in ("viewCount", "likeCount", "commentCount")})
            for remote_id in chunk:
                result.setdefault(remote_id, Metrics(remote_id, {}, removed=True))
        return result

    def _comment(self, comment: dict[str, Any], video_id: str, parent: str | None = None) -> RemoteComment:
        snippet = comment["snippet"]
        return RemoteComment(
            remote_id=comment["id"], post_remote_id=video_id, author_name=snippet.get("authorDisplayName", ""),
            message=snippet.get("textOriginal") or snippet.get("textDisplay", ""),
            created_at=_parse_time(snippet["publishedAt"]), parent_remote_id=parent,
            like_count=int(snippet.get("likeCount") or 0))

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        """Every comment and reply on the video (1 unit per 100 threads, plus 1 per thread with more than the five
        replies commentThreads.list includes), filtered to those after ``since``, oldest first."""
        comments: list[RemoteComment] = []
        page_token = None
        while True:
            try:
                answer = self._execute("commentThreads.list", self.service.commentThreads().list(
                    part="snippet,replies", videoId=remote_id, maxResults=100, order="time",
                    textFormat="plainText", pageToken=page_token))
            except ChannelError as exc:
                if exc.code in ("commentsDisabled", "videoNotFound"):
                    return []
                raise
            for thread in answer.get("items", []):
                top = self._comment(thread["snippet"]["topLevelComment"], remote_id)
                included = (thread.get("replies") or {}).get("comments", [])
                if thread["snippet"].get("totalReplyCount", 0) > len(included):
                    included = self._all_replies(top.remote_id)
                replies = [self._comment(r, remote_id, parent=top.remote_id) for r in included]
                comments.extend(c for c in [top, *replies] if since is None or c.created_at > since)
            page_token = answer.get("nextPageToken")
            if not page_token:
                break
        comments.sort(key=lambda c: (c.created_at, c.remote_id))
        return comments

    def _all_replies(self, parent_id: str) -> list[dict[str, Any]]:
        replies: list[dict[str, Any]] = []
        page_token = None
        while True:
            answer = self._execute("comments.list", self.service.comments().list(
                part="snippet", parentId=parent_id, maxResults=100, textFormat="plainText", pageToken=page_token))
            replies.extend(answer.get("items", []))
            page_token = answer.get("nextPageToken")
            if not page_token:
                return replies

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        answer = self._execute("comments.insert", self.service.comments().insert(
            part="snippet", body={"snippet": {"parentId": comment_remote_id, "textOriginal": message}}))
        return answer["id"]

    def check_connection(self) -> ConnectionStatus:
        try:
            answer = self._execute("channels.list", self.service.channels().list(part="id,snippet", mine=True))
        except ChannelError as exc:
            return ConnectionStatus(False, str(exc), error=exc)
        items = answer.get("items") or []
        if not items:
            return ConnectionStatus(False, str(_l("The authorised Google account has no YouTube channel.")))
        found = items[0]["id"]
        title = items[0].get("snippet", {}).get("title", "")
        if self.remote_channel_id and found != self.remote_channel_id:
            return ConnectionStatus(False, str(_l("The authorisation is for channel %(found)s, not %(expected)s.",
                                                  found=found, expected=self.remote_channel_id)),
                                    details={"channel_id": found, "title": title})
        return ConnectionStatus(True, str(_l("Connected to YouTube channel “%(title)s”.", title=title)),
                                details={"channel_id": found, "title": title})


class _ChannelRef:
    """Just enough of a Channel for the quota functions, which only read its id (and name for messages)."""

    def __init__(self, channel_id: int):
        self.id = channel_id
        self.name = str(channel_id)


def _check_schedule(channel: Any, at: datetime, pending_between: Any, settings: Any) -> None:
    """Refuse one more upload on ``at``'s Pacific day when the day's quota, counting the uploads already
    scheduled for that day, cannot carry it."""
    from datetime import time as dtime
    from zoneinfo import ZoneInfo

    from publisher.channels.youtube_quota import check_schedule_quota, pacific_day

    day = pacific_day(at)
    pacific = ZoneInfo("America/Los_Angeles")
    start = datetime.combine(day, dtime.min, tzinfo=pacific)
    check_schedule_quota(channel, pending_between(start, start + timedelta(days=1)) + 1, settings, day=day)


def _register_channel_hooks() -> None:
    from publisher.channels import services

    services.CHECK_AT_CONNECT.add("youtube")
    services.SCHEDULE_CHECKS["youtube"] = _check_schedule  # a token that does not work is refused when connecting, not at publish


_register_channel_hooks()
