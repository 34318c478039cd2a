"""The ``publisher`` command line: through click's CliRunner on ``web.cli.cli`` and as a real subprocess."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner
from sqlalchemy import select

from publisher.accounts.models import User
from publisher.accounts.services import authenticate
from publisher.db import db
from web.cli import cli

ROOT = Path(__file__).resolve().parent.parent


def one_sentence_no_traceback(output: str) -> None:
    assert "Traceback" not in output
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert lines, "no message at all"
    assert len(lines) == 1, f"expected one line, got: {output!r}"


@pytest.fixture
def cli_env(app, app_config, monkeypatch, tmp_path) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """The CLI reads its settings from the environment: point it at this test's database."""
    for key in list(os.environ):
        if key.startswith("PUBLISHER_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    env = {
        "PUBLISHER_INSTANCE_PATH": str(app_config["instance_path"]),
        "PUBLISHER_DATABASE_URL": app_config["database_url"],
        "PUBLISHER_SECRET_KEY": app_config["secret_key"],
    }
    if app_config.get("redis_url"):
        env["PUBLISHER_REDIS_URL"] = app_config["redis_url"]
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def invoke(args: list[str], input: str | None = None, env: dict[str, str] | None = None) -> Any:
    result = CliRunner().invoke(cli, args, input=input, env=env)
    db.session.expire_all()
    return result


# --- user create ---------------------------------------------------------------------------------------------


def test_user_create_reads_the_password_from_the_first_line_of_stdin(cli_env, root_unit) -> None:  # type: ignore[no-untyped-def]
    password = "  mật khẩu có dấu cách  "
    result = invoke(["user", "create", "Chu.Tich@LDLD.test", "--role", "admin", "--password-stdin"],
                    input=password + "\r\nsecond line ignored\n")
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.email == "chu.tich@ldld.test"))
    assert user is not None and user.role == "admin" and user.unit_id == root_unit.id and user.active
    assert user.password_hash.startswith("$argon2")
    assert authenticate("chu.tich@ldld.test", password) is not None
    assert authenticate("chu.tich@ldld.test", password.strip()) is None


def test_user_create_in_a_unit(cli_env, make_unit) -> None:  # type: ignore[no-untyped-def]
    district = make_unit("LĐLĐ huyện Văn Lâm")
    result = invoke(["user", "create", "bt@ldld.test", "--role", "editor", "--unit", str(district.id),
                     "--password-stdin"], input="mat-khau-rat-dai\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "bt@ldld.test")).unit_id == district.id


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["user", "create", "a@ldld.test", "--role", "boss", "--password-stdin"], "role"),
        (["user", "create", "a@ldld.test", "--role", "editor", "--unit", "999999", "--password-stdin"], ""),
        (["user", "create", "not-an-email", "--role", "editor", "--password-stdin"], "email"),
        (["user", "create", "a@ldld.test", "--role", "editor", "--password-stdin"], "password"),
    ],
)
def test_user_create_refuses_bad_arguments_in_one_sentence(cli_env, root_unit, args, words) -> None:  # type: ignore[no-untyped-def]
    stdin = "short\n" if "a@ldld.test" in args and "999999" not in args and "boss" not in args else "mat-khau-dai-du\n"
    result = invoke(args, input=stdin)
    assert result.exit_code != 0
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)
    one_sentence_no_traceback(result.output)
    assert words in result.output
    assert db.session.scalar(select(User).where(User.email == "a@ldld.test")) is None


def test_user_create_refuses_a_duplicate_email(cli_env, make_user) -> None:  # type: ignore[no-untyped-def]
    make_user("editor", email="trung@ldld.test")
    result = invoke(["user", "create", "TRUNG@ldld.test", "--role", "admin", "--password-stdin"],
                    input="mat-khau-rat-dai\n")
    assert result.exit_code != 0
    assert isinstance(result.exception, SystemExit)
    one_sentence_no_traceback(result.output)
    assert db.session.scalar(select(User).where(User.email == "trung@ldld.test")).role == "editor"


def test_user_create_without_a_password_line(cli_env, root_unit) -> None:  # type: ignore[no-untyped-def]
    result = invoke(["user", "create", "a@ldld.test", "--role", "editor", "--password-stdin"], input="")
    assert result.exit_code != 0
    one_sentence_no_traceback(result.output)


