"""Sandbox services: small HTTP servers on 127.0.0.1 that speak the platforms' wire protocols, so that Loa (its
tests, ``publisher run --demo``) runs offline against the REAL client libraries.

A sandbox is a :class:`SandboxService` subclass registered with :func:`register_sandbox`. Each service serves one
or more *hosts* (the Graph API has a separate video-upload host), each on its own ephemeral port.
:func:`start_sandboxes` starts every registered service and answers a :class:`RunningSandboxes` holding the base
URLs, keyed ``name`` (first host) or ``name_host`` (e.g. ``facebook`` and ``facebook_video``).

Fault injection is shared by all sandboxes, either in Python (``service.add_fault(Fault(...))``) or over HTTP on
any of its hosts::

    POST /__sandbox/faults   {"path_prefix": "/123/feed", "method": "POST", "status": 500, "body": {...},
                              "headers": {...}, "count": 1, "skip": 0, "delay": 0, "process": false,
                              "drop": false}
    DELETE /__sandbox/faults                   (clears them)
    GET /__sandbox/state                       (the service's ``describe()``, for debugging)
    POST /__sandbox/<action>  {...}            (a service's own controls, e.g. the Graph sandbox's
                                                ``expire_token``, ``advance``, ``user_token``)

``path_prefix`` matches the request path with any ``/vNN.N`` version prefix removed. ``skip`` lets that many
matching requests through first; ``count`` is how many requests the fault then hits (``0``: every one).
``delay`` sleeps before answering (a client time-out); ``process`` carries the request out before answering
with the fault (the platform accepted the call but the answer was lost); ``drop`` closes the connection without
any answer (a transfer cut off half way).
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

FAULTS_PATH = "/__sandbox/faults"
STATE_PATH = "/__sandbox/state"


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    data: bytes


class _BodyStream:
    """The request body as a stream that never reads past Content-Length (for services that stream uploads)."""

    def __init__(self, raw: IO[bytes], length: int):
        self.raw, self.remaining = raw, length

    def read(self, size: int = -1) -> bytes:
        if self.remaining <= 0:
            return b""
        size = self.remaining if size is None or size < 0 else min(size, self.remaining)
        data = self.raw.read(size)
        self.remaining -= len(data)
        if not data:
            self.remaining = 0
        return data

    def drain(self) -> None:
        while self.remaining > 0 and self.read(1 << 20):
            pass


class SandboxRequest:
    """One HTTP request as a sandbox service sees it. The body is read lazily (``stream`` for large bodies)."""

    def __init__(self, method: str, target: str, headers: Any, stream: IO[bytes], host: str, base_url: str):
        """``stream`` reads the body as it arrives (large uploads); ``body`` reads it whole."""
        parts = urlsplit(target)
        self.method = method.upper()
        self.raw_path = parts.path
        self.query: dict[str, list[str]] = parse_qs(parts.query, keep_blank_values=True)
        self.headers = headers
        self.host = host
        self.base_url = base_url
        self.content_length = int(headers.get("Content-Length") or 0)
        self.stream = _BodyStream(stream, self.content_length)
        self._body: bytes | None = None
        self._form: dict[str, str] | None = None
        self._files: dict[str, UploadedFile] = {}
        self.path = self.raw_path

    @property
    def body(self) -> bytes:
        if self._body is None:
            self._body = self.stream.read()
        return self._body

    def arg(self, name: str, default: str | None = None) -> str | None:
        """A parameter from the query string or, for a form body, from the form."""
        if name in self.query:
            return self.query[name][0]
        return self.form.get(name, default)

    @property
    def form(self) -> dict[str, str]:
        if self._form is None:
            self._form = {}
            content_type = self.headers.get("Content-Type", "")
            if content_type.startswith("application/x-www-form-urlencoded"):
                for key, values in parse_qs(self.body.decode("utf-8"), keep_blank_values=True).items():
                    self._form[key] = values[0]
            elif content_type.startswith("multipart/form-data"):
                self._parse_multipart(content_type)
            elif content_type.startswith("application/json") and self.body:
                try:
                    data = json.loads(self.body)
                except ValueError:
                    data = {}
                if isinstance(data, dict):
                    self._form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in data.items()}
        return self._form

    def _parse_multipart(self, content_type: str) -> None:
        """multipart/form-data split on its boundary (fast enough for multi-megabyte video chunks)."""
        match = re.search(r'boundary="?([^";]+)"?', content_type)
        if not match:
            return
        delimiter = b"--" + match.group(1).encode("latin-1")
        for part in self.body.split(delimiter)[1:]:
            if part.startswith(b"--"):
                break
            head, _sep, payload = part.partition(b"\r\n\r\n")
            if payload.endswith(b"\r\n"):
                payload = payload[:-2]
            headers = BytesParser(policy=HTTP).parsebytes(head.lstrip(b"\r\n") + b"\r\n\r\n")
            name = headers.get_param("name", header="content-disposition")
            filename = headers.get_filename()
            if filename is not None:
                self._files[name] = UploadedFile(filename, headers.get_content_type(), payload)
            else:
                self._form[name] = payload.decode("utf-8")

    @property
    def files(self) -> dict[str, UploadedFile]:
        self.form  # noqa: B018  (parses the body)
        return self._files

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class SandboxResponse:
    status: int = 200
    body: Any = None  # a JSON-able value, bytes, or None
    headers: dict[str, str] = field(default_factory=dict)

    def encode(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if self.body is None:
            return b"", self.headers.get("Content-Type", "text/plain")
        return json.dumps(self.body, ensure_ascii=False).encode("utf-8"), "application/json; charset=UTF-8"


@dataclass
class Fault:
    """One injected fault; see the module docstring for the fields."""

    path_prefix: str = ""
    method: str | None = None
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    count: int = 1
    skip: int = 0
    delay: float = 0.0
    process: bool = False
    drop: bool = False
    host: str | None = None
    hits: int = 0

    def matches(self, request: SandboxRequest) -> bool:
        if self.method and self.method.upper() != request.method:
            return False
        if self.host is not None and self.host != request.host:
            return False
        return request.path.startswith(self.path_prefix)

    @property
    def exhausted(self) -> bool:
        return self.count > 0 and self.hits >= self.count

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        allowed = {"path_prefix", "method", "status", "body", "headers", "count", "skip", "delay", "process", "drop",
                   "host"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {', '.join(sorted(unknown))}")
        return cls(**data)


class SandboxService:
    """A platform stand-in. Subclasses set ``name`` and ``hosts`` and implement :meth:`handle`."""

    name: str = ""
    hosts: tuple[str, ...] = ("",)

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.urls: dict[str, str] = {}  # host -> base URL, filled in when started
        self.requests_seen: list[tuple[str, str, str]] = []  # (host, method, raw path): what clients sent

    # --- fault injection -------------------------------------------------------------------------------

    def add_fault(self, fault: Fault | None = None, **fields: Any) -> Fault:
        fault = fault or Fault(**fields)
        with self.lock:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def _take_fault(self, request: SandboxRequest) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.exhausted or not fault.matches(request):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                fault.hits += 1
                return fault
        return None

    # --- what subclasses provide -----------------------------------------------------------------------

    def normalise_path(self, request: SandboxRequest) -> str:
        """The path faults match against (subclasses strip version prefixes)."""
        return request.raw_path

    def handle(self, request: SandboxRequest) -> SandboxResponse:
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        return {"name": self.name, "urls": self.urls}

    def control(self, action: str, data: dict[str, Any]) -> SandboxResponse:
        """``POST /__sandbox/<action>``: the service's own test controls (none by default)."""
        return SandboxResponse(404, {"error": f"unknown sandbox action {action!r}"})

    def settings_overrides(self) -> dict[str, Any]:
        """Loa settings that point at this sandbox (``facebook_graph_url`` …)."""
        return {}

    def demo_channels(self) -> list[dict[str, Any]]:
        """Channels ``publisher run --demo`` connects to this sandbox: ``{"kind", "name", "settings"}``."""
        return []

    def fault_response(self, fault: Fault) -> SandboxResponse:
        return SandboxResponse(fault.status, fault.body, dict(fault.headers))

    # --- the HTTP side ---------------------------------------------------------------------------------

    def dispatch(self, request: SandboxRequest) -> SandboxResponse | None:
        """Answer one request, faults included; ``None`` means: drop the connection without answering."""
        request.path = self.normalise_path(request)
        if request.raw_path == FAULTS_PATH:
            return self._faults_endpoint(request)
        if request.raw_path == STATE_PATH:
            with self.lock:
                return SandboxResponse(200, self.describe())
        if request.raw_path.startswith("/__sandbox/") and request.method == "POST":
            try:
                data = request.json() if request.body else {}
                return self.control(request.raw_path.removeprefix("/__sandbox/"), data or {})
            except (ValueError, TypeError, KeyError) as exc:
                return SandboxResponse(400, {"error": f"{exc.__class__.__name__}: {exc}"})
        with self.lock:
            self.requests_seen.append((request.host, request.method, request.raw_path))
        fault = self._take_fault(request)
        if fault is None:
            return self.handle(request)
        if fault.process:
            self.handle(request)
        else:
            request.stream.drain()  # so the client is not left writing into a closed socket
        if fault.delay:
            time.sleep(fault.delay)
        if fault.drop:
            return None
        return self.fault_response(fault)

    def _faults_endpoint(self, request: SandboxRequest) -> SandboxResponse:
        if request.method == "DELETE":
            self.clear_faults()
            return SandboxResponse(200, {"faults": 0})
        if request.method == "GET":
            with self.lock:
                return SandboxResponse(200, {"faults": [vars(f) for f in self.faults]})
        try:
            data = request.json()
            items = data if isinstance(data, list) else [data]
            for item in items:
                self.add_fault(Fault.from_json(item))
        except (ValueError, TypeError) as exc:
            return SandboxResponse(400, {"error": str(exc)})
        return SandboxResponse(201, {"faults": len(self.faults)})


