"""``publisher backup`` / ``publisher restore``: the database and the media folder in one dated ``.tar.gz``.

The archive holds ``loa-backup.json`` (what it is: format, time, database kind, migration, counts), the database
(``database.sqlite3``, a copy made with SQLite's online backup API, or ``database.pgdump``, ``pg_dump``'s custom
format) and ``media/``. When the secret key was generated into the instance folder (no PUBLISHER_SECRET_KEY), it
goes in too as ``secret_key``: without it the stored channel tokens could not be read after a restore.

A restore refuses a target that holds anything (tables in its database, files in its media folder) unless forced.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.engine import URL

from publisher import __version__
from publisher.settings import Settings

FORMAT = 1
MANIFEST = "loa-backup.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
MEDIA = "media"
SECRET_KEY_FILE = "secret_key"
SKIPPED_MEDIA_PREFIX = ".loa-check-"  # the probe file of `publisher check`


class BackupError(Exception):
    """A backup or restore cannot go on; the message is one sentence an operator can act on."""


@dataclass(frozen=True)
class RestoreReport:
    database: str
    tables: int
    media_files: int
    secret_key: str  # "restored", "same", "differs" or "unknown"


def archive_name(now: datetime | None = None) -> str:
    return f"loa-backup-{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}.tar.gz"


def key_fingerprint(secret_key: str) -> str:
    """Tells two secret keys apart without revealing either."""
    return hmac.new(secret_key.encode("utf-8"), b"loa-backup-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def _instance_key(settings: Settings) -> str | None:
    """The secret key when it is the instance folder's generated one (not set by PUBLISHER_SECRET_KEY)."""
    key_file = settings.instance_path / "secret_key"
    if key_file.is_file() and key_file.read_text(encoding="ascii").strip() == settings.secret_key:
        return settings.secret_key
    return None


