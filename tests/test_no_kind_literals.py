"""Outside ``publisher/channels/`` (and the public website, the website channel's face), no Python, template or
script file names a channel kind: everything reads the kinds' own descriptions from the registry (#17).

The rule: a kind of the registry written as a quoted string (``"facebook"``, ``'youtube'``) or as a variant path
(``variants.youtube.title``, ``variant.facebook``). Files that still name one for a reason of their own are listed
in ``ALLOWED`` with that reason; a listed file that no longer names a kind fails too, so the list only shrinks.
"""

from __future__ import annotations

import re
from pathlib import Path

from publisher.channels.base import descriptions

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("publisher", "web")
SUFFIXES = {".py", ".html", ".js"}
# The channels themselves, and the public website (the website channel's face).
EXEMPT_DIRS = ("publisher/channels/", "publisher/website/", "web/public/", "web/templates/public/",
               "web/static/vendor/", "web/translations/")
# Files that still name a kind, each with its reason (left for the later parts).
ALLOWED = {
    # The demo connects one channel of each kind to the sandboxes and writes variants for them.
    "publisher/demo.py": "demo data",
    # The channels page's per-platform sign-in buttons, token health and quota cells (each platform's own flow).
    "web/channels_ui/views.py": "Facebook Login views",
    "web/templates/channels/index.html": "Facebook Login / Google sign-in buttons, token health, quota cell",
    # Removing a reader's data finds the website's own comments (the website is Loa's own database).
    "publisher/privacy/services.py": "the website's comments",
    # The comments inbox moderates readers' comments on Loa's own website beside the platforms' comments.
    "web/moderation/views.py": "the website's readers' comments in the inbox",
    "web/templates/moderation/inbox.html": "the website's readers' comments in the inbox",
}


def kind_pattern() -> re.Pattern[str]:
    kinds = "|".join(re.escape(k) for k in sorted(descriptions()) if k.isidentifier())
    return re.compile(rf"""(["'])(?:{kinds})\1|\bvariants?\.(?:{kinds})\b""")


def naming_files() -> dict[str, list[str]]:
    pattern = kind_pattern()
    found: dict[str, list[str]] = {}
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*")):
            rel = path.relative_to(ROOT).as_posix()
            if path.suffix not in SUFFIXES or rel.startswith(EXEMPT_DIRS):
                continue
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


def test_no_file_outside_the_channels_names_a_channel_kind() -> None:
    found = naming_files()
    unexpected = {path: hits for path, hits in found.items() if path not in ALLOWED}
    assert not unexpected, f"these files name a channel kind; read its description from the registry: {unexpected}"
    stale = sorted(set(ALLOWED) - set(found))
    assert not stale, f"these files no longer name a kind: drop them from ALLOWED: {stale}"
