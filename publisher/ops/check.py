"""``publisher check``: one line per thing an installation needs, for cron and monitoring probes.

Each check returns a :class:`CheckResult`; none raises. The database and channels are read through a plain
engine (no session, nothing written); Redis through the connection the workers use.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from publisher.channels.models import Channel
from publisher.scheduler.jobs import HEARTBEAT_KEY
from publisher.settings import Settings

MB = 1024 * 1024


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str

    def line(self) -> str:
        return f"{self.name}: {'ok' if self.ok else 'FAILED'} - {self.detail}"


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{cause.__class__.__name__}: {text[0]}" if text else cause.__class__.__name__


def _redis_address(url: str) -> str:
    """The Redis URL without its password, for messages."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def migration_heads(migrations_dir: str | Path) -> set[str]:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    return set(ScriptDirectory.from_config(config).get_heads())


def check_database(engine: Engine, migrations_dir: str | Path) -> CheckResult:
    """Reachable, and at the Alembic head (the code's newest migration)."""
    heads = migration_heads(migrations_dir)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    except SQLAlchemyError as exc:
        return CheckResult("database", False, f"not reachable ({_first_line(exc)}); check PUBLISHER_DATABASE_URL")
    kind = engine.dialect.name
    if not current:
        return CheckResult("database", False, f"{kind} reachable but not migrated; run 'publisher db upgrade'")
    if current != heads:
        return CheckResult("database", False, f"{kind} at migration {', '.join(sorted(current))}, not the code's "
                           f"{', '.join(sorted(heads))}; run 'publisher db upgrade'")
    return CheckResult("database", True, f"{kind} reachable, at migration head {', '.join(sorted(heads))}")


def check_redis(settings: Settings, redis: Any) -> CheckResult:
    if not settings.redis_url:
        return CheckResult("redis", True, "not configured: the in-process stand-in, for 'publisher run' only")
    try:
        redis.ping()
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", said in the line
        return CheckResult("redis", False, f"not reachable at {_redis_address(settings.redis_url)} "
                           f"({exc.__class__.__name__}); check PUBLISHER_REDIS_URL")
    return CheckResult("redis", True, f"reachable at {_redis_address(settings.redis_url)}")


def check_workers(settings: Settings, redis: Any, now: float | None = None) -> CheckResult:
    """The heartbeat job (sent by the scheduler, run by a worker) ran within PUBLISHER_HEARTBEAT_GRACE_SECONDS."""
    if not settings.redis_url:
        return CheckResult("workers", True, "not checked: 'publisher run' runs its worker in-process")
    try:
        raw = redis.get(HEARTBEAT_KEY)
    except Exception as exc:  # noqa: BLE001
        return CheckResult("workers", False, f"heartbeat unknown: Redis not reachable ({exc.__class__.__name__})")
    if not raw:
        return CheckResult("workers", False, "no worker has run the heartbeat job; are 'publisher worker' and "
                           "'publisher scheduler' running?")
    try:
        beat = float(json.loads(raw)["at"])
    except (ValueError, KeyError, TypeError):
        return CheckResult("workers", False, "the heartbeat in Redis is unreadable")
    age = (time.time() if now is None else now) - beat
    grace = settings.heartbeat_grace_seconds
    if age > grace:
        return CheckResult("workers", False, f"last heartbeat {age:.0f} s ago, more than "
                           f"PUBLISHER_HEARTBEAT_GRACE_SECONDS ({grace:g}); are the workers and the scheduler running?")
    return CheckResult("workers", True, f"heartbeat {age:.0f} s ago")


def check_media(settings: Settings) -> CheckResult:
    """The media folder exists, takes a new file, and its disk has PUBLISHER_MEDIA_MIN_FREE_MB free."""
    folder = settings.media_dir
    if not folder.is_dir():
        return CheckResult("media", False, f"{folder} is not a folder; check PUBLISHER_MEDIA_DIR")
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".loa-check-"):
            pass
    except OSError as exc:
        return CheckResult("media", False, f"cannot write to {folder} ({exc.strerror or exc})")
    free = shutil.disk_usage(folder).free
    wanted = settings.media_min_free_bytes
    if free < wanted:
        return CheckResult("media", False, f"{free // MB:,} MB free on the disk of {folder}, less than "
                           f"{wanted // MB:,} MB (PUBLISHER_MEDIA_MIN_FREE_MB)")
    return CheckResult("media", True, f"{free // MB:,} MB free in {folder}")


def check_channels(engine: Engine) -> CheckResult:
    """No channel waits for an admin to reconnect it (expired or revoked tokens)."""
    table = Channel.__table__
    try:
        with engine.connect() as connection:
            stale = connection.execute(select(table.c.id, table.c.name).where(table.c.state == "needs_reconnect")
                                       .order_by(table.c.id)).all()
            total = connection.scalar(select(func.count()).select_from(table).where(table.c.state == "connected"))
    except SQLAlchemyError as exc:
        return CheckResult("channels", False, f"not checked: the database is not readable ({_first_line(exc)})")
    if stale:
        names = ", ".join(f"{name} (id {id_})" for id_, name in stale[:5]) + (", …" if len(stale) > 5 else "")
        return CheckResult("channels", False, f"{len(stale)} need reconnecting at /admin/channels: {names}")
    return CheckResult("channels", True, f"{total or 0} connected, none needs reconnecting")


def run_checks(settings: Settings, engine: Engine, redis: Any, migrations_dir: str | Path) -> list[CheckResult]:
    """Every check after the settings (which the caller has loaded), in the order they are printed."""
    return [
        CheckResult("settings", True, f"loaded ({settings.database_url.partition(':')[0]} database, "
                    f"{'Redis' if settings.redis_url else 'no Redis'}, "
                    f"{settings.proxy_count or 'no'} {'proxy' if settings.proxy_count == 1 else 'proxies'} trusted)"),
        check_database(engine, migrations_dir),
        check_redis(settings, redis),
        check_workers(settings, redis),
        check_media(settings),
        check_channels(engine),
    ]
