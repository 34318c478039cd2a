"""A Zalo Official Account sandbox: OAuth v4 (PKCE, rotating single-use refresh tokens) and the OA Open API's
article create/verify/detail/list/update/remove and broadcast, with Zalo's error codes and messages.

Rules followed (read 2026-12-02; the same entries as ``publisher/channels/zalo.py``): OAuth v4 permission page
``/v4/oa/permission`` and token endpoint ``/v4/oa/access_token`` (header ``secret_key``; ``code_verifier`` must
hash to the ``code_challenge`` with S256; a code is single-use; every refresh answers a new refresh token and the
old one stops working, error -14014); Article API v2.0 (title ≤ 150, author ≤ 50, description ≤ 300, a photo
cover, body items ``text``/``image``/``video``; create answers a token, verify answers -214 "Article is processing"
for :attr:`ZaloSandbox.processing_polls` polls, then the id); broadcast: at most 1 a day and
:attr:`ZaloSandbox.broadcast_monthly_limit` a month per OA (error -223). Errors come on HTTP 200 as
``{"error": <negative>, "message": ...}``; an unknown or expired access token answers -216.
The request shapes match Zalo's Java SDK examples (github.com/zaloplatform/zalo-java-sdk ``src/test/java/``,
read 2026-12-02).

Video upload for articles (read 2026-12-03, the same entries as the adapter): ``POST
/v2.0/article/upload_video/preparevideo`` with the file as multipart field ``file`` answers ``data.token``
(zalo-java-sdk ``src/test/java/UploadVideoForArticle.java``); ``GET /v2.0/article/upload_video/verify`` with the
token in a ``token`` header (``CheckStatusVideo.java``) answers ``data.status`` — 1 processed (with ``video_id``),
2 locked, 3 processing, 4 failed, 5 deleted, 0 unknown — for MP4 or AVI files of at most 50 MB (the
@warriorteam/redai-zalo-sdk 1.32.17 ``VideoUploadService`` notes); a body item ``{"type": "video", "video_id"}``
must name a processed video (redai ``ArticleBodyItem``). :attr:`ZaloSandbox.video_processing_polls` verifies say
3 first; :attr:`ZaloSandbox.video_outcome` is the status they end on.

Test controls (``POST /__sandbox/<action>``): ``expire_token {"token"?}`` (the current access token, or the one
named), ``revoke`` (every token of the OA), ``advance {"seconds"}``, ``issue`` (a fresh token pair, answered).
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from publisher.channels.sandbox import SandboxRequest, SandboxResponse, SandboxService, register_sandbox

APP_ID = "3900000000000000001"
APP_SECRET = "sandbox-zalo-app-secret"
OA_ID = "1900000000000000001"
OA_NAME = "Công đoàn tỉnh (Zalo OA sandbox)"
PROCESSING_SECONDS = 2.0  # an article nobody verifies exists after this long
DEMO_ACCESS_TOKEN = "zat-demo-cong-doan"  # valid on every start, so that ``publisher run --demo`` connects
DEMO_REFRESH_TOKEN = "zrt-demo-cong-doan"
ACCESS_SECONDS = 3600  # 1 hour (beehexa's OAuth v4 guide, read 2026-12-02)
MESSAGES = {
    -201: "Parameters are invalid",
    -210: "Parameters exceed limit",
    -214: "Article is processing",
    -216: "Access token is invalid",
    -223: "Out of quota broadcast",
    -14014: "Invalid refresh token",
    -14019: "Invalid code verifier",
    -14002: "Invalid app id or secret key",
    -14003: "Invalid authorization code",
}
VIDEO_MAX_BYTES = 50 * 1024 * 1024  # redai VideoUploadService notes (read 2026-12-03): MP4 or AVI, at most 50 MB
VIDEO_EXTENSIONS = (".mp4", ".avi")


def zalo_error(code: int, message: str | None = None) -> SandboxResponse:
    return SandboxResponse(200, {"error": code, "message": message or MESSAGES.get(code, "Error")})


def oauth_error(code: int) -> SandboxResponse:
    return SandboxResponse(200, {"error": code, "error_name": MESSAGES.get(code, "Error"),
                                 "error_description": MESSAGES.get(code, "Error")})


@dataclass
class Article:
    id: str
    fields: dict[str, Any]
    created: float
    views: int = 0
    shares: int = 0


@dataclass
class Video:
    id: str
    name: str
    data: bytes
    polls_left: int
    outcome: int
    status: int = 3  # processing


@dataclass
class Pending:
    article_id: str
    fields: dict[str, Any]
    polls_left: int
    update_of: str | None = None
    done: bool = False
    since: float = 0.0


@dataclass
class Grant:
    code_challenge: str
    redirect_uri: str
    used: bool = False


@dataclass
class ZaloState:
    access: dict[str, float] = field(default_factory=dict)  # access token -> expiry (sandbox clock)
    refresh: set[str] = field(default_factory=set)  # refresh tokens still valid
    spent: set[str] = field(default_factory=set)
    refreshes: int = 0


class ZaloSandbox(SandboxService):
    name = "zalo"
    hosts = ("", "oauth")

    def __init__(self) -> None:
        super().__init__()
        self.clock_offset = 0.0
        self.tokens = ZaloState()
        self.grants: dict[str, Grant] = {}
        self.articles: dict[str, Article] = {}
        self.pending: dict[str, Pending] = {}
        self.broadcasts: list[tuple[str, float]] = []
        self.processing_polls = 1
        self.refresh_delay = 0.0  # seconds a refresh takes (two racing workers in tests)
        self.broadcast_monthly_limit = 40
        self.videos: dict[str, Video] = {}  # video id -> the uploaded video
        self.video_tokens: dict[str, str] = {}  # upload token -> video id
        self.video_processing_polls = 1
        self.video_outcome = 1  # the status a video ends on once processed (4: processing failed)
        self.video_verifies = 0
        self._ids = itertools.count(7_100_000_000_000_000_001)
        self.tokens.access[DEMO_ACCESS_TOKEN] = self.now() + ACCESS_SECONDS
        self.tokens.refresh.add(DEMO_REFRESH_TOKEN)

    def now(self) -> float:
        return time.time() + self.clock_offset

    # --- tokens --------------------------------------------------------------------------------------------

    def issue_tokens(self) -> dict[str, Any]:
        with self.lock:
            access, refresh = "zat-" + secrets.token_urlsafe(24), "zrt-" + secrets.token_urlsafe(24)
            self.tokens.access[access] = self.now() + ACCESS_SECONDS
            self.tokens.refresh.add(refresh)
            return {"access_token": access, "refresh_token": refresh, "expires_in": str(ACCESS_SECONDS)}

    def expire_token(self, token: str | None = None) -> None:
        with self.lock:
            for name in [token] if token else list(self.tokens.access):
                if name in self.tokens.access:
                    self.tokens.access[name] = self.now() - 1

    def revoke(self) -> None:
        with self.lock:
            self.tokens.access.clear()
            self.tokens.refresh.clear()

    def authorize(self, redirect_uri: str, code_challenge: str, state: str) -> str:
        """What Zalo's permission page redirects to once the OA admin allows the app."""
        code = "zcode-" + secrets.token_urlsafe(16)
        with self.lock:
            self.grants[code] = Grant(code_challenge, redirect_uri)
        separator = "&" if "?" in redirect_uri else "?"
        return f"{redirect_uri}{separator}{urlencode({'code': code, 'oa_id': OA_ID, 'state': state})}"

    def _token_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        if request.headers.get("secret_key") != APP_SECRET or request.arg("app_id") != APP_ID:
            return oauth_error(-14002)
        grant_type = request.arg("grant_type")
        if grant_type == "refresh_token" and self.refresh_delay:
            time.sleep(self.refresh_delay)
        with self.lock:
            if grant_type == "authorization_code":
                grant = self.grants.get(request.arg("code") or "")
                if grant is None or grant.used:
                    return oauth_error(-14003)
                verifier = request.arg("code_verifier") or ""
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
                if challenge != grant.code_challenge:
                    return oauth_error(-14019)
                grant.used = True
                return SandboxResponse(200, self.issue_tokens())
            if grant_type == "refresh_token":
                token = request.arg("refresh_token") or ""
                if token not in self.tokens.refresh:
                    return oauth_error(-14014)
                self.tokens.refresh.discard(token)  # single use: rotated
                self.tokens.spent.add(token)
                self.tokens.refreshes += 1
                return SandboxResponse(200, self.issue_tokens())
        return oauth_error(-14003)

    def _authorised(self, request: SandboxRequest) -> bool:
        token = request.headers.get("access_token") or ""
        with self.lock:
            expiry = self.tokens.access.get(token)
            return expiry is not None and expiry > self.now()

    # --- articles ------------------------------------------------------------------------------------------

    def _check_article(self, body: dict[str, Any]) -> SandboxResponse | None:
        if body.get("type", "normal") != "normal":
            return zalo_error(-201, "Only normal articles are supported by this sandbox")
        for name, limit in (("title", 150), ("author", 50), ("description", 300)):
            value = body.get(name)
            if not isinstance(value, str) or not value.strip():
                return zalo_error(-201, f"{name} is required")
            if len(value) > limit:
                return zalo_error(-210, f"{name} exceeds {limit} characters")
        cover = body.get("cover") or {}
        if cover.get("cover_type") != "photo" or not str(cover.get("photo_url") or "").startswith(("http://",
                                                                                                    "https://")):
            return zalo_error(-201, "cover.photo_url is required")
        items = body.get("body")
        if not isinstance(items, list) or not items:
            return zalo_error(-201, "body is required")
        for item in items:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind == "text" and isinstance(item.get("content"), str):
                continue
            if kind in ("image", "video") and str(item.get("url") or "").startswith(("http://", "https://")):
                continue
            if kind == "video" and item.get("video_id"):
                with self.lock:
                    video = self.videos.get(str(item["video_id"]))
                if video is not None and video.status == 1:
                    continue
                return zalo_error(-201, "video_id is invalid or the video is not processed")
            return zalo_error(-201, "body item is invalid")
        return None

    def _create(self, body: dict[str, Any], update_of: str | None = None) -> SandboxResponse:
        problem = self._check_article(body)
        if problem is not None:
            return problem
        token = "ztok-" + secrets.token_urlsafe(12)
        with self.lock:
            article_id = update_of or f"{next(self._ids)}"
            fields = {k: v for k, v in body.items() if k != "id"}
            self.pending[token] = Pending(article_id, fields, self.processing_polls, update_of, since=self.now())
        return SandboxResponse(200, {"error": 0, "message": "Success", "data": {"token": token}})

    def _verify(self, body: dict[str, Any]) -> SandboxResponse:
        with self.lock:
            pending = self.pending.get(str(body.get("token") or ""))
            if pending is None:
                return zalo_error(-201, "token is invalid")
            if pending.polls_left > 0:
                pending.polls_left -= 1
                return zalo_error(-214)
            self._materialise(pending)
            return SandboxResponse(200, {"error": 0, "message": "Success", "data": {"id": pending.article_id}})

    def _materialise(self, pending: Pending) -> None:
        if not pending.done:
            pending.done = True
            existing = self.articles.get(pending.article_id)
            if existing is not None:
                existing.fields = pending.fields
            else:
                self.articles[pending.article_id] = Article(pending.article_id, pending.fields, self.now())

    def finish_processing(self) -> None:
        """Zalo processes an article whether or not anyone verifies it: what was created exists afterwards."""
        with self.lock:
            for pending in self.pending.values():
                pending.polls_left = 0
                self._materialise(pending)

    def _detail(self, article: Article) -> dict[str, Any]:
        return {"id": article.id, "type": "normal", **article.fields, "total_view": article.views,
                "total_share": article.shares, "link": f"https://zalo.me/{OA_ID}/article/{article.id}",
                "create_date": int(article.created * 1000)}

    def _slice(self, request: SandboxRequest) -> SandboxResponse:
        try:
            offset, limit = int(request.arg("offset") or 0), int(request.arg("limit") or 5)
        except ValueError:
            return zalo_error(-201)
        if limit > 10 or limit < 1 or offset < 0:
            return zalo_error(-210, "limit must be between 1 and 10")
        with self.lock:
            for pending in self.pending.values():  # processed on Zalo's side after a few seconds
                if not pending.done and self.now() - pending.since > PROCESSING_SECONDS:
                    self._materialise(pending)
            newest = sorted(self.articles.values(), key=lambda a: a.created, reverse=True)
            medias = [{"id": a.id, "title": a.fields.get("title"), "status": a.fields.get("status", "show"),
                       "total_view": a.views, "total_share": a.shares, "create_date": int(a.created * 1000)}
                      for a in newest[offset:offset + limit]]
        return SandboxResponse(200, {"error": 0, "message": "Success",
                                     "data": {"medias": medias, "total": len(newest)}})

    def _broadcast(self, body: dict[str, Any]) -> SandboxResponse:
        try:
            element = body["message"]["attachment"]["payload"]["elements"][0]
        except (KeyError, IndexError, TypeError):
            return zalo_error(-201, "message is invalid")
        with self.lock:
            if element.get("media_type") != "article" or element.get("attachment_id") not in self.articles:
                return zalo_error(-201, "attachment_id is invalid")
            day = time.strftime("%Y-%m-%d", time.gmtime(self.now() + 7 * 3600))
            month = day[:7]
            today = sum(1 for _a, at in self.broadcasts if time.strftime("%Y-%m-%d", time.gmtime(at + 7 * 3600)) == day)
            this_month = sum(1 for _a, at in self.broadcasts
                             if time.strftime("%Y-%m", time.gmtime(at + 7 * 3600)) == month)
            if today >= 1 or this_month >= self.broadcast_monthly_limit:
                return zalo_error(-223)
            self.broadcasts.append((str(element["attachment_id"]), self.now()))
        return SandboxResponse(200, {"error": 0, "message": "Success",
                                     "data": {"message_id": "zmsg-" + secrets.token_hex(8)}})

    # --- videos for articles ------------------------------------------------------------------------------

    def _upload_video(self, request: SandboxRequest) -> SandboxResponse:
        upload = request.files.get("file")
        if upload is None or not upload.data:
            return zalo_error(-201, "file is required")
        if not upload.filename.lower().endswith(VIDEO_EXTENSIONS):
            return zalo_error(-201, "Only mp4 and avi videos are supported")
        if len(upload.data) > VIDEO_MAX_BYTES:
            return zalo_error(-210, "video exceeds 50 MB")
        token = "zvt-" + secrets.token_urlsafe(12)
        with self.lock:
            video_id = secrets.token_hex(16)
            self.videos[video_id] = Video(video_id, upload.filename, upload.data, self.video_processing_polls,
                                          self.video_outcome)
            self.video_tokens[token] = video_id
        return SandboxResponse(200, {"error": 0, "message": "Success", "data": {"token": token}})

    def _verify_video(self, request: SandboxRequest) -> SandboxResponse:
        token = request.headers.get("token") or request.arg("token") or ""
        with self.lock:
            self.video_verifies += 1
            video = self.videos.get(self.video_tokens.get(token, ""))
            if video is None:
                return zalo_error(-201, "token is invalid")
            if video.polls_left > 0:
                video.polls_left -= 1
            else:
                video.status = video.outcome
            data = {"status": video.status, "video_name": video.name, "video_size": len(video.data),
                    "convert_percent": 100 if video.status != 3 else 50}
            if video.status == 1:
                data["video_id"] = video.id
        return SandboxResponse(200, {"error": 0, "message": "Success", "data": data})

    # --- the service ---------------------------------------------------------------------------------------

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        if request.host == "oauth":
            if request.path == "/v4/oa/access_token" and request.method == "POST":
                return self._token_endpoint(request)
            if request.path == "/v4/oa/permission" and request.method == "GET":
                if request.arg("app_id") != APP_ID or not request.arg("code_challenge"):
                    return oauth_error(-14002)
                location = self.authorize(request.arg("redirect_uri") or "", request.arg("code_challenge") or "",
                                          request.arg("state") or "")
                return SandboxResponse(302, b"", {"Location": location, "Content-Type": "text/plain"})
            return SandboxResponse(404, {"error": -201, "message": "Unknown endpoint"})
        if not self._authorised(request):
            return zalo_error(-216)
        if request.path == "/v2.0/article/upload_video/preparevideo" and request.method == "POST":
            return self._upload_video(request)
        if request.path == "/v2.0/article/upload_video/verify" and request.method == "GET":
            return self._verify_video(request)
        body = request.json() if request.method == "POST" and request.body else {}
        if request.method == "POST" and not isinstance(body, dict):
            return zalo_error(-201)
        path = request.path
        if path == "/v2.0/oa/getoa" and request.method == "GET":
            return SandboxResponse(200, {"error": 0, "message": "Success",
                                         "data": {"oa_id": OA_ID, "name": OA_NAME, "is_verified": True}})
        if path == "/v2.0/article/create" and request.method == "POST":
            return self._create(body)
        if path == "/v2.0/article/update" and request.method == "POST":
            with self.lock:
                known = str(body.get("id") or "") in self.articles
            return self._create(body, update_of=str(body["id"])) if known else zalo_error(-201, "Article is not exist")
        if path == "/v2.0/article/verify" and request.method == "POST":
            return self._verify(body)
        if path == "/v2.0/article/remove" and request.method == "POST":
            with self.lock:
                if self.articles.pop(str(body.get("id") or ""), None) is None:
                    return zalo_error(-201, "Article is not exist")
            return SandboxResponse(200, {"error": 0, "message": "Success"})
        if path == "/v2.0/article/getdetail" and request.method == "GET":
            with self.lock:
                article = self.articles.get(request.arg("id") or "")
                if article is None:
                    return zalo_error(-201, "Article is not exist")
                article.views += 3  # readers keep coming
                article.shares += 1 if article.views % 9 == 0 else 0
                return SandboxResponse(200, {"error": 0, "message": "Success", "data": self._detail(article)})
        if path == "/v2.0/article/getslice" and request.method == "GET":
            return self._slice(request)
        if path == "/v2.0/oa/message" and request.method == "POST":
            return self._broadcast(body)
        return zalo_error(-209, "API is not supported")

    def control(self, action: str, data: dict[str, Any]) -> SandboxResponse:
        if action == "expire_token":
            self.expire_token(data.get("token"))
            return SandboxResponse(200, {"expired": True})
        if action == "revoke":
            self.revoke()
            return SandboxResponse(200, {"revoked": True})
        if action == "advance":
            self.clock_offset += float(data["seconds"])
            return SandboxResponse(200, {"clock_offset": self.clock_offset})
        if action == "issue":
            return SandboxResponse(201, self.issue_tokens())
        return super().control(action, data)

    def settings_overrides(self) -> dict[str, Any]:
        return {"zalo_api_url": self.urls[""], "zalo_oauth_url": self.urls["oauth"], "zalo_app_id": APP_ID,
                "zalo_app_secret": APP_SECRET}

    def demo_channels(self) -> list[dict[str, Any]]:
        return [{"kind": "zalo", "name": "Zalo OA Công đoàn tỉnh (sandbox)",
                 "settings": {"oa_id": OA_ID, "oa_name": OA_NAME, "author": "Ban Tuyên giáo",
                              "access_token": DEMO_ACCESS_TOKEN, "refresh_token": DEMO_REFRESH_TOKEN}}]

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "urls": self.urls, "refreshes": self.tokens.refreshes,
                "articles": [{"id": a.id, "title": a.fields.get("title")} for a in self.articles.values()],
                "broadcasts": len(self.broadcasts)}


register_sandbox("zalo", ZaloSandbox)