# --- token create --------------------------------------------------------------------------------------------


def test_token_create_prints_only_a_working_token(cli_env, make_user, client) -> None:  # type: ignore[no-untyped-def]
    make_user("editor", email="token@ldld.test")
    result = CliRunner().invoke(cli, ["token", "create", "token@ldld.test"])
    assert result.exit_code == 0, result.output
    token = result.stdout
    assert re.fullmatch(r"loa_[A-Za-z0-9_\-]{40,}\n", token)
    db.session.expire_all()
    answer = client.get("/api/v1/units", headers={"Authorization": f"Bearer {token.strip()}"})
    assert answer.status_code == 200, answer.get_json()


def test_token_create_for_an_unknown_or_deactivated_user(cli_env, make_user) -> None:  # type: ignore[no-untyped-def]
    result = invoke(["token", "create", "nobody@ldld.test"])
    assert result.exit_code != 0
    one_sentence_no_traceback(result.output)
    user = make_user("editor", email="gone@ldld.test")
    user.active = False
    db.session.commit()
    result = invoke(["token", "create", "gone@ldld.test"])
    assert result.exit_code != 0
    one_sentence_no_traceback(result.output)


# --- bad settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("setting", ["PUBLISHER_TIMEZONE=Mars/Base", "PUBLISHER_FOO=1",
                                     "PUBLISHER_DATABASE_URL=mysql://x"])
@pytest.mark.parametrize("command", [["user", "create", "a@ldld.test", "--role", "editor"],
                                     ["token", "create", "a@ldld.test"], ["db", "upgrade"], ["worker", "--burst"],
                                     ["run", "--port", "1"]])
def test_bad_settings_end_in_one_sentence(cli_env, setting, command) -> None:  # type: ignore[no-untyped-def]
    key, _, value = setting.partition("=")
    result = invoke(command, env={key: value})
    assert result.exit_code not in (0, None)
    assert isinstance(result.exception, SystemExit)
    one_sentence_no_traceback(result.output)
    assert key in result.output


# --- as a real process ---------------------------------------------------------------------------------------


def process_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update({"PYTHONPATH": str(ROOT), "PUBLISHER_INSTANCE_PATH": str(tmp_path / "instance"),
                "PYTHONUNBUFFERED": "1"}, **extra)
    return env


def publisher(args: list[str], tmp_path: Path, input: str | None = None, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "web.cli", *args], input=input, capture_output=True, text=True,
                          cwd=tmp_path, env=process_env(tmp_path, **env), timeout=120)


