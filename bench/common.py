"""What every bench shares, so that its figures hold on a busy machine (issue #18):

- ``interleaved``: the contenders (a baseline and Loa) take turns run by run (baseline, Loa, baseline, Loa…, the
  first of each pair alternating), over several rounds; each round gives a p95 per contender and the ratio of
  the two, so a change in the machine's load touches both sides of a ratio alike;
- ``Spread``: the median of the rounds with their min–max spread, as printed beside each figure;
- ``wait_until``: poll a server (or anything) until it answers, however slow its start, before timing;
- ``load_average``: the machine's load (``os.getloadavg``), printed beside the figures.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def load_one() -> float:
    return os.getloadavg()[0]


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank percentile (``q`` from 0 to 1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


@dataclass(frozen=True)
class Spread:
    """A figure measured once per round: its median and its min–max over the rounds."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def format(self, fmt: str = "{:.1f}", unit: str = "") -> str:
        return f"{fmt.format(self.median)}{unit} ({fmt.format(self.low)}–{fmt.format(self.high)})"


@dataclass
class Interleaved:
    """The samples (ms) of each contender per round, and the machine's 1-minute load at each round's end."""

    names: tuple[str, ...]
    rounds: list[dict[str, list[float]]] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)

    def p95(self, name: str) -> Spread:
        return Spread(tuple(percentile(r[name], 0.95) for r in self.rounds))

    def p50(self, name: str) -> Spread:
        return Spread(tuple(statistics.median(r[name]) for r in self.rounds))

    def ratio(self, name: str, baseline: str) -> Spread:
        """p95 of ``name`` ÷ p95 of ``baseline``, round by round."""
        return Spread(tuple(percentile(r[name], 0.95) / percentile(r[baseline], 0.95) for r in self.rounds))

    def load(self) -> Spread:
        return Spread(tuple(self.loads))


def timed_once(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def interleaved(contenders: dict[str, Callable[[], Any]], *, rounds: int = 5, runs: int = 20,
                report: Callable[[int, Interleaved], None] | None = None) -> Interleaved:
    """Time each contender ``runs`` times per round, taking turns run by run; one warm-up call each first."""
    names = tuple(contenders)
    for fn in contenders.values():
        fn()  # warm up (plans, caches, imports)
    out = Interleaved(names)
    for n in range(rounds):
        samples: dict[str, list[float]] = {name: [] for name in names}
        for i in range(runs):
            order = names if (n + i) % 2 == 0 else tuple(reversed(names))
            for name in order:
                samples[name].append(timed_once(contenders[name]))
        out.rounds.append(samples)
        out.loads.append(load_one())
        if report is not None:
            report(n, out)
    return out


def wait_until(check: Callable[[], Any], what: str, timeout: float = 120.0, every: float = 0.2) -> Any:
    """Call ``check`` until it returns something truthy (exceptions count as "not yet"); exits with a message
    naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while time.monotonic() < deadline:
        try:
            answer = check()
        except Exception as exc:  # noqa: BLE001 - not answering yet, whatever the reason
            last = exc
        else:
            if answer:
                return answer
        time.sleep(every)
    raise SystemExit(f"{what} did not answer in {timeout:g} s" + (f" (last error: {last})" if last else ""))
