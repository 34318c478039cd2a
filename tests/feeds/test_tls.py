"""HTTPS goes to the checked IP address while TLS still sends and verifies the feed's host name."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from publisher.feeds import fetch
from publisher.feeds.fetch import FetchError, fetch_feed
from tests.feeds.conftest import ATOM


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture
def tls_server(tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("Loa test CA")).issuer_name(_name("Loa test CA"))
          .public_key(ca_key.public_key()).serial_number(1).not_valid_before(now - dt.timedelta(days=1))
          .not_valid_after(now + dt.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("feeds.test")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2).not_valid_before(now - dt.timedelta(days=1))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("feeds.test")]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                         serialization.PrivateFormat.PKCS8,
                                                         serialization.NoEncryption()))
    seen: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

        def do_GET(self) -> None:  # noqa: N802
            seen["host"] = self.headers.get("Host", "")
            seen["sni"] = getattr(self.connection, "server_hostname", None) or seen.get("sni", "")
            body = ATOM.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")

    def remember_sni(sock, server_name, ctx):  # type: ignore[no-untyped-def]
        seen["sni"] = server_name or ""

    context.sni_callback = remember_sni
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    monkeypatch.setattr(fetch, "CA_BUNDLE", str(tmp_path / "ca.pem"))
    monkeypatch.setattr(fetch, "resolve", lambda host, port: ["127.0.0.1"])
    yield httpd.server_address[1], seen
    httpd.shutdown()
    httpd.server_close()


def test_https_to_the_checked_address_with_the_real_host_name(tls_server):
    port, seen = tls_server
    response = fetch_feed(f"https://feeds.test:{port}/atom.xml", allow_private=True)
    assert "Tổng Liên đoàn" in response.body.decode("utf-8")
    assert seen["sni"] == "feeds.test"
    assert seen["host"] == f"feeds.test:{port}"


def test_https_certificate_for_another_name_is_refused(tls_server):
    port, _seen = tls_server
    with pytest.raises(FetchError) as caught:
        fetch_feed(f"https://other.test:{port}/atom.xml", allow_private=True)
    assert caught.value.code == "tls"
