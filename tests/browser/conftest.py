"""Browser tests: Debian's Chromium driven by Playwright's sync API, against the app served on 127.0.0.1:<ephemeral>.

They are skipped when /usr/bin/chromium is missing, unless LOA_REQUIRE_BROWSER=1 (CI), where that is a failure.
Every page's console is watched: a CSP violation or a script error fails the test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from publisher.db import db
from tests.conftest import PASSWORD

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


class Watched:
    """A browser page whose console errors and script errors are collected."""

    def __init__(self, context: Any, base: str):
        self.context, self.base = context, base
        self.page = context.new_page()
        self.problems: list[str] = []
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda exc: self.problems.append(f"script error: {exc}"))

    def _console(self, message: Any) -> None:
        if message.type != "error":
            return
        text = message.text
        # A refused save (401/409/422) is logged by Chromium as a failed resource; the page handles it.
        if text.startswith("Failed to load resource") and "Content Security Policy" not in text:
            return
        self.problems.append(text)

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base + path)

    def sign_in(self, email: str, password: str = PASSWORD) -> None:
        self.goto("/admin/login")
        self.page.fill("#email", email)
        self.page.fill("#password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url("**/admin/**")

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def browser_page(chromium, live_server) -> Iterator[Callable[..., Watched]]:  # type: ignore[no-untyped-def]
    """``browser_page()`` opens a page in a fresh browser context (its own cookies and storage)."""
    opened: list[Watched] = []

    def make(**context_options: Any) -> Watched:
        context = chromium.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "vi-VN", **context_options})
        watched = Watched(context, live_server)
        opened.append(watched)
        return watched

    yield make
    problems = [p for w in opened for p in w.problems]
    for w in opened:
        w.context.close()
    assert not problems, f"browser console errors (CSP violations or script errors): {problems}"


@pytest.fixture
def close_connections(app) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The server's (and a worker's) threads open their own connections: close them all once the test and its other
    fixtures are done (PostgreSQL's connection limit). Used with ``pytest.mark.usefixtures`` so that it is set up
    first and torn down last."""
    yield
    db.session.remove()
    db.engine.dispose()
