"""Migrations: one Alembic head, and an empty database migrated to head has exactly the models' schema."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask_migrate import upgrade
from sqlalchemy.engine import make_url

from publisher.db import db
from web import MIGRATIONS_DIR, create_app

DATABASE_URL = os.environ.get("PUBLISHER_DATABASE_URL", "")


def test_exactly_one_head() -> None:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS_DIR)
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1, f"several Alembic heads: {heads}"


def _schema_differences(database_url: str, instance: Path) -> list:
    app = create_app({"instance_path": instance, "database_url": database_url,
                      "secret_key": "migration-test-secret-key", "TESTING": True})
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR)
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, db.metadata)
        db.session.remove()
        db.engine.dispose()
    return differences


def test_empty_sqlite_database_migrated_to_head_has_the_models_schema(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    assert _schema_differences(url, tmp_path / "instance") == []


@pytest.fixture
def throwaway_postgres() -> Iterator[str]:
    """A fresh PostgreSQL database on the test server, dropped afterwards (the test's own stays untouched)."""
    if not DATABASE_URL.startswith(("postgresql", "postgres:")):
        pytest.skip("PUBLISHER_DATABASE_URL is not PostgreSQL")
    import psycopg

    url = make_url(DATABASE_URL.replace("postgres://", "postgresql://", 1))
    name = f"loa_mig_{secrets.token_hex(6)}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_empty_postgresql_database_migrated_to_head_has_the_models_schema(throwaway_postgres: str,
                                                                           tmp_path: Path) -> None:
    assert _schema_differences(throwaway_postgres, tmp_path / "instance") == []


BEFORE_FRESHNESS = "a8c0e2f4b6d8"  # the revision before the per-post and per-channel years and the freshness


def _backfilled(database_url: str, instance: Path) -> tuple[dict, dict, dict]:
    """Figures loaded at the revision before the per-post and per-channel years and the channels' freshness, then
    the database migrated to head: what the migrations filled those tables with."""
    from datetime import UTC, date, datetime

    from sqlalchemy import insert, select

    from publisher.engagement.models import (
        EngagementChannelFreshness,
        EngagementChannelMonthly,
        EngagementChannelYearly,
        EngagementPostMonthly,
        EngagementPostYearly,
        EngagementTotals,
    )

    app = create_app({"instance_path": instance, "database_url": database_url,
                      "secret_key": "migration-test-secret-key", "TESTING": True})
    zero = {"reactions": 0, "comments": 0, "shares": 0, "watch_time": 0}
    t1, t2 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC), datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    with app.app_context():
        upgrade(directory=MIGRATIONS_DIR, revision=BEFORE_FRESHNESS)
        with db.engine.connect() as connection:  # rows only, without the posts and channels they name
            if connection.dialect.name == "sqlite":
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            else:
                connection.exec_driver_sql("SET session_replication_role = replica")
            connection.execute(insert(EngagementPostMonthly.__table__), [
                {"post_id": 1, "month": date(2026, 11, 1), "unit_id": 5, "campaign_id": 9, "views": 5, **zero},
                {"post_id": 1, "month": date(2026, 12, 1), "unit_id": 5, "campaign_id": 9, "views": 7, **zero},
                {"post_id": 1, "month": date(2027, 1, 1), "unit_id": 5, "campaign_id": 9, "views": 11, **zero},
                {"post_id": 2, "month": date(2026, 12, 1), "unit_id": 6, "campaign_id": None, "views": 3, **zero}])
            connection.execute(insert(EngagementChannelMonthly.__table__), [
                {"month": date(2026, 11, 1), "channel_id": 10, "unit_id": 5, "campaign_key": 9, "views": 5, **zero},
                {"month": date(2026, 12, 1), "channel_id": 10, "unit_id": 5, "campaign_key": 0, "views": 7, **zero},
                {"month": date(2027, 1, 1), "channel_id": 10, "unit_id": 5, "campaign_key": 9, "views": 11, **zero}])
            totals = {"views": 0, "reactions": 0, "comments": 0, "shares": 0, "removed": False, "measure_states": {},
                      "last_error": None}  # (every row names the same columns: one executemany)
            connection.execute(insert(EngagementTotals.__table__), [
                {"delivery_id": 1, "channel_id": 10, "unit_id": 5, "collected_at": t1, **totals},
                {"delivery_id": 2, "channel_id": 10, "unit_id": 5, "collected_at": t2, **totals, "last_error": "x"},
                {"delivery_id": 3, "channel_id": 10, "unit_id": 5, "collected_at": None, **totals},
                {"delivery_id": 4, "channel_id": 11, "unit_id": 6, "collected_at": t2, **{**totals, "removed": True}}])
            connection.commit()
        upgrade(directory=MIGRATIONS_DIR)
        years = {(r.post_id, r.year): (r.unit_id, r.campaign_id, r.views)
                 for r in db.session.scalars(select(EngagementPostYearly))}
        freshness = {r.channel_id: (r.unit_id, r.oldest, r.newest, r.failing, r.removed)
                     for r in db.session.scalars(select(EngagementChannelFreshness))}
        channel_years = {(r.year, r.channel_id, r.unit_id): r.views
                         for r in db.session.scalars(select(EngagementChannelYearly))}
        db.session.remove()
        db.engine.dispose()
    return years, freshness, channel_years


def _check_backfill(years: dict, freshness: dict, channel_years: dict) -> None:
    from datetime import UTC, datetime

    assert years == {(1, 2026): (5, 9, 12), (1, 2027): (5, 9, 11), (2, 2026): (6, None, 3)}
    t1, t2 = datetime(2026, 12, 1, 3, 0, tzinfo=UTC), datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    assert freshness == {10: (5, t1, t2, 1, 0), 11: (6, t2, t2, 0, 1)}
    assert channel_years == {(2026, 10, 5): 12, (2027, 10, 5): 11}


def test_the_migration_fills_the_post_years_and_the_channels_freshness_sqlite(tmp_path: Path) -> None:
    _check_backfill(*_backfilled(f"sqlite:///{tmp_path / 'migrated.db'}", tmp_path / "instance"))


def test_the_migration_fills_the_post_years_and_the_channels_freshness_postgresql(throwaway_postgres: str,
                                                                                 tmp_path: Path) -> None:
    _check_backfill(*_backfilled(throwaway_postgres, tmp_path / "instance"))
