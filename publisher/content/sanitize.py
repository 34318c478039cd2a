"""Body HTML: dangerous markup is refused with a clear message; harmless formatting outside the allowed set is
cleaned (pasted office documents carry plenty of it); what is kept is safe to show on every page."""

from __future__ import annotations

import html as html_lib
from html.parser import HTMLParser

import nh3

ALLOWED_TAGS = {
    "p", "br", "strong", "b", "em", "i", "u", "s", "sub", "sup", "a", "ul", "ol", "li", "blockquote",
    "h2", "h3", "h4", "figure", "figcaption", "img", "table", "thead", "tbody", "tr", "th", "td", "hr",
    "caption", "cite", "q", "small", "mark",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "width", "height", "title", "data-media-id"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
    "figure": {"data-media-id"},
}
DANGEROUS_TAGS = {"script", "style", "iframe", "object", "embed", "frame", "frameset", "applet", "base", "form",
                  "meta", "link", "svg", "math"}
DANGEROUS_SCHEMES = ("javascript:", "vbscript:", "data:text", "livescript:")


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}=")
            elif name in ("href", "src", "action", "formaction", "xlink:href") and value:
                compact = "".join(value.split()).lower()
                if compact.startswith(DANGEROUS_SCHEMES):
                    self.problems.append(f"{name}={value.split(':', 1)[0]}:")

    handle_startendtag = handle_starttag


def find_dangerous_markup(html: str) -> list[str]:
    """Script-capable markup in ``html``: ``["<script>", "onclick=", "href=javascript:"]``, de-duplicated."""
    inspector = _Inspector()
    inspector.feed(html or "")
    inspector.close()
    seen: list[str] = []
    for problem in inspector.problems:
        if problem not in seen:
            seen.append(problem)
    return seen


def clean_html(html: str) -> str:
    """Keep only the allowed tags and attributes; links get rel="noopener noreferrer"."""
    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
        strip_comments=True,
    ).strip()


def clean_text(text: str) -> str:
    """Plain text fields (titles, summaries, messages): no markup at all, and stored as text, not as HTML, so that
    "A & B" stays "A & B" (every page escapes it when showing it)."""
    return html_lib.unescape(nh3.clean(text or "", tags=set())).strip()
