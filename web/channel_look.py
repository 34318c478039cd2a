"""How a channel kind looks in the editorial UI: its label, a one-glyph icon and its colour.

The one place templates and scripts ask for a kind's look (``channel_look(kind)`` in templates), so that it can be
read from the channels' own descriptions (the adapter registry) without touching a template. The colours are the
reports' (web/reports/charts.py KIND_COLOURS); loa.css paints ``.kind-<kind>`` with the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from web.reports.charts import kind_colour


@dataclass(frozen=True)
class ChannelLook:
    kind: str
    label: str
    icon: str
    colour: str


_LOOKS = {
    "website": (_l("Website"), "W"),
    "facebook": ("Facebook", "f"),
    "youtube": ("YouTube", "▶"),
    "zalo": ("Zalo", "Z"),
}


def channel_look(kind: str) -> ChannelLook:
    label, icon = _LOOKS.get(kind, (kind, "•"))
    return ChannelLook(kind=kind, label=str(label), icon=icon, colour=kind_colour(kind))
