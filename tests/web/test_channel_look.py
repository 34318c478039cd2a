"""White text on a channel kind's colour (badges, calendar events) reaches WCAG AA: ``under_white_text`` darkens
the colour only as far as needed, and /channel-kinds.css serves it as ``--kind-ink-bg`` for every kind."""

from __future__ import annotations

import re

import pytest

from publisher.channels.base import descriptions
from web.channel_look import contrast_ratio, relative_luminance, under_white_text
from web.reports.charts import OTHER_KIND_COLOUR


def wcag_contrast(first: str, second: str) -> float:
    """The WCAG 2.x formula written out again here, so the helper is checked against it, not against itself."""
    def luminance(colour: str) -> float:
        values = [int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        lin = [v / 12.92 if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4 for v in values]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_formula_on_known_pairs() -> None:
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#767676") == pytest.approx(4.54, abs=0.01)  # the well-known AA grey
    assert relative_luminance("#fff") == pytest.approx(1.0) and relative_luminance("#000") == 0.0


@pytest.mark.parametrize("colour", ["#1877f2", "#ffffff", "#fff", "#ffcc00", "#00ff00", "#1877f2cc", "#0068ff"])
def test_darkens_just_enough(colour: str) -> None:
    dark = under_white_text(colour)
    assert re.fullmatch(r"#[0-9a-f]{6}", dark)
    assert wcag_contrast("#ffffff", dark) >= 4.5
    assert wcag_contrast("#ffffff", dark) < 4.5 + 0.3  # these all need darkening: no further than the bar


def test_a_colour_that_already_passes_is_kept() -> None:
    assert under_white_text("#cc0000") == "#cc0000" and under_white_text("#5B6475") == "#5b6475"


def test_every_registered_kind_under_white_text(client) -> None:  # type: ignore[no-untyped-def]
    css = client.get("/channel-kinds.css").get_data(as_text=True)
    assert descriptions()
    for kind, described in descriptions().items():
        colour = described.colour or OTHER_KIND_COLOUR
        found = re.search(rf"\.kind-{re.escape(kind)} \{{ --kind-ink-bg:(#[0-9a-f]{{6}}); \}}", css)
        assert found is not None, (kind, css)
        ink = found.group(1)
        assert wcag_contrast("#ffffff", ink) >= 4.5, (kind, colour, ink)
        assert wcag_contrast("#ffffff", ink) >= wcag_contrast("#ffffff", "#" + colour.lstrip("#")[:6]) - 1e-9
