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
