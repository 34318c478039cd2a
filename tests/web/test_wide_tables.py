"""On a phone a wide table scrolls inside a box of its own, which a keyboard can reach (axe's
scrollable-region-focusable): every table of the reports, the post's deliveries, a delivery's attempts and the channels
sits in a ``.table-scroll`` region with ``tabindex="0"`` and a label a person reads (issue #14)."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

from tests.channels.fb_fixtures import *  # noqa: F403  (every sandbox; the demo's channels point at them)
from tests.conftest import sign_in_session
from tests.web.demo_pages import build_demo

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Tables(HTMLParser):
    """Each <table> with the attributes of the nearest element around it that scrolls it (``None``: none)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, Any]]] = []
        self.tables: list[dict[str, Any] | None] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "table":
            around = next((a for t, a in reversed(self.stack) if "table-scroll" in (a.get("class") or "").split()),
                          None)
            self.tables.append(around)
        if tag not in VOID:
            self.stack.append((tag, values))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break


def test_wide_tables_scroll_in_a_focusable_labelled_region(app, settings, sandboxes, client):  # type: ignore[no-untyped-def]
    data = build_demo(settings, sandboxes)
    sign_in_session(client, data["admin"])
    pages = ["/admin/reports/", f"/admin/reports/campaigns/{data['campaign_id']}", f"/admin/posts/{data['post_id']}",
             f"/admin/deliveries/{data['delivery_id']}", "/admin/channels/"]
    problems = []
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        parser = Tables()
        parser.feed(response.get_data(as_text=True))
        assert parser.tables, f"{path}: no table (the demo's data should fill it)"
        for n, around in enumerate(parser.tables):
            if around is None or around.get("tabindex") != "0" or around.get("role") != "region" \
                    or not (around.get("aria-label") or "").strip():
                problems.append(f"{path}: table {n + 1} is not in a focusable labelled region ({around})")
    assert not problems, "\n".join(problems)
