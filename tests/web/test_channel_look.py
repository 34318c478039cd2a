"""A kind's colour as the fill under white text (a calendar event) reads at WCAG AA, whatever the description says."""

from __future__ import annotations

import pytest

from publisher.channels.base import descriptions
from web.channel_look import _luminance, channel_look, fill_under_white_text


def contrast_with_white(colour: str) -> float:
    rgb = tuple(int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5))
    return 1.05 / (_luminance(rgb) + 0.05)  # type: ignore[arg-type]


def test_every_kinds_fill_reads_under_white_text(app) -> None:  # type: ignore[no-untyped-def]
    for kind in descriptions():
        look = channel_look(kind)
        assert contrast_with_white(look.fill) >= 4.5, (kind, look.colour, look.fill)


@pytest.mark.parametrize(("colour", "fill"), [("#1877f2", "#1772e8"), ("#b3261e", "#b3261e"), ("#fff", "#757575"),
                                              ("not a colour", "#5b6475")])
def test_a_light_colour_is_darkened_and_a_dark_one_kept(colour: str, fill: str) -> None:
    assert fill_under_white_text(colour) == fill
    assert contrast_with_white(fill) >= 4.5
