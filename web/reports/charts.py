"""Charts drawn on the server with matplotlib for the PDF and DOCX reports (the browser draws the same figures
with Chart.js from the page's JSON: see ``chart_data``). One measure per chart, each on its own axis; channels in
the colours the pages use (each channel kind's description's ``colour``, also in reports.css).

Uses matplotlib's object API (no pyplot state), so requests can draw at the same time.
"""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

from publisher.channels.base import descriptions

MEASURES = ("views", "reactions", "comments", "shares")
COLOURS = {"views": "#1f5fa8", "reactions": "#b3261e", "comments": "#1e7a3c", "shares": "#c77700",
           "watch_time": "#6a3d9a"}
# One colour per channel kind (its description's ``colour``), the same in the pages (reports.css, the Chart.js
# charts) and the documents; a kind that gives none gets this.
OTHER_KIND_COLOUR = "#5b6475"
FONT_DIR = Path(__file__).with_name("fonts")


def kind_colour(kind: str) -> str:
    description = descriptions().get(kind)
    return (description.colour if description is not None else "") or OTHER_KIND_COLOUR


def bucket_label(start: date, bucket: str) -> str:
    if bucket == "month":
        return start.strftime("%m/%Y")
    return start.strftime("%d/%m")


def _figure(width: float, height: float) -> Any:
    from matplotlib.figure import Figure

    # Fixed margins (set by each chart) rather than a layout engine: "constrained" or "tight" measure every
    # label first, which was a third of a chart's time.
    figure = Figure(figsize=(width, height), dpi=100)
    figure.patch.set_facecolor("white")
    return figure


def _png(figure: Any) -> bytes:
    buf = io.BytesIO()
    figure.savefig(buf, format="png")
    return buf.getvalue()


def _thousands(value: float, _pos: Any = None) -> str:
    return f"{int(value):,}".replace(",", ".")


def trend_png(series: list[dict[str, Any]], bucket: str, labels: dict[str, str], title: str,
              measures: tuple[str, ...] = MEASURES) -> bytes:
    """The period's trend, one small chart per measure, each with its own axis (reactions are never drawn
    against views' scale), one figure: a 2 × 2 grid for the four measures."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    columns = 2 if len(measures) > 1 else 1
    rows = (len(measures) + columns - 1) // columns
    figure = _figure(8.0, 2.3 * rows + 0.4)
    figure.suptitle(title, fontsize=11)
    figure.subplots_adjust(left=0.08, right=0.98, bottom=0.08, top=0.88 if rows == 1 else 0.91, wspace=0.18,
                           hspace=0.45)
    xs = list(range(len(series)))
    ticks = [bucket_label(point["start"], bucket) for point in series]
    step = max(1, len(xs) // 6)
    for index, measure in enumerate(measures):
        axis = figure.add_subplot(rows, columns, index + 1)
        values = [point.get(measure, 0) for point in series]
        colour = COLOURS.get(measure, "#1f5fa8")
        if bucket == "month" or len(xs) <= 14:
            axis.bar(xs, values, color=colour, width=0.7)
        else:
            axis.plot(xs, values, color=colour, linewidth=1.6)
            axis.fill_between(xs, values, color=colour, alpha=0.12)
        axis.set_title(labels.get(measure, measure), fontsize=9, loc="left")
        axis.set_xticks(xs[::step], ticks[::step], fontsize=7)
        axis.tick_params(axis="y", labelsize=7)
        axis.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        axis.yaxis.set_major_formatter(FuncFormatter(_thousands))
        axis.set_ylim(bottom=0, top=max(values + [1]) * 1.1)
        axis.grid(axis="y", alpha=0.3)
        for side in ("top", "right"):
            axis.spines[side].set_visible(False)
    return _png(figure)


def bars_png(items: list[tuple[str, int]], title: str, colour: str | list[str] = "#1f5fa8") -> bytes:
    """Horizontal bars, largest first (per channel, per unit, per campaign); ``colour`` one or one per item."""
    items = items[:15]
    colours = colour if isinstance(colour, list) else [colour] * len(items)
    figure = _figure(8.0, max(1.6, 0.38 * len(items) + 0.9))
    height = max(1.6, 0.38 * len(items) + 0.9)
    figure.subplots_adjust(left=0.34, right=0.97, bottom=0.5 / height, top=1 - 0.45 / height)
    axis = figure.add_subplot(1, 1, 1)
    names = [name if len(name) <= 45 else name[:44] + "…" for name, _v in items][::-1]
    values = [value for _n, value in items][::-1]
    axis.barh(range(len(values)), values, color=colours[:len(items)][::-1])
    axis.set_yticks(range(len(values)), names, fontsize=8)
    axis.set_title(title, fontsize=11, loc="left")
    axis.grid(axis="x", alpha=0.3)
    axis.tick_params(axis="x", labelsize=7)
    for side in ("top", "right"):
        axis.spines[side].set_visible(False)
    top = max(values + [1])
    axis.set_xlim(0, top * 1.15)
    for index, value in enumerate(values):
        axis.text(value, index, " " + _thousands(value), va="center", fontsize=8)
    return _png(figure)


def chart_data(report: dict[str, Any], labels: dict[str, str]) -> dict[str, Any]:
    """What the page's Chart.js charts draw, as JSON: the trend per measure, the views per channel (in the
    channel's colour) and per unit."""
    trend = report.get("trend") or {"bucket": "day", "series": []}
    series = trend["series"]
    data: dict[str, Any] = {
        "bucket": trend["bucket"],
        "labels": [bucket_label(point["start"], trend["bucket"]) for point in series],
        "measures": [{"key": m, "label": labels[m], "colour": COLOURS[m], "values": [p[m] for p in series]}
                     for m in MEASURES],
        "channels": {"label": labels["views"],
                     "names": [c["name"] for c in report["by_channel"]],
                     "colours": [kind_colour(c["kind"]) for c in report["by_channel"]],
                     "values": [c["totals"]["views"] for c in report["by_channel"]]},
    }
    if report.get("watch_time") and report["watch_time"].get("available"):
        data["measures"].append({"key": "watch_time", "label": labels["watch_time"], "colour": COLOURS["watch_time"],
                                 "values": [p.get("watch_time", 0) for p in series]})
    if report.get("by_unit"):
        units = sorted(report["by_unit"], key=lambda u: -u["totals"]["views"])[:15]
        data["units"] = {"label": labels["views"], "names": [u["name"] for u in units],
                         "values": [u["totals"]["views"] for u in units]}
    return data
