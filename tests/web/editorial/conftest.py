"""Fixtures for the editorial UI: a test client signed in through the real sign-in form, CSRF tokens included."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import PASSWORD, csrf_from
from tests.conftest import sign_in as sign_in_with_form


def fresh_g() -> None:
    """Forget per-request state: the tests hold one app context, so ``g`` (signed-in user, locale, form token)
    would otherwise carry over from one request, or one test client, to the next."""
    from flask import g

    for name in list(vars(g)):
        delattr(g, name)


class UI:
    """A signed-in browser stand-in: ``ui.post(path, data)`` adds the page's CSRF token."""

    def __init__(self, client: FlaskClient, user: Any):
        self.client, self.user = client, user
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            fresh_g()
            self._token = csrf_from(self.client.get("/admin/profile").get_data(as_text=True))
        return self._token

    def get(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        fresh_g()
        return self.client.get(path, **kw)

    def post(self, path: str, data: dict[str, Any] | None = None, **kw: Any):  # type: ignore[no-untyped-def]
        fresh_g()
        return self.client.post(path, data={"csrf_token": self.token(), **(data or {})}, **kw)

    def post_json(self, path: str, body: Any):  # type: ignore[no-untyped-def]
        fresh_g()
        return self.client.post(path, json=body, headers={"X-CSRFToken": self.token(), "Accept": "application/json"})


def sign_in(client: FlaskClient, email: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    fresh_g()
    return sign_in_with_form(client, email, password, expect=None)


@pytest.fixture
def ui_as(app, make_user) -> Callable[..., UI]:  # type: ignore[no-untyped-def]
    """``ui_as("editor")`` or ``ui_as(user)``: a fresh client signed in as that user."""

    def make(who: Any = "editor", **kwargs: Any) -> UI:
        user = make_user(who, **kwargs) if isinstance(who, str) else who
        client = app.test_client()
        response = sign_in(client, user.email)
        assert response.status_code == 302, response.get_data(as_text=True)
        return UI(client, user)

    return make
