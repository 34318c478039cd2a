"""A YouTube Data API v3 sandbox on 127.0.0.1: the calls Loa makes, on the documented wire protocol.

It serves, on one port:

* the Google OAuth 2 endpoints: ``GET /o/oauth2/auth`` (consents at once and redirects back with a code) and
  ``POST /token`` (``authorization_code`` with PKCE, ``refresh_token``; ``invalid_grant`` when revoked);
* ``/youtube/v3/...``: channels.list, videos.list/update/delete, playlists.list/insert, playlistItems.list/insert,
  commentThreads.list (at most five replies a thread, as YouTube does), comments.list, comments.insert — each behind a bearer-token check;
* ``/upload/youtube/v3/videos``: the resumable upload protocol (POST → 200 with ``Location``; PUT chunks with
  ``Content-Range`` → 308 with ``Range``; ``Content-Range: bytes */TOTAL`` asks how much arrived; the last chunk
  → 200 with the video resource). Uploaded bytes are counted and hashed, never kept;
* ``/upload/youtube/v3/thumbnails/set``: a simple (``uploadType=media``) upload; refused with ``forbidden`` while
  the channel is not verified.

Errors have YouTube's body: ``{"error": {"code", "message", "errors": [{"reason", "domain", "message"}]}}``.
Statistics grow with time since upload. ``inject()`` queues faults (quota, rate limits, 5xx, delays, expired
tokens, an upload cut off half way).

Use: ``sandbox = start()`` → ``sandbox.url`` is the base URL for ``PUBLISHER_YOUTUBE_API_URL``; OAuth URLs are
``sandbox.auth_url`` and ``sandbox.token_url``; ``sandbox.stop()`` shuts it down.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

CLIENT_ID = "sandbox-client.apps.googleusercontent.com"
CLIENT_SECRET = "sandbox-client-secret"
CHANNEL_ID = "UCsandboxLoaChannel0000001"
TITLE_MAX = 100
DESCRIPTION_MAX_BYTES = 5000
TAGS_MAX = 500
PRIVACY = ("public", "unlisted", "private")
# Revision history, 14 September 2026 (read 2026-12-02): thumbnails.set accepts files of up to 50 MB (was 2 MB).
THUMBNAIL_MAX_BYTES = 50 * 1024 * 1024
FAULTS = (
    "quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded", "rateLimitExceeded", "userRateLimitExceeded",
    "backendError", "internalError", "delay", "token_expired", "upload_cut", "drop_connection", "lose_final_answer",
)


def _now() -> str:
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def _new_id(length: int = 11) -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(length)).decode("ascii").rstrip("=")[:length]


def tags_length(tags: list[str]) -> int:
    return sum(len(t) + (2 if " " in t else 0) for t in tags) + max(len(tags) - 1, 0)


class ApiError(Exception):
    def __init__(self, status: int, reason: str, message: str, domain: str = "youtube.api",
                 headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.reason, self.message, self.domain = status, reason, message, domain
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.status, "message": self.message,
                          "errors": [{"message": self.message, "domain": self.domain, "reason": self.reason}]}}


FAULT_ERRORS: dict[str, tuple[int, str, str, str]] = {
    "quotaExceeded": (403, "quotaExceeded", "youtube.quota",
                      "The request cannot be completed because you have exceeded your quota."),
    "dailyLimitExceeded": (403, "dailyLimitExceeded", "usageLimits", "Daily Limit Exceeded."),
    "uploadLimitExceeded": (400, "uploadLimitExceeded", "youtube.video",
                            "The user has exceeded the number of videos they may upload."),
    "rateLimitExceeded": (403, "rateLimitExceeded", "youtube.quota",
                          "The request cannot be completed because you have exceeded your rate limit."),
    "userRateLimitExceeded": (403, "userRateLimitExceeded", "usageLimits", "User Rate Limit Exceeded"),
    "backendError": (503, "backendError", "global", "Backend Error"),
    "internalError": (500, "internalError", "global", "Internal Error"),
}


@dataclass
class Fault:
    kind: str
    times: int = 1
    operation: str | None = None  # e.g. "videos.insert", "videos.upload_chunk", "thumbnails.set", "token"
    seconds: float = 0.0  # for "delay"


@dataclass
class Upload:
    """A resumable upload session: counted and hashed as it arrives, never held in memory."""

    upload_id: str
    metadata: dict[str, Any]
    total: int | None
    content_type: str
    received: int = 0
    hasher: Any = field(default_factory=hashlib.sha256)
    status_queries: int = 0
    video_id: str | None = None


class YouTubeSandbox:
    """The sandbox's state plus its HTTP server. Thread-safe: every handler takes ``self.lock``."""

    def __init__(self, channel_id: str = CHANNEL_ID, channel_title: str = "Công đoàn tỉnh (sandbox)",
                 verified: bool = True, access_token_seconds: int = 3599):
        self.lock = threading.RLock()
        self.channel_id = channel_id
        self.channel_title = channel_title
        self.verified = verified  # custom thumbnails need a verified channel
        self.access_token_seconds = access_token_seconds
        self.clients = {CLIENT_ID: CLIENT_SECRET}
        self.access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self.refresh_tokens: set[str] = set()
        self.codes: dict[str, dict[str, Any]] = {}
        self.videos: dict[str, dict[str, Any]] = {}
        self.video_files: dict[str, dict[str, Any]] = {}  # id -> {"bytes", "sha256", "content_type"}
        self.uploaded_at: dict[str, float] = {}
        self.thumbnails: dict[str, int] = {}  # video id -> bytes
        self.playlists: dict[str, dict[str, Any]] = {}
        self.playlist_items: list[dict[str, Any]] = []
        self.comment_threads: dict[str, list[dict[str, Any]]] = {}
        self.uploads: dict[str, Upload] = {}
        self.faults: list[Fault] = []
        self.requests: list[tuple[str, str]] = []  # (operation, method path) in arrival order
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # --- life cycle ------------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self.server is not None, "sandbox not started"
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/"

    @property
    def auth_url(self) -> str:
        return self.url + "o/oauth2/auth"

    @property
    def token_url(self) -> str:
        return self.url + "token"

    @property
    def uploads_playlist_id(self) -> str:
        return "UU" + self.channel_id[2:]

    def start(self) -> str:
        """Listen on 127.0.0.1 on an ephemeral port; returns the base URL."""
        sandbox = self

        class Handler(_Handler):
            pass

        Handler.sandbox = sandbox
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="youtube-sandbox", daemon=True)
        self.thread.start()
        return self.url

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # --- test and demo helpers -------------------------------------------------------------------------------

    def inject(self, kind: str, times: int = 1, operation: str | None = None, seconds: float = 0.0) -> None:
        """Queue a fault for the next ``times`` matching requests (``operation`` None: any request).

        Kinds: quotaExceeded, dailyLimitExceeded, uploadLimitExceeded, rateLimitExceeded, userRateLimitExceeded,
        backendError (503), internalError (500), delay (answer after ``seconds``), token_expired (every access
        token issued so far stops working), upload_cut (an upload chunk keeps only its first half, then 503),
        drop_connection (the connection closes without an answer), lose_final_answer (the last chunk of an upload
        is stored, but its answer comes only after ``seconds``: a client time-out after YouTube accepted the video).
        """
        if kind not in FAULTS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULTS)}")
        with self.lock:
            self.faults.append(Fault(kind, times, operation, seconds))

    def issue_tokens(self, client_id: str = CLIENT_ID) -> dict[str, Any]:
        """A fresh access + refresh token pair, as if a person had just consented."""
        with self.lock:
            refresh = "1//sandbox-refresh-" + secrets.token_urlsafe(24)
            self.refresh_tokens.add(refresh)
            return {**self._access_token(), "refresh_token": refresh, "client_id": client_id}

    def settings_overrides(self) -> dict[str, Any]:
        """Loa settings that point the YouTube adapter and the OAuth flow at this sandbox (for the demo)."""
        return {"youtube_api_url": self.url, "google_auth_url": self.auth_url, "google_token_url": self.token_url,
                "google_client_id": CLIENT_ID, "google_client_secret": CLIENT_SECRET}

    def demo_channel(self) -> dict[str, Any]:
        """What ``POST /api/v1/channels`` takes to connect a demo YouTube channel to this sandbox."""
        tokens = self.issue_tokens()
        return {"kind": "youtube", "name": self.channel_title,
                "settings": {"channel_id": self.channel_id, "access_token": tokens["access_token"],
                             "refresh_token": tokens["refresh_token"], "client_id": CLIENT_ID,
                             "client_secret": CLIENT_SECRET}}

    def revoke_refresh_tokens(self) -> None:
        with self.lock:
            self.refresh_tokens.clear()
            self.access_tokens.clear()

    def expire_access_tokens(self) -> None:
        with self.lock:
            self.access_tokens.clear()

    def add_comment(self, video_id: str, author: str, text: str, reply_to: str | None = None) -> str:
        with self.lock:
            time.sleep(0.002)  # distinct, ordered publishedAt values (millisecond precision)
            comment_id = "Ug" + _new_id(20)
            comment = {"kind": "youtube#comment", "id": comment_id, "snippet": {
                "videoId": video_id, "textDisplay": text, "textOriginal": text, "authorDisplayName": author,
                "authorChannelId": {"value": "UC" + _new_id(22)}, "likeCount": 0, "publishedAt": _now(),
                "updatedAt": _now(), "canRate": True, "viewerRating": "none"}}
            if reply_to:
                comment["id"] = f"{reply_to}.{_new_id(22)}"
                comment["snippet"]["parentId"] = reply_to
                for thread in self.comment_threads.get(video_id, []):
                    if thread["id"] == reply_to:
                        thread.setdefault("replies", {"comments": []})["comments"].append(comment)
                        thread["snippet"]["totalReplyCount"] += 1
                return comment["id"]
            thread = {"kind": "youtube#commentThread", "id": comment_id, "snippet": {
                "channelId": self.channel_id, "videoId": video_id, "topLevelComment": comment, "canReply": True,
                "totalReplyCount": 0, "isPublic": True}}
            self.comment_threads.setdefault(video_id, []).append(thread)
            return comment_id

    def operations(self) -> list[str]:
        with self.lock:
            return [op for op, _ in self.requests]

    # --- internals used by the handler -----------------------------------------------------------------------

    def _access_token(self) -> dict[str, Any]:
        token = "ya29.sandbox-" + secrets.token_urlsafe(24)
        self.access_tokens[token] = time.time() + self.access_token_seconds
        return {"access_token": token, "expires_in": self.access_token_seconds, "token_type": "Bearer",
                "scope": "https://www.googleapis.com/auth/youtube.force-ssl "
                         "https://www.googleapis.com/auth/youtube.upload"}

    def take_fault(self, operation: str, final_chunk: bool = False, status_query: bool = False) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind == "lose_final_answer" and not final_chunk:
                    continue
                if fault.kind == "upload_cut" and (operation != "videos.upload_chunk" or status_query):
                    continue
                if fault.operation is None or fault.operation == operation:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def statistics(self, video_id: str) -> dict[str, str]:
        """Plausible totals that only ever grow: a few views a second since upload, likes and comments follow."""
        age = max(time.time() - self.uploaded_at.get(video_id, time.time()), 0.0)
        views = int(age * 3) + 7
        comments = sum(1 + t["snippet"]["totalReplyCount"] for t in self.comment_threads.get(video_id, []))
        return {"viewCount": str(views), "likeCount": str(views // 12), "dislikeCount": "0",
                "favoriteCount": "0", "commentCount": str(comments)}


def check_video_metadata(body: dict[str, Any], *, inserting: bool) -> None:
    """YouTube's own validation of a video resource's snippet and status."""
    snippet = body.get("snippet") or {}
    status = body.get("status") or {}
    title = snippet.get("title")
    if inserting or "snippet" in body:
        if not title or not str(title).strip():
            raise ApiError(400, "invalidTitle", "The request metadata specifies an invalid or empty video title.")
    if title is not None and (len(title) > TITLE_MAX or "<" in title or ">" in title):
        raise ApiError(400, "invalidTitle", "The request metadata specifies an invalid video title.")
    description = snippet.get("description", "")
    if len(description.encode("utf-8")) > DESCRIPTION_MAX_BYTES or "<" in description or ">" in description:
        raise ApiError(400, "invalidDescription", "The request metadata specifies an invalid video description.")
    tags = snippet.get("tags") or []
    if tags_length(tags) > TAGS_MAX:
        raise ApiError(400, "invalidTags", "The request metadata specifies invalid video keywords.")
    if "snippet" in body and not inserting and not snippet.get("categoryId"):
        raise ApiError(400, "invalidCategoryId", "The snippet.categoryId property specifies an invalid category ID.")
    privacy = status.get("privacyStatus", "public")
    if privacy not in PRIVACY:
        raise ApiError(400, "invalidVideoMetadata", "The request metadata is invalid.")
    publish_at = status.get("publishAt")
    if publish_at:
        if privacy != "private":
            raise ApiError(400, "invalidPublishAt",
                           "The request metadata specifies an invalid scheduled publishing time.")
        try:
            when = datetime.fromisoformat(publish_at.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, "invalidPublishAt",
                           "The request metadata specifies an invalid scheduled publishing time.") from None
        if when.tzinfo is None or when <= datetime.now(UTC):
            raise ApiError(400, "invalidPublishAt",
                           "The request metadata specifies a scheduled publishing time in the past.")


class _Handler(BaseHTTPRequestHandler):
    sandbox: YouTubeSandbox
    protocol_version = "HTTP/1.1"
    server_version = "YouTubeSandbox/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read the request log instead
        pass

    # --- plumbing --------------------------------------------------------------------------------------------

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        if getattr(self, "answer_delay", 0):
            time.sleep(self.answer_delay)
            self.answer_delay = 0
        data = json.dumps(body, ensure_ascii=False).encode("utf-8") if body is not None else b""
        self.send_response(status)
        if data:
            self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if data:
            self.wfile.write(data)

    def _read_body(self) -> bytes:
        self.body_consumed = True
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _discard_body(self) -> None:
        self.body_consumed = True
        length = int(self.headers.get("Content-Length") or 0)
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 20))
            if not chunk:
                break
            length -= len(chunk)

    def _json_body(self) -> dict[str, Any]:
        raw = self._read_body()
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(400, "parseError", "Parse Error", domain="global") from None
        if not isinstance(body, dict):
            raise ApiError(400, "parseError", "Parse Error", domain="global")
        return body

    def _query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query, keep_blank_values=True).items()}

    def _operation(self, method: str, path: str, query: dict[str, str]) -> str:
        if path == "/token":
            return "token"
        if path == "/o/oauth2/auth":
            return "authorize"
        if path.startswith("/upload/youtube/v3/videos"):
            return "videos.insert" if method == "POST" else "videos.upload_chunk"
        if path.startswith("/upload/youtube/v3/thumbnails/set"):
            return "thumbnails.set"
        resource = path.removeprefix("/youtube/v3/").strip("/")
        verb = {"GET": "list", "POST": "insert", "PUT": "update", "DELETE": "delete"}.get(method, method.lower())
        return f"{resource}.{verb}"

    def _check_bearer(self) -> None:
        header = self.headers.get("Authorization", "")
        token = header[7:] if header.startswith("Bearer ") else ""
        expiry = self.sandbox.access_tokens.get(token)
        if not token or expiry is None or expiry < time.time():
            raise ApiError(401, "authError", "Request had invalid authentication credentials. Expected OAuth 2 "
                           "access token, login cookie or other valid authentication credential.",
                           domain="global", headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'})

    def _dispatch(self, method: str) -> None:
        split = urlsplit(self.path)
        path, query = split.path, self._query()
        operation = self._operation(method, path, query)
        box = self.sandbox
        self.body_consumed = False
        self.answer_delay = 0.0
        with box.lock:
            box.requests.append((operation, f"{method} {self.path}"))
        try:
            content_range = self.headers.get("Content-Range", "")
            final_chunk = status_query = False
            if operation == "videos.upload_chunk":
                status_query = content_range.startswith("bytes */")
                span, _, total = content_range.removeprefix("bytes ").partition("/")
                final_chunk = not status_query and total.isdigit() and span.partition("-")[2] == str(int(total) - 1)
            fault = box.take_fault(operation, final_chunk, status_query) if operation != "authorize" else None
            if fault is not None:
                if fault.kind == "lose_final_answer":
                    self.answer_delay = fault.seconds
                elif fault.kind == "delay":
                    time.sleep(fault.seconds)
                elif fault.kind == "token_expired":
                    box.expire_access_tokens()
                elif fault.kind == "drop_connection":
                    self._discard_body()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                elif fault.kind == "upload_cut" and operation == "videos.upload_chunk":
                    self._upload_chunk(query, cut=True)
                    return
                elif fault.kind in FAULT_ERRORS:
                    status, reason, domain, message = FAULT_ERRORS[fault.kind]
                    self._discard_body()
                    raise ApiError(status, reason, message, domain=domain)
            if operation == "token":
                self._token()
                return
            if operation == "authorize":
                self._authorize(query)
                return
            self._check_bearer()
            handler = getattr(self, "_op_" + operation.replace(".", "_"), None)
            if handler is None:
                self._discard_body()
                raise ApiError(404, "notFound", f"Not Found: {method} {path}", domain="global")
            handler(query)
        except ApiError as exc:
            if not self.body_consumed:
                self._discard_body()
            self._send_json(exc.status, exc.body(), exc.headers)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _safe_dispatch(self, method: str) -> None:
        try:
            self._dispatch(method)
        except (BrokenPipeError, ConnectionResetError):  # the client went away mid-answer
            self.close_connection = True

    def do_GET(self) -> None:  # noqa: N802
        self._safe_dispatch("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._safe_dispatch("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._safe_dispatch("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._safe_dispatch("DELETE")

    # --- OAuth 2 ---------------------------------------------------------------------------------------------

    def _authorize(self, query: dict[str, str]) -> None:
        box = self.sandbox
        client_id, redirect_uri = query.get("client_id", ""), query.get("redirect_uri", "")
        if client_id not in box.clients or not redirect_uri or query.get("response_type") != "code":
            self._send_json(400, {"error": "invalid_request", "error_description": "Bad client or redirect."})
            return
        code = "4/sandbox-" + secrets.token_urlsafe(16)
        with box.lock:
            box.codes[code] = {"client_id": client_id, "redirect_uri": redirect_uri,
                               "challenge": query.get("code_challenge"),
                               "method": query.get("code_challenge_method", "plain")}
        params = {"code": code, "scope": query.get("scope", "")}
        if "state" in query:
            params["state"] = query["state"]
        separator = "&" if "?" in redirect_uri else "?"
        self.send_response(302)
        self.send_header("Location", redirect_uri + separator + urlencode(params))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _token(self) -> None:
        box = self.sandbox
        form = {k: v[-1] for k, v in parse_qs(self._read_body().decode("utf-8")).items()}
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(auth[6:]).decode("utf-8").partition(":")
        if box.clients.get(client_id or "") != client_secret:
            self._send_json(401, {"error": "invalid_client", "error_description": "Unauthorized"})
            return
        grant = form.get("grant_type")
        with box.lock:
            if grant == "refresh_token":
                if form.get("refresh_token") not in box.refresh_tokens:
                    self._send_json(400, {"error": "invalid_grant",
                                          "error_description": "Token has been expired or revoked."})
                    return
                self._send_json(200, box._access_token())
                return
            if grant == "authorization_code":
                grant_data = box.codes.pop(form.get("code", ""), None)
                if grant_data is None or grant_data["redirect_uri"] != form.get("redirect_uri"):
                    self._send_json(400, {"error": "invalid_grant", "error_description": "Bad Request"})
                    return
                if grant_data["challenge"]:
                    verifier = form.get("code_verifier", "")
                    if grant_data["method"] == "S256":
                        digest = hashlib.sha256(verifier.encode("ascii")).digest()
                        computed = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
                    else:
                        computed = verifier
                    if computed != grant_data["challenge"]:
                        self._send_json(400, {"error": "invalid_grant",
                                              "error_description": "Invalid code verifier."})
                        return
                tokens = box.issue_tokens(client_id or CLIENT_ID)
                tokens.pop("client_id", None)
                self._send_json(200, tokens)
                return
        self._send_json(400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type."})

    # --- channels --------------------------------------------------------------------------------------------

    def _op_channels_list(self, query: dict[str, str]) -> None:
        box = self.sandbox
        if query.get("mine") != "true" and box.channel_id not in query.get("id", "").split(","):
            self._send_json(200, {"kind": "youtube#channelListResponse", "items": [],
                                  "pageInfo": {"totalResults": 0, "resultsPerPage": 5}})
            return
        channel = {"kind": "youtube#channel", "id": box.channel_id,
                   "snippet": {"title": box.channel_title, "description": "", "customUrl": "@congdoan-sandbox"},
                   "contentDetails": {"relatedPlaylists": {"likes": "", "uploads": box.uploads_playlist_id}},
                   "status": {"privacyStatus": "public", "isLinked": True,
                              "longUploadsStatus": "allowed" if box.verified else "eligible"}}
        self._send_json(200, {"kind": "youtube#channelListResponse", "items": [channel],
                              "pageInfo": {"totalResults": 1, "resultsPerPage": 5}})

    # --- videos: the resumable upload ------------------------------------------------------------------------

    def _op_videos_insert(self, query: dict[str, str]) -> None:
        box = self.sandbox
        if query.get("uploadType") != "resumable":
            self._discard_body()
            raise ApiError(400, "invalidUploadType", "Only resumable uploads are served by this sandbox.")
        if not query.get("part"):
            raise ApiError(400, "required", "Required parameter: part", domain="global")
        metadata = self._json_body()
        check_video_metadata(metadata, inserting=True)
        total_header = self.headers.get("X-Upload-Content-Length")
        upload = Upload(upload_id=secrets.token_urlsafe(24), metadata=metadata,
                        total=int(total_header) if total_header else None,
                        content_type=self.headers.get("X-Upload-Content-Type", "video/*"))
        if not upload.content_type.startswith(("video/", "application/octet-stream")):
            raise ApiError(400, "invalidContentType", "The uploaded file has an unsupported content type.",
                           domain="youtube.video")
        with box.lock:
            box.uploads[upload.upload_id] = upload
        location = (box.url + "upload/youtube/v3/videos?" +
                    urlencode({"uploadType": "resumable", "part": query["part"], "upload_id": upload.upload_id}))
        self._send_json(200, None, {"Location": location, "X-GUploader-UploadID": upload.upload_id})

    def _op_videos_upload_chunk(self, query: dict[str, str]) -> None:
        self._upload_chunk(query, cut=False)

    def _upload_chunk(self, query: dict[str, str], cut: bool) -> None:
        box = self.sandbox
        upload = box.uploads.get(query.get("upload_id", ""))
        if upload is None:
            self._discard_body()
            raise ApiError(404, "notFound", "No such upload session.", domain="global")
        content_range = self.headers.get("Content-Range", "")
        self.body_consumed = True  # read below, block by block
        length = int(self.headers.get("Content-Length") or 0)
        if content_range.startswith("bytes */"):
            # "How much did you get?" after an interrupted chunk.
            self._discard_body()
            upload.status_queries += 1
            total = content_range[len("bytes */"):]
            if total != "*" and upload.total is None:
                upload.total = int(total)
            if upload.total is not None and upload.received == upload.total and upload.video_id:
                self._send_json(200, box.videos[upload.video_id])
                return
            self._send_incomplete(upload)
            return
        if not content_range.startswith("bytes "):
            self._discard_body()
            raise ApiError(400, "badContentRange", "Missing or malformed Content-Range.", domain="global")
        span, _, total = content_range[len("bytes "):].partition("/")
        start, _, end = span.partition("-")
        start_i, end_i = int(start), int(end)
        if total != "*":
            upload.total = int(total)
        if end_i - start_i + 1 != length or start_i > upload.received:
            self._discard_body()
            raise ApiError(400, "badContentRange", "Content-Range does not match what was received so far.",
                           domain="global")
        keep_until = start_i + (length // 2 if cut else length)  # absolute offset: what this chunk really delivers
        position = start_i
        remaining = length
        while remaining > 0:
            block = self.rfile.read(min(remaining, 1 << 20))
            if not block:
                break
            lo, hi = position, position + len(block)
            # keep only new bytes (a re-sent chunk may overlap what already arrived) up to the cut
            take_from, take_to = max(lo, upload.received), min(hi, keep_until)
            if take_to > take_from:
                upload.hasher.update(block[take_from - lo:take_to - lo])
                upload.received = take_to
            position = hi
            remaining -= len(block)
        if cut:
            self.close_connection = True
            raise ApiError(503, "backendError", "The upload was interrupted. Resume it.", domain="global",
                           headers={"Connection": "close"})
        if upload.total is not None and upload.received >= upload.total:
            self._finish_upload(upload)
            self._send_json(200, box.videos[upload.video_id or ""])
            return
        self._send_incomplete(upload)

    def _send_incomplete(self, upload: Upload) -> None:
        headers = {"X-GUploader-UploadID": upload.upload_id}
        if upload.received:
            headers["Range"] = f"bytes=0-{upload.received - 1}"
        self.send_response(308)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _finish_upload(self, upload: Upload) -> None:
        box = self.sandbox
        if upload.video_id:
            return
        video_id = _new_id(11)
        snippet = dict(upload.metadata.get("snippet") or {})
        status = dict(upload.metadata.get("status") or {})
        status.setdefault("privacyStatus", "public")
        status.update({"uploadStatus": "uploaded", "license": "youtube", "embeddable": True,
                       "publicStatsViewable": True})
        video = {"kind": "youtube#video", "id": video_id,
                 "snippet": {"publishedAt": _now(), "channelId": box.channel_id, "title": snippet.get("title", ""),
                             "description": snippet.get("description", ""), "tags": snippet.get("tags", []),
                             "categoryId": snippet.get("categoryId", "22"), "channelTitle": box.channel_title,
                             "defaultLanguage": snippet.get("defaultLanguage", ""),
                             "thumbnails": {"default": {"url": f"https://i.ytimg.com/vi/{video_id}/default.jpg",
                                                        "width": 120, "height": 90}}},
                 "status": status}
        with box.lock:
            upload.video_id = video_id
            box.videos[video_id] = video
            box.uploaded_at[video_id] = time.time()
            box.video_files[video_id] = {"bytes": upload.received, "sha256": upload.hasher.hexdigest(),
                                         "content_type": upload.content_type}
            box.playlist_items.insert(0, self._playlist_item(box.uploads_playlist_id, video_id))

    def _video_view(self, video: dict[str, Any], parts: set[str]) -> dict[str, Any]:
        view: dict[str, Any] = {"kind": "youtube#video", "id": video["id"]}
        if "snippet" in parts:
            view["snippet"] = video["snippet"]
        if "status" in parts:
            view["status"] = video["status"]
        if "statistics" in parts:
            view["statistics"] = self.sandbox.statistics(video["id"])
        if "contentDetails" in parts:
            view["contentDetails"] = {"duration": "PT1M", "dimension": "2d", "definition": "hd"}
        return view

    def _op_videos_list(self, query: dict[str, str]) -> None:
        parts = set(query.get("part", "").split(","))
        if not parts - {""}:
            raise ApiError(400, "required", "Required parameter: part", domain="global")
        ids = [i for i in query.get("id", "").split(",") if i]
        if len(ids) > 50:
            raise ApiError(400, "invalidFilters", "The request specifies more than 50 video IDs.")
        box = self.sandbox
        with box.lock:
            items = [self._video_view(box.videos[i], parts) for i in ids if i in box.videos]
        self._send_json(200, {"kind": "youtube#videoListResponse", "items": items,
                              "pageInfo": {"totalResults": len(items), "resultsPerPage": len(items)}})

    def _op_videos_update(self, query: dict[str, str]) -> None:
        body = self._json_body()
        box = self.sandbox
        video = box.videos.get(body.get("id", ""))
        if video is None:
            raise ApiError(404, "videoNotFound", "The video that you are trying to update cannot be found.")
        check_video_metadata(body, inserting=False)
        parts = set(query.get("part", "").split(","))
        with box.lock:
            if "snippet" in parts and "snippet" in body:
                video["snippet"].update({k: body["snippet"].get(k, "") for k in ("title", "description")})
                video["snippet"]["tags"] = body["snippet"].get("tags", [])
                video["snippet"]["categoryId"] = body["snippet"]["categoryId"]
            if "status" in parts and "status" in body:
                video["status"].update(body["status"])
                if "publishAt" not in body["status"]:
                    video["status"].pop("publishAt", None)
        self._send_json(200, self._video_view(video, parts | {"snippet", "status"}))

    def _op_videos_delete(self, query: dict[str, str]) -> None:
        box = self.sandbox
        with box.lock:
            video = box.videos.pop(query.get("id", ""), None)
            if video is None:
                raise ApiError(404, "videoNotFound", "The video that you are trying to delete cannot be found.")
            box.playlist_items = [i for i in box.playlist_items
                                  if i["snippet"]["resourceId"]["videoId"] != video["id"]]
        self._send_json(204, None)

    # --- thumbnails ------------------------------------------------------------------------------------------

    def _op_thumbnails_set(self, query: dict[str, str]) -> None:
        box = self.sandbox
        size = int(self.headers.get("Content-Length") or 0)
        self._discard_body()
        video_id = query.get("videoId", "")
        if video_id not in box.videos:
            raise ApiError(404, "videoNotFound", "The video that you are trying to insert a thumbnail image for "
                           "cannot be found.")
        if not box.verified:
            raise ApiError(403, "forbidden", "The authenticated user doesn't have permissions for uploading and "
                           "setting custom thumbnails for this video.", domain="youtube.thumbnail")
        if size > THUMBNAIL_MAX_BYTES:
            raise ApiError(400, "mediaBodyTooLarge", "The thumbnail image is too large.",
                           domain="youtube.thumbnail")
        if not (self.headers.get("Content-Type") or "").startswith(("image/jpeg", "image/png")):
            raise ApiError(400, "invalidImage", "The provided image content is invalid.", domain="youtube.thumbnail")
        with box.lock:
            box.thumbnails[video_id] = size
        url = f"https://i.ytimg.com/vi/{video_id}/maxresdefault.jpg"
        self._send_json(200, {"kind": "youtube#thumbnailSetResponse",
                              "items": [{"default": {"url": url, "width": 120, "height": 90},
                                         "maxres": {"url": url, "width": 1280, "height": 720}}]})

    # --- playlists -------------------------------------------------------------------------------------------

    def _op_playlists_list(self, query: dict[str, str]) -> None:
        box = self.sandbox
        with box.lock:
            if query.get("mine") == "true":
                items = list(box.playlists.values())
            else:
                wanted = query.get("id", "").split(",")
                items = [p for i, p in box.playlists.items() if i in wanted]
        self._send_page(query, items, "youtube#playlistListResponse")

    def _send_page(self, query: dict[str, str], items: list[dict[str, Any]], kind: str) -> None:
        size = min(int(query.get("maxResults") or 5), 50)
        start = int(query.get("pageToken") or 0)
        page = items[start:start + size]
        body: dict[str, Any] = {"kind": kind, "items": page,
                                "pageInfo": {"totalResults": len(items), "resultsPerPage": size}}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        self._send_json(200, body)

    def _op_playlists_insert(self, query: dict[str, str]) -> None:
        body = self._json_body()
        title = (body.get("snippet") or {}).get("title", "")
        if not title or len(title) > 150 or "<" in title or ">" in title:
            raise ApiError(400, "invalidPlaylistSnippet", "The request provides an invalid playlist snippet.")
        box = self.sandbox
        playlist_id = "PL" + _new_id(32)
        playlist = {"kind": "youtube#playlist", "id": playlist_id,
                    "snippet": {"publishedAt": _now(), "channelId": box.channel_id, "title": title,
                                "description": body["snippet"].get("description", "")},
                    "status": {"privacyStatus": (body.get("status") or {}).get("privacyStatus", "public")}}
        with box.lock:
            box.playlists[playlist_id] = playlist
        self._send_json(200, playlist)

    def _playlist_item(self, playlist_id: str, video_id: str) -> dict[str, Any]:
        return {"kind": "youtube#playlistItem", "id": _new_id(40),
                "snippet": {"publishedAt": _now(), "channelId": self.sandbox.channel_id, "playlistId": playlist_id,
                            "resourceId": {"kind": "youtube#video", "videoId": video_id}},
                "contentDetails": {"videoId": video_id, "videoPublishedAt": _now()}}

    def _op_playlistItems_insert(self, query: dict[str, str]) -> None:  # noqa: N802
        body = self._json_body()
        snippet = body.get("snippet") or {}
        box = self.sandbox
        playlist_id = snippet.get("playlistId", "")
        video_id = (snippet.get("resourceId") or {}).get("videoId", "")
        if playlist_id not in box.playlists:
            raise ApiError(404, "playlistNotFound", "The playlist identified with the request's "
                           "playlistId parameter cannot be found.")
        if video_id not in box.videos:
            raise ApiError(404, "videoNotFound", "The video that you are trying to add to the playlist cannot be "
                           "found.")
        item = self._playlist_item(playlist_id, video_id)
        with box.lock:
            box.playlist_items.append(item)
        self._send_json(200, item)

    def _op_playlistItems_list(self, query: dict[str, str]) -> None:  # noqa: N802
        box = self.sandbox
        playlist_id = query.get("playlistId", "")
        if playlist_id != box.uploads_playlist_id and playlist_id not in box.playlists:
            raise ApiError(404, "playlistNotFound", "The playlist identified with the request's playlistId "
                           "parameter cannot be found.")
        with box.lock:
            items = [i for i in box.playlist_items if i["snippet"]["playlistId"] == playlist_id]
        self._send_page(query, items, "youtube#playlistItemListResponse")

    # --- comments --------------------------------------------------------------------------------------------

    def _op_commentThreads_list(self, query: dict[str, str]) -> None:  # noqa: N802
        box = self.sandbox
        video_id = query.get("videoId", "")
        if video_id not in box.videos:
            raise ApiError(404, "videoNotFound", "The video identified by the videoId parameter could not be found.")
        with box.lock:
            threads = []
            for thread in reversed(box.comment_threads.get(video_id, [])):  # order=time: newest first
                view = {**thread}
                if "replies" in thread:  # YouTube includes at most five replies; comments.list gives them all
                    view["replies"] = {"comments": thread["replies"]["comments"][:5]}
                threads.append(view)
        self._send_page(query, threads, "youtube#commentThreadListResponse")

    def _op_comments_list(self, query: dict[str, str]) -> None:
        box = self.sandbox
        parent = query.get("parentId", "")
        with box.lock:
            for threads in box.comment_threads.values():
                for thread in threads:
                    if thread["id"] == parent:
                        replies = list((thread.get("replies") or {}).get("comments", []))
                        self._send_page(query, replies, "youtube#commentListResponse")
                        return
        raise ApiError(404, "commentNotFound", "One or more of the comments identified by the parentId parameter "
                       "could not be found.")

    def _op_comments_insert(self, query: dict[str, str]) -> None:
        body = self._json_body()
        snippet = body.get("snippet") or {}
        box = self.sandbox
        parent = snippet.get("parentId", "")
        text = snippet.get("textOriginal", "")
        if not text.strip():
            raise ApiError(400, "commentTextRequired", "The comment resource must contain a value for the "
                           "snippet.textOriginal property.")
        for video_id, threads in box.comment_threads.items():
            if any(t["id"] == parent for t in threads):
                reply_id = box.add_comment(video_id, box.channel_title, text, reply_to=parent)
                self._send_json(200, {"kind": "youtube#comment", "id": reply_id,
                                      "snippet": {"parentId": parent, "textOriginal": text,
                                                  "authorDisplayName": box.channel_title, "publishedAt": _now()}})
                return
        raise ApiError(404, "parentCommentNotFound", "The specified parent comment could not be found.")


def start(**kwargs: Any) -> YouTubeSandbox:
    """Start a sandbox on 127.0.0.1 (ephemeral port). ``sandbox.url`` is its base URL, ``sandbox.inject`` its
    fault injection, ``sandbox.stop()`` ends it."""
    sandbox = YouTubeSandbox(**kwargs)
    sandbox.start()
    return sandbox


class YouTubeSandboxService:
    """The YouTube sandbox as one of the shared sandbox services (``start_sandboxes``, ``publisher run --demo``).
    It runs its own HTTP server, so it plugs in through ``start_self``/``stop_self``."""

    name = "youtube"
    hosts = ("",)

    def __init__(self) -> None:
        self.sandbox = YouTubeSandbox()
        self.urls: dict[str, str] = {}

    def start_self(self) -> dict[str, str]:
        return {"": self.sandbox.start().rstrip("/")}

    def stop_self(self) -> None:
        self.sandbox.stop()

    def settings_overrides(self) -> dict[str, Any]:
        return self.sandbox.settings_overrides()

    def demo_channels(self) -> list[dict[str, Any]]:
        return [self.sandbox.demo_channel()]


def _register() -> None:
    from publisher.channels.sandbox import register_sandbox

    register_sandbox("youtube", YouTubeSandboxService)  # type: ignore[arg-type]


_register()
