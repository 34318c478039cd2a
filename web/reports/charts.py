"""Charts as PNG images drawn on the server with matplotlib (no script, no CDN: the CSP stays strict).

Uses matplotlib's object API (no pyplot state), so requests can draw at the same time. DejaVu Sans, bundled
with matplotlib, covers Vietnamese.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

COLOURS = {"views": "#1f5fa8", "reactions": "#b3261e", "comments": "#1e7a3c", "shares": "#c77700"}


def _figure(width: float = 8.0, height: float = 3.2) -> Any:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100)
    figure.patch.set_facecolor("white")
    return figure


def _png(figure: Any) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png", bbox_inches="tight")
    return buf.getvalue()


def _label(start: date, bucket: str) -> str:
    if bucket == "month":
        return start.strftime("%m/%Y")
    return start.strftime("%d/%m")


def trend_png(series: list[dict[str, Any]], bucket: str, labels: dict[str, str], title: str,
              measures: tuple[str, ...] = ("views", "reactions", "comments", "shares")) -> bytes:
    """A line per measure over the period's buckets; views on their own axis (they dwarf the rest)."""
    figure = _figure()
    axis = figure.add_subplot(1, 1, 1)
    xs = list(range(len(series)))
    ticks = [_label(point["start"], bucket) for point in series]
    other = axis.twinx() if "views" in measures and len(measures) > 1 else None
    for measure in measures:
        target = axis if (measure == "views" or other is None) else other
        target.plot(xs, [point[measure] for point in series], marker="o" if len(xs) < 40 else None,
                    markersize=3, color=COLOURS.get(measure), label=labels.get(measure, measure))
    step = max(1, len(xs) // 12)
    axis.set_xticks(xs[::step], ticks[::step], rotation=0, fontsize=8)
    axis.set_title(title, fontsize=11)
    axis.grid(alpha=0.3)
    axis.set_ylim(bottom=0)
    handles, names = axis.get_legend_handles_labels()
    if other is not None:
        other.set_ylim(bottom=0)
        more_handles, more_names = other.get_legend_handles_labels()
        handles, names = handles + more_handles, names + more_names
    if handles:
        axis.legend(handles, names, fontsize=8, loc="upper left")
    return _png(figure)


def bars_png(items: list[tuple[str, int]], title: str, colour: str = "#1f5fa8") -> bytes:
    """Horizontal bars, largest first (per channel, per unit, per campaign)."""
    items = items[:15]
    figure = _figure(8.0, max(1.6, 0.45 * len(items) + 0.8))
    axis = figure.add_subplot(1, 1, 1)
    names = [name if len(name) <= 40 else name[:39] + "…" for name, _v in items][::-1]
    values = [value for _n, value in items][::-1]
    axis.barh(range(len(values)), values, color=colour)
    axis.set_yticks(range(len(values)), names, fontsize=8)
    axis.set_title(title, fontsize=11)
    axis.grid(axis="x", alpha=0.3)
    for index, value in enumerate(values):
        axis.text(value, index, f" {value:,}".replace(",", "."), va="center", fontsize=8)
    return _png(figure)
