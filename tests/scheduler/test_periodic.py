"""The scheduler loop keeps its rounds to the wall clock."""

from __future__ import annotations

import threading

import pytest

from publisher.scheduler import periodic
from publisher.scheduler.periodic import PeriodicJob


@pytest.fixture
def clock(monkeypatch):  # type: ignore[no-untyped-def]
    """A wall clock the test moves by hand; ``stop.wait`` advances it instead of sleeping."""
    state = {"now": 1_000_000.25}
    monkeypatch.setattr(periodic.time, "time", lambda: state["now"])
    return state


def test_the_next_round_starts_just_after_the_next_whole_interval(app, clock, monkeypatch):  # type: ignore[no-untyped-def]
    settings = app.extensions["publisher.settings"]
    monkeypatch.setattr(periodic, "PERIODIC_JOBS", [PeriodicJob("a", "x:y", 1.0), PeriodicJob("b", "x:y", 30.0)])
    assert periodic._until_next_round(settings) == pytest.approx(0.753)
    clock["now"] = 1_000_029.9  # b's boundary (1,000,020 + 30 = 1,000,050) is further than a's
    assert periodic._until_next_round(settings) == pytest.approx(0.103)
    monkeypatch.setattr(periodic, "PERIODIC_JOBS", [PeriodicJob("slow", "x:y", 300.0)])
    assert periodic._until_next_round(settings) == 1.0  # never sleeps more than a second (stop stays prompt)


def test_each_job_runs_once_per_interval_of_the_wall_clock(app, clock, monkeypatch):  # type: ignore[no-untyped-def]
    runs: list[tuple[str, float]] = []
    stop = threading.Event()
    jobs = [PeriodicJob("every_second", "x:y", 1.0, inline=True), PeriodicJob("every_5", "x:y", 5.0, inline=True)]
    monkeypatch.setattr(periodic, "PERIODIC_JOBS", jobs)
    monkeypatch.setattr(periodic, "run_periodic_job", lambda _app, job: runs.append((job.name, clock["now"])))
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock["now"] += seconds
        if clock["now"] > 1_000_010.5:
            stop.set()
        return stop.is_set()

    monkeypatch.setattr(stop, "wait", wait)
    periodic.run_scheduler(app, stop)

    every_second = [at for name, at in runs if name == "every_second"]
    assert every_second[0] == 1_000_000.25  # at once when started
    # Then a few milliseconds after each whole second, once per second, none skipped.
    assert [int(at) for at in every_second[1:]] == list(range(1_000_001, 1_000_011))
    assert all(at - int(at) == pytest.approx(0.003, abs=1e-6) for at in every_second[1:])
    assert [int(at) for name, at in runs if name == "every_5"] == [1_000_000, 1_000_005, 1_000_010]
