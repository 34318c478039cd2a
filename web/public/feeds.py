"""RSS 2.0, Atom 1.0 and sitemap documents of the public site, written as well-formed XML by hand (they are
small, and feed readers are strict about dates and escaping)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from xml.sax.saxutils import escape, quoteattr

from flask_babel import gettext as _

from publisher.settings import Settings
from publisher.website.models import Article


def _rfc822(value: datetime) -> str:
    return format_datetime(value.astimezone(UTC), usegmt=True)


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _site_title() -> str:
    return _("Trade union news")


def _url(settings: Settings, article: Article) -> str:
    return f"{settings.public_url}/tin/{article.slug}"


def rss_feed(settings: Settings, articles: list[Article], stamp: datetime, title: str | None = None) -> str:
    base = settings.public_url
    site = title or _site_title()
    items = []
    for a in articles:
        url = _url(settings, a)
        parts = [f"<title>{escape(a.title)}</title>", f"<link>{escape(url)}</link>",
                 f'<guid isPermaLink="true">{escape(url)}</guid>', f"<pubDate>{_rfc822(a.published_at)}</pubDate>",
                 f"<description>{escape(a.summary or a.title)}</description>"]
        if a.category:
            parts.append(f"<category>{escape(a.category)}</category>")
        if a.byline:
            parts.append(f"<dc:creator>{escape(a.byline)}</dc:creator>")
        items.append("<item>" + "".join(parts) + "</item>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom" xmlns:dc="http://purl.org/dc/elements/1.1/">'
        "<channel>"
        f"<title>{escape(site)}</title><link>{escape(base)}/</link>"
        f"<description>{escape(_('News from the trade union federation'))}</description>"
        "<language>vi</language>"
        f"<lastBuildDate>{_rfc822(stamp)}</lastBuildDate>"
        f"<atom:link href={quoteattr(base + '/rss.xml')} rel=\"self\" type=\"application/rss+xml\"/>"
        + "".join(items) + "</channel></rss>\n"
    )


def atom_feed(settings: Settings, articles: list[Article], stamp: datetime, title: str | None = None) -> str:
    base = settings.public_url
    site = title or _site_title()
    entries = []
    for a in articles:
        url = _url(settings, a)
        parts = [f"<title>{escape(a.title)}</title>", f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(url)}/>",
                 f"<id>{escape(url)}</id>", f"<published>{_iso(a.published_at)}</published>",
                 f"<updated>{_iso(a.updated_at)}</updated>",
                 f"<summary>{escape(a.summary or a.title)}</summary>",
                 f"<author><name>{escape(a.byline or site)}</name></author>"]
        if a.category:
            parts.append(f"<category term={quoteattr(a.category)}/>")
        entries.append("<entry>" + "".join(parts) + "</entry>")
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="vi">'
        f"<title>{escape(site)}</title><id>{escape(base)}/</id><updated>{_iso(stamp)}</updated>"
        f"<link rel=\"self\" type=\"application/atom+xml\" href={quoteattr(base + '/atom.xml')}/>"
        f"<link rel=\"alternate\" type=\"text/html\" href={quoteattr(base + '/')}/>"
        f"<author><name>{escape(site)}</name></author>"
        + "".join(entries) + "</feed>\n"
    )


def sitemap(settings: Settings, articles: list[Article]) -> str:
    urls = [f"<url><loc>{escape(settings.public_url)}/</loc></url>"]
    for a in articles:
        urls.append(f"<url><loc>{escape(_url(settings, a))}</loc><lastmod>{_iso(a.changed_at)}</lastmod></url>")
    return ('<?xml version="1.0" encoding="utf-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(urls) + "</urlset>\n")