def test_db_upgrade_then_user_and_token_as_processes(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    database.touch()
    url = f"sqlite:///{database}"
    done = publisher(["db", "upgrade"], tmp_path, PUBLISHER_DATABASE_URL=url)
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert {"alembic_version", "units", "users", "api_tokens", "posts", "post_variants", "post_revisions",
                "media_items", "campaigns", "audit_log"} <= tables
        assert conn.execute("SELECT count(*) FROM units WHERE parent_id IS NULL").fetchone()[0] == 1
    again = publisher(["db", "upgrade"], tmp_path, PUBLISHER_DATABASE_URL=url)
    assert again.returncode == 0, again.stderr

    made = publisher(["user", "create", "admin@ldld.test", "--role", "admin", "--password-stdin"], tmp_path,
                     input="mat-khau-rat-dai-2026\n", PUBLISHER_DATABASE_URL=url)
    assert made.returncode == 0, made.stderr
    with sqlite3.connect(database) as conn:
        stored_hash = conn.execute("SELECT password_hash FROM users").fetchone()[0]
    assert stored_hash.startswith("$argon2id$") and "m=65536" in stored_hash  # argon2's full production cost
    token = publisher(["token", "create", "admin@ldld.test"], tmp_path, PUBLISHER_DATABASE_URL=url)
    assert token.returncode == 0, token.stderr
    assert re.fullmatch(r"loa_\S+\n", token.stdout)

    duplicate = publisher(["user", "create", "admin@ldld.test", "--role", "admin", "--password-stdin"], tmp_path,
                          input="mat-khau-rat-dai-2026\n", PUBLISHER_DATABASE_URL=url)
    assert duplicate.returncode != 0
    one_sentence_no_traceback(duplicate.stderr + duplicate.stdout)


@pytest.mark.parametrize("setting", [{"PUBLISHER_TIMEZONE": "Mars/Base"}, {"PUBLISHER_FOO": "1"},
                                     {"PUBLISHER_DATABASE_URL": "mysql://x"}])
def test_bad_settings_as_a_process(tmp_path: Path, setting: dict[str, str]) -> None:
    done = publisher(["db", "upgrade"], tmp_path, **setting)
    assert done.returncode != 0
    one_sentence_no_traceback(done.stderr + done.stdout)
    assert next(iter(setting)) in done.stderr


def test_unmigrated_database_is_one_sentence(tmp_path: Path) -> None:
    done = publisher(["user", "create", "a@ldld.test", "--role", "admin", "--password-stdin"], tmp_path,
                     input="mat-khau-rat-dai-2026\n", PUBLISHER_DATABASE_URL=f"sqlite:///{tmp_path / 'none.db'}")
    assert done.returncode != 0
    one_sentence_no_traceback(done.stderr + done.stdout)
    assert "publisher db upgrade" in done.stderr


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Output:
    """Collects a process's output lines in a thread so that reading never blocks the test."""

    def __init__(self, stream: Any):
        self.lines: list[str] = []
        self.thread = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self.thread.start()

    def _read(self, stream: Any) -> None:
        for line in stream:
            self.lines.append(line)

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text:
            if time.monotonic() > deadline:
                raise AssertionError(f"{needle!r} never appeared in:\n{self.text}")
            time.sleep(0.1)


@pytest.mark.slow
def test_publisher_run_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    env = process_env(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "web.cli", "run", "--port", str(port)], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = Output(proc.stdout)
    try:
        output.wait_for("Loa is running")
        assert "publisher user create" in output.text and "--role admin" in output.text
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded machine may need a moment before the worker's first heartbeat
        health = requests.get(f"{base}/api/v1/health", timeout=10)
        while health.status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
            health = requests.get(f"{base}/api/v1/health", timeout=10)
        assert health.status_code == 200, health.text
        # Without PUBLISHER_PUBLIC_URL the website's own links point at this server.
        assert f"<link>{base}/</link>" in requests.get(f"{base}/rss.xml", timeout=10).text
        body = health.json()  # the contract's keys (the pipeline adds heartbeat and queue figures)
        assert {k: body[k] for k in ("status", "database", "queue")} == {"status": "ok", "database": "ok", "queue": "ok"}

        made = subprocess.run([sys.executable, "-m", "web.cli", "user", "create", "admin@ldld.test", "--role",
                               "admin", "--password-stdin"], input="mat-khau-rat-dai-2026\n", capture_output=True,
                              text=True, cwd=tmp_path, env=env, timeout=60)
        assert made.returncode == 0, made.stderr

        session = requests.Session()
        admin = session.get(f"{base}/admin/", allow_redirects=False, timeout=10)
        assert admin.status_code in (302, 303)
        login_url = requests.compat.urljoin(base, admin.headers["Location"])
        assert "/admin/login" in login_url
        page = session.get(login_url, timeout=10)
        assert page.status_code == 200
        html = page.text
        assert '<html lang="vi"' in html
        assert re.search(r'<input[^>]*type="email"[^>]*name="email"|<input[^>]*name="email"[^>]*type="email"', html)
        assert re.search(r'<input[^>]*type="password"', html)
        assert re.search(r'<input[^>]*type="hidden"[^>]*name="[^"]*csrf[^"]*"|'
                         r'<input[^>]*name="[^"]*csrf[^"]*"[^>]*type="hidden"', html)
        refused = session.post(login_url, data={"email": "admin@ldld.test", "password": "mat-khau-rat-dai-2026"},
                               allow_redirects=False, timeout=10)
        assert refused.status_code == 400
        still_out = session.get(f"{base}/admin/", allow_redirects=False, timeout=10)
        assert still_out.status_code in (302, 303)
        with sqlite3.connect(tmp_path / "instance" / "publisher.db") as conn:
            assert conn.execute("SELECT last_login_at FROM users").fetchone()[0] is None
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("publisher run did not stop on Ctrl+C:\n" + output.text) from None
    assert proc.returncode in (0, -signal.SIGINT, 130), output.text
    assert "Traceback" not in output.text, output.text
