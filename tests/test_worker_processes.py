"""`publisher worker` as a real process against real Redis: RQ's scheduler (which moves delayed retries onto their
queues) lives and dies with its worker, and the lock a dead worker held is taken over at once by another worker.

Skipped unless PUBLISHER_REDIS_URL is set (CI sets it)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from redis import Redis

from tests.conftest import REDIS_URL, process_env

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs PUBLISHER_REDIS_URL")

ROOT = Path(__file__).resolve().parents[1]
LOCK = "rq:scheduler-lock:publish"


def _env(app_config: dict) -> dict[str, str]:
    return process_env(app_config)


def _start_worker(app_config: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from web.cli import main; main()", "worker"], cwd=ROOT,
                            env=_env(app_config), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_for(condition, seconds: float, what: str):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (Linux /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def test_a_sigkilled_worker_leaves_no_scheduler_behind_and_its_lock_is_taken_over(app, app_config):  # type: ignore[no-untyped-def]
    redis = Redis.from_url(REDIS_URL)
    first = _start_worker(app_config)
    second = None
    try:
        holder = _wait_for(lambda: redis.get(LOCK), 60, "the first worker to take RQ's scheduler lock")
        time.sleep(1)  # time enough for a worker to start whatever children it starts
        spawned = _children(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        time.sleep(1.5)  # a live scheduler would have refreshed its lock by now
        assert [pid for pid in spawned if _alive(pid)] == [], "a child of the killed worker is still running"

        second = _start_worker(app_config)
        # Well before the lock's own expiry (61 s): the second worker sees the holder is dead and takes over.
        started = time.monotonic()
        taken = _wait_for(lambda: (value := redis.get(LOCK)) and value != holder and value, 30,
                          "the second worker to take over the dead worker's lock")
        assert taken != holder and time.monotonic() - started < 30
    finally:
        if first.poll() is None:
            first.kill()
            first.wait(5)
        if second is not None:
            _stop(second)
    # A worker stopped the ordinary way (SIGTERM) gives its lock back.
    assert redis.get(LOCK) is None
