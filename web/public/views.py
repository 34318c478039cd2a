"""The public news site: front, article, category and search pages, feeds and the sitemap, readers' comments.

Pages are rendered once per (page, site version, language) and kept in memory; every answer carries an ETag
and Last-Modified taken from the site's last change, so a reader's browser or a proxy gets 304 answers.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from flask import Response, abort, current_app, jsonify, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.http import http_date

from publisher.content.media import media_path
from publisher.db import utcnow
from publisher.errors import ValidationFailed
from publisher.queue import redis_connection
from publisher.website import services
from publisher.website.models import Article
from web import csrf, current_settings
from web.public import bp, structured
from web.public.compression import ENCODINGS, mark_cacheable
from web.public.feeds import atom_feed, rss_feed, sitemap

# Browsers and proxies may keep pages but must ask again each time (a 304 costs almost nothing), so that an
# update or an unpublish shows at once.
PAGE_CACHE_CONTROL = "public, no-cache"
FACEBOOK_SHARE = "https://www.facebook.com/sharer/sharer.php?u={url}"
ZALO_SHARE = "https://button-share.zalo.me/share_external?layout=1&color=blue&customize=false&url={url}"
HONEYPOT_FIELD = "website"
STATIC_PUBLIC = Path(__file__).resolve().parent.parent / "static" / "public"
ICON_MAX_AGE = 7 * 24 * 3600
THEME_COLOUR = "#a3211b"


class PageCache:
    """A small LRU of rendered pages; keys carry the site's version, so a change makes old entries unused."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict[Hashable, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get_or_render(self, key: Hashable, render: Callable[[], str | bytes]) -> bytes:
        with self._lock:
            body = self._items.get(key)
            if body is not None:
                self._items.move_to_end(key)
                return body
        rendered = render()
        body = rendered.encode("utf-8") if isinstance(rendered, str) else rendered
        with self._lock:
            self._items[key] = body
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return body

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


PAGE_CACHE_SIZE = 256


@bp.record_once
def _page_cache(state) -> None:  # type: ignore[no-untyped-def]
    """Each app keeps its own rendered pages (its settings, e.g. the site's name, are part of every page)."""
    state.app.extensions["publisher.pages"] = PageCache(PAGE_CACHE_SIZE)


def _etag(*parts: object) -> str:
    return "-".join(str(p) for p in parts).replace(" ", "").replace(":", "")


def _stamp_key(stamp: datetime) -> str:
    return f"{stamp.timestamp():.6f}"


def _held_variant(etag: str) -> str | None:
    """Which copy of the page the reader's ``If-None-Match`` names: as rendered, or as compressed (Flask-Compress
    sends the compressed copy under ``"<etag>:<encoding>"``)."""
    held = request.if_none_match
    if not held:
        return None
    for candidate in (etag, *(f"{etag}:{encoding}" for encoding in ENCODINGS)):
        if held.contains(candidate):
            return candidate
    return None


def cached_page(key: tuple[Hashable, ...], stamp: datetime, render: Callable[[], str | bytes],
                mimetype: str = "text/html", status: int = 200) -> Response:
    """A cacheable answer: 304 when the reader's copy is current, else the (cached) rendered page."""
    # Without a cookie nobody is signed in, so the language is the default one: no session or user lookup.
    locale = "vi" if not request.cookies else str(get_locale() or "vi")
    stamp_key = _stamp_key(stamp)
    etag = _etag(*key, locale, stamp_key)
    headers = {
        "ETag": f'"{etag}"',
        "Last-Modified": http_date(stamp),
        "Cache-Control": PAGE_CACHE_CONTROL,
        "Vary": "Cookie",
    }
    held = _held_variant(etag)
    if held or (not request.if_none_match and request.if_modified_since
                and request.if_modified_since >= stamp.replace(microsecond=0)):
        if held:
            headers["ETag"] = f'"{held}"'  # the validator of the copy the reader holds (compressed or not)
        return Response(status=304, headers=headers)
    body = current_app.extensions["publisher.pages"].get_or_render((*key, locale, stamp_key), render)
    mark_cacheable(etag)
    content_type = f"{mimetype}; charset=utf-8"
    return Response(body, status=status, headers=headers, content_type=content_type)


@bp.after_request
def _commit(response: Response) -> Response:
    from web.tx import commit_request

    return commit_request(response, api=False)


def _page_number() -> int:
    raw = request.args.get("trang", "1")
    return min(int(raw), 1000) if raw.isdigit() and int(raw) > 0 else 1


def _site() -> dict[str, str]:
    settings = current_settings()
    return {"site_name": services.site_name(settings), "site_url": settings.public_url,
            "logo_url": f"{settings.public_url}/logo"}


def _common() -> dict[str, object]:
    return {"categories": services.categories(), **_site()}


def _organization() -> dict[str, object]:
    site = _site()
    return structured.publisher_org(site["site_url"], site["site_name"], site["logo_url"])


def _today() -> datetime:
    return utcnow().astimezone(current_settings().zone)


