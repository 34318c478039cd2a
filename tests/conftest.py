"""Test fixtures. The suite runs on SQLite by default and on PostgreSQL + Redis when PUBLISHER_DATABASE_URL and
PUBLISHER_REDIS_URL name them (``.ci/run`` does both).

The schema is built once per session; after each test every table is emptied. (Tests do not run inside one
rolled-back transaction because some of them drive a live server thread, a browser or a worker process, which
only see committed rows.)
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from sqlalchemy import select, text

from publisher.db import db
from web import create_app

DATABASE_URL = os.environ.get("PUBLISHER_DATABASE_URL")
REDIS_URL = os.environ.get("PUBLISHER_REDIS_URL")
PASSWORD = "mat-khau-rat-dai-2026"
# A form's hidden CSRF field (either attribute order) or the page's <meta name="csrf-token">.
CSRF_TOKEN = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
                        r'|name="csrf-token" content="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token a page carries (for posting its forms)."""
    match = CSRF_TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return next(group for group in match.groups() if group)


def csrf_of(client: FlaskClient, path: str) -> str:
    """The CSRF token of the page at ``path``."""
    return csrf_from(client.get(path).get_data(as_text=True))


def sign_in(client: FlaskClient, who: Any, password: str = PASSWORD, *, expect: int | None = 302):  # type: ignore[no-untyped-def]
    """Sign in as a person does: the sign-in page, its CSRF token, the form posted; ``who`` is a user or an
    e-mail address. Asserts the answer's status (a redirect to the dashboard) unless ``expect`` is None; returns
    the answer."""
    email = who if isinstance(who, str) else who.email
    token = csrf_of(client, "/admin/login")
    response = client.post("/admin/login", data={"email": email, "password": password, "csrf_token": token})
    if expect is not None:
        assert response.status_code == expect, response.get_data(as_text=True)[:1000]
    return response


def sign_in_session(client: FlaskClient, user: Any) -> None:
    """Sign in without the form: Flask-Login's session keys, as a signed-in browser carries them."""
    with client.session_transaction() as session:
        session["_user_id"] = user.get_id()
        session["_fresh"] = True


def process_env(app_config: dict[str, Any]) -> dict[str, str]:
    """The environment for a ``publisher`` process of this test's instance: the suite's database and Redis, its
    secret key, instance folder and public URL, and this checkout on the import path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update({
        "PUBLISHER_DATABASE_URL": app_config["database_url"],
        "PUBLISHER_REDIS_URL": REDIS_URL or "",
        "PUBLISHER_SECRET_KEY": app_config["secret_key"],
        "PUBLISHER_INSTANCE_PATH": str(app_config["instance_path"]),
        "PUBLISHER_PUBLIC_URL": app_config["public_url"],
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    })
    return env


def pytest_report_header(config: pytest.Config) -> str:
    return f"loa: database={DATABASE_URL or 'sqlite (temporary file)'} redis={REDIS_URL or 'fakeredis (in-process)'}"


@pytest.fixture(scope="session", autouse=True)
def _quick_password_hashing() -> Iterator[None]:
    """Argon2 with its production cost (64 MB, several passes) for every test user would dominate the run; the
    algorithm stays the same, only cheaper. Subprocess tests still use the real cost."""
    from argon2 import PasswordHasher

    from publisher.accounts import services

    production = services._hasher
    services._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    services._hasher = production


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    if DATABASE_URL:
        return DATABASE_URL
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'loa-test.db'}"


def base_config(database_url: str, instance: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "instance_path": instance,
        "database_url": database_url if not database_url.startswith("postgresql://") else
        "postgresql+psycopg://" + database_url[len("postgresql://"):],
        "redis_url": REDIS_URL,
        "secret_key": "test-secret-key-that-is-long-enough",
        "media_dir": instance / "media",
        "public_url": "http://loa.test",
    }


@pytest.fixture(scope="session")
def _schema(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    app = create_app(base_config(database_url, tmp_path_factory.mktemp("schema")))
    with app.app_context():
        db.drop_all()
        db.create_all()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    yield


def empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # Rows pointing at rows of their own table (a unit's parent) would block a plain DELETE.
        for table in tables:
            for fk in table.foreign_keys:
                if fk.column.table is table and fk.parent.nullable:
                    db.session.execute(table.update().values({fk.parent.name: None}))
        for table in tables:
            # a self-referencing table (units.parent_id, RESTRICT) is emptied leaves first
            self_refs = [fk.parent for fk in table.foreign_keys if fk.column.table is table]
            for column in self_refs:
                while db.session.execute(table.delete().where(table.c.id.not_in(
                        select(column).where(column.is_not(None)).scalar_subquery()))).rowcount:
                    pass
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_config(database_url: str, tmp_path: Path) -> dict[str, Any]:
    """Settings and Flask keys for this test's app; override entries before the ``app`` fixture runs."""
    return base_config(database_url, tmp_path / "instance")