def _handler_class(service: SandboxService, host: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "LoaSandbox/1.0"

        def _serve(self) -> None:
            base_url = service.urls.get(host, "")
            request = SandboxRequest(self.command, self.path, self.headers, self.rfile, host, base_url)
            try:
                response = service.dispatch(request)
            except Exception:  # a sandbox bug must show up as a 500, not hang the client
                log.exception("sandbox %s failed on %s %s", service.name, self.command, request.raw_path)
                response = SandboxResponse(500, {"error": {"message": "sandbox internal error", "code": 1}})
            if response is None:
                self.close_connection = True
                return
            request.stream.drain()  # whatever the service left unread, so that keep-alive stays in step
            payload, content_type = response.encode()
            self.send_response(response.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in response.headers.items():
                if key.lower() not in ("content-type", "content-length"):
                    self.send_header(key, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = _serve

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            # Request lines carry access tokens in their query strings: never write them anywhere.
            pass

    return Handler


SANDBOXES: dict[str, Callable[[], SandboxService]] = {}


def register_sandbox(name: str, factory: Callable[[], SandboxService]) -> None:
    """Add a sandbox service (its class or a factory) to what :func:`start_sandboxes` starts."""
    SANDBOXES[name] = factory


# The modules that register sandboxes on import; other channel areas add theirs here.
SANDBOX_MODULES: list[str] = ["publisher.channels.sandbox.graph", "publisher.channels.sandbox.facebook_login",
                              "publisher.channels.sandbox.youtube", "publisher.channels.sandbox.zalo"]


def load_sandboxes() -> None:
    import importlib

    for module in SANDBOX_MODULES:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            log.warning("sandbox module %s is not installed; skipped", module)


class RunningSandboxes:
    """Started sandbox services: their base URLs, the services themselves, and a way to stop them."""

    def __init__(self) -> None:
        self.services: dict[str, SandboxService] = {}
        self.urls: dict[str, str] = {}
        self._servers: list[ThreadingHTTPServer] = []
        self._self_hosted: list[Any] = []

    def start(self, service: SandboxService) -> SandboxService:
        if hasattr(service, "start_self"):  # a sandbox that runs its own HTTP server (YouTube)
            for host, url in service.start_self().items():
                service.urls[host] = url
                self.urls[service.name if not host else f"{service.name}_{host}"] = url
            self._self_hosted.append(service)
            self.services[service.name] = service
            return service
        for host in service.hosts:
            server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_class(service, host))
            server.daemon_threads = True
            url = f"http://127.0.0.1:{server.server_address[1]}"
            service.urls[host] = url
            self.urls[service.name if not host else f"{service.name}_{host}"] = url
            self._servers.append(server)
            threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, name=f"sandbox-{service.name}-{host or 'main'}",
                             daemon=True).start()
        self.services[service.name] = service
        return service

    def __getitem__(self, name: str) -> SandboxService:
        return self.services[name]

    def settings_overrides(self) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        for service in self.services.values():
            overrides.update(service.settings_overrides())
        return overrides

    def demo_channels(self) -> list[dict[str, Any]]:
        return [c for service in self.services.values() for c in service.demo_channels()]

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers.clear()
        for service in self._self_hosted:
            service.stop_self()
        self._self_hosted.clear()


def start_sandboxes(names: list[str] | None = None) -> RunningSandboxes:
    """Start the registered sandboxes (all, or those named) on 127.0.0.1, each host on an ephemeral port."""
    load_sandboxes()
    running = RunningSandboxes()
    for name, factory in SANDBOXES.items():
        if names is None or name in names:
            service = factory()
            service.name = service.name or name
            running.start(service)
    return running