@bp.get("/")
def front_page():  # type: ignore[no-untyped-def]
    page = _page_number()
    stamp = services.site_stamp()
    if page > 1:
        def render_list() -> str:
            articles, more = services.latest_articles(page)
            return render_template("public/latest.html", articles=articles, page=page, more=more, **_common())

        return cached_page(("front", page), stamp, render_list)
    # Most-read changes with page views, which do not change the site's stamp: the page is renewed every hour.
    now = _today()
    hour = now.replace(minute=0, second=0, microsecond=0)

    def render() -> str:
        site = _site()
        return render_template(
            "public/front.html", front=services.front_page(now.date()), page=1,
            ld=[structured.organization(site["site_url"], site["site_name"], site["logo_url"]),
                structured.website(site["site_url"], site["site_name"])], **_common())

    return cached_page(("front", 1, hour.strftime("%Y%m%d%H")), max(stamp, hour), render)


@bp.get("/chuyen-muc/<slug>")
def category_page(slug: str):  # type: ignore[no-untyped-def]
    page = _page_number()
    name = services.category_name(slug)
    if name is None:
        abort(404)
    stamp = services.site_stamp()

    def render() -> str:
        articles, more = services.latest_articles(page, category_slug=slug)
        site_url = current_settings().public_url
        ld = [structured.breadcrumbs(site_url, [(name, f"{site_url}/chuyen-muc/{slug}")])]
        return render_template("public/category.html", name=name, slug=slug, articles=articles, page=page,
                               more=more, ld=ld, **_common())

    return cached_page(("category", slug, page), stamp, render)


@bp.get("/tim-kiem")
def search_page():  # type: ignore[no-untyped-def]
    query = (request.args.get("q") or "").strip()[:200]
    page = _page_number()
    stamp = services.site_stamp()

    def render() -> str:
        articles, more = services.search_articles(query, page) if query else ([], False)
        return render_template("public/search.html", query=query, articles=articles, page=page, more=more,
                               **_common())

    return cached_page(("search", query, page), stamp, render)


def _count_view(article_id: int) -> None:
    if request.method != "GET":
        return
    settings = current_settings()
    services.record_view(article_id, settings, redis_connection(settings), request.remote_addr or "",
                         request.headers.get("User-Agent", ""))


def _gone(article: Article) -> Response:
    html = render_template("public/gone.html", article=article, **_common())
    response = Response(html, status=410, mimetype="text/html")
    response.headers["Cache-Control"] = PAGE_CACHE_CONTROL
    return response


def _render_article(article: Article, *, sent: bool = False, form: dict[str, str] | None = None,
                    errors: dict[str, list[str]] | None = None) -> str:
    settings = current_settings()
    url = services.article_url(settings, article)
    social = None
    if article.cover:
        social = (article.cover.get("renditions") or {}).get("social")
    if social is None:
        for image in article.images:
            social = (image.get("renditions") or {}).get("social")
            if social:
                break
    comments, older = services.page_comments(article)
    site_url = settings.public_url
    trail = [(article.category, f"{site_url}/chuyen-muc/{article.category_slug}")] if article.category_slug else []
    ld = [structured.news_article(site_url, url, article, _organization()),
          structured.breadcrumbs(site_url, [*trail, (article.title, url)])]
    social_alt = ""
    if social:
        social_alt = (article.cover or {}).get("alt") or next(
            (img.get("alt") for img in article.images if (img.get("renditions") or {}).get("social") == social), "")
    return render_template(
        "public/article.html", article=article, url=url, social=social, social_alt=social_alt or article.title,
        ld=ld,
        cover_img=services.img_tag(article.cover, lazy=False) if article.cover else None,
        gallery=[(img, services.img_tag(img)) for img in article.images
                 if img.get("kind") == "image" and not img.get("in_body")],
        videos=[img for img in article.images if img.get("kind") == "video"],
        related=services.related_articles(article), comments=comments, older_comments=older,
        share_facebook=FACEBOOK_SHARE.format(url=quote(url, safe="")),
        share_zalo=ZALO_SHARE.format(url=quote(url, safe="")),
        sent=sent, form=form or {}, errors=errors or {}, honeypot=HONEYPOT_FIELD,
        comment_retention_days=settings.retention_comments_days, **_common())


@bp.get("/tin/<slug>")
def article_page(slug: str):  # type: ignore[no-untyped-def]
    """The hot path: one light query and, for a current copy, no ORM object and no template."""
    ref = services.article_ref(slug)
    if ref is None:
        abort(404)
    if not ref.live:
        return _gone(services.get_article(ref.article_id))
    _count_view(ref.article_id)
    sent = request.args.get("gui") == "1"

    def render() -> str:
        return _render_article(services.get_article(ref.article_id), sent=sent)

    return cached_page(("article", ref.article_id, ref.version, sent), ref.stamp, render)


