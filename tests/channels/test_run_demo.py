"""``publisher run --demo`` end to end in a child process: sandboxes, demo channels and content, offline."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.slow
def test_run_demo_serves_with_demo_channels(tmp_path):  # type: ignore[no-untyped-def]
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PUBLISHER_")}
    env.update(PYTHONPATH=str(ROOT), PUBLISHER_INSTANCE_PATH=str(tmp_path / "instance"))
    process = subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "run", "--demo", "--port",
                                str(port)], cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    lines: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
            if "Loa is running" in line:
                break
        output = "".join(lines)
        assert "Loa is running" in output, output
        assert "demo: channel #" in output and "facebook: Trang Facebook" in output and "(connected)" in output
        assert "demo: post #" in output and "admin@demo.loa" in output
        assert requests.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).json()["database"] == "ok"
    finally:
        process.terminate()
        process.wait(timeout=20)
