"""A test-only channel kind, ``testchannel``: an adapter speaking real HTTP to a tiny platform on 127.0.0.1.

The platform records every publish by idempotency key and can be told to fail the next calls in the ways real
platforms do: 5xx, rate limit with a Retry-After hint, expired token, time-out after accepting, duplicate,
rejection, a slow answer, or a look-up that cannot answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from publisher.channels.base import (
    REGISTRY,
    ChannelAdapter,
    ChannelError,
    ConnectionStatus,
    ErrorKind,
    Metrics,
    Problem,
    PublishRequest,
    PublishResult,
    RemoteComment,
    http_session,
)


class FakePlatform:
    """The platform's state: posts by key, every publish call received, and faults queued for next calls."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.posts: dict[str, dict[str, Any]] = {}  # idempotency key -> post
        self.received: Counter[str] = Counter()  # publish calls per key (accepted or not)
        self.created: Counter[str] = Counter()  # posts actually created per key
        self.faults: list[str] = []  # for publish calls: "500", "429:5", "401", "timeout", "409", "400", "hang"
        self.lookup_faults: list[str] = []  # for look-ups: "500"
        self.latency = 0.0
        self.hang = threading.Event()
        self.published_at: dict[str, float] = {}
        self.removed: list[str] = []
        self.updated: list[str] = []
        self.next_id = 1
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def duplicates(self) -> int:
        return sum(n - 1 for n in self.created.values() if n > 1)

    def _create(self, key: str, text: str) -> dict[str, Any]:
        post = {"id": f"tc-{self.next_id}", "key": key, "text": text, "url": f"https://tc.test/p/{self.next_id}"}
        self.next_id += 1
        self.posts[key] = post
        self.created[key] += 1
        self.published_at[key] = time.time()
        return post

    def start(self) -> FakePlatform:
        platform = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms wait on a kept-alive line

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                parsed = urlparse(self.path)
                key = parse_qs(parsed.query).get("key", [""])[0]
                with platform.lock:
                    fault = platform.lookup_faults.pop(0) if platform.lookup_faults else None
                    post = platform.posts.get(key)
                if fault:
                    return self._send(int(fault), {"error": "lookup unavailable"})
                if post is None or post["id"] in platform.removed:
                    return self._send(404, {"error": "not found"})
                return self._send(200, post)

            def do_DELETE(self) -> None:  # noqa: N802
                remote_id = self.path.rsplit("/", 1)[-1]
                with platform.lock:
                    platform.removed.append(remote_id)
                return self._send(200, {"ok": True})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                payload = json.loads(self.rfile.read(length) or b"{}")
                if self.path.startswith("/update/"):
                    with platform.lock:
                        platform.updated.append(self.path.rsplit("/", 1)[-1])
                    return self._send(200, {"id": self.path.rsplit("/", 1)[-1]})
                key = payload.get("key", "")
                if platform.latency:
                    time.sleep(platform.latency)
                with platform.lock:
                    platform.received[key] += 1
                    fault = platform.faults.pop(0) if platform.faults else None
                    if fault in (None, "timeout", "hang"):
                        existing = platform.posts.get(key)
                        post = existing if existing is not None else platform._create(key, payload.get("text", ""))
                if fault == "hang":  # accepted, then the answer never comes (the worker gets killed meanwhile)
                    platform.hang.wait(60)
                    return None
                if fault == "timeout":  # accepted, but the answer comes too late for the client
                    time.sleep(1.5)
                    return self._send(200, post)
                if fault is None:
                    return self._send(200, post)
                status, _, hint = fault.partition(":")
                headers = {"Retry-After": hint} if hint else {}
                return self._send(int(status), {"error": {"code": f"E{status}", "message": f"fault {status}"}},
                                  headers)

        class Server(ThreadingHTTPServer):
            request_queue_size = 1024  # the default backlog of 5 refuses connections when workers publish in bursts

        self.server = Server(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.hang.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()


_SESSIONS = threading.local()


class TestChannelAdapter(ChannelAdapter):
    kind = "testchannel"
    supports_update = True

    @property
    def base(self) -> str:
        return self.channel_settings["base_url"]

    def _classify(self, response: requests.Response) -> ChannelError:
        status = response.status_code
        try:
            error = response.json().get("error", {})
        except ValueError:
            error = {}
        code = error.get("code") if isinstance(error, dict) else None
        message = error.get("message") if isinstance(error, dict) else str(error)
        if status == 429:
            return ChannelError(ErrorKind.RATE_LIMITED, "rate limited", code=code, platform_message=message,
                                retry_after=float(response.headers.get("Retry-After") or 0) or None,
                                http_status=status)
        kind = {401: ErrorKind.AUTH_EXPIRED, 409: ErrorKind.DUPLICATE, 400: ErrorKind.REJECTED}.get(
            status, ErrorKind.TRANSIENT)
        return ChannelError(kind, f"platform answered {status}", code=code, platform_message=message,
                            http_status=status)

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        # One kept-alive HTTP session per thread, as a production client keeps its connections.
        session = getattr(_SESSIONS, "session", None)
        if session is None:
            session = _SESSIONS.session = http_session()
        try:
            return session.request(method, self.base + path, timeout=self.channel_settings.get("timeout", 1.0),
                                   **kwargs)
        except requests.RequestException as exc:
            raise ChannelError(ErrorKind.TRANSIENT, "no answer from the platform", code=exc.__class__.__name__) \
                from exc

    def validate(self, request: PublishRequest) -> list[Problem]:
        limit = self.channel_settings.get("max_chars", 500)
        if len(request.title) > limit:
            return [Problem("title", f"At most {limit} characters on this channel.")]
        return []

    def publish(self, request: PublishRequest) -> PublishResult:
        response = self._call("POST", "/posts", json={"key": request.idempotency_key, "text": request.title})
        if response.status_code != 200:
            raise self._classify(response)
        body = response.json()
        return PublishResult(remote_id=body["id"], remote_url=body["url"])

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        response = self._call("POST", f"/update/{remote_id}", json={"text": request.title})
        if response.status_code != 200:
            raise self._classify(response)
        return PublishResult(remote_id=remote_id)

    def unpublish(self, remote_id: str) -> None:
        response = self._call("DELETE", f"/posts/{remote_id}")
        if response.status_code != 200:
            raise self._classify(response)

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        response = self._call("GET", "/posts", params={"key": request.idempotency_key})
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self._classify(response)
        body = response.json()
        return PublishResult(remote_id=body["id"], remote_url=body["url"])

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        return {}

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        return []

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        return ""

    def check_connection(self) -> ConnectionStatus:
        return ConnectionStatus(ok=True, message="ok")


def register_testchannel() -> None:
    REGISTRY[TestChannelAdapter.kind] = TestChannelAdapter