@bp.post("/tin/<slug>/y-kien")
@csrf.exempt  # a cached public page cannot carry a per-reader token; honeypot and rate limit guard it instead
def submit_comment(slug: str):  # type: ignore[no-untyped-def]
    ref = services.article_ref(slug)
    if ref is None:
        abort(404)
    article = services.get_article(ref.article_id)
    if not ref.live:
        return _gone(article)
    thanks = redirect(url_for("public.article_page", slug=slug, gui="1", _anchor="y-kien"), code=303)
    if request.form.get(HONEYPOT_FIELD):
        return thanks  # a robot filled the hidden field: answer as if accepted, keep nothing
    settings = current_settings()
    redis = redis_connection(settings)
    key = services.reader_key(redis, settings, request.remote_addr or "", "")
    if not services.allow_comment(redis, key):
        html = render_template("public/message.html", title=_("Too many comments"),
                               message=_("You have sent several comments in a short time. Please wait a few "
                                         "minutes and try again."), back=url_for("public.article_page", slug=slug),
                               **_common())
        response = Response(html, status=429, mimetype="text/html")
        response.headers["Retry-After"] = str(services.COMMENT_WINDOW_SECONDS)
        return response
    form = {"name": request.form.get("name", ""), "message": request.form.get("message", ""),
            "email": request.form.get("email", ""), "consent": request.form.get("consent", "")}
    try:
        services.submit_comment(article, form["name"], form["message"], email=form["email"],
                                consent=form["consent"] == "yes")
    except ValidationFailed as exc:
        errors = {k: [str(m) for m in v] for k, v in exc.fields.items()}
        return Response(_render_article(article, form=form, errors=errors), status=422, mimetype="text/html")
    return thanks


@bp.get("/rss.xml")
def rss():  # type: ignore[no-untyped-def]
    stamp = services.site_stamp()
    return cached_page(("rss",), stamp, lambda: rss_feed(current_settings(), services.feed_articles(), stamp,
                                                     services.site_name(current_settings())),
                       mimetype="application/rss+xml")


@bp.get("/atom.xml")
def atom():  # type: ignore[no-untyped-def]
    stamp = services.site_stamp()
    return cached_page(("atom",), stamp, lambda: atom_feed(current_settings(), services.feed_articles(), stamp,
                                                      services.site_name(current_settings())),
                       mimetype="application/atom+xml")


@bp.get("/sitemap.xml")
def sitemap_xml():  # type: ignore[no-untyped-def]
    stamp = services.site_stamp()
    return cached_page(("sitemap",), stamp, lambda: sitemap(current_settings(), services.sitemap_articles()),
                       mimetype="application/xml")


def missing_page(status: int) -> Response:
    """The reader's 404 (and 410 for a path that never was an article): the site's look, the latest news."""
    html = render_template("public/missing.html", status=status, latest=services.latest_titles(), **_common())
    response = Response(html, status=status, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store" if status == 404 else PAGE_CACHE_CONTROL
    return response


@bp.get("/favicon.ico")
def favicon():  # type: ignore[no-untyped-def]
    return send_file(STATIC_PUBLIC / "favicon.ico", mimetype="image/x-icon", conditional=True, max_age=ICON_MAX_AGE)


@bp.get("/apple-touch-icon.png")
@bp.get("/apple-touch-icon-precomposed.png")
def apple_touch_icon():  # type: ignore[no-untyped-def]
    return send_file(STATIC_PUBLIC / "apple-touch-icon.png", conditional=True, max_age=ICON_MAX_AGE)


@bp.get("/logo")
def logo():  # type: ignore[no-untyped-def]
    """The site's logo: ``PUBLISHER_SITE_LOGO``, else the bundled one."""
    path = current_settings().site_logo or STATIC_PUBLIC / "logo.png"
    if not path.is_file():
        abort(404)
    return send_file(path, conditional=True, max_age=24 * 3600)


@bp.get("/site.webmanifest")
def web_manifest():  # type: ignore[no-untyped-def]
    """The web-app manifest (name, icons, colours) for a reader who adds the site to a phone's home screen."""
    name = services.site_name(current_settings())
    icons = [{"src": url_for("static", filename=f"public/icon-{size}.png"), "sizes": f"{size}x{size}",
              "type": "image/png", "purpose": "any"} for size in (192, 512)]
    response = jsonify({"name": name, "short_name": name if len(name) <= 15 else _("Union news"),
                        "lang": "vi", "start_url": "/", "scope": "/", "display": "browser",
                        "background_color": "#ffffff", "theme_color": THEME_COLOUR, "icons": icons})
    response.mimetype = "application/manifest+json"
    response.headers["Cache-Control"] = f"public, max-age={int(timedelta(days=1).total_seconds())}"
    return response


@bp.get("/robots.txt")
def robots():  # type: ignore[no-untyped-def]
    body = f"User-agent: *\nDisallow: /admin/\nDisallow: /api/\nSitemap: {current_settings().public_url}/sitemap.xml\n"
    return Response(body, mimetype="text/plain")


@bp.get("/media/<path:path>")
def media_file(path: str):  # type: ignore[no-untyped-def]
    settings = current_settings()
    try:
        full = media_path(settings.media_dir, path)
    except ValueError:
        abort(404)
    if not full.is_file():
        abort(404)
    return send_file(full, conditional=True, max_age=30 * 24 * 3600)
