"""The ``publisher`` command line. Every command builds the app from settings, works inside its context and
commits once at the end; bad arguments or settings end with one clear sentence and a non-zero exit."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from flask import Flask
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from publisher.settings import SettingsError

log = logging.getLogger("publisher")

# Areas add their command groups here: (name, import path of a click command/group).
EXTRA_COMMANDS: list[tuple[str, str]] = [
    ("feeds", "web.feeds_cli:feeds"),
    ("engagement", "web.reports.cli:engagement"),
]


def _public_url_is_set() -> bool:
    import os
    from pathlib import Path

    from publisher.settings import read_env_file

    if os.environ.get("PUBLISHER_PUBLIC_URL"):
        return True
    try:
        return bool(read_env_file(Path.cwd() / "config" / "publisher.env").get("PUBLISHER_PUBLIC_URL"))
    except SettingsError:
        return False


def _app(overrides: dict[str, Any] | None = None) -> Flask:
    from web import create_app

    return create_app(overrides)


def _fail(message: str, code: int = 1) -> None:
    click.echo(f"publisher: {message}", err=True)
    sys.exit(code)


def with_app(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Run the command inside an app context, commit at the end, and turn known failures into one sentence."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from publisher.db import db
        from publisher.errors import DomainError

        try:
            app = _app()
        except SettingsError as exc:
            _fail(f"bad setting: {exc}", 2)
        with app.app_context():
            try:
                result = fn(app, *args, **kwargs)
                db.session.commit()
                return result
            except DomainError as exc:
                db.session.rollback()
                message = str(exc.message)
                fields = getattr(exc, "fields", None)
                if fields:
                    message += " " + "; ".join(f"{k}: {', '.join(map(str, v))}" for k, v in fields.items())
                _fail(message)
            except OperationalError as exc:
                db.session.rollback()
                _fail(f"the database is not reachable or not migrated ({exc.orig.__class__.__name__}: "
                      f"{str(exc.orig).strip().splitlines()[0] if exc.orig else exc}); "
                      "check PUBLISHER_DATABASE_URL and run 'publisher db upgrade'")
            finally:
                db.session.remove()
                db.engine.dispose()  # a command leaves no pooled connections behind (CliRunner runs many in-process)

    wrapper.__name__ = fn.__name__
    wrapper.__doc__ = fn.__doc__
    return wrapper


class OneSentenceGroup(click.Group):
    """Usage errors end in one sentence on stderr (no usage block), like every other refusal of the CLI."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        try:
            result = super().main(*args, standalone_mode=False, **kwargs)
        except click.ClickException as exc:
            _fail(exc.format_message(), exc.exit_code)
        except click.Abort:
            _fail("aborted")
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=OneSentenceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Log debug messages.")
def cli(verbose: bool) -> None:
    """Loa: write once, approve, publish to every channel, report."""
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


# --- database ------------------------------------------------------------------------------------------


@cli.group()
def db() -> None:
    """Database schema."""


def upgrade_database(app: Flask) -> None:
    from flask_migrate import upgrade

    from web import MIGRATIONS_DIR

    logging.getLogger("alembic").setLevel(logging.WARNING)
    upgrade(directory=MIGRATIONS_DIR)
    from publisher.accounts.services import get_root_unit

    get_root_unit()


@db.command("upgrade")
@with_app
def db_upgrade(app: Flask) -> None:
    """Apply the Alembic migrations to PUBLISHER_DATABASE_URL."""
    upgrade_database(app)
    click.echo("database is up to date")


# --- users and tokens ----------------------------------------------------------------------------------


@cli.group()
def user() -> None:
    """User accounts."""


@user.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "editor", "approver", "viewer"]))
@click.option("--unit", "unit_id", type=int, default=None, help="Organisation unit id (default: the root unit).")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--locale", type=click.Choice(["vi", "en"]), default="vi")
@with_app
def user_create(app: Flask, email: str, role: str, unit_id: int | None, name: str, password_stdin: bool,
                locale: str) -> None:
    """Create a user in an organisation unit."""
    from publisher.accounts.services import create_user, get_root_unit, get_unit

    password = None
    if password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            _fail("no password on standard input")
    unit = get_unit(unit_id) if unit_id is not None else get_root_unit()
    created = create_user(email, role, unit, name=name, password=password, locale=locale)
    click.echo(f"created {created.role} {created.email} in unit {unit.id} ({unit.name})"
               + ("" if password else "; set a password with 'publisher user password' before signing in"))


@user.command("password")
@click.argument("email")
@with_app
def user_password(app: Flask, email: str) -> None:
    """Set a user's password (read from standard input, or asked for on a terminal)."""
    from publisher.accounts.services import find_user_by_email, set_password

    target = find_user_by_email(email)
    if target is None:
        _fail(f"no user with the e-mail address {email}")
    if sys.stdin.isatty():
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    set_password(target, password)
    click.echo(f"password set for {target.email}")


