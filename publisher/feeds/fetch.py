"""Fetching a feed over HTTP, defensively.

Every request has a connect and a read time-out and an overall deadline; the body is read as a stream and cut
off at :data:`MAX_BYTES`; redirects are followed by hand (at most :data:`MAX_REDIRECTS`) so that every hop is
checked; only ``http`` and ``https`` are allowed. Unless the source explicitly allows it, the host name is
resolved here, every address it resolves to must be public, and the connection goes to the checked address
itself (the URL names the IP, the ``Host`` header and TLS SNI/certificate check name the host), so a second DNS
answer cannot point the request at a private address (DNS rebinding).

The answer's bytes are handed to feedparser as a stream by :mod:`publisher.feeds.services`, never a URL or a
string (feedparser would fetch a URL itself without a time-out, and open a string naming a path as a file).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
import urllib3
from requests.adapters import HTTPAdapter

from publisher import __version__

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 20.0  # seconds of silence while reading
TOTAL_TIMEOUT = 60.0  # seconds for the whole fetch, redirects included
MAX_BYTES = 5 * 1024 * 1024  # a feed larger than this is refused
MAX_REDIRECTS = 5
CA_BUNDLE: str | bool = True  # requests' default (certifi); tests point it at their own authority
CHUNK = 64 * 1024
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
USER_AGENT = f"Loa/{__version__} (+feed reader)"
ACCEPT = "application/rss+xml, application/atom+xml, application/rdf+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"


class FetchError(Exception):
    """A fetch that gave no feed. ``code`` is stable for machines; ``params`` fill the message shown to people."""

    def __init__(self, code: str, detail: str = "", **params: Any):
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail
        self.params = params


@dataclass
class FetchResponse:
    """What a fetch gave: ``not_modified`` (a 304), or the body with its content type and validators."""

    url: str
    not_modified: bool = False
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    last_modified: str | None = None
    redirects: list[str] = field(default_factory=list)


def address_is_public(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved, multicast…)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError("unresolvable", str(exc), host=host) from None
    addresses: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise FetchError("unresolvable", "no address", host=host)
    return addresses


class _PinnedTLSAdapter(HTTPAdapter):
    """HTTPS to an IP address while TLS still sends and verifies the real host name."""

    def __init__(self, hostname: str):
        self._hostname = hostname
        super().__init__(max_retries=0)

    def init_poolmanager(self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any) -> None:
        pool_kwargs["server_hostname"] = self._hostname
        pool_kwargs["assert_hostname"] = self._hostname
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


def _check_url(url: str) -> tuple[str, str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise FetchError("bad_url", str(exc), url=url) from None
    if parts.scheme not in ("http", "https"):
        raise FetchError("bad_scheme", parts.scheme, url=url)
    if not parts.hostname:
        raise FetchError("bad_url", "no host", url=url)
    return parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _one_request(session: requests.Session, url: str, headers: dict[str, str], allow_private: bool,
                 deadline: float) -> requests.Response:
    scheme, host, port = _check_url(url)
    addresses = resolve(host, port)
    if not allow_private:
        refused = [a for a in addresses if not address_is_public(a)]
        if refused:
            raise FetchError("private_address", ", ".join(refused), host=host, address=refused[0])
    address = addresses[0].split("%", 1)[0]
    parts = urlsplit(url)
    netloc_host = f"[{address}]" if ":" in address else address
    target = urlunsplit((scheme, f"{netloc_host}:{port}", parts.path or "/", parts.query, ""))
    default_port = 443 if scheme == "https" else 80
    host_header = (f"[{host}]" if ":" in host else host) + ("" if port == default_port else f":{port}")
    if scheme == "https":
        session.mount("https://", _PinnedTLSAdapter(host))
    remaining = max(deadline - time.monotonic(), 0.1)
    try:
        return session.get(
            target,
            headers={**headers, "Host": host_header},
            stream=True,
            allow_redirects=False,
            verify=CA_BUNDLE,
            timeout=(min(CONNECT_TIMEOUT, remaining), min(READ_TIMEOUT, remaining)),
        )
    except requests.exceptions.ConnectTimeout as exc:
        raise FetchError("timeout", str(exc), host=host) from None
    except requests.exceptions.ReadTimeout as exc:
        raise FetchError("timeout", str(exc), host=host) from None
    except requests.exceptions.SSLError as exc:
        raise FetchError("tls", str(exc), host=host) from None
    except requests.exceptions.ConnectionError as exc:
        raise FetchError("unreachable", str(exc), host=host) from None
    except requests.exceptions.RequestException as exc:
        raise FetchError("http_failed", str(exc), host=host) from None


def _chunks(response: requests.Response) -> Iterator[bytes]:
    """The decoded body in pieces. ``read1`` makes at most one network read per piece, so the overall deadline is
    checked at least every READ_TIMEOUT seconds even against a server that drips one byte at a time."""
    raw = response.raw
    if hasattr(raw, "read1"):
        while True:
            chunk = raw.read1(CHUNK, decode_content=True)
            if not chunk:
                return
            yield chunk
    else:  # an older urllib3
        yield from response.iter_content(CHUNK)


def _read_body(response: requests.Response, deadline: float) -> bytes:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) > MAX_BYTES:
        raise FetchError("too_large", f"Content-Length {length}", limit_mb=MAX_BYTES // (1024 * 1024))
    chunks: list[bytes] = []
    size = 0
    try:
        # Decoded sizes are counted, so the limit also holds for a compressed bomb.
        for chunk in _chunks(response):
            size += len(chunk)
            if size > MAX_BYTES:
                raise FetchError("too_large", f"more than {MAX_BYTES} bytes", limit_mb=MAX_BYTES // (1024 * 1024))
            if time.monotonic() > deadline:
                raise FetchError("timeout", "overall deadline passed while reading")
            chunks.append(chunk)
    except (urllib3.exceptions.ReadTimeoutError, TimeoutError) as exc:
        raise FetchError("timeout", str(exc)) from None
    except (urllib3.exceptions.HTTPError, requests.exceptions.RequestException, OSError) as exc:
        if "timed out" in str(exc).lower():
            raise FetchError("timeout", str(exc)) from None
        raise FetchError("unreachable", str(exc)) from None
    return b"".join(chunks)


def fetch_feed(url: str, *, etag: str | None = None, last_modified: str | None = None,
               allow_private: bool = False) -> FetchResponse:
    """GET ``url`` with every safeguard above; raise :class:`FetchError` when no feed body (or 304) came back."""
    deadline = time.monotonic() + TOTAL_TIMEOUT
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "gzip, deflate"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    redirects: list[str] = []
    current = url
    with requests.Session() as session:
        session.trust_env = False  # no proxies or .netrc from the environment
        while True:
            response = _one_request(session, current, headers, allow_private, deadline)
            try:
                if response.status_code in REDIRECT_STATUSES and response.headers.get("Location"):
                    if len(redirects) >= MAX_REDIRECTS:
                        raise FetchError("too_many_redirects", current, limit=MAX_REDIRECTS)
                    current = urljoin(current, response.headers["Location"])
                    if current == url or current in redirects:
                        raise FetchError("redirect_loop", current, limit=MAX_REDIRECTS)
                    redirects.append(current)
                    continue
                if response.status_code == 304:
                    return FetchResponse(url=current, not_modified=True, etag=etag, last_modified=last_modified,
                                         redirects=redirects)
                if response.status_code != 200:
                    raise FetchError("http_status", response.reason or "", status=response.status_code,
                                     reason=response.reason or "")
                body = _read_body(response, deadline)
                return FetchResponse(
                    url=current,
                    body=body,
                    content_type=response.headers.get("Content-Type", ""),
                    etag=(response.headers.get("ETag") or None),
                    last_modified=(response.headers.get("Last-Modified") or None),
                    redirects=redirects,
                )
            finally:
                response.close()
