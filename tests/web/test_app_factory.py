"""The app factory: what a production process gets that a test app does not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys, tempfile
from web import create_app
config = {{"instance_path": tempfile.mkdtemp(), "secret_key": "probe-secret-key-0123456789", {extra}}}
create_app(config)
print(gc.get_freeze_count())
"""


def freeze_count(extra: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE.format(extra=extra)], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, check=True, env={"PATH": "/usr/bin:/bin", "HOME": str(ROOT)})
    return int(done.stdout.strip().splitlines()[-1])


def test_a_production_app_moves_its_start_up_heap_out_of_the_collectors_reach(tmp_path):  # type: ignore[no-untyped-def]
    database = f'"database_url": "sqlite:///{tmp_path / "probe.db"}"'
    assert freeze_count(database) > 10_000  # modules, app, mappers: frozen once built
    assert freeze_count(database + ', "TESTING": True') == 0  # a test session's apps must stay collectable
