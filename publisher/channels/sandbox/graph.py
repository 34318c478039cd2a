"""A Graph API sandbox: the calls Loa makes to a Facebook Page, with the documented wire protocol.

Two hosts, as on Facebook: the Graph host (``graph.facebook.com``) and the video-upload host
(``graph-video.facebook.com``), which alone accepts ``POST /{page-id}/videos`` (chunked upload:
``upload_phase=start|transfer|finish``). Every path needs a current ``/vNN.N/`` version prefix.

What it knows: pages with their Page access tokens, users with user tokens (which Graph refuses for Page
publishing with error 200), tokens that have expired (190/463). What it keeps: posts (text, link, photo,
multi-photo with ``attached_media``, video), photos, videos, comments and replies. Engagement figures grow with
the post's age (``advance(seconds)`` moves the sandbox clock), and readers' comments appear over time.

Graph as a NEW app sees it in December 2026. Meta's developer blog, 4 November 2026, "Introducing Graph API v27.0
and Marketing API v27.0", entry "Graph API - Legacy features": "Starting November 4, 2026, new apps cannot use
multi-ID requests, date/time formatting, HTTP method override, field aliases, JSONP callbacks, or asynchronous
batch requests … This applies across all Graph API versions." The sandbox refuses each of them (see
:data:`LEGACY_FEATURES` and :func:`legacy_feature_of`) with an error body in Graph's shape, in a plain request
and inside a batch alike, unless :attr:`GraphSandbox.legacy_app` is set (an app created before that date, which
may still use them; ``POST /__sandbox/legacy_app {"allowed": true}``). Synchronous batch requests (``POST /``
with ``batch=[…]``, at most 50 operations, each answered with its own ``code``, ``headers`` and JSON-encoded
``body``; Graph's "Batch Requests" page, read 2026-12-02) are not in that list and are served. The same post:
``total_video_consumption_rate`` returns no data on any version from early November 2026, so the sandbox knows it
only as a retired metric.

Errors have Graph's shape and statuses: ``{"error": {"message", "type", "code", "error_subcode",
"is_transient", "fbtrace_id"}}``. Faults (rate limits with usage headers, 5xx, time-outs, expired tokens,
duplicates) come from the shared fault API; :meth:`GraphSandbox.rate_limit` and friends build the common ones.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import re
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from publisher.channels.sandbox import Fault, SandboxRequest, SandboxResponse, SandboxService, register_sandbox

MIN_VERSION = (18, 0)
MESSAGE_MAX = 63206
PHOTO_MAX_BYTES = 4 * 1024 * 1024
PHOTO_FORMATS = {"JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"}
VIDEO_MAX_BYTES = 10 * 1024 * 1024 * 1024
VIDEO_CHUNK_BYTES = 4 * 1024 * 1024
IDS_MAX = 50
# Graph's "Batch Requests" page (read 2026-12-02): "Batch requests are limited to 50 requests per batch."
BATCH_MAX = 50
INSIGHT_METRICS = {"post_media_view", "post_total_media_view_unique", "post_reactions_by_type_total", "post_clicks"}
# total_video_consumption_rate: "Introducing Graph API v27.0" (2026-11-04), entry "Graph API - Page Insights": no
# data on any Graph API version from early November 2026.
RETIRED_METRICS = {"post_impressions", "post_impressions_unique", "post_impressions_paid", "post_impressions_organic",
                   "post_engaged_users", "post_reach", "total_video_consumption_rate"}
# The legacy features a new app may not use (Meta developer blog, 2026-11-04, "Introducing Graph API v27.0 and
# Marketing API v27.0", entry "Graph API - Legacy features"), by the name the refusal gives them.
LEGACY_FEATURES = ("multi-ID requests", "date/time formatting", "HTTP method override", "field aliases",
                   "JSONP callbacks", "asynchronous batch requests")
LEGACY_CODE = 12  # Graph's "deprecated API" error code; Meta does not document the exact refusal text
DEMO_PAGE_ID = "100000000000001"
DEMO_PAGE_TOKEN = "sandbox-page-token-demo"
DEMO_USER_TOKEN = "sandbox-user-token-demo"
READER_COMMENTS = (
    ("Nguyễn Thị Hoa", "Rất thiết thực cho đoàn viên công đoàn!"),
    ("Trần Văn Minh", "Mong Công đoàn tỉnh tiếp tục có nhiều bài viết như thế này."),
    ("Lê Thị Thu", "Cho hỏi đăng ký tham gia ở đâu ạ?"),
    ("Phạm Quốc Hùng", "Chia sẻ để anh chị em cùng biết."),
    ("Hoàng Thị Mai", "Cảm ơn Ban biên tập."),
    ("Đỗ Văn Nam", "Công đoàn cơ sở chúng tôi đã triển khai, hiệu quả tốt."),
)


# Other sandbox modules extend the Graph sandbox (Facebook Login: sandbox/facebook_login.py). Each entry is called
# with a new service and answers an extension with ``handle(request) -> SandboxResponse | None`` (asked first, for
# every versioned request), ``control(action, data) -> SandboxResponse | None`` and ``settings_overrides() -> dict``.
EXTENSIONS: list[Any] = []


def graph_error(status: int, message: str, code: int, subcode: int | None = None, *, type_: str = "OAuthException",
                is_transient: bool = False, headers: dict[str, str] | None = None,
                error_data: dict[str, Any] | None = None) -> SandboxResponse:
    error: dict[str, Any] = {"message": message, "type": type_, "code": code, "is_transient": is_transient,
                             "fbtrace_id": "A" + secrets.token_urlsafe(12)}
    if subcode is not None:
        error["error_subcode"] = subcode
    if error_data is not None:
        error["error_data"] = error_data
    return SandboxResponse(status, {"error": error}, dict(headers or {}))


class GraphFailure(Exception):
    def __init__(self, response: SandboxResponse):
        self.response = response


def fail(status: int, message: str, code: int, subcode: int | None = None, **kwargs: Any) -> GraphFailure:
    return GraphFailure(graph_error(status, message, code, subcode, **kwargs))


def legacy_feature_of(path: str, params: dict[str, str], headers: Any = None) -> str | None:
    """The legacy feature a request uses, if any (each rule: "Introducing Graph API v27.0", 2026-11-04, entry
    "Graph API - Legacy features"). ``params`` holds the query and form parameters, ``path`` has no version."""
    if "ids" in params:  # GET /?ids=a,b (facebook-sdk's get_objects)
        return "multi-ID requests"
    if "date_format" in params:
        return "date/time formatting"
    override = (headers.get("X-HTTP-Method-Override") if headers is not None else None)
    if override or "method" in params:  # ?method=DELETE or the header, instead of the real HTTP verb
        return "HTTP method override"
    if re.search(r"\.as\(", params.get("fields", "")):  # fields=message.as(text)
        return "field aliases"
    if "callback" in params:
        return "JSONP callbacks"
    if "is_async" in params or "asyncbatch" in params or "async_batch_requests" in path:
        return "asynchronous batch requests"
    return None


def legacy_refusal(feature: str) -> GraphFailure:
    return fail(400, f"(#{LEGACY_CODE}) {feature} are not available to apps created on or after November 4, 2026, "
                     "on any Graph API version.", LEGACY_CODE, type_="OAuthException")


def not_found(object_id: str, verb: str = "get") -> GraphFailure:
    return fail(400, f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded due "
                     "to missing permissions, or does not support this operation.", 100, 33, type_="GraphMethodException")


@dataclass
class Page:
    id: str
    name: str
    token: str


@dataclass
class Photo:
    id: str
    page_id: str
    format: str
    size: int
    width: int
    height: int
    published: bool
    caption: str = ""
    post_id: str | None = None


@dataclass
class Video:
    id: str
    page_id: str
    file_size: int
    session_id: str
    received: int = 0
    head: bytes = b""
    finished: bool = False
    post_id: str | None = None
    title: str = ""
    description: str = ""


@dataclass
class Post:
    id: str
    page_id: str
    message: str
    kind: str  # status | link | photo | album | video
    created: float
    link: str | None = None
    media: list[str] = field(default_factory=list)  # photo or video ids
    updated: float | None = None


@dataclass
class Comment:
    id: str
    object_id: str  # the post or the comment it answers
    post_id: str
    author_id: str
    author_name: str
    message: str
    created: float


class GraphSandbox(SandboxService):
    name = "facebook"
    hosts = ("", "video")

    def __init__(self) -> None:
        super().__init__()
        self.clock_offset = 0.0
        self._ids = itertools.count(int(time.time()) % 1_000_000 * 1000 + 1)
        self.pages: dict[str, Page] = {}
        self.tokens: dict[str, tuple[str, str]] = {}  # token -> ("page", page id) | ("user", user id)
        self.user_names: dict[str, str] = {}
        self.expired: set[str] = set()
        self.posts: dict[str, Post] = {}
        self.photos: dict[str, Photo] = {}
        self.videos: dict[str, Video] = {}
        self.comments: dict[str, Comment] = {}
        self.versions_seen: set[str] = set()
        self.legacy_app = False  # True: an app created before 2026-11-04, which may still use the legacy features
        self.legacy_refused: list[str] = []  # the legacy features clients tried (and were refused)
        self.create_page("Công đoàn tỉnh (sandbox)", page_id=DEMO_PAGE_ID, token=DEMO_PAGE_TOKEN)
        self.create_user("Cán bộ quản trị (sandbox)", token=DEMO_USER_TOKEN)
        self.extensions = [make(self) for make in EXTENSIONS]

    # --- set-up used by tests and the demo -------------------------------------------------------------

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance(self, seconds: float) -> None:
        """Move the sandbox clock on: engagement grows, readers' comments appear."""
        with self.lock:
            self.clock_offset += seconds

    def new_id(self) -> str:
        return str(next(self._ids))

    def create_page(self, name: str, page_id: str | None = None, token: str | None = None) -> Page:
        with self.lock:
            page = Page(page_id or self.new_id(), name, token or "EAAP" + secrets.token_urlsafe(24))
            self.pages[page.id] = page
            self.tokens[page.token] = ("page", page.id)
            return page

    def add_reader_comment(self, post_id: str, name: str, message: str, minutes_ago: float = 0) -> Comment:
        """A reader (not the Page) comments on one of the Page's posts; KeyError for an unknown post."""
        with self.lock:
            post = self.posts[post_id]
            author = "person" + hashlib.sha1(name.encode()).hexdigest()[:10]  # not "reader…": those grow on their own
            comment = Comment(f"{post.id.split('_')[-1]}_{self.new_id()}", post.id, post.id, author, name, message,
                              self.now() - minutes_ago * 60)
            self.comments[comment.id] = comment
            return comment

    def create_user(self, name: str, token: str | None = None) -> str:
        """A user access token (what people often paste instead of a Page token)."""
        with self.lock:
            user_id = self.new_id()
            self.user_names[user_id] = name
            token = token or "EAAU" + secrets.token_urlsafe(24)
            self.tokens[token] = ("user", user_id)
            return token

    def expire_token(self, token: str) -> None:
        with self.lock:
            self.expired.add(token)

    def page_posts(self, page_id: str) -> list[Post]:
        with self.lock:
            return sorted((p for p in self.posts.values() if p.page_id == page_id), key=lambda p: -p.created)

    # --- ready-made faults ----------------------------------------------------------------------------

    def rate_limit(self, path_prefix: str = "", *, code: int = 4, minutes: int | None = None, count: int = 1,
                   method: str | None = None) -> Fault:
        """Graph's throttling answer: error ``code`` (4 app, 17 user, 32 page, 613, 80001… business use case)
        with ``X-App-Usage`` at 100 % and, for business-use-case limits, ``X-Business-Use-Case-Usage`` carrying
        ``estimated_time_to_regain_access`` (minutes)."""
        messages = {4: "(#4) Application request limit reached", 17: "(#17) User request limit reached",
                    32: "(#32) Page request limit reached", 613: "(#613) Calls to this api have exceeded the rate limit."}
        message = messages.get(code, f"(#{code}) There have been too many calls to this Page. Wait a bit and try again.")
        headers = {"X-App-Usage": json.dumps({"call_count": 100, "total_cputime": 37, "total_time": 52})}
        if minutes is not None:
            usage = {DEMO_PAGE_ID: [{"type": "pages", "call_count": 100, "total_cputime": 12, "total_time": 20,
                                     "estimated_time_to_regain_access": minutes}]}
            headers["X-Business-Use-Case-Usage"] = json.dumps(usage)
        body = graph_error(403 if code in (4, 17, 32) else 400, message, code, is_transient=False).body
        return self.add_fault(Fault(path_prefix=path_prefix, method=method, status=403 if code in (4, 17, 32) else 400,
                                    body=body, headers=headers, count=count))

    def server_error(self, path_prefix: str = "", *, status: int = 500, code: int = 2, count: int = 1,
                     method: str | None = None, process: bool = False) -> Fault:
        message = {1: "An unknown error occurred", 2: "An unexpected error has occurred. Please retry your request "
                   "later."}.get(code, "Service temporarily unavailable")
        body = graph_error(status, message, code, is_transient=True).body
        return self.add_fault(Fault(path_prefix=path_prefix, method=method, status=status, body=body, count=count,
                                    process=process))

    def slow(self, path_prefix: str = "", *, delay: float = 2.0, count: int = 1, method: str | None = None,
             process: bool = False) -> Fault:
        """Answer late (after the client's time-out); with ``process`` the call was carried out all the same."""
        return self.add_fault(Fault(path_prefix=path_prefix, method=method, delay=delay, count=count, process=process,
                                    status=504, body=graph_error(504, "Gateway time-out", 2, is_transient=True).body))

    def fault_response(self, fault: Fault) -> SandboxResponse:
        response = super().fault_response(fault)
        if isinstance(response.body, dict) and isinstance(response.body.get("error"), dict):
            response.body["error"].setdefault("fbtrace_id", "A" + secrets.token_urlsafe(12))
        return response

    def control(self, action: str, data: dict[str, Any]) -> SandboxResponse:
        """Test controls over HTTP: ``expire_token {"token"}``, ``advance {"seconds"}``, ``user_token {"name"}``,
        ``page {"name"}``, ``rate_limit {"path_prefix", "code", "minutes", "count"}``, ``legacy_app {"allowed"}``,
        ``reader_comment {"post_id", "name", "message", "minutes_ago"}`` (a reader comments on a post now, or that
        many minutes ago)."""
        if action == "expire_token":
            self.expire_token(str(data.get("token") or DEMO_PAGE_TOKEN))
            return SandboxResponse(200, {"expired": True})
        if action == "advance":
            self.advance(float(data["seconds"]))
            return SandboxResponse(200, {"clock_offset": self.clock_offset})
        if action == "user_token":
            return SandboxResponse(201, {"access_token": self.create_user(str(data.get("name") or "Người dùng"))})
        if action == "page":
            page = self.create_page(str(data.get("name") or "Trang mới"))
            return SandboxResponse(201, {"id": page.id, "access_token": page.token})
        if action == "legacy_app":
            self.legacy_app = bool(data.get("allowed", True))
            return SandboxResponse(200, {"legacy_app": self.legacy_app})
        if action == "reader_comment":
            comment = self.add_reader_comment(str(data["post_id"]), str(data["name"]), str(data["message"]),
                                              minutes_ago=float(data.get("minutes_ago") or 0))
            return SandboxResponse(201, {"id": comment.id})
        if action == "rate_limit":
            self.rate_limit(str(data.get("path_prefix") or ""), code=int(data.get("code") or 4),
                            minutes=data.get("minutes"), count=int(data.get("count") or 1))
            return SandboxResponse(201, {"faults": len(self.faults)})
        for extension in self.extensions:
            answer = extension.control(action, data)
            if answer is not None:
                return answer
        return super().control(action, data)

    # --- the service -------------------------------------------------------------------------------------

    def settings_overrides(self) -> dict[str, Any]:
        overrides = {"facebook_graph_url": self.urls[""], "facebook_graph_video_url": self.urls["video"]}
        for extension in self.extensions:
            overrides.update(extension.settings_overrides())
        return overrides

    def demo_channels(self) -> list[dict[str, Any]]:
        return [{"kind": "facebook", "name": "Trang Facebook Công đoàn tỉnh (sandbox)",
                 "settings": {"page_id": DEMO_PAGE_ID, "access_token": DEMO_PAGE_TOKEN}}]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "urls": self.urls, "pages": [{"id": p.id, "name": p.name} for p in self.pages.values()],
                "posts": [{"id": p.id, "kind": p.kind, "message": p.message[:80], "media": p.media}
                          for p in self.posts.values()], "versions_seen": sorted(self.versions_seen),
                "legacy_app": self.legacy_app, "legacy_refused": list(self.legacy_refused)}

    def normalise_path(self, request: SandboxRequest) -> str:
        match = re.match(r"^/(v\d+\.\d+)(/.*)?$", request.raw_path)
        request.version = match.group(1) if match else None  # type: ignore[attr-defined]
        return (match.group(2) or "/") if match else request.raw_path

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        try:
            with self.lock:
                return self._handle(request)
        except GraphFailure as failure:
            return failure.response

    def _handle(self, request: SandboxRequest) -> SandboxResponse:
        version = getattr(request, "version", None)
        if version is None:
            raise fail(400, "Unknown path components: the sandbox needs a /vNN.N/ version prefix", 2500)
        major, minor = (int(x) for x in version[1:].split("."))
        if (major, minor) < MIN_VERSION:
            raise fail(400, f"(#2635) You are calling a deprecated version of the Graph API ({version}). Please "
                            "update to the latest version.", 2635)
        self.versions_seen.add(version)
        for extension in self.extensions:
            answer = extension.handle(request)
            if answer is not None:
                return answer
        params = {**request.form, **{k: v[0] for k, v in request.query.items()}}
        feature = legacy_feature_of(request.path, params, request.headers)
        if feature is not None and not self.legacy_app:
            self.legacy_refused.append(feature)
            raise legacy_refusal(feature)
        method = request.method
        if self.legacy_app:  # an older app may still override the verb
            override = request.headers.get("X-HTTP-Method-Override") or request.arg("method") or ""
            method = override.upper() if override.upper() in ("GET", "POST", "DELETE") else method
        owner = self._token_owner(request)
        parts = [p for p in request.path.split("/") if p]
        if not parts:
            if method == "POST" and request.arg("batch") is not None:
                return self._batch(request, version)
            if method == "GET" and request.arg("ids") and self.legacy_app:
                return self._read_many(request, owner)
            raise fail(400, "Unsupported get request.", 100)
        node = parts[0]
        if node == "me":
            node = owner[1]
        edge = parts[1] if len(parts) > 1 else None
        if len(parts) > 2:
            raise fail(400, "Unknown path components: /" + "/".join(parts[2:]), 2500)
        if edge is None:
            if method == "GET":
                return SandboxResponse(200, self._read_node(node, request.arg("fields") or "", owner))
            if method == "POST":
                return self._edit(node, request, owner)
            if method == "DELETE":
                return self._delete(node, owner)
        elif node in self.pages and edge in ("feed", "posts", "published_posts") and method == "GET":
            return self._list_posts(node, request, owner)
        elif node in self.pages and edge == "feed" and method == "POST":
            return self._create_feed_post(node, request, owner)
        elif node in self.pages and edge == "photos" and method == "POST":
            return self._upload_photo(node, request, owner)
        elif node in self.pages and edge == "videos" and method == "POST":
            return self._upload_video(node, request, owner)
        elif edge == "comments" and method == "GET":
            return self._list_comments(node, request, owner)
        elif edge == "comments" and method == "POST":
            return self._add_comment(node, request, owner)
        elif edge == "insights" and method == "GET":
            post = self._post(node)
            self._require_page(owner, post.page_id, reading=True)
            return SandboxResponse(200, self._insights(post, (request.arg("metric") or "").split(",")))
        elif edge == "accounts" and method == "GET" and owner[0] == "user":
            return SandboxResponse(200, {"data": [], "paging": {}})
        raise fail(400, f"Unsupported {method.lower()} request. Object with ID '{node}' does not support the "
                        f"edge '{edge}'.", 100, 33, type_="GraphMethodException")

    # --- batch requests ----------------------------------------------------------------------------------

    def _batch(self, request: SandboxRequest, version: str) -> SandboxResponse:
        """Synchronous batch (Graph's "Batch Requests" page, read 2026-12-02): ``batch`` is a JSON array of
        ``{"method", "relative_url", "body"?}``, at most :data:`BATCH_MAX`; the answer is an array in the same
        order, each ``{"code", "headers", "body"}`` with the body JSON-encoded, one operation's failure not
        touching the others; an operation that did not complete in time is answered ``null``. Each operation uses the batch's access token unless it carries its own, and meets
        the same rules (legacy features, permissions) and injected faults as a plain request."""
        try:
            operations = json.loads(request.arg("batch") or "")
        except ValueError:
            raise fail(400, "(#100) The parameter batch must be a JSON array", 100) from None
        if not isinstance(operations, list) or not operations:
            raise fail(400, "(#100) The parameter batch must be a non-empty JSON array", 100)
        if len(operations) > BATCH_MAX:
            raise fail(400, f"(#100) Too many requests in batch message. Maximum batch size is {BATCH_MAX}", 100)
        include_headers = (request.arg("include_headers") or "true").lower() != "false"
        token = request.arg("access_token")
        answers: list[dict[str, Any] | None] = []
        for operation in operations:
            response = self._batch_operation(operation, request, version, token)
            if response is None:  # "Responses for requests that are not successful will be null" (time-outs)
                answers.append(None)
                continue
            answer: dict[str, Any] = {"code": response.status, "body": json.dumps(response.body, ensure_ascii=False)}
            if include_headers:
                answer["headers"] = [{"name": "Content-Type", "value": "application/json; charset=UTF-8"}] + [
                    {"name": k, "value": v} for k, v in response.headers.items()]
            answers.append(answer)
        return SandboxResponse(200, answers)

    def _batch_operation(self, operation: Any, batch: SandboxRequest, version: str,
                         token: str | None) -> SandboxResponse | None:
        if not isinstance(operation, dict) or not isinstance(operation.get("relative_url"), str):
            return graph_error(400, "(#100) Each batch operation needs a method and a relative_url", 100)
        relative = operation["relative_url"].lstrip("/")
        if not re.match(r"^v\d+\.\d+/", relative):
            relative = f"{version}/{relative}"
        body = operation.get("body") or ""
        if isinstance(body, dict):
            body = urlencode(body)
        target = "/" + relative
        if token and "access_token=" not in target and "access_token=" not in str(body):
            target += ("&" if "?" in target else "?") + urlencode({"access_token": token})
        data = str(body).encode("utf-8")
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Content-Length": str(len(data))}
        sub = SandboxRequest(str(operation.get("method") or "GET"), target, headers, io.BytesIO(data), batch.host,
                             batch.base_url)
        sub.path = self.normalise_path(sub)
        fault = self._take_fault(sub)
        if fault is not None:  # a fault with ``drop`` is an operation the batch did not complete (null)
            return None if fault.drop else self.fault_response(fault)
        try:
            return self._handle(sub)
        except GraphFailure as failure:
            return failure.response

    # --- tokens ------------------------------------------------------------------------------------------

    def _token_owner(self, request: SandboxRequest) -> tuple[str, str]:
        token = request.arg("access_token")
        if not token:
            auth = request.headers.get("Authorization", "")
            scheme, _, value = auth.partition(" ")
            token = value.strip() if scheme.lower() in ("oauth", "bearer") else None
        if not token:
            raise fail(400, "An active access token must be used to query information about the current user.", 2500)
        if token in self.expired:
            when = datetime.fromtimestamp(self.now() - 3600, UTC).strftime("%A, %d-%b-%y %H:%M:%S UTC")
            raise fail(400, f"Error validating access token: Session has expired on {when}. The current time is "
                            f"{datetime.fromtimestamp(self.now(), UTC).strftime('%A, %d-%b-%y %H:%M:%S UTC')}.",
                       190, 463)
        owner = self.tokens.get(token)
        if owner is None:
            raise fail(400, "Invalid OAuth access token - Cannot parse access token", 190)
        return owner

    def _require_page(self, owner: tuple[str, str], page_id: str, *, reading: bool = False) -> None:
        if owner == ("page", page_id):
            return
        if reading:
            raise fail(403, "(#10) This endpoint requires the 'pages_read_engagement' permission or the 'Page Public "
                            "Content Access' feature.", 10, type_="OAuthException")
        raise fail(403, "(#200) If posting to a page, requires both pages_read_engagement and pages_manage_posts as an "
                        "admin with sufficient administrative permission", 200, type_="OAuthException")

    # --- reading -----------------------------------------------------------------------------------------

    def _post(self, object_id: str, verb: str = "get") -> Post:
        post = self.posts.get(object_id)
        if post is None:
            raise not_found(object_id, verb)
        return post

    def _read_node(self, node: str, fields: str, owner: tuple[str, str]) -> dict[str, Any]:
        wanted = split_fields(fields) if fields else []
        if node in self.pages:
            page = self.pages[node]
            return {"id": page.id, "name": page.name} if not wanted else self._pick({"id": page.id, "name": page.name},
                                                                                     wanted)
        if node in self.user_names:
            return {"id": node, "name": self.user_names[node]}
        if node in self.videos:
            video = self.videos[node]
            self._require_page(owner, video.page_id, reading=True)
            data = {"id": video.id, "post_id": video.post_id, "title": video.title, "description": video.description,
                    "permalink_url": f"/{video.page_id}/videos/{video.id}/",
                    "status": {"video_status": "ready" if video.finished else "upload_incomplete"}}
            return self._pick(data, wanted or ["id", "title", "description"])
        if node in self.photos:
            photo = self.photos[node]
            self._require_page(owner, photo.page_id, reading=True)
            return self._pick({"id": photo.id, "name": photo.caption, "width": photo.width, "height": photo.height},
                              wanted or ["id"])
        if node in self.comments:
            return self._comment_json(self.comments[node], wanted or ["id", "message", "created_time"])
        post = self._post(node)
        self._require_page(owner, post.page_id, reading=True)
        return self._post_json(post, wanted or ["id", "message", "created_time"])

    def _pick(self, data: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
        out = {"id": data.get("id")}
        for name in wanted:
            if name in data and data[name] is not None:
                out[name] = data[name]
        return out

    def _read_many(self, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        ids = [i for i in (request.arg("ids") or "").split(",") if i]
        if len(ids) > IDS_MAX:
            raise fail(400, f"(#100) Too many IDs. Maximum: {IDS_MAX}.", 100, type_="OAuthException")
        missing = [i for i in ids if i not in self.posts and i not in self.videos and i not in self.pages]
        if missing:
            raise fail(404, f"(#803) Some of the aliases you requested do not exist: {','.join(missing)}", 803)
        fields = request.arg("fields") or ""
        return SandboxResponse(200, {i: self._read_node(i, fields, owner) for i in ids})

    def _post_json(self, post: Post, wanted: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": post.id}
        figures = self._figures(post)
        for spec in wanted:
            name, _, _rest = spec.partition(".")
            name = name.split("{")[0]
            if name == "message" and post.message:
                out["message"] = post.message
            elif name == "created_time":
                out["created_time"] = iso(post.created)
            elif name == "updated_time":
                out["updated_time"] = iso(post.updated or post.created)
            elif name == "permalink_url":
                out["permalink_url"] = f"https://www.facebook.com/{post.page_id}/posts/{post.id.split('_')[-1]}"
            elif name == "status_type":
                out["status_type"] = {"status": "mobile_status_update", "link": "shared_story",
                                      "photo": "added_photos", "album": "added_photos",
                                      "video": "added_video"}[post.kind]
            elif name == "attachments":
                out["attachments"] = {"data": [{"target": {"id": m}} for m in post.media]}
            elif name == "reactions":
                out["reactions"] = {"data": [], "summary": {"total_count": figures["reactions"],
                                                            "viewer_reaction": "NONE"}}
            elif name == "comments":
                out["comments"] = {"data": [], "summary": {"order": "ranked", "total_count": figures["comments"],
                                                           "can_comment": True}}
            elif name == "shares":
                if figures["shares"]:  # Graph leaves the field out when nobody has shared the post
                    out["shares"] = {"count": figures["shares"]}
            elif name == "insights":
                match = re.search(r"metric\(([^)]*)\)", spec)
                out["insights"] = self._insights(post, match.group(1).split(",") if match else [])
            elif name == "link" and post.link:
                out["link"] = post.link
            elif name in ("id", "from"):
                if name == "from":
                    out["from"] = {"id": post.page_id, "name": self.pages[post.page_id].name}
            else:
                raise fail(400, f"(#100) Tried accessing nonexisting field ({name}) on node type (PagePost)", 100)
        return out

    def _insights(self, post: Post, metrics: list[str]) -> dict[str, Any]:
        metrics = [m.strip() for m in metrics if m.strip()]
        for metric in metrics:
            if metric in RETIRED_METRICS or metric not in INSIGHT_METRICS:
                raise fail(400, "(#100) The value must be a valid insights metric", 100, type_="OAuthException")
        figures = self._figures(post)
        values = {"post_media_view": figures["views"], "post_total_media_view_unique": figures["unique"],
                  "post_reactions_by_type_total": {"like": figures["reactions"]}, "post_clicks": figures["views"] // 20}
        return {"data": [{"name": m, "period": "lifetime", "values": [{"value": values[m]}],
                          "title": m.replace("_", " ").capitalize(), "id": f"{post.id}/insights/{m}/lifetime"}
                         for m in metrics], "paging": {}}

    def _figures(self, post: Post) -> dict[str, int]:
        """Plausible figures that only ever grow with the post's age."""
        age_minutes = max(self.now() - post.created, 0) / 60
        seed = int(hashlib.sha1(post.id.encode()).hexdigest()[:6], 16)
        views = int((30 + seed % 50) * age_minutes ** 0.8) + (seed % 7)
        self._materialise_comments(post)
        comments = sum(1 for c in self.comments.values() if c.object_id == post.id)
        return {"views": views, "unique": int(views * 0.72), "reactions": int(views * (0.03 + (seed % 4) / 100)),
                "shares": int(views * 0.004), "comments": comments}

    def _materialise_comments(self, post: Post) -> None:
        """Readers comment as time passes: one every ten minutes, up to six."""
        age = self.now() - post.created
        due = min(int(age // 600), len(READER_COMMENTS))
        have = sum(1 for c in self.comments.values() if c.post_id == post.id and c.author_id.startswith("reader"))
        for n in range(have, due):
            author, text = READER_COMMENTS[(n + int(post.id[-3:] or 0)) % len(READER_COMMENTS)]
            comment = Comment(f"{post.id.split('_')[-1]}_{self.new_id()}", post.id, post.id, f"reader{n}", author,
                              text, post.created + 600 * (n + 1))
            self.comments[comment.id] = comment

    def _list_posts(self, page_id: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        self._require_page(owner, page_id, reading=True)
        posts = self.page_posts(page_id)
        since = parse_time(request.arg("since"))
        if since is not None:
            posts = [p for p in posts if p.created >= since]
        wanted = split_fields(request.arg("fields") or "id,message,created_time")
        return self._paged(request, [self._post_json(p, wanted) for p in posts])

    def _paged(self, request: SandboxRequest, items: list[dict[str, Any]]) -> SandboxResponse:
        limit = min(max(int(request.arg("limit") or 25), 1), 100)
        start = int(request.arg("after") or 0)
        page = items[start:start + limit]
        paging: dict[str, Any] = {"cursors": {"before": str(start), "after": str(start + len(page))}}
        if start + limit < len(items):
            query = {k: v[0] for k, v in request.query.items() if k != "after"}
            query["after"] = str(start + limit)
            paging["next"] = f"{request.base_url}{request.raw_path}?{urlencode(query)}"
        return SandboxResponse(200, {"data": page, "paging": paging})

    def _comment_json(self, comment: Comment, wanted: list[str]) -> dict[str, Any]:
        out: dict[str, Any] = {"id": comment.id}
        for name in (w.split("{")[0] for w in wanted):
            if name == "message":
                out["message"] = comment.message
            elif name == "created_time":
                out["created_time"] = iso(comment.created)
            elif name == "from":
                out["from"] = {"id": comment.author_id, "name": comment.author_name}
            elif name == "parent" and comment.object_id != comment.post_id:
                out["parent"] = {"id": comment.object_id}
            elif name == "like_count":
                out["like_count"] = int(hashlib.sha1(comment.id.encode()).hexdigest()[:2], 16) % 5
            elif name == "comment_count":
                out["comment_count"] = sum(1 for c in self.comments.values() if c.object_id == comment.id)
        return out

    def _list_comments(self, node: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        if node in self.comments:
            post = self._post(self.comments[node].post_id)
            pool = [c for c in self.comments.values() if c.object_id == node]
        else:
            post = self._post(node)
            self._materialise_comments(post)
            stream = (request.arg("filter") or "toplevel") == "stream"
            pool = [c for c in self.comments.values() if c.post_id == post.id and (stream or c.object_id == post.id)]
        self._require_page(owner, post.page_id, reading=True)
        since = parse_time(request.arg("since"))
        if since is not None:
            pool = [c for c in pool if c.created >= since]
        pool.sort(key=lambda c: (c.created, c.id), reverse=request.arg("order") == "reverse_chronological")
        wanted = split_fields(request.arg("fields") or "id,message,created_time,from")
        return self._paged(request, [self._comment_json(c, wanted) for c in pool])

    # --- writing -----------------------------------------------------------------------------------------

    def _check_message(self, message: str) -> None:
        if len(message) > MESSAGE_MAX:
            raise fail(400, f"(#100) The message is too long: at most {MESSAGE_MAX} characters", 100,
                       type_="OAuthException")

    def _new_post(self, page_id: str, message: str, kind: str, **kwargs: Any) -> Post:
        post = Post(f"{page_id}_{self.new_id()}", page_id, message, kind, self.now(), **kwargs)
        self.posts[post.id] = post
        return post

    def _check_duplicate(self, page_id: str, message: str, link: str | None) -> None:
        if not message:
            return
        for post in self.page_posts(page_id):
            if self.now() - post.created > 3600:
                break
            if post.message == message and post.link == link:
                raise fail(400, "Duplicate status message", 506, type_="OAuthException")

    def _create_feed_post(self, page_id: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        self._require_page(owner, page_id)
        message = request.arg("message") or ""
        link = request.arg("link") or None
        media_ids: list[str] = []
        for index in itertools.count():
            raw = request.arg(f"attached_media[{index}]")
            if raw is None:
                break
            try:
                media_ids.append(str(json.loads(raw)["media_fbid"]))
            except (ValueError, KeyError, TypeError):
                raise fail(400, f"(#100) param attached_media[{index}] must be a JSON object with media_fbid", 100,
                           type_="OAuthException") from None
        if not (message or link or media_ids):
            raise fail(400, "(#100) Missing message or attachment", 100, type_="OAuthException")
        self._check_message(message)
        if link and not re.match(r"^https?://[^\s/]+", link):
            raise fail(400, "(#100) The parameter link must be a valid URL", 100, type_="OAuthException")
        if link and media_ids:
            raise fail(400, "(#100) link and attached_media cannot be used together", 100, type_="OAuthException")
        for media_id in media_ids:
            photo = self.photos.get(media_id)
            if photo is None or photo.page_id != page_id or photo.published or photo.post_id:
                raise fail(400, f"(#100) Invalid media_fbid {media_id}: attach unpublished photos of this Page, "
                                "each once", 100, type_="OAuthException")
        self._check_duplicate(page_id, message, link)
        kind = "album" if media_ids else "link" if link else "status"
        post = self._new_post(page_id, message, kind, link=link, media=media_ids)
        for media_id in media_ids:
            self.photos[media_id].post_id = post.id
        return SandboxResponse(200, {"id": post.id})

    def _upload_photo(self, page_id: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        self._require_page(owner, page_id)
        upload = request.files.get("source")
        if upload is None:
            raise fail(400, "(#324) Requires upload file", 324, type_="OAuthException")
        if len(upload.data) > PHOTO_MAX_BYTES:
            raise fail(400, f"(#100) The photo is too large: at most {PHOTO_MAX_BYTES // (1024 * 1024)} MB", 100,
                       type_="OAuthException")
        try:
            from PIL import Image

            with Image.open(io.BytesIO(upload.data)) as image:
                fmt, (width, height) = image.format or "", image.size
        except Exception:
            raise fail(400, "(#324) Missing or invalid image file", 324, type_="OAuthException") from None
        if fmt not in PHOTO_FORMATS:
            raise fail(400, f"(#324) Missing or invalid image file: {fmt} is not a supported format", 324,
                       type_="OAuthException")
        published = (request.arg("published") or "true").lower() != "false"
        caption = request.arg("message") or request.arg("caption") or ""
        self._check_message(caption)
        photo = Photo(self.new_id(), page_id, fmt, len(upload.data), width, height, published, caption)
        self.photos[photo.id] = photo
        if not published:
            return SandboxResponse(200, {"id": photo.id})
        self._check_duplicate(page_id, caption, None)
        post = self._new_post(page_id, caption, "photo", media=[photo.id])
        photo.post_id = post.id
        return SandboxResponse(200, {"id": photo.id, "post_id": post.id})

    def _upload_video(self, page_id: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        if request.host != "video":
            raise fail(400, "(#100) Video uploads must be sent to the video upload host (graph-video.facebook.com)",
                       100, type_="OAuthException")
        self._require_page(owner, page_id)
        phase = request.arg("upload_phase")
        if phase == "start":
            try:
                size = int(request.arg("file_size") or "")
            except ValueError:
                raise fail(400, "(#100) file_size is required for upload_phase=start", 100) from None
            if size <= 0 or size > VIDEO_MAX_BYTES:
                raise fail(400, "(#6000) The video file size must be between 1 byte and 10 GB", 6000)
            video = Video(self.new_id(), page_id, size, self.new_id())
            self.videos[video.id] = video
            return SandboxResponse(200, {"video_id": video.id, "upload_session_id": video.session_id,
                                         "start_offset": "0", "end_offset": str(min(VIDEO_CHUNK_BYTES, size))})
        video = next((v for v in self.videos.values() if v.session_id == request.arg("upload_session_id")), None)
        if video is None or video.page_id != page_id:
            raise fail(400, "(#6001) Invalid upload session id", 6001, 1363019)
        if phase == "transfer":
            chunk = request.files.get("video_file_chunk")
            if chunk is None:
                raise fail(400, "(#6001) video_file_chunk is required", 6001, 1363020)
            start = int(request.arg("start_offset") or -1)
            if start != video.received:
                end = min(video.received + VIDEO_CHUNK_BYTES, video.file_size)
                raise fail(400, "(#6001) Upload: start_offset mismatch, expected " + str(video.received), 6001, 1363037,
                           error_data={"start_offset": str(video.received), "end_offset": str(end)})
            expected = min(VIDEO_CHUNK_BYTES, video.file_size - start)
            if len(chunk.data) != expected:
                raise fail(400, f"(#6001) The chunk must be {expected} bytes, got {len(chunk.data)}", 6001, 1363030)
            if start == 0:
                video.head = chunk.data[:64]
            video.received += len(chunk.data)
            end = min(video.received + VIDEO_CHUNK_BYTES, video.file_size)
            return SandboxResponse(200, {"start_offset": str(video.received), "end_offset": str(end)})
        if phase == "finish":
            if video.received != video.file_size:
                raise fail(400, f"(#6001) Upload incomplete: {video.received} of {video.file_size} bytes received",
                           6001, 1363040)
            if not is_video_container(video.head):
                raise fail(400, "(#6000) There was a problem uploading your video file. Please try again with "
                                "another file.", 6000, 1363130)
            description = request.arg("description") or ""
            self._check_message(description)
            if not video.finished:
                self._check_duplicate(page_id, description, None)
                video.finished = True
                video.title = request.arg("title") or ""
                video.description = description
                post = self._new_post(page_id, description, "video", media=[video.id])
                video.post_id = post.id
            return SandboxResponse(200, {"success": True})
        raise fail(400, "(#100) upload_phase must be start, transfer or finish (single-request uploads are not "
                        "supported by this sandbox)", 100)

    def _edit(self, node: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        post = self._post(node, "post")
        self._require_page(owner, post.page_id)
        message = request.arg("message")
        if message is None:
            raise fail(400, "(#100) Nothing to change: send message", 100)
        self._check_message(message)
        post.message = message
        post.updated = self.now()
        return SandboxResponse(200, {"success": True})

    def _delete(self, node: str, owner: tuple[str, str]) -> SandboxResponse:
        if node in self.comments:
            comment = self.comments[node]
            self._require_page(owner, self.posts[comment.post_id].page_id)
            del self.comments[node]
            return SandboxResponse(200, {"success": True})
        post = self._post(node, "delete")
        self._require_page(owner, post.page_id)
        del self.posts[node]
        for comment_id in [c.id for c in self.comments.values() if c.post_id == node]:
            del self.comments[comment_id]
        return SandboxResponse(200, {"success": True})

    def _add_comment(self, node: str, request: SandboxRequest, owner: tuple[str, str]) -> SandboxResponse:
        target = self.comments.get(node)
        post = self._post(target.post_id if target else node, "post")
        self._require_page(owner, post.page_id)
        message = (request.arg("message") or "").strip()
        if not message:
            raise fail(400, "(#100) Missing message", 100)
        self._check_message(message)
        page = self.pages[post.page_id]
        comment = Comment(f"{post.id.split('_')[-1]}_{self.new_id()}", node, post.id, page.id, page.name, message,
                          self.now())
        self.comments[comment.id] = comment
        return SandboxResponse(200, {"id": comment.id})


def split_fields(fields: str) -> list[str]:
    """``a,b.summary(x),c.metric(d,e)`` -> the top-level field specs (commas inside brackets stay)."""
    out, depth, current = [], 0, ""
    for char in fields:
        if char in "({":
            depth += 1
        elif char in ")}":
            depth -= 1
        if char == "," and depth == 0:
            out.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        out.append(current.strip())
    return out


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        return datetime.fromisoformat(value.replace("+0000", "+00:00")).timestamp()
    except ValueError:
        raise fail(400, f"(#100) Invalid time value {value!r}", 100) from None


def is_video_container(head: bytes) -> bool:
    return (len(head) >= 12 and head[4:8] == b"ftyp") or head.startswith(b"\x1a\x45\xdf\xa3") or (
        head.startswith(b"RIFF") and head[8:12] == b"AVI ")


register_sandbox("facebook", GraphSandbox)
