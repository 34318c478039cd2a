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
    colour = kind_colour(kind)
    return ChannelLook(kind=kind, label=label, icon=icon or "•", colour=colour)


# WCAG 2.x level AA for normal text: the contrast white text needs on a kind's colour (badges, calendar events).
WHITE_TEXT_CONTRAST = 4.5


def _rgb(colour: str) -> tuple[int, int, int]:
    """A plain hex colour (#rgb, #rgba, #rrggbb, #rrggbbaa) as its red, green and blue (any alpha left out)."""
    digits = colour.lstrip("#")
    if len(digits) in (3, 4):
        digits = "".join(d * 2 for d in digits[:3])
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of a plain hex colour (0 black … 1 white)."""
    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in _rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    """WCAG 2.x contrast ratio of two plain hex colours (1 … 21)."""
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def under_white_text(colour: str) -> str:
    """``colour`` (a plain hex colour), darkened towards black only as far as white text on it needs to reach
    :data:`WHITE_TEXT_CONTRAST`, as ``#rrggbb``; a colour that already reaches it comes back unchanged (opaque)."""
    r, g, b = _rgb(colour)
    for step in range(101):
        keep = 1 - step / 100
        darker = f"#{round(r * keep):02x}{round(g * keep):02x}{round(b * keep):02x}"
        if contrast_ratio("#ffffff", darker) >= WHITE_TEXT_CONTRAST:
            return darker
    return "#000000"  # not reached: black under white text is 21:1


def kinds_stylesheet() -> str:
    """``.kind-<kind> { --kind: <colour>; }`` and ``{ --kind-ink-bg: <colour for white text>; }`` for every kind,
    from its description's colour (a colour that is not a plain hex colour is replaced by the neutral one, and a
    kind that is not a plain name is left out rather than written into CSS). ``--kind-ink-bg`` is the kind's colour
    darkened until white text on it reaches WCAG AA (:func:`under_white_text`): badges and calendar events use it."""
    rules = ["/* Channel kinds' colours, from their descriptions (web/channel_look.py); --kind-ink-bg: the colour "
             "under white text. */"]
    for kind in descriptions():
        colour = kind_colour(kind)
        if _SAFE_KIND.match(kind):
            safe = colour if _SAFE_COLOUR.match(colour) else OTHER_KIND_COLOUR
            rules.append(f".kind-{kind} {{ --kind:{safe}; }}")
            rules.append(f".kind-{kind} {{ --kind-ink-bg:{under_white_text(safe)}; }}")
    return "\n".join(rules) + "\n"
