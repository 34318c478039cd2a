"""Behind the README's HTTPS proxy (issue 19, item 4): PUBLISHER_PROXY_COUNT trusts that many proxies'
X-Forwarded-* headers; cookies are Secure and HSTS is sent whenever the request is HTTPS; the sign-in lock-out
counts per real client address, so one reader's wrong passwords do not lock everyone behind the proxy."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from publisher.db import db
from tests.conftest import PASSWORD, csrf_from
from web import create_app

PROXY = "10.0.0.2"  # the TLS-terminating proxy, as the app sees it without ProxyFix


@pytest.fixture
def proxied_app(app: Flask, app_config: dict[str, Any]) -> Flask:
    """A second app on the same database, configured as behind one proxy."""
    behind = create_app({**app_config, "proxy_count": 1})
    from tests.conftest import IsolatedClient

    behind.test_client_class = IsolatedClient
    return behind


def forwarded(client_ip: str, proto: str = "https") -> dict[str, Any]:
    return {"headers": {"X-Forwarded-For": client_ip, "X-Forwarded-Proto": proto, "X-Forwarded-Host": "loa.test"},
            "environ_base": {"REMOTE_ADDR": PROXY}}


def post_sign_in(client, email: str, password: str, client_ip: str):  # type: ignore[no-untyped-def]
    page = client.get("/admin/login", **forwarded(client_ip))
    token = csrf_from(page.get_data(as_text=True))
    post = forwarded(client_ip)
    # Over HTTPS Flask-WTF also wants the Referer of this very host (X-Forwarded-Host), as a browser sends it.
    post["headers"]["Referer"] = "https://loa.test/admin/login"
    return client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token}, **post)


def set_cookies(response) -> list[str]:  # type: ignore[no-untyped-def]
    return response.headers.getlist("Set-Cookie")


def test_the_proxy_count_setting_defaults_to_zero_and_is_a_whole_number(settings) -> None:  # type: ignore[no-untyped-def]
    from publisher.settings import SettingsError, load_settings

    assert settings.proxy_count == 0
    assert load_settings({"PUBLISHER_PROXY_COUNT": "2", "PUBLISHER_SECRET_KEY": "x" * 20}).proxy_count == 2
    with pytest.raises(SettingsError, match="PUBLISHER_PROXY_COUNT"):
        load_settings({"PUBLISHER_PROXY_COUNT": "-1", "PUBLISHER_SECRET_KEY": "x" * 20})


def test_behind_an_https_proxy_the_session_cookie_is_secure_and_hsts_is_sent(proxied_app: Flask) -> None:
    client = proxied_app.test_client()
    page = client.get("/admin/login", **forwarded("203.0.113.7"))
    assert page.status_code == 200
    cookies = set_cookies(page)
    assert any(c.startswith("loa_session=") for c in cookies), cookies
    assert all("; Secure" in c for c in cookies), cookies
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    # The proxy's host and scheme are the app's too: absolute URLs point at https://loa.test.
    redirect = client.get("/admin/", **forwarded("203.0.113.7"))
    assert redirect.headers["Location"].startswith(("/admin/login", "https://loa.test/admin/login"))


def test_behind_the_proxy_plain_http_gets_neither_secure_cookies_nor_hsts(proxied_app: Flask) -> None:
    page = proxied_app.test_client().get("/admin/login", **forwarded("203.0.113.7", proto="http"))
    assert page.status_code == 200
    assert set_cookies(page) and not any("Secure" in c for c in set_cookies(page))
    assert "Strict-Transport-Security" not in page.headers


def test_without_a_proxy_count_forwarded_headers_are_not_trusted(client) -> None:  # type: ignore[no-untyped-def]
    page = client.get("/admin/login", **forwarded("203.0.113.7"))
    assert not any("Secure" in c for c in set_cookies(page))
    assert "Strict-Transport-Security" not in page.headers


def test_https_served_directly_also_sets_secure_cookies_and_hsts(app: Flask) -> None:
    page = app.test_client().get("/admin/login", base_url="https://loa.test")
    assert all("; Secure" in c for c in set_cookies(page)) and set_cookies(page)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_wrong_passwords_from_one_reader_do_not_lock_others_behind_the_proxy(proxied_app: Flask,
                                                                            make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    attacker = proxied_app.test_client()
    for _ in range(5):
        assert post_sign_in(attacker, user.email, "sai-mat-khau-123", "198.51.100.66").status_code == 400
    assert post_sign_in(attacker, user.email, PASSWORD, "198.51.100.66").status_code == 429
    # The same e-mail address from another reader behind the same proxy still signs in.
    colleague = proxied_app.test_client()
    response = post_sign_in(colleague, user.email, PASSWORD, "203.0.113.7")
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    from publisher.accounts.throttle import LoginFailure

    assert {row.ip for row in db.session.query(LoginFailure)} == {"198.51.100.66"}


def test_without_a_proxy_count_a_forged_forwarded_for_does_not_dodge_the_lock_out(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    for n in range(5):
        assert post_sign_in(client, user.email, "sai-mat-khau-123", f"198.51.100.{n}").status_code == 400
    assert post_sign_in(client, user.email, PASSWORD, "198.51.100.99").status_code == 429
