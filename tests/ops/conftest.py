"""A fresh, migrated instance for the operations commands (check, backup, restore), driven like an operator does:
settings in the environment, the ``publisher`` command through click's CliRunner."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from web.cli import cli


def run_cli(args: list[str], input: str | None = None) -> Result:
    return CliRunner().invoke(cli, args, input=input)


@pytest.fixture
def operator_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., dict[str, str]]:
    """``operator_env(name, **settings)``: the environment of an instance folder ``tmp_path/name`` with its own
    SQLite file (unless PUBLISHER_DATABASE_URL is given), made current for the CLI."""

    def use(name: str = "loa", **settings: str) -> dict[str, str]:
        for key in list(os.environ):
            if key.startswith("PUBLISHER_"):
                monkeypatch.delenv(key)
        monkeypatch.chdir(tmp_path)
        folder = tmp_path / name
        env = {"PUBLISHER_INSTANCE_PATH": str(folder), "PUBLISHER_DATABASE_URL": f"sqlite:///{folder}.db",
               "PUBLISHER_SECRET_KEY": "operator-secret-key-long-enough", "PUBLISHER_MEDIA_MIN_FREE_MB": "1"}
        env.update({f"PUBLISHER_{key.upper()}": value for key, value in settings.items()})
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return env

    return use


@pytest.fixture
def migrated(operator_env: Callable[..., dict[str, str]]) -> Callable[..., dict[str, str]]:
    """``migrated(name, **settings)``: as ``operator_env``, after ``publisher db upgrade``."""

    def make(name: str = "loa", **settings: Any) -> dict[str, str]:
        env = operator_env(name, **settings)
        result = run_cli(["db", "upgrade"])
        assert result.exit_code == 0, result.output
        return env

    return make
