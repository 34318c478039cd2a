"""What changed between two revisions of a post: per field, word by word.

Text is compared as NFC word tokens (letters with their tone marks, runs of spaces, single punctuation marks), so a
Vietnamese word is always shown whole, never split between its letters and its marks; a field that did not change
is not listed at all.
"""

from __future__ import annotations

import difflib
import html
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

# A word: letters, digits and combining marks together (NFC leaves none for Vietnamese, but text pasted in NFD
# from elsewhere is normalised first and any mark left over stays with its letters); or a run of spaces; or one
# other character (punctuation).
TOKEN = re.compile(r"[\w\u0300-\u036f\u1dc0-\u1dff\u20d0-\u20ff]+|\s+|[^\w\s]", re.UNICODE)
_BLOCK_END = re.compile(r"</(p|h[1-6]|li|figure|figcaption|blockquote)>|<br\s*/?>", re.I)
_TAG = re.compile(r"<[^>]+>")

# The fields of a snapshot in the order people read them (variants follow, per channel kind).
FIELD_ORDER = ("title", "slug", "summary", "body_html", "byline", "category", "locality", "tags", "campaign_id",
               "cover_media_id", "media_ids")


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its code (``title``, ``facebook.message``) and the pieces of its word diff, each
    ``("same" | "add" | "del", text)``."""

    field: str
    old: str
    new: str
    pieces: list[tuple[str, str]] = field(default_factory=list)


def tokens(text: str) -> list[str]:
    """``text`` (NFC) cut into words, spaces and punctuation; joining the tokens gives the text back."""
    return TOKEN.findall(unicodedata.normalize("NFC", text or ""))


def word_diff(old: str, new: str) -> list[tuple[str, str]]:
    """The word-level changes from ``old`` to ``new``: consecutive pieces of one kind merged."""
    a, b = tokens(old), tokens(new)
    pieces: list[tuple[str, str]] = []

    def put(kind: str, words: list[str]) -> None:
        text = "".join(words)
        if not text:
            return
        if pieces and pieces[-1][0] == kind:
            pieces[-1] = (kind, pieces[-1][1] + text)
        else:
            pieces.append((kind, text))

    # Spaces never anchor a match on their own (a lone space in common would split "hội nghị" → "đối thoại" into
    # word-space-word pieces); they still join the words around them into one piece.
    matcher = difflib.SequenceMatcher(str.isspace, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            put("same", a[i1:i2])
        else:
            put("del", a[i1:i2])
            put("add", b[j1:j2])
    return pieces


def plain_text(body_html: str | None) -> str:
    """A body's text as people read it: one line per paragraph, heading, list item or caption."""
    text = _TAG.sub("", _BLOCK_END.sub("\n", body_html or ""))
    lines = [re.sub(r"[ \t\r\f\v]+", " ", html.unescape(line)).strip() for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)


def snapshot_fields(snapshot: dict[str, Any]) -> dict[str, str]:
    """A revision's snapshot flattened into field code → text (the body as plain text, variants as
    ``kind.field``)."""
    out: dict[str, str] = {}
    for name in FIELD_ORDER:
        if name in snapshot:
            value = snapshot.get(name)
            out[name] = plain_text(value) if name == "body_html" else _as_text(value)
    for kind, data in sorted((snapshot.get("variants") or {}).items()):
        for name, value in sorted((data or {}).items()):
            out[f"{kind}.{name}"] = _as_text(value)
    return out


def revision_changes(old: dict[str, Any], new: dict[str, Any]) -> list[FieldChange]:
    """The fields that differ between two snapshots, each with its word diff; unchanged fields are left out."""
    before, after = snapshot_fields(old), snapshot_fields(new)
    names = list(before) + [name for name in after if name not in before]
    changes = []
    for name in names:
        a, b = before.get(name, ""), after.get(name, "")
        if unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b):
            continue
        changes.append(FieldChange(field=name, old=a, new=b, pieces=word_diff(a, b)))
    return changes
