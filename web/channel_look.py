"""How a channel kind looks in the editorial UI: its label, a one-glyph icon and its colour.

The one place templates and scripts ask for a kind's look (``channel_look(kind)`` in templates), read from the
channels' own descriptions (the adapter registry). Colours are the reports' (``kind_colour``); the pages get them as
the CSS custom property ``--kind`` on ``.kind-<kind>`` from :func:`kinds_stylesheet`, served at
``/channel-kinds.css`` and imported by loa.css, so that no stylesheet names a kind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from publisher.channels.base import descriptions
from web.reports.charts import OTHER_KIND_COLOUR, kind_colour

STYLESHEET_PATH = "/channel-kinds.css"
_SAFE_KIND = re.compile(r"^[a-z][a-z0-9_-]*$")
_SAFE_COLOUR = re.compile(r"^#(?:[0-9a-fA-F]{3,4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$")


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


def kinds_stylesheet() -> str:
    """``.kind-<kind> { --kind: <colour>; }`` for every registered kind, from its description's colour (a colour
    that is not a plain hex colour, or a kind that is not a plain name, is left out rather than written into CSS)."""
    rules = ["/* Channel kinds' colours, from their descriptions (web/channel_look.py). */"]
    for kind in descriptions():
        colour = kind_colour(kind)
        if _SAFE_KIND.match(kind):
            rules.append(f".kind-{kind} {{ --kind:{colour if _SAFE_COLOUR.match(colour) else OTHER_KIND_COLOUR}; }}")
    return "\n".join(rules) + "\n"