class IsolatedClient(FlaskClient):
    """Each request runs in its own app context, as in production: its own ``g`` (signed-in user) and its own
    database session. The test's session is expired afterwards so that it reads what the request committed."""

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[no-untyped-def]
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response


@pytest.fixture
def app(_schema: None, app_config: dict[str, Any]) -> Iterator[Flask]:
    from publisher import queue
    from publisher.website.services import forget_seen_readers

    queue.reset_embedded()
    forget_seen_readers()  # the site's in-process memory of today's readers belongs to the old Redis
    application = create_app(dict(app_config))
    application.test_client_class = IsolatedClient
    with application.app_context():
        if REDIS_URL:
            queue.redis_connection(application.extensions["publisher.settings"]).flushdb()
        empty_all_tables()
        yield application
        db.session.rollback()
        db.session.remove()
        empty_all_tables()
        db.session.remove()
        # Each test builds its own app and engine: close its pooled connections now, or a PostgreSQL server
        # shared with other suites runs out of connection slots long before garbage collection closes them.
        db.engine.dispose()
    shutil.rmtree(app_config["instance_path"], ignore_errors=True)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def settings(app: Flask):  # type: ignore[no-untyped-def]
    return app.extensions["publisher.settings"]


# --- factories: each returns a callable with sensible defaults; rows are committed ------------------------


@pytest.fixture
def root_unit(app: Flask):  # type: ignore[no-untyped-def]
    from publisher.accounts.services import get_root_unit

    unit = get_root_unit()
    db.session.commit()
    return unit


@pytest.fixture
def make_unit(app: Flask, root_unit) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.accounts.services import create_unit

    def make(name: str = "Công đoàn cơ sở", parent: Any = None) -> Any:
        unit = create_unit(name, parent or root_unit)
        db.session.commit()
        return unit

    return make


@pytest.fixture
def make_user(app: Flask, root_unit) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.accounts.services import create_user

    counter = iter(range(1, 10_000))

    def make(role: str = "editor", unit: Any = None, email: str | None = None, password: str = PASSWORD,
             **kwargs: Any) -> Any:
        user = create_user(email or f"{role}{next(counter)}@ldld.test", role, unit or root_unit, password=password,
                           name=kwargs.pop("name", f"Cán bộ {role}"), **kwargs)
        db.session.commit()
        return user

    return make


@pytest.fixture
def make_token(app: Flask) -> Callable[..., str]:
    from publisher.accounts.services import create_api_token

    def make(user: Any) -> str:
        token, _row = create_api_token(user)
        db.session.commit()
        return token

    return make


@pytest.fixture
def make_post(app: Flask, make_user) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.content.services import approve_post, create_post, submit_post

    def make(author: Any = None, state: str = "draft", **fields: Any) -> Any:
        author = author or make_user("editor")
        data = {"title": "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn", "summary": "Tóm tắt",
                "body_html": "<p>Nội dung bài viết</p>", **fields}
        post = create_post(author, data)
        if state in ("in_review", "approved"):
            submit_post(post, author)
        if state == "approved":
            approve_post(post, make_user("approver", unit=author.unit))
        db.session.commit()
        return post

    return make


