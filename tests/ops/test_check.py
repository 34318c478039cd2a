"""``publisher check``: one line per thing, exit 0 when all is well, and each thing broken in turn is named
on its own line with a non-zero exit."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import fakeredis
import pytest
from sqlalchemy import create_engine, text

from publisher.ops.check import check_workers
from publisher.scheduler.jobs import HEARTBEAT_KEY
from publisher.settings import load_settings
from tests.ops.conftest import run_cli

REDIS_URL = os.environ.get("PUBLISHER_REDIS_URL")
NAMES = ["settings", "database", "redis", "workers", "media", "channels"]


def lines_of(output: str) -> dict[str, str]:
    lines = [line for line in output.strip().splitlines() if line.strip()]
    assert "Traceback" not in output
    parsed = dict(line.split(": ", 1) for line in lines)
    assert len(parsed) == len(lines)
    return parsed


def failed(output: str) -> set[str]:
    return {name for name, rest in lines_of(output).items() if rest.startswith("FAILED")}


@pytest.fixture
def heartbeat():  # type: ignore[no-untyped-def]
    """With the suite's Redis: a fresh heartbeat there, as a running worker leaves it."""
    if not REDIS_URL:
        yield None
        return
    from redis import Redis

    conn = Redis.from_url(REDIS_URL)
    conn.set(HEARTBEAT_KEY, json.dumps({"at": time.time(), "sent_at": None}))
    yield conn
    conn.delete(HEARTBEAT_KEY)
    conn.close()


def test_all_is_well_on_a_migrated_instance(migrated, heartbeat) -> None:  # type: ignore[no-untyped-def]
    migrated(**({"redis_url": REDIS_URL} if REDIS_URL else {}))
    result = run_cli(["check"])
    assert result.exit_code == 0, result.output
    parsed = lines_of(result.output)
    assert list(parsed) == NAMES
    assert all(rest.startswith("ok - ") for rest in parsed.values()), result.output
    assert "at migration head" in parsed["database"]


def test_bad_settings_are_one_failed_line(operator_env) -> None:  # type: ignore[no-untyped-def]
    operator_env(proxy_count="two")
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert list(lines_of(result.output)) == ["settings"]
    assert "FAILED - PUBLISHER_PROXY_COUNT: expected a whole number" in result.output


def test_an_unreachable_database(operator_env) -> None:  # type: ignore[no-untyped-def]
    operator_env(database_url="postgresql://postgres@127.0.0.1:1/loa_nowhere")
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"database", "channels"}
    assert "not reachable" in lines_of(result.output)["database"]


def test_a_database_never_migrated(operator_env) -> None:  # type: ignore[no-untyped-def]
    operator_env()
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert "not migrated; run 'publisher db upgrade'" in lines_of(result.output)["database"]
    assert failed(result.output) == {"database", "channels"}


def test_a_database_behind_the_codes_migrations(migrated) -> None:  # type: ignore[no-untyped-def]
    env = migrated()
    engine = create_engine(env["PUBLISHER_DATABASE_URL"])
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'c3d5e7f9a1b2'"))
    engine.dispose()
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"database"}
    assert "at migration c3d5e7f9a1b2, not the code's" in lines_of(result.output)["database"]


def test_an_unreachable_redis(migrated) -> None:  # type: ignore[no-untyped-def]
    migrated(redis_url="redis://:secret-password@127.0.0.1:1/0")
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"redis", "workers"}
    assert "not reachable at redis://127.0.0.1:1/0" in result.output
    assert "secret-password" not in result.output


@pytest.mark.skipif(not REDIS_URL, reason="needs the suite's Redis (PUBLISHER_REDIS_URL)")
def test_no_worker_heartbeat_in_redis(migrated, heartbeat) -> None:  # type: ignore[no-untyped-def]
    migrated(redis_url=REDIS_URL)
    heartbeat.set(HEARTBEAT_KEY, json.dumps({"at": time.time() - 600, "sent_at": None}))
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"workers"}
    assert "last heartbeat 600 s ago" in result.output


def test_the_workers_heartbeat_missing_stale_and_fresh(tmp_path: Path) -> None:
    settings = load_settings({}, overrides={"instance_path": tmp_path, "secret_key": "k" * 20,
                                            "redis_url": "redis://redis.example:6379/0",
                                            "heartbeat_grace_seconds": 120.0})
    redis = fakeredis.FakeStrictRedis()
    missing = check_workers(settings, redis)
    assert not missing.ok and "no worker has run the heartbeat job" in missing.detail
    redis.set(HEARTBEAT_KEY, json.dumps({"at": 1000.0, "sent_at": 999.0}))
    stale = check_workers(settings, redis, now=1000.0 + 121)
    assert not stale.ok and "121 s ago, more than PUBLISHER_HEARTBEAT_GRACE_SECONDS (120)" in stale.detail
    fresh = check_workers(settings, redis, now=1000.0 + 30)
    assert fresh.ok and fresh.line() == "workers: ok - heartbeat 30 s ago"


def test_too_little_disk_space_for_media(migrated) -> None:  # type: ignore[no-untyped-def]
    migrated(media_min_free_mb=str(10**12))
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"media"}
    assert "PUBLISHER_MEDIA_MIN_FREE_MB" in lines_of(result.output)["media"]


def test_a_media_folder_that_cannot_be_made(migrated, operator_env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    migrated()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the media folder should be")
    operator_env(media_dir=str(blocker / "media"))
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert list(lines_of(result.output)) == ["media"]
    assert "check PUBLISHER_MEDIA_DIR" in result.output


def test_a_channel_that_needs_reconnecting(migrated) -> None:  # type: ignore[no-untyped-def]
    from publisher.accounts.services import get_root_unit
    from publisher.channels.models import Channel
    from publisher.db import db
    from web import create_app

    migrated()
    app = create_app({"TESTING": True})
    with app.app_context():
        unit = get_root_unit()
        db.session.add_all([Channel(unit_id=unit.id, kind="facebook", name="Trang LĐLĐ tỉnh", settings={},
                                    state="needs_reconnect"),
                            Channel(unit_id=unit.id, kind="website", name="Cổng tin", settings={})])
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    result = run_cli(["check"])
    assert result.exit_code == 1
    assert failed(result.output) == {"channels"}
    assert "1 need reconnecting at /admin/channels: Trang LĐLĐ tỉnh (id " in result.output
