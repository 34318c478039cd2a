"""A test-only channel kind, ``testchannel``, whose adapter reads figures and comments over real HTTP from a
tiny server on 127.0.0.1 (so failures, rate limits and time-outs are real), plus that server."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

import requests

from publisher.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionStatus,
    ErrorKind,
    Metrics,
    PublishResult,
    RemoteComment,
)


class MetricsServer:
    """Serves ``/metrics?ids=a,b`` from ``self.figures`` and ``/comments?post=a`` from ``self.comments``.

    ``self.fail_next`` is a list of (status, headers) answered before normal service resumes; ``self.delay``
    sleeps before answering; every request is kept in ``self.requests``.
    """

    def __init__(self) -> None:
        self.figures: dict[str, dict[str, Any]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.replies: list[dict[str, Any]] = []
        self.requests: list[str] = []
        self.fail_next: list[tuple[int, dict[str, str]]] = []
        self.delay = 0.0
        self.omit: set[str] = set()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                server.requests.append(self.path)
                if server.delay:
                    time.sleep(server.delay)
                if server.fail_next:
                    status, headers = server.fail_next.pop(0)
                    self._send(status, {"error": "failure"}, headers)
                    return
                url = urlparse(self.path)
                query = parse_qs(url.query)
                if url.path == "/metrics":
                    ids = query.get("ids", [""])[0].split(",")
                    self._send(200, {i: server.figures[i] for i in ids if i in server.figures and i not in server.omit})
                elif url.path == "/comments":
                    self._send(200, server.comments.get(query["post"][0], []))
                else:
                    self._send(404, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                server.requests.append(self.path)
                if server.fail_next:
                    status, headers = server.fail_next.pop(0)
                    self._send(status, {"error": "failure"}, headers)
                    return
                server.replies.append(body)
                self._send(200, {"id": f"reply-{len(server.replies)}"})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> MetricsServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    @property
    def metric_calls(self) -> list[str]:
        return [r for r in self.requests if r.startswith("/metrics")]


class TestChannelAdapter(ChannelAdapter):
    kind = "testchannel"

    def _classify(self, response: requests.Response) -> ChannelError:
        if response.status_code == 429:
            return ChannelError(ErrorKind.RATE_LIMITED, "rate limited",
                                retry_after=float(response.headers.get("Retry-After", "60")), http_status=429)
        if response.status_code == 401:
            return ChannelError(ErrorKind.AUTH_EXPIRED, "token expired", http_status=401)
        return ChannelError(ErrorKind.TRANSIENT, f"platform error {response.status_code}",
                            http_status=response.status_code)

    def _get(self, path: str, **params: str) -> Any:
        try:
            response = requests.get(self.channel_settings["url"] + path, params=params,
                                    timeout=float(self.channel_settings.get("timeout", 5)))
        except requests.RequestException as exc:
            raise ChannelError(ErrorKind.TRANSIENT, f"no answer: {exc.__class__.__name__}") from exc
        if response.status_code != 200:
            raise self._classify(response)
        return response.json()

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        data = self._get("/metrics", ids=",".join(remote_ids))
        return {rid: Metrics(remote_id=rid, values=v.get("values", {}), removed=bool(v.get("removed")))
                for rid, v in data.items()}

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        rows = self._get("/comments", post=remote_id)
        out = [RemoteComment(remote_id=r["id"], post_remote_id=remote_id, author_name=r["author"],
                             message=r["message"], created_at=datetime.fromisoformat(r["created_at"]),
                             parent_remote_id=r.get("parent")) for r in rows]
        return [c for c in out if since is None or c.created_at > since]

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        try:
            response = requests.post(self.channel_settings["url"] + "/reply",
                                     json={"parent": comment_remote_id, "message": message}, timeout=5)
        except requests.RequestException as exc:
            raise ChannelError(ErrorKind.TRANSIENT, "no answer") from exc
        if response.status_code != 200:
            raise self._classify(response)
        return response.json()["id"]

    def validate(self, request):  # type: ignore[no-untyped-def]
        return []

    def publish(self, request):  # type: ignore[no-untyped-def]
        return PublishResult(remote_id="x")

    def update(self, remote_id, request):  # type: ignore[no-untyped-def]
        return PublishResult(remote_id=remote_id)

    def unpublish(self, remote_id):  # type: ignore[no-untyped-def]
        return None

    def find_existing(self, request):  # type: ignore[no-untyped-def]
        return None

    def check_connection(self) -> ConnectionStatus:
        return ConnectionStatus(ok=True, message="ok")