@pytest.fixture
def make_campaign(app: Flask, make_user) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.content.services import create_campaign

    def make(user: Any = None, **fields: Any) -> Any:
        data = {"name": "Tháng Công nhân 2026", "description": "Chiến dịch tuyên truyền", "starts_on": "2026-05-01",
                "ends_on": "2026-05-31", "hashtags": ["ThangCongNhan"], **fields}
        campaign = create_campaign(user or make_user("editor"), data)
        db.session.commit()
        return campaign

    return make


class ApiClient:
    """A test client that speaks JSON with a bearer token."""

    def __init__(self, client: FlaskClient, token: str | None):
        self.client, self.token = client, token

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        if json is not None:
            kw["json"] = json
        return self.client.post(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def patch(self, path: str, json: Any = None, **kw: Any):  # type: ignore[no-untyped-def]
        if json is not None:
            kw["json"] = json
        return self.client.patch(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw: Any):  # type: ignore[no-untyped-def]
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)


@pytest.fixture
def api_as(client: FlaskClient, make_user, make_token) -> Callable[..., ApiClient]:  # type: ignore[no-untyped-def]
    """``api_as("editor")`` or ``api_as(user)``: an API client signed in with a fresh token."""

    def make(who: Any = "editor", **kwargs: Any) -> ApiClient:
        user = make_user(who, **kwargs) if isinstance(who, str) else who
        api = ApiClient(client, make_token(user))
        api.user = user  # type: ignore[attr-defined]
        return api

    return make


def wait_for_a_lock_wait(what: str, timeout: float = 10.0) -> None:
    """Until another transaction on this PostgreSQL database waits for a row lock (the race a test sets up has
    reached its point); fails with ``what`` if none does within ``timeout`` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while not db.session.scalar(text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                                     "AND datname = current_database()")):
        assert time.monotonic() < deadline, what
        db.session.rollback()
        time.sleep(0.02)
    db.session.rollback()


def race_for_a_row_lock(app: Flask, first: Callable[[], Any], second: Callable[[], Any], what: str) -> None:
    """PostgreSQL: ``first`` runs in a thread and writes without committing; then ``second`` runs in another and
    must wait for a row lock that ``first`` holds (``what`` says which, and fails the test if it never waits);
    then ``first`` commits, and ``second`` goes on and commits. Each has its own session; an error in either
    fails the test."""
    import threading

    written, go_on, errors = threading.Event(), threading.Event(), []

    def run(step: Callable[[], Any], hold: bool) -> None:
        with app.app_context():
            try:
                step()
                if hold:
                    written.set()
                    go_on.wait(10)
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                written.set()
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=(first, True)), threading.Thread(target=run, args=(second, False))]
    threads[0].start()
    assert written.wait(10)
    threads[1].start()
    wait_for_a_lock_wait(what)
    go_on.set()
    for thread in threads:
        thread.join(20)
    assert not errors, errors


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (1600, 1000), color: str = "red", exif: Any = None) -> bytes:
    image = Image.new("RGB", size, color)
    buf = io.BytesIO()
    kwargs = {"exif": exif} if exif is not None else {}
    image.save(buf, fmt, **kwargs)
    return buf.getvalue()


# --- the browser: one Chromium for the whole run (Playwright's sync API allows one running instance) -----------

CHROMIUM = "/usr/bin/chromium"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests are skipped where Debian's Chromium is missing, unless LOA_REQUIRE_BROWSER=1 (CI)."""
    if os.path.exists(CHROMIUM) or os.environ.get("LOA_REQUIRE_BROWSER") == "1":
        return  # the chromium fixture fails loudly when it is required and missing
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is not installed (set LOA_REQUIRE_BROWSER=1 to fail instead)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing and LOA_REQUIRE_BROWSER=1")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test's app served by werkzeug in a thread on 127.0.0.1; yields its base URL."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
