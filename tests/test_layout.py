"""The map of the parts (README, Layout) holds: import-linter checks the contracts in pyproject.toml.

import-linter reads every import statement, function-level ones included, so an arrow the map forbids cannot be
hidden inside a function; only imports under ``if TYPE_CHECKING:`` (which never run) are left out.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

import grimp
import pytest
from importlinter.cli import lint_imports

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "pyproject.toml"


def test_the_code_keeps_the_map_of_the_parts(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)
    report = capsys.readouterr().out
    assert exit_code == 0, report
    assert "0 broken" in report


def test_the_contracts_name_the_arrows_the_map_forbids() -> None:
    contracts = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["tool"]["importlinter"]["contracts"]
    forbidden = {(source, target) for c in contracts if c["type"] == "forbidden"
                 for source in c["source_modules"] for target in c["forbidden_modules"]}
    assert forbidden >= {
        ("publisher", "web"),
        ("publisher.content", "publisher.scheduler"), ("publisher.content", "publisher.hierarchy"),
        ("publisher.channels", "publisher.content"), ("publisher.channels", "publisher.scheduler"),
        ("publisher.website", "publisher.channels"), ("publisher.website", "publisher.scheduler"),
    }
    assert any(c["type"] == "acyclic_siblings" and c["ancestors"] == ["publisher"] for c in contracts)


def test_every_part_is_a_package_the_linter_sees() -> None:
    """A folder without ``__init__.py`` is a namespace package, which import-linter silently skips."""
    graph = grimp.build_graph("publisher", cache_dir=None)
    folders = {p.name for p in (ROOT / "publisher").iterdir()
               if p.is_dir() and p.name != "__pycache__" and any(p.glob("*.py"))}
    assert folders <= {m.split(".")[1] for m in graph.modules if m.count(".") == 1}