@cli.group()
def token() -> None:
    """API tokens."""


@token.command("create")
@click.argument("email")
@click.option("--name", default="", help="What the token is for.")
@with_app
def token_create(app: Flask, email: str, name: str) -> None:
    """Print a new API token for the user (and nothing else)."""
    from publisher.accounts.services import create_api_token, find_user_by_email

    target = find_user_by_email(email)
    if target is None:
        _fail(f"no user with the e-mail address {email}")
    if not target.active:
        _fail(f"the user {email} is deactivated")
    value, _row = create_api_token(target, name)
    click.echo(value)


# --- operations: check, backup, restore -------------------------------------------------------------------


@cli.command()
def check() -> None:
    """Settings, database (reachable, migrated), Redis, workers' heartbeat, media disk space, channels' tokens:
    one line each on standard output; exits 1 if anything is wrong (for cron and monitoring probes)."""
    from publisher.db import db as database
    from publisher.ops.check import CheckResult, run_checks
    from publisher.queue import redis_connection
    from web import MIGRATIONS_DIR

    try:
        app = _app()
    except SettingsError as exc:
        click.echo(CheckResult("settings", False, str(exc)).line())
        sys.exit(1)
    except OSError as exc:  # the media folder could not be made
        click.echo(CheckResult("media", False, f"cannot create the media folder ({exc.strerror or exc}: "
                                               f"{exc.filename}); check PUBLISHER_MEDIA_DIR").line())
        sys.exit(1)
    settings = app.extensions["publisher.settings"]
    with app.app_context():
        try:
            results = run_checks(settings, database.engine, redis_connection(settings), MIGRATIONS_DIR)
        finally:
            database.engine.dispose()
    for result in results:
        click.echo(result.line())
    sys.exit(0 if all(result.ok for result in results) else 1)


def _ops_app() -> Flask:
    try:
        return _app()
    except SettingsError as exc:
        _fail(f"bad setting: {exc}", 2)
    except OSError as exc:
        _fail(f"cannot create the media folder {exc.filename} ({exc.strerror or exc}); check PUBLISHER_MEDIA_DIR", 2)
    raise AssertionError("unreachable")


@cli.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Folder for the dated archive (default: <instance>/backups), or a file name ending .tar.gz.")
def backup(output: Path | None) -> None:
    """Back up the database and the media folder into one dated .tar.gz archive; prints its path."""
    from publisher.db import db as database
    from publisher.ops.backup import BackupError, create_backup

    app = _ops_app()
    with app.app_context():
        try:
            archive = create_backup(app.extensions["publisher.settings"], database.engine, output)
        except (BackupError, OSError, SQLAlchemyError) as exc:
            _fail(f"backup failed: {_ops_reason(exc)}")
        finally:
            database.engine.dispose()
    click.echo(str(archive))


@cli.command()
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace the database and media of an instance that is not empty.")
def restore(archive: Path, force: bool) -> None:
    """Restore a 'publisher backup' archive into this instance (its database and media folder must be empty,
    unless --force); then run 'publisher db upgrade' if the code is newer than the backup."""
    from publisher.db import db as database
    from publisher.ops.backup import BackupError, restore_backup

    app = _ops_app()
    with app.app_context():
        try:
            report = restore_backup(app.extensions["publisher.settings"], database.engine, archive, force=force)
        except (BackupError, OSError, SQLAlchemyError) as exc:
            _fail(f"restore failed: {_ops_reason(exc)}")
        finally:
            database.engine.dispose()
    key = {"same": "", "restored": "; the instance's secret key restored too",
           "differs": "; warning: PUBLISHER_SECRET_KEY differs from the backup's, so stored channel tokens cannot be "
                      "read (set the old key, or reconnect the channels)",
           "unknown": ""}[report.secret_key]
    click.echo(f"restored the {report.database} database ({report.tables} tables) and {report.media_files} media "
               f"files from {archive}{key}")


def _ops_reason(exc: BaseException) -> str:
    from publisher.ops.backup import BackupError

    if isinstance(exc, BackupError):
        return str(exc)
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None) or exc
        text = str(orig).strip().splitlines()
        return f"the database is not reachable ({orig.__class__.__name__}{': ' + text[0] if text else ''})"
    assert isinstance(exc, OSError)
    return f"{exc.strerror or exc}{': ' + str(exc.filename) if exc.filename else ''}"


# --- processes -----------------------------------------------------------------------------------------