def _libpq(engine: Engine) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for pg_dump / pg_restore, and the environment carrying the password (never an
    argument, which any user of the machine could read)."""
    url: URL = engine.url
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return url.set(drivername="postgresql", password=None).render_as_string(hide_password=False), env


def _run(command: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(f"{command[0]} is not installed; install PostgreSQL's client programs "
                          "(Debian: apt install postgresql-client)") from None
    if done.returncode != 0:
        detail = next((line for line in done.stderr.splitlines() if line.strip()), f"exit status {done.returncode}")
        raise BackupError(f"{what} failed: {detail.strip()}")


def _sqlite_path(engine: Engine) -> Path:
    database = engine.url.database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(database)


def _revision(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return sorted(MigrationContext.configure(connection).get_current_heads())


def _media_files(media_dir: Path) -> list[Path]:
    if not media_dir.is_dir():
        return []
    return sorted(p for p in media_dir.rglob("*") if not p.is_dir() and not p.name.startswith(SKIPPED_MEDIA_PREFIX))


def create_backup(settings: Settings, engine: Engine, output: Path | None = None) -> Path:
    """Write the archive into ``output`` (a folder, default ``<instance>/backups``; or a file ending ``.tar.gz``)
    and return its path. The file appears only once complete (written under a temporary name, then renamed)."""
    output = output or settings.instance_path / "backups"
    if output.name.endswith(".tar.gz"):
        target = output
    else:
        output.mkdir(parents=True, exist_ok=True)
        target = output / archive_name()
    target.parent.mkdir(parents=True, exist_ok=True)
    kind = engine.dialect.name
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {kind} database (SQLite and PostgreSQL only)")
    with tempfile.TemporaryDirectory(prefix=".loa-backup-", dir=target.parent) as work:
        work_dir = Path(work)
        # The database first, then the media: a file uploaded meanwhile is at worst an unused extra in the archive.
        if kind == "sqlite":
            source = _sqlite_path(engine)
            if not source.is_file():
                raise BackupError(f"there is no database at {source}; check PUBLISHER_DATABASE_URL")
            db_file = work_dir / SQLITE_FILE
            # The online backup API: a consistent copy while Loa keeps writing.
            _sqlite_copy(sqlite3.connect(f"file:{source}?mode=ro", uri=True), sqlite3.connect(db_file))
        else:
            db_file = work_dir / PG_FILE
            dsn, env = _libpq(engine)
            _run(["pg_dump", "--format=custom", "--no-owner", "--no-acl", f"--file={db_file}", dsn], env, "pg_dump")
        media = _media_files(settings.media_dir)
        instance_key = _instance_key(settings)
        manifest = {
            "format": FORMAT, "loa": __version__, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "database": kind, "revision": _revision(engine), "media_files": len(media),
            "media_bytes": sum(p.stat().st_size for p in media),
            "secret_key_fingerprint": key_fingerprint(settings.secret_key),
            "secret_key_included": instance_key is not None,
        }
        partial = work_dir / "archive.tar.gz"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # it holds everything: owner only
        # compresslevel 1: media (JPEG, video) do not compress, and a dump is compressed already.
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz", compresslevel=1) as tar:
            _add_bytes(tar, MANIFEST, json.dumps(manifest, indent=2).encode("utf-8"))
            tar.add(db_file, arcname=db_file.name)
            if instance_key is not None:
                _add_bytes(tar, SECRET_KEY_FILE, (instance_key + "\n").encode("ascii"))
            for path in media:
                tar.add(path, arcname=f"{MEDIA}/{path.relative_to(settings.media_dir).as_posix()}", recursive=False)
        os.replace(partial, target)
    return target


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(datetime.now(UTC).timestamp())
    info.mode = 0o600
    tar.addfile(info, io.BytesIO(data))


def read_manifest(tar: tarfile.TarFile, archive: Path) -> dict[str, Any]:
    try:
        member = tar.extractfile(MANIFEST)
        manifest = json.loads(member.read()) if member else None
    except (KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive} is not a Loa backup (no readable {MANIFEST} of format {FORMAT})")
    return manifest


def target_contents(settings: Settings, engine: Engine) -> tuple[int, int]:
    """(tables in the target database, files in its media folder)."""
    if engine.dialect.name == "sqlite" and not _sqlite_path(engine).exists():
        tables = 0
    else:
        tables = len(inspect(engine).get_table_names())
    engine.dispose()
    return tables, len(_media_files(settings.media_dir))


def restore_backup(settings: Settings, engine: Engine, archive: Path, force: bool = False) -> RestoreReport:
    """Put the archive's database and media in place of this instance's (which must be empty unless ``force``)."""
    try:
        tar = tarfile.open(archive, mode="r:gz")
    except (OSError, tarfile.TarError) as exc:
        raise BackupError(f"cannot read {archive} as a .tar.gz archive ({exc.__class__.__name__})") from None
    with tar:
        manifest = read_manifest(tar, archive)
        kind = engine.dialect.name
        if manifest.get("database") != kind:
            raise BackupError(f"this archive holds a {manifest.get('database')} database and this instance uses "
                              f"{kind}; restore it into a {manifest.get('database')} database")
        tables, files = target_contents(settings, engine)
        if (tables or files) and not force:
            raise BackupError(f"the target is not empty ({tables} tables in its database, {files} files in "
                              f"{settings.media_dir}); restore into an empty instance, or add --force to replace them")
        settings.media_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".loa-restore-", dir=settings.media_dir.parent) as work:
            work_dir = Path(work)
            try:
                tar.extractall(work_dir, filter="data")  # refuses absolute paths, "..", devices and links out
            except (OSError, tarfile.TarError) as exc:
                raise BackupError(f"cannot unpack {archive} ({exc.__class__.__name__}: {exc})") from None
            if kind == "sqlite":
                _restore_sqlite(engine, work_dir / SQLITE_FILE)
            else:
                _restore_postgresql(engine, work_dir / PG_FILE, clear=bool(tables))
            restored_files = _replace_media(settings.media_dir, work_dir / MEDIA)
            secret = _restore_secret_key(settings, manifest, work_dir / SECRET_KEY_FILE)
    tables_after, _ = target_contents(settings, engine)
    return RestoreReport(database=kind, tables=tables_after, media_files=restored_files, secret_key=secret)


def _restore_sqlite(engine: Engine, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"the archive has no {SQLITE_FILE}")
    target = _sqlite_path(engine)
    target.parent.mkdir(parents=True, exist_ok=True)
    engine.dispose()
    _sqlite_copy(sqlite3.connect(source), sqlite3.connect(target))  # replaces the whole target database


def _sqlite_copy(source: sqlite3.Connection, target: sqlite3.Connection) -> None:
    try:
        source.backup(target)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy the database ({exc})") from None
    finally:
        source.close()
        target.close()


def _restore_postgresql(engine: Engine, source: Path, clear: bool) -> None:
    if not source.is_file():
        raise BackupError(f"the archive has no {PG_FILE}")
    if clear:  # forced over an existing database: start from an empty schema, as the dump expects
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    dsn, env = _libpq(engine)
    _run(["pg_restore", "--no-owner", "--no-acl", "--exit-on-error", "--single-transaction", f"--dbname={dsn}",
          str(source)], env, "pg_restore")


def _replace_media(media_dir: Path, restored: Path) -> int:
    for entry in media_dir.iterdir():  # forced: the old files go (an empty target has none)
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    count = 0
    if restored.is_dir():
        for entry in restored.iterdir():
            os.replace(entry, media_dir / entry.name)  # same file system: the temporary folder is beside it
        count = len(_media_files(media_dir))
    return count


def _restore_secret_key(settings: Settings, manifest: dict[str, Any], archived: Path) -> str:
    """The archived instance key replaces this instance's generated one; a key set by PUBLISHER_SECRET_KEY is
    never overwritten (the caller is told when it differs from the backup's)."""
    same = manifest.get("secret_key_fingerprint") == key_fingerprint(settings.secret_key)
    if same:
        return "same"
    if archived.is_file() and _instance_key(settings) is not None:
        key_file = settings.instance_path / "secret_key"
        fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(archived.read_text(encoding="ascii").strip() + "\n")
        return "restored"
    return "differs" if manifest.get("secret_key_fingerprint") else "unknown"
