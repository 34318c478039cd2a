"""Outside ``publisher/channels/`` (and the public website, the website channel's face), no Python, template,
script or stylesheet names a channel kind: everything reads the kinds' own descriptions from the registry (#17).

The rule: in Python, templates and scripts, a kind of the registry written as a quoted string (``"facebook"``,
``'youtube'``), as a variant path (``variants.youtube.title``, ``variant.facebook``) or as a kind class
(``kind-zalo``); in stylesheets, a kind as any word of a selector or value (``.kind-facebook``, ``.preview-zalo``):
a kind's colour comes from its description as ``--kind`` (web/channel_look.py's ``/channel-kinds.css``). Files that
still name one for a reason of their own are listed in ``ALLOWED`` with that reason; a listed file that no longer
names a kind fails too, so the list only shrinks.
"""

from __future__ import annotations

import re
from pathlib import Path

from publisher.channels.base import descriptions
from web.reports.charts import OTHER_KIND_COLOUR

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("publisher", "web")
SUFFIXES = {".py", ".html", ".js", ".css"}
# The channels themselves, and the public website (the website channel's face).
EXEMPT_DIRS = ("publisher/channels/", "publisher/website/", "web/public/", "web/templates/public/",
               "web/static/vendor/", "web/translations/")
# Files that still name a kind, each with its reason (left for the later parts).
ALLOWED = {
    # The demo connects one channel of each kind to the sandboxes and writes variants for them.
    "publisher/demo.py": "demo data",
    # Removing a reader's data finds the website's own comments (the website is Loa's own database).
    "publisher/privacy/services.py": "the website's comments",
    # The comments inbox moderates readers' comments on Loa's own website beside the platforms' comments.
    "web/moderation/views.py": "the website's readers' comments in the inbox",
    "web/templates/moderation/inbox.html": "the website's readers' comments in the inbox",
}


def _kinds() -> str:
    return "|".join(re.escape(k) for k in sorted(descriptions()) if k.isidentifier())


def kind_pattern() -> re.Pattern[str]:
    kinds = _kinds()
    return re.compile(rf"""(["'])(?:{kinds})\1|\bvariants?\.(?:{kinds})\b|\bkind-(?:{kinds})\b""")


def stylesheet_pattern() -> re.Pattern[str]:
    """A kind as a word of its own in CSS (letters, digits and ``_`` around it are part of another word)."""
    return re.compile(rf"(?<![A-Za-z0-9_])(?:{_kinds()})(?![A-Za-z0-9_])")


def naming_files() -> dict[str, list[str]]:
    code, styles = kind_pattern(), stylesheet_pattern()
    found: dict[str, list[str]] = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix not in SUFFIXES or rel.startswith(EXEMPT_DIRS):
                continue
            pattern = styles if path.suffix == ".css" else code
            hits = [f"{n}: {line.strip()[:100]}" for n, line in
                    enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if pattern.search(line)]
            if hits:
                found[rel] = hits
    return found


def test_the_rule_finds_a_kind_literal() -> None:
    pattern = kind_pattern()
    assert pattern.search('x = {"facebook": 1}') and pattern.search("data-x='youtube'")
    assert pattern.search("field('variants.website.title')") and pattern.search("post.variant.youtube")
    assert not pattern.search("facebook_connect.login_configured(settings)")  # a module name, not a kind
    assert not pattern.search('"Facebook Page"')
    assert pattern.search('var box = el("span", "ev kind-youtube");')  # a script building a kind's class
    assert not pattern.search('el("span", "ev kind-" + p.kind)')


def test_the_rule_finds_a_kind_in_a_stylesheet() -> None:
    pattern = stylesheet_pattern()
    assert pattern.search(".kind-facebook { --kind:#1877f2; }") and pattern.search(".preview-zalo .p-title {")
    assert pattern.search("a.website, .x { }") and pattern.search("[data-kind=youtube] { }")
    assert not pattern.search(".kind-icon { background:var(--kind, #5b6475); }")
    assert not pattern.search(".websites_list, .zalo_like { }")  # other words that hold a kind's letters


def test_the_stylesheets_are_scanned() -> None:
    """The scan reaches web/static's own stylesheets and scripts (not only Python and templates)."""
    scanned = {p.relative_to(ROOT).as_posix() for top in SCANNED for p in (ROOT / top).rglob("*")
               if p.suffix in SUFFIXES}
    assert "web/static/loa.css" in scanned and "web/static/editorial/compose.js" in scanned


def test_the_kinds_colours_come_from_their_descriptions(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/channel-kinds.css")
    assert response.status_code == 200 and response.mimetype == "text/css"
    css = response.get_data(as_text=True)
    for kind, described in descriptions().items():
        # a kind that describes no colour (a test-only kind registered by another test) gets the neutral one
        colour = described.colour or OTHER_KIND_COLOUR
        assert f".kind-{kind} {{ --kind:{colour}; }}" in css
    assert '@import url("../channel-kinds.css");' in (ROOT / "web/static/loa.css").read_text(encoding="utf-8")


def test_no_file_outside_the_channels_names_a_channel_kind() -> None:
    found = naming_files()
    unexpected = {path: hits for path, hits in found.items() if path not in ALLOWED}
    assert not unexpected, f"these files name a channel kind; read its description from the registry: {unexpected}"
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"these files no longer name a kind: drop them from ALLOWED: {stale}"
