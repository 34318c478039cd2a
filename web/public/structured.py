"""schema.org structured data (JSON-LD) of the public pages: ``NewsArticle`` on articles, ``BreadcrumbList`` on
article and category pages, ``Organization`` and ``WebSite`` on the front page.

The templates write each mapping with Flask's ``tojson`` filter inside ``<script type="application/ld+json">``:
a data block, which browsers never execute, so the pages' ``script-src 'self'`` policy needs no nonce for it,
and ``tojson`` escapes ``<``, ``>`` and ``&`` so that no text of an article can close the block.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import gettext as _

from publisher.website.models import Article

CONTEXT = "https://schema.org"


def iso(value: datetime) -> str:
    """An ISO 8601 time to the second (HTML's ``datetime`` attribute allows at most three fraction digits)."""
    return value.replace(microsecond=0).isoformat()


def publisher_org(site_url: str, name: str, logo_url: str) -> dict[str, Any]:
    return {"@type": "Organization", "name": name, "url": site_url + "/",
            "logo": {"@type": "ImageObject", "url": logo_url}}


def organization(site_url: str, name: str, logo_url: str) -> dict[str, Any]:
    return {"@context": CONTEXT, **publisher_org(site_url, name, logo_url)}


def website(site_url: str, name: str) -> dict[str, Any]:
    return {"@context": CONTEXT, "@type": "WebSite", "name": name, "url": site_url + "/", "inLanguage": "vi",
            "potentialAction": {"@type": "SearchAction", "target": site_url + "/tim-kiem?q={search_term_string}",
                                "query-input": "required name=search_term_string"}}


def breadcrumbs(site_url: str, trail: list[tuple[str, str]]) -> dict[str, Any]:
    """``trail``: (name, absolute URL) from the front page down to the page itself."""
    items = [{"@type": "ListItem", "position": n, "name": name, "item": url}
             for n, (name, url) in enumerate([(_("Home"), site_url + "/"), *trail], start=1)]
    return {"@context": CONTEXT, "@type": "BreadcrumbList", "itemListElement": items}


def _image_urls(site_url: str, article: Article) -> list[str]:
    urls: list[str] = []
    for image in [article.cover, *article.images]:
        if not image or image.get("kind", "image") != "image":
            continue
        renditions = image.get("renditions") or {}
        for name in ("social", "w1600", "w960"):
            if renditions.get(name):
                urls.append(f"{site_url}/media/{renditions[name]['path']}")
                break
        else:
            urls.append(f"{site_url}/media/{image['path']}")
    return list(dict.fromkeys(urls))


def news_article(site_url: str, url: str, article: Article, org: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "@context": CONTEXT,
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": url},
        "url": url,
        "headline": article.title,
        "datePublished": iso(article.published_at),
        "dateModified": iso(max(article.updated_at, article.published_at)),
        "inLanguage": "vi",
        "author": ({"@type": "Person", "name": article.byline} if article.byline
                   else {"@type": "Organization", "name": org["name"], "url": org["url"]}),
        "publisher": org,
    }
    images = _image_urls(site_url, article)
    if images:
        data["image"] = images
    if article.summary:
        data["description"] = article.summary
    if article.category:
        data["articleSection"] = article.category
    if article.tags:
        data["keywords"] = ", ".join(article.tags)
    return data
