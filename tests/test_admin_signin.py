"""Signing in to /admin/: the form, CSRF, sessions, the dashboard, language and security headers."""

from __future__ import annotations

import re

from publisher.accounts.services import set_password, update_user
from publisher.db import db
from tests.conftest import PASSWORD
from tests.conftest import csrf_from as csrf_token
from tests.conftest import sign_in as sign_in_with_form


def sign_in(client, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    return sign_in_with_form(client, email, password, expect=None)


def test_signed_out_admin_pages_redirect_to_the_sign_in_form(client) -> None:  # type: ignore[no-untyped-def]
    for path in ("/admin/", "/admin/anything"):
        response = client.get(path)
        if response.status_code == 404:
            continue
        assert response.status_code in (302, 303)
        assert "/admin/login" in response.headers["Location"]
    page = client.get("/admin/login")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="vi">' in html
    assert re.search(r'<input[^>]*name="email"', html) and re.search(r'<input[^>]*type="password"', html)
    assert re.search(r'<input[^>]*type="hidden"[^>]*name="csrf_token"|<input[^>]*name="csrf_token"[^>]*'
                     r'type="hidden"', html)
    assert "Content-Security-Policy" in page.headers and page.headers["X-Content-Type-Options"] == "nosniff"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert "<script>" not in html and "style=" not in html


def test_a_form_without_its_token_is_refused_with_400_and_changes_nothing(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    response = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert '<html lang="vi">' in response.get_data(as_text=True)
    db.session.expire_all()
    assert user.last_login_at is None
    assert client.get("/admin/").status_code in (302, 303)
    bad_token = client.post("/admin/login", data={"email": user.email, "password": PASSWORD, "csrf_token": "forged"})
    assert bad_token.status_code == 400


def test_sign_in_shows_the_dashboard_with_my_drafts(client, make_user, make_post) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor", name="Lê Văn Cường")
    make_post(author=user, title="Bản nháp của tôi về an toàn lao động")
    make_post(author=user, title="Bài đã gửi duyệt", state="in_review")
    make_post(title="Bản nháp của người khác")
    response = sign_in(client, user.email.upper())
    assert response.status_code in (302, 303), response.get_data(as_text=True)
    assert response.headers["Location"].endswith("/admin/")
    dashboard = client.get("/admin/")
    assert dashboard.status_code == 200
    html = dashboard.get_data(as_text=True)
    drafts = html.split('id="my-drafts"', 1)[1].split("</section>", 1)[0]
    assert "Bản nháp của tôi về an toàn lao động" in drafts
    assert "Bài đã gửi duyệt" not in drafts and "Bản nháp của người khác" not in drafts
    assert '<html lang="vi">' in html and "Lê Văn Cường" in html
    db.session.expire_all()
    assert user.last_login_at is not None


def test_wrong_password_and_inactive_user_are_refused_alike(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    wrong = sign_in(client, user.email, "not the password")
    assert wrong.status_code == 400
    inactive = make_user("editor")
    inactive.active = False
    db.session.commit()
    refused = sign_in(client, inactive.email)
    assert refused.status_code == 400
    assert wrong.get_data(as_text=True).count('role="alert"') == refused.get_data(as_text=True).count('role="alert"')
    assert client.get("/admin/").status_code in (302, 303)


def test_english_user_gets_english_pages(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor", locale="en")
    sign_in(client, user.email)
    html = client.get("/admin/").get_data(as_text=True)
    assert '<html lang="en">' in html and "Dashboard" in html


def test_password_change_or_deactivation_ends_open_sessions(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    admin = make_user("admin")
    sign_in(client, user.email)
    assert client.get("/admin/").status_code == 200
    set_password(user, "mat-khau-moi-rat-dai")
    db.session.commit()
    assert client.get("/admin/").status_code in (302, 303)
    sign_in(client, user.email, "mat-khau-moi-rat-dai")
    assert client.get("/admin/").status_code == 200
    update_user(user, admin, active=False)
    db.session.commit()
    assert client.get("/admin/").status_code in (302, 303)


def test_sign_out_needs_the_token(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    sign_in(client, user.email)
    assert client.post("/admin/logout").status_code == 400
    assert client.get("/admin/").status_code == 200
    token = csrf_token(client.get("/admin/").get_data(as_text=True))
    assert client.post("/admin/logout", data={"csrf_token": token}).status_code in (302, 303)
    assert client.get("/admin/").status_code in (302, 303)


def test_next_only_goes_to_admin_pages(client, make_user) -> None:  # type: ignore[no-untyped-def]
    user = make_user("editor")
    page = client.get("/admin/login?next=//evil.test/")
    response = client.post("/admin/login?next=//evil.test/", data={
        "email": user.email, "password": PASSWORD, "csrf_token": csrf_token(page.get_data(as_text=True))})
    assert response.headers["Location"].endswith("/admin/")
