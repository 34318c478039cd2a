"""How a channel kind looks in the editorial UI: its label, a one-glyph icon and its colour.

The one place templates and scripts ask for a kind's look (``channel_look(kind)`` in templates), so that it can be
read from the channels' own descriptions (the adapter registry). Colours are the
reports' (``kind_colour``); loa.css paints ``.kind-<kind>`` with the same ones.
"""

from __future__ import annotations

from dataclasses import dataclass

from publisher.channels.base import descriptions
from web.reports.charts import kind_colour


@dataclass(frozen=True)
class ChannelLook:
    kind: str
    label: str
    icon: str
    colour: str


def channel_look(kind: str) -> ChannelLook:
    described = descriptions().get(kind)
    label, icon = (str(described.tab_label), described.icon) if described is not None else (kind, "")
    return ChannelLook(kind=kind, label=label, icon=icon or "•", colour=kind_colour(kind))
