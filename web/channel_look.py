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
    # The colour darkened until white text on it reads at WCAG AA (4.5:1): a box filled with the kind's colour
    # (a calendar event) uses this one.
    fill: str = ""


def channel_look(kind: str) -> ChannelLook:
    described = descriptions().get(kind)
    label, icon = (str(described.tab_label), described.icon) if described is not None else (kind, "")
    colour = kind_colour(kind)
    return ChannelLook(kind=kind, label=label, icon=icon or "•", colour=colour, fill=fill_under_white_text(colour))


def _luminance(rgb: tuple[float, float, float]) -> float:
    def linear(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def fill_under_white_text(colour: str, ratio: float = 4.5) -> str:
    """``colour`` (``#rrggbb`` or ``#rgb``), darkened in small steps until white text on it has ``ratio``:1 contrast
    (WCAG's relative luminance); a colour that is not a plain hex colour gives the neutral one."""
    if not re.fullmatch(r"#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})", colour):
        colour = OTHER_KIND_COLOUR
    digits = colour[1:]
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    rgb = tuple(int(digits[i:i + 2], 16) / 255 for i in (0, 2, 4))
    scale = 1.0
    while scale > 0 and 1.05 / (_luminance(tuple(c * scale for c in rgb)) + 0.05) < ratio:  # type: ignore[arg-type]
        scale -= 0.02
    return "#" + "".join(f"{round(max(scale, 0) * c * 255):02x}" for c in rgb)


def kinds_stylesheet() -> str:
    """``.kind-<kind> { --kind: <colour>; }`` for every registered kind, from its description's colour (a colour
    that is not a plain hex colour, or a kind that is not a plain name, is left out rather than written into CSS)."""
    rules = ["/* Channel kinds' colours, from their descriptions (web/channel_look.py). */"]
    for kind in descriptions():
        colour = kind_colour(kind)
        if _SAFE_KIND.match(kind):
            rules.append(f".kind-{kind} {{ --kind:{colour if _SAFE_COLOUR.match(colour) else OTHER_KIND_COLOUR}; }}")
    return "\n".join(rules) + "\n"
