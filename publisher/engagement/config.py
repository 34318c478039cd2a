"""Engagement configuration: the platform metric -> Loa measure mapping, the collection cadence and batch sizes.

Each channel kind's default mapping and batch size are its adapter's description (``metrics``,
``metrics_batch_size``); the cadence and the default batch ship as ``engagement.toml`` next to this module.
``PUBLISHER_ENGAGEMENT_CONFIG`` names a TOML file whose keys replace them (per channel kind and measure), so a
renamed or retired platform metric is a change of configuration, not of code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from publisher.channels.base import descriptions
from publisher.settings import Settings, SettingsError

# Loa's measures; the number is what the snapshot tables store (narrow rows).
MEASURES: tuple[str, ...] = ("views", "reactions", "comments", "shares", "watch_time")
MEASURE_CODES: dict[str, int] = {name: code for code, name in enumerate(MEASURES, start=1)}
MEASURE_NAMES: dict[int, str] = {code: name for name, code in MEASURE_CODES.items()}
REPORTED_MEASURES: tuple[str, ...] = ("views", "reactions", "comments", "shares")

DEFAULT_FILE = Path(__file__).with_name("engagement.toml")


@dataclass(frozen=True)
class KindMapping:
    """How one channel kind's platform metrics feed Loa's measures."""

    sources: dict[str, tuple[str, ...]] = field(default_factory=dict)  # measure -> platform metric names
    zero_when_missing: frozenset[str] = frozenset()
    retired: frozenset[str] = frozenset()

    def state(self, measure: str) -> str:
        """``ok``, ``retired`` (every source metric is retired) or ``unmapped`` (the kind has no such measure)."""
        names = self.sources.get(measure)
        if not names:
            return "unmapped"
        if all(name in self.retired for name in names):
            return "retired"
        return "ok"

    @property
    def wanted(self) -> tuple[str, ...]:
        """Every platform metric name a measure may be read from, retired ones left out (what to ask for)."""
        names = (name for sources in self.sources.values() for name in sources if name not in self.retired)
        return tuple(dict.fromkeys(names))

    def read(self, values: dict[str, Any]) -> dict[str, int | None]:
        """Loa's measures from one platform answer; None where the platform gave nothing usable."""
        out: dict[str, int | None] = {}
        for measure, names in self.sources.items():
            if self.state(measure) != "ok":
                continue
            value = None
            for name in names:
                if name in self.retired:
                    continue
                raw = values.get(name)
                if raw is None:
                    continue
                try:
                    value = max(0, int(raw))
                except (TypeError, ValueError):
                    continue
                break
            if value is None and measure in self.zero_when_missing:
                value = 0
            out[measure] = value
        return out


@dataclass(frozen=True)
class EngagementConfig:
    cadence: tuple[tuple[timedelta, timedelta], ...]  # (until age, every)
    batch: dict[str, int]
    kinds: dict[str, KindMapping]

    def mapping(self, kind: str) -> KindMapping:
        return self.kinds.get(kind, KindMapping())

    def batch_size(self, kind: str) -> int:
        return max(1, int(self.batch.get(kind, self.batch.get("default", 50))))

    def interval(self, age: timedelta) -> timedelta | None:
        """Time between collections for a post this old; None once it is past the last step."""
        for until, every in self.cadence:
            if age < until:
                return every
        return None

    @property
    def horizon(self) -> timedelta:
        return self.cadence[-1][0] if self.cadence else timedelta(0)


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def parse_config(raw: dict[str, Any]) -> EngagementConfig:
    try:
        cadence = tuple(sorted(
            (timedelta(hours=float(step["until_hours"])), timedelta(minutes=float(step["every_minutes"])))
            for step in raw.get("cadence", [])))
        batch = {str(k): int(v) for k, v in raw.get("batch", {}).items()}
        kinds: dict[str, KindMapping] = {}
        for kind, spec in raw.get("measures", {}).items():
            sources: dict[str, tuple[str, ...]] = {}
            for measure, names in spec.items():
                if measure in ("zero_when_missing", "retired"):
                    continue
                if measure not in MEASURE_CODES:
                    raise SettingsError(f"engagement config: unknown measure {measure!r} for {kind}")
                sources[measure] = (names,) if isinstance(names, str) else tuple(str(n) for n in names)
            kinds[kind] = KindMapping(sources, frozenset(spec.get("zero_when_missing", [])),
                                      frozenset(spec.get("retired", [])))
    except (KeyError, TypeError, ValueError) as exc:
        raise SettingsError(f"engagement config: {exc}") from None
    if any(every.total_seconds() <= 0 for _until, every in cadence):
        raise SettingsError("engagement config: every_minutes must be positive")
    return EngagementConfig(cadence, batch, kinds)


def described_defaults() -> dict[str, Any]:
    """The batch sizes and metric mappings the channel kinds describe, in the configuration's TOML shape."""
    batch: dict[str, int] = {}
    measures: dict[str, dict[str, Any]] = {}
    for kind, description in descriptions().items():
        batch[kind] = description.metrics_batch_size
        mapping = description.metrics
        measures[kind] = {**{m: list(names) for m, names in mapping.measures.items()},
                          "zero_when_missing": list(mapping.zero_when_missing), "retired": list(mapping.retired)}
    return {"batch": batch, "measures": measures}


@lru_cache(maxsize=8)
def _load(path: str | None) -> EngagementConfig:
    raw = _merge(described_defaults(), tomllib.loads(DEFAULT_FILE.read_text(encoding="utf-8")))
    if path:
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise SettingsError(f"PUBLISHER_ENGAGEMENT_CONFIG: cannot read {path}: {exc}") from None
        if "cadence" in override:  # a list: replaced whole
            raw["cadence"] = override.pop("cadence")
        raw = _merge(raw, override)
    return parse_config(raw)


def engagement_config(settings: Settings | None) -> EngagementConfig:
    path = settings.engagement_config if settings is not None else None
    return _load(str(path) if path else None)