def _first_start_hint(app: Flask) -> None:
    from publisher.accounts.services import count_users

    if count_users() == 0:
        click.echo(
            "\nNo users yet. Create the first administrator in another terminal:\n"
            "    publisher user create you@example.org --role admin --password-stdin\n"
            "then type the password (at least 10 characters) and press Enter.\n"
        )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--demo", is_flag=True, help="Also start sandbox Facebook and YouTube services and demo content.")
def run(host: str, port: int, demo: bool) -> None:
    """Embedded all-in-one: migrate, serve the web UI, site and API, and run a worker and the scheduler."""
    from werkzeug.serving import make_server

    from publisher.db import db as database

    sandboxes = None
    if demo:  # the sandboxes start first: the app's settings point at them
        from publisher.channels.sandbox import start_sandboxes

        sandboxes = start_sandboxes()
    overrides: dict[str, Any] = dict(sandboxes.settings_overrides()) if sandboxes else {}
    if not _public_url_is_set():
        # The website's links (article addresses sent to Facebook, feeds, sitemap) point at this very server.
        overrides["public_url"] = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"
    try:
        app = _app(overrides or None)
    except SettingsError as exc:
        _fail(f"bad setting: {exc}", 2)
    settings = app.extensions["publisher.settings"]
    with app.app_context():
        try:
            upgrade_database(app)
            database.session.commit()
        except SQLAlchemyError as exc:
            _fail(f"cannot prepare the database at {settings.database_url}: {exc.__class__.__name__}")
        if sandboxes is not None:
            from publisher.demo import set_up_demo

            click.echo("demo: sandbox services " + ", ".join(f"{k} {v}" for k, v in sandboxes.urls.items()))
            for line in set_up_demo(settings, sandboxes.demo_channels()):
                click.echo(f"demo: {line}")
            database.session.commit()
        else:
            _first_start_hint(app)
        for hook in RUN_HOOKS:
            hook(app, demo)
        database.session.commit()
    try:
        server = make_server(host, port, app, threaded=True)
    except OSError as exc:
        _fail(f"cannot listen on {host}:{port}: {exc.strerror or exc}")
    click.echo(f"Loa is running at http://{host}:{port}/admin/  (public site: http://{host}:{port}/)")
    click.echo(f"data: {settings.instance_path}   press Ctrl+C to stop")
    threading.Thread(target=server.serve_forever, name="web", daemon=True).start()
    from publisher.worker import run_embedded_worker

    try:
        run_embedded_worker(app)
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()
        if sandboxes is not None:
            sandboxes.stop()
        click.echo("stopped")


# Things `publisher run` starts besides the web server and the worker (the scheduler, sandbox services…):
# callables (app, demo) run inside the app context before serving.
RUN_HOOKS: list[Callable[[Flask, bool], None]] = []


def _start_scheduler(app: Flask, demo: bool) -> None:
    from publisher.scheduler.periodic import start_scheduler_thread

    start_scheduler_thread(app)


RUN_HOOKS.append(_start_scheduler)


@cli.command()
def scheduler() -> None:
    """The scheduler loop for production: queues due deliveries from the database, recovers stale publishes,
    sends the workers' heartbeat, and runs every other periodic job. One or more per installation."""
    try:
        app = _app()
    except SettingsError as exc:
        _fail(f"bad setting: {exc}", 2)
    if not app.extensions["publisher.settings"].redis_url:
        _fail("'publisher scheduler' needs PUBLISHER_REDIS_URL; without Redis use 'publisher run', "
              "which runs the scheduler in-process", 2)
    from publisher.scheduler.periodic import run_scheduler

    try:
        run_scheduler(app)
    except KeyboardInterrupt:
        pass


@cli.command()
@click.option("--burst", is_flag=True, help="Exit when the queues are empty.")
def worker(burst: bool) -> None:
    """An RQ worker for Loa's queues (needs PUBLISHER_REDIS_URL)."""
    try:
        app = _app()
    except SettingsError as exc:
        _fail(f"bad setting: {exc}", 2)
    if not app.extensions["publisher.settings"].redis_url:
        _fail("'publisher worker' needs PUBLISHER_REDIS_URL; without Redis use 'publisher run', "
              "which runs a worker in-process", 2)
    from publisher.scheduler import pipeline, wake
    from publisher.worker import run_worker

    with app.app_context():
        direct = pipeline.claims_directly(app.extensions["publisher.settings"])
    if direct and burst:
        wake.drain_due(app)  # what is due now, claimed from the database; then the queued jobs
    claimers = wake.ClaimThreads(app) if direct and not burst else None
    try:
        run_worker(app, burst=burst)
    finally:
        if claimers is not None:
            claimers.stop()


def main() -> None:
    import importlib

    for name, target in EXTRA_COMMANDS:
        module_name, _, attr = target.partition(":")
        cli.add_command(getattr(importlib.import_module(module_name), attr), name)
    cli(prog_name="publisher")


if __name__ == "__main__":
    main()
