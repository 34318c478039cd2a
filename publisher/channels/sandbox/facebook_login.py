"""Facebook Login for the Graph sandbox: the OAuth dialog, the code and token exchanges, ``/me/accounts``,
``/me/permissions`` and ``/debug_token``, so that Loa connects Pages offline exactly as it does with Meta.

An extension of :class:`~publisher.channels.sandbox.graph.GraphSandbox` (registered in its ``EXTENSIONS``): it
shares the Graph sandbox's Pages, tokens and clock. The dialog is served by the Graph host itself, so
``PUBLISHER_FACEBOOK_DIALOG_URL`` points at the same base URL as ``PUBLISHER_FACEBOOK_GRAPH_URL``.

What it knows: one sandbox app (:data:`DEMO_APP_ID` / :data:`DEMO_APP_SECRET`; more with ``add_app``), one
person (the Graph sandbox's demo user) who can act on three Pages — the demo Page and a second one with every
task, and a third on which they may only ANALYZE (no CREATE_CONTENT: Loa must refuse to connect it).

Each rule below names the Meta page it follows (all read 2026-12-02):

- [manual-flow] "Manually Build a Login Flow" (developers.facebook.com/docs/facebook-login/guides/advanced/
  manual-flow): the dialog ``/{version}/dialog/oauth`` takes ``client_id``, ``redirect_uri``, ``state``,
  ``scope`` (comma separated) and ``response_type=code``; it returns to ``redirect_uri`` with ``code`` and
  ``state``, or, when the person cancels, with ``error=access_denied&error_code=200&error_description=
  Permissions+error&error_reason=user_denied&state=…``. ``GET /{version}/oauth/access_token`` with
  ``client_id``, ``redirect_uri`` (the very same), ``client_secret`` and ``code`` answers
  ``{"access_token", "token_type": "bearer", "expires_in"}``; a code is good for one exchange only and expires
  (the sandbox: after :data:`CODE_SECONDS`), else error 100 with subcode 36007 (expired) or 36009 (used).
- [long-lived] "Long-Lived Access Tokens" (…/facebook-login/guides/access-tokens/get-long-lived):
  ``grant_type=fb_exchange_token&fb_exchange_token=…`` gives a user token of about 60 days; Page tokens read with
  a long-lived user token have no expiry date (``expires_at`` 0 in ``debug_token``).
- [manage-pages] "Pages API: Manage a Page" (…/pages-api/manage-pages): ``GET /{user-id}/accounts`` lists the
  Pages the person can act on, each with its ``tasks`` and its own Page access token; publishing needs the
  CREATE_CONTENT task (MANAGE/MODERATE for comments) and the permissions pages_manage_posts,
  pages_read_engagement, pages_show_list (pages_manage_engagement, pages_read_user_engagement, publish_video).
- [permissions] "User permissions" (…/graph-api/reference/user/permissions): ``GET /me/permissions`` answers
  ``{"data": [{"permission", "status": "granted" | "declined"}]}``.
- [debug-token] "Debug-Token /debug_token" (…/graph-api/reference/debug_token): with an app token
  ``APPID|SECRET``, ``{"data": {"app_id", "type", "application", "data_access_expires_at", "expires_at",
  "is_valid", "issued_at", "scopes", "granular_scopes", "user_id", "profile_id"}}``.
- [data-access] "Data Access Expiration" (…/facebook-login/auth-vs-data-access): data access lasts 90 days
  from the person's last use of the app.
- [deauthorize] / [data-deletion] "Deauthorize Callback" and "Data Deletion Request Callback" (…/development/
  create-an-app/app-dashboard/data-deletion-callback): Meta POSTs ``signed_request`` =
  ``base64url(HMAC-SHA256(payload, app secret)) + "." + base64url(payload)`` with ``{"algorithm":
  "HMAC-SHA256", "issued_at", "user_id"}``; :func:`signed_request` builds one (``control("deauthorize")``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

from publisher.channels.sandbox import SandboxRequest, SandboxResponse
from publisher.channels.sandbox import graph as graph_sandbox
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_USER_TOKEN, GraphFailure, GraphSandbox, fail

DEMO_APP_ID = "100000000000777"
DEMO_APP_SECRET = "sandbox-app-secret-demo"
SECOND_PAGE_ID = "100000000000002"
ANALYST_PAGE_ID = "100000000000003"
ALL_TASKS = ["ADVERTISE", "ANALYZE", "CREATE_CONTENT", "MESSAGING", "MODERATE", "MANAGE"]
CODE_SECONDS = 600  # [manual-flow] codes are short-lived
SHORT_USER_SECONDS = 2 * 3600
LONG_USER_SECONDS = 60 * 24 * 3600  # [long-lived]
DATA_ACCESS_SECONDS = 90 * 24 * 3600  # [data-access]
KNOWN_PERMISSIONS = {"public_profile", "pages_show_list", "pages_manage_posts", "pages_read_engagement",
                     "pages_read_user_content", "pages_manage_engagement", "pages_manage_metadata", "read_insights",
                     "publish_video", "business_management", "pages_read_user_engagement"}


@dataclass
class Code:
    app_id: str
    redirect_uri: str
    user_id: str
    granted: list[str]
    declined: list[str]
    pages: list[str]
    issued: float
    used: bool = False


@dataclass
class TokenInfo:
    kind: str  # USER | PAGE
    app_id: str
    user_id: str
    granted: list[str]
    declined: list[str]
    pages: list[str]
    issued: float
    expires_at: float  # 0: never
    data_access_expires_at: float
    page_id: str | None = None
    derived: dict[str, str] = field(default_factory=dict)  # page id -> the Page token read with this user token


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_request(app_secret: str, payload: dict[str, Any]) -> str:
    """What Meta POSTs to the deauthorize and data-deletion callbacks ([deauthorize])."""
    body = b64url(json.dumps(payload, separators=(",", ":")).encode())
    signature = hmac.new(app_secret.encode(), body.encode("ascii"), hashlib.sha256).digest()
    return f"{b64url(signature)}.{body}"


class FacebookLogin:
    """The login side of one Graph sandbox (state lives here, under the Graph sandbox's lock)."""

    def __init__(self, service: GraphSandbox):
        self.service = service
        self.apps: dict[str, str] = {DEMO_APP_ID: DEMO_APP_SECRET}
        self.person_id = service.tokens[DEMO_USER_TOKEN][1]
        service.create_page("Công đoàn cơ sở Khu công nghiệp (sandbox)", page_id=SECOND_PAGE_ID)
        service.create_page("Bản tin số liệu (sandbox, chỉ xem)", page_id=ANALYST_PAGE_ID)
        # [manage-pages] the tasks the person may perform on each Page
        self.page_tasks: dict[str, list[str]] = {DEMO_PAGE_ID: list(ALL_TASKS), SECOND_PAGE_ID: list(ALL_TASKS),
                                                 ANALYST_PAGE_ID: ["ANALYZE"]}
        self.codes: dict[str, Code] = {}
        self.issued: dict[str, TokenInfo] = {}

    # --- the extension interface -------------------------------------------------------------------

    def settings_overrides(self) -> dict[str, Any]:
        return {"facebook_dialog_url": self.service.urls[""], "facebook_app_id": DEMO_APP_ID,
                "facebook_app_secret": DEMO_APP_SECRET}

    def control(self, action: str, data: dict[str, Any]) -> SandboxResponse | None:
        """``login_page {"name", "tasks"}``: another Page the person can act on; ``data_access_left {"seconds"}``;
        ``deauthorize {"app_id"?}``:
        the person removes the app (their tokens stop working) and the answer carries the ``signed_request``
        Meta would POST."""
        if action == "login_page":
            page = self.service.create_page(str(data.get("name") or "Trang mới"))
            with self.service.lock:
                self.page_tasks[page.id] = list(data.get("tasks") or ALL_TASKS)
            return SandboxResponse(201, {"id": page.id})
        if action == "data_access_left":
            self.data_access_left(float(data["seconds"]))
            return SandboxResponse(200, {"ok": True})
        if action == "deauthorize":
            return SandboxResponse(200, {"signed_request": self.deauthorize(str(data.get("app_id") or DEMO_APP_ID))})
        return None

    def handle(self, request: SandboxRequest) -> SandboxResponse | None:
        self._expire_due(request)
        path = request.path.rstrip("/")
        try:
            if path == "/dialog/oauth":
                return self._dialog(request) if request.method == "GET" else self._dialog_answer(request)
            if path == "/oauth/access_token":
                return self._access_token(request)
            if path == "/debug_token":
                return self._debug_token(request)
            if path in ("/me/accounts", f"/{self.person_id}/accounts") and request.method == "GET":
                return self._accounts(request)
            if path in ("/me/permissions", f"/{self.person_id}/permissions") and request.method == "GET":
                return self._permissions(request)
        except GraphFailure as failure:
            return failure.response
        return None

    # --- set-up and controls --------------------------------------------------------------------------

    def add_app(self, app_id: str, app_secret: str) -> None:
        with self.service.lock:
            self.apps[app_id] = app_secret

    def data_access_left(self, seconds: float) -> None:
        """Every issued token's data access ends ``seconds`` from now ([data-access]: the person has not used the
        app for a while)."""
        with self.service.lock:
            for info in self.issued.values():
                info.data_access_expires_at = self.service.now() + seconds

    def deauthorize(self, app_id: str = DEMO_APP_ID) -> str:
        """The person removes the app: every token issued to it for them stops working ([deauthorize])."""
        with self.service.lock:
            for token, info in list(self.issued.items()):
                if info.app_id == app_id and info.user_id == self.person_id:
                    self.service.tokens.pop(token, None)
                    del self.issued[token]
        return signed_request(self.apps[app_id], {"algorithm": "HMAC-SHA256", "issued_at": int(self.service.now()),
                                                  "user_id": self.person_id})

    def _expire_due(self, request: SandboxRequest) -> None:
        """A token past its ``expires_at`` (sandbox clock) is answered 190/463 by the Graph sandbox from now on."""
        token = request.arg("access_token")
        info = self.issued.get(token or "")
        if info is not None and info.expires_at and info.expires_at <= self.service.now():
            self.service.expired.add(token or "")

    # --- the dialog ([manual-flow]) --------------------------------------------------------------------

    def _dialog_problem(self, message: str) -> SandboxResponse:
        page = f"<!doctype html><meta charset='utf-8'><title>Facebook</title><h1>Lỗi</h1><p id='error'>{html.escape(message)}</p>"
        return SandboxResponse(400, page.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _dialog(self, request: SandboxRequest) -> SandboxResponse:
        client_id, redirect_uri = request.arg("client_id") or "", request.arg("redirect_uri") or ""
        if client_id not in self.apps:
            return self._dialog_problem("Invalid App ID: the app id in the login URL is not a Facebook app.")
        if not urlsplit(redirect_uri).scheme.startswith("http"):
            return self._dialog_problem("URL blocked: the redirect_uri is not a valid URL.")
        if (request.arg("response_type") or "code") != "code":
            return self._dialog_problem("This sandbox only knows response_type=code.")
        scopes = [s for s in (request.arg("scope") or "").replace(" ", ",").split(",") if s]
        unknown = [s for s in scopes if s not in KNOWN_PERMISSIONS]
        if unknown:
            return self._dialog_problem(f"Invalid Scopes: {', '.join(unknown)}.")
        hidden = "".join(f"<input type='hidden' name='{k}' value='{html.escape(request.arg(k) or '', quote=True)}'>"
                         for k in ("client_id", "redirect_uri", "state", "scope"))
        permissions = "".join(
            f"<li><label><input type='checkbox' name='grant' value='{html.escape(s)}' checked> {html.escape(s)}"
            "</label></li>" for s in scopes)
        pages = "".join(
            f"<li><label><input type='checkbox' name='page' value='{p}' checked> {html.escape(self.service.pages[p].name)}"
            f" <small>({', '.join(tasks)})</small></label></li>" for p, tasks in self.page_tasks.items())
        person = html.escape(self.service.user_names.get(self.person_id, "?"))
        body = (f"<!doctype html><html lang='vi'><meta charset='utf-8'><title>Đăng nhập bằng Facebook (sandbox)</title>"
                f"<h1>Facebook (sandbox)</h1><p>Tiếp tục với tư cách <strong id='person'>{person}</strong>.</p>"
                f"<form method='post' id='dialog'>{hidden}<h2>Trang</h2><ul id='pages'>{pages}</ul>"
                f"<h2>Quyền</h2><ul id='permissions'>{permissions}</ul>"
                "<button type='submit' name='action' value='allow' id='allow'>Tiếp tục</button> "
                "<button type='submit' name='action' value='deny' id='deny'>Hủy</button></form></html>")
        return SandboxResponse(200, body.encode(), {"Content-Type": "text/html; charset=utf-8"})

    def _dialog_answer(self, request: SandboxRequest) -> SandboxResponse:
        client_id, redirect_uri = request.arg("client_id") or "", request.arg("redirect_uri") or ""
        if client_id not in self.apps or not urlsplit(redirect_uri).scheme.startswith("http"):
            return self._dialog_problem("Invalid App ID or redirect_uri.")
        state = request.arg("state") or ""
        if request.arg("action") != "allow":
            query = {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                     "error_reason": "user_denied", "state": state}
            return self._redirect(redirect_uri, query)
        scopes = [s for s in (request.arg("scope") or "").split(",") if s]
        form = parse_multi(request)
        granted = [s for s in scopes if s in form.get("grant", [])]
        declined = [s for s in scopes if s not in granted]
        pages = [p for p in form.get("page", []) if p in self.page_tasks]
        code = "AQ" + secrets.token_urlsafe(32)
        with self.service.lock:
            self.codes[code] = Code(client_id, redirect_uri, self.person_id, granted, declined, pages,
                                    self.service.now())
        return self._redirect(redirect_uri, {"code": code, "state": state})

    def _redirect(self, redirect_uri: str, query: dict[str, str]) -> SandboxResponse:
        joiner = "&" if "?" in redirect_uri else "?"
        return SandboxResponse(302, b"", {"Location": f"{redirect_uri}{joiner}{urlencode(query)}",
                                          "Content-Type": "text/html"})

    # --- tokens ([manual-flow], [long-lived]) ----------------------------------------------------------

    def _app(self, request: SandboxRequest) -> str:
        client_id, secret = request.arg("client_id") or "", request.arg("client_secret") or ""
        if client_id not in self.apps:
            raise fail(400, "Error validating application. Invalid application ID.", 101)
        if not hmac.compare_digest(self.apps[client_id], secret):
            raise fail(400, "Error validating client secret.", 1, 404078)
        return client_id

    def _issue(self, info: TokenInfo) -> str:
        token = "EAA" + ("U" if info.kind == "USER" else "P") + secrets.token_urlsafe(30)
        self.issued[token] = info
        self.service.tokens[token] = ("user", info.user_id) if info.kind == "USER" else ("page", info.page_id or "")
        return token

    def _access_token(self, request: SandboxRequest) -> SandboxResponse:
        app_id = self._app(request)
        now = self.service.now()
        if request.arg("grant_type") == "fb_exchange_token":
            old = self.issued.get(request.arg("fb_exchange_token") or "")
            if old is None or old.kind != "USER" or old.app_id != app_id or request.arg("fb_exchange_token") in \
                    self.service.expired:
                raise fail(400, "Error validating access token: The session is invalid.", 190, 460)
            info = TokenInfo("USER", app_id, old.user_id, old.granted, old.declined, old.pages, now,
                             now + LONG_USER_SECONDS, now + DATA_ACCESS_SECONDS)
            return SandboxResponse(200, {"access_token": self._issue(info), "token_type": "bearer",
                                         "expires_in": LONG_USER_SECONDS})
        code = self.codes.get(request.arg("code") or "")
        if code is None or code.app_id != app_id:
            raise fail(400, "Invalid verification code format.", 100, 36008)
        if code.used:
            raise fail(400, "This authorization code has been used.", 100, 36009)
        if now - code.issued > CODE_SECONDS:
            raise fail(400, "This authorization code has expired.", 100, 36007)
        if (request.arg("redirect_uri") or "") != code.redirect_uri:
            raise fail(400, "Error validating verification code. Please make sure your redirect_uri is identical to "
                            "the one you used in the OAuth dialog request", 100, 36008)
        code.used = True
        info = TokenInfo("USER", app_id, code.user_id, code.granted, code.declined, code.pages, now,
                         now + SHORT_USER_SECONDS, now + DATA_ACCESS_SECONDS)
        return SandboxResponse(200, {"access_token": self._issue(info), "token_type": "bearer",
                                     "expires_in": SHORT_USER_SECONDS})

    def _user_token(self, request: SandboxRequest) -> tuple[str, TokenInfo]:
        owner = self.service._token_owner(request)  # 190 for unknown or expired tokens, as Graph answers
        token = request.arg("access_token") or ""
        info = self.issued.get(token)
        if owner[0] != "user" or info is None or info.kind != "USER":
            raise fail(400, "(#100) Tried accessing nonexisting field (accounts) on node type (Page)", 100)
        return token, info

    def _accounts(self, request: SandboxRequest) -> SandboxResponse:
        """[manage-pages] the Pages chosen in the dialog, each with its tasks and its own token (needs
        pages_show_list)."""
        _token, info = self._user_token(request)
        if "pages_show_list" not in info.granted:
            return SandboxResponse(200, {"data": [], "paging": {}})
        data = []
        for page_id in info.pages:
            page = self.service.pages.get(page_id)
            if page is None:
                continue
            page_token = info.derived.get(page_id)
            if page_token is None:
                long_lived = info.expires_at - info.issued > SHORT_USER_SECONDS
                derived = TokenInfo("PAGE", info.app_id, info.user_id, info.granted, info.declined, [page_id],
                                    self.service.now(), 0 if long_lived else info.expires_at,
                                    info.data_access_expires_at, page_id=page_id)
                page_token = info.derived[page_id] = self._issue(derived)
            data.append({"id": page.id, "name": page.name, "access_token": page_token, "category": "Nonprofit",
                         "tasks": list(self.page_tasks.get(page_id, []))})
        return SandboxResponse(200, {"data": data, "paging": {"cursors": {"before": "0", "after": str(len(data))}}})

    def _permissions(self, request: SandboxRequest) -> SandboxResponse:
        """[permissions]"""
        _token, info = self._user_token(request)
        data = [{"permission": p, "status": "granted"} for p in info.granted]
        data += [{"permission": p, "status": "declined"} for p in info.declined]
        return SandboxResponse(200, {"data": data})

    def _debug_token(self, request: SandboxRequest) -> SandboxResponse:
        """[debug-token] with an app token ``APPID|SECRET``."""
        app_id, _, secret = (request.arg("access_token") or "").partition("|")
        if app_id not in self.apps or not hmac.compare_digest(self.apps[app_id], secret):
            raise fail(400, "Invalid OAuth access token - Cannot parse access token", 190)
        token = request.arg("input_token") or ""
        now = self.service.now()
        info = self.issued.get(token)
        owner = self.service.tokens.get(token)
        if owner is None:
            return SandboxResponse(200, {"data": {"error": {"code": 190, "message": "Invalid OAuth access token."},
                                                  "is_valid": False, "scopes": []}})
        if info is None:  # a token the Graph sandbox made itself (pasted Page tokens): all scopes, no expiry
            scopes = sorted(KNOWN_PERMISSIONS - {"business_management"})
            info = TokenInfo("PAGE" if owner[0] == "page" else "USER", app_id, self.person_id, scopes, [], [], now,
                             0, now + DATA_ACCESS_SECONDS, page_id=owner[1] if owner[0] == "page" else None)
        expired = token in self.service.expired or bool(info.expires_at and info.expires_at <= now)
        data: dict[str, Any] = {"app_id": info.app_id, "type": info.kind, "application": "Loa (sandbox)",
                                "data_access_expires_at": int(info.data_access_expires_at),
                                "expires_at": int(info.expires_at), "is_valid": not expired,
                                "issued_at": int(info.issued), "scopes": list(info.granted),
                                "granular_scopes": [{"scope": s, "target_ids": list(info.pages)} for s in info.granted
                                                    if s.startswith("pages_")],
                                "user_id": info.user_id}
        if info.page_id:
            data["profile_id"] = info.page_id
        if expired:
            data["error"] = {"code": 190, "subcode": 463, "message": "Session has expired."}
        return SandboxResponse(200, {"data": data})


def parse_multi(request: SandboxRequest) -> dict[str, list[str]]:
    """A form body with repeated names (``grant=a&grant=b``): the shared request keeps only the first."""
    from urllib.parse import parse_qs

    if not request.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):
        return {}
    return parse_qs(request.body.decode("utf-8"), keep_blank_values=False)


def login_of(service: GraphSandbox) -> FacebookLogin:
    """The login extension of a running Graph sandbox."""
    return next(e for e in service.extensions if isinstance(e, FacebookLogin))


if FacebookLogin not in graph_sandbox.EXTENSIONS:
    graph_sandbox.EXTENSIONS.append(FacebookLogin)


def answer_dialog(dialog_url: str, *, pages: list[str], allow: bool = True, decline: tuple[str, ...] = (),
                  timeout: float = 10.0) -> dict[str, str]:
    """The person's side of the sandbox dialog, over HTTP as a browser does it (``publisher run --demo``): allow
    (or cancel) with the given Pages, every permission asked for except ``decline``; answers the query Facebook
    sends back to the redirect URI (``code`` and ``state``, or ``error``)."""
    from urllib.parse import parse_qs

    import requests

    scopes = (parse_qs(urlsplit(dialog_url).query).get("scope") or [""])[0].split(",")
    form = [("action", "allow" if allow else "deny")] + [("grant", s) for s in scopes if s and s not in decline]
    form += [("page", p) for p in pages]
    answer = requests.post(dialog_url, data=form, allow_redirects=False, timeout=timeout)
    if answer.status_code != 302:
        raise RuntimeError(f"the sandbox dialog answered {answer.status_code}")
    return {k: v[0] for k, v in parse_qs(urlsplit(answer.headers["Location"]).query).items()}
