"""The union's own public news website as a channel: publishing is a change in Loa's own database, so it is
immediate, and the site's readers, comments and page views are read straight from the same store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from publisher.channels.base import (
    ChannelAdapter,
    ChannelError,
    ConnectionStatus,
    ErrorKind,
    Metrics,
    Problem,
    PublishRequest,
    PublishResult,
    RemoteComment,
    register,
)
from publisher.channels.description import Capabilities, ChannelDescription, MediaRules, MetricMapping, VariantField
from publisher.db import db
from publisher.website import services
from publisher.website.models import Article, ReaderComment


def _classify(exc: Exception) -> ChannelError:
    """The website's failures in Loa's error set (the one place they are mapped)."""
    if isinstance(exc, services.ArticleDuplicate):
        return ChannelError(ErrorKind.DUPLICATE, str(exc.message), code=exc.code, platform_message=str(exc.message))
    if isinstance(exc, services.WebsiteError):
        return ChannelError(ErrorKind.REJECTED, str(exc.message), code=exc.code, platform_message=str(exc.message))
    if isinstance(exc, OperationalError):
        return ChannelError(ErrorKind.TRANSIENT, str(_l("The website's database is not answering; try again.")),
                            code="database_unavailable",
                            platform_message=f"{exc.orig.__class__.__name__}: {str(exc.orig)[:200]}")
    return ChannelError(ErrorKind.TRANSIENT, str(_l("The website could not store the article; try again.")),
                        code="database_error", platform_message=exc.__class__.__name__)


def _article_id(remote_id: str) -> int:
    article_id = services.parse_article_id(remote_id)
    if article_id is None:
        raise ChannelError(ErrorKind.REJECTED, str(_l("%(id)r is not an article of the website.", id=remote_id)),
                           code="unknown_article")
    return article_id


TITLE_MAX = 300  # the website's own limits: an article title and summary that fit its pages and feeds
SUMMARY_MAX = 1000


@register
class WebsiteAdapter(ChannelAdapter):
    kind = "website"
    unpublishes_in_request = True  # the article is a row of Loa's own database: it answers 410 once committed
    description = ChannelDescription(
        kind="website",
        label=_l("Website"),
        icon="◉",
        colour="#1e7a3c",
        variant=(
            VariantField("title", "text", _l("Title on the website (if different)"), max_length=TITLE_MAX,
                         clean="text", preview="title", limit_message=lambda **kw: _l("At most %(n)s characters.", **kw)),
            VariantField("summary", "text", _l("Summary on the website (if different)"), max_length=SUMMARY_MAX,
                         multiline=True, preview="summary", limit_message=lambda **kw: _l("At most %(n)s characters.", **kw)),
            VariantField("body_html", "html", clean="html", compose=False),
            VariantField("media_ids", "media", _l("Pictures and videos on the website"), compose=False),
        ),
        media=MediaRules(accepts=("image", "video"),
                         rule=_l("The website shows every picture and video you choose here, below the text."),
                         choose_label=_l("Pictures and videos on the website")),
        rate_per_minute=None,
        metrics_batch_size=500,
        capabilities=Capabilities(edit=True, delete=True, metrics=True, comments=True, reply=True),
        metrics=MetricMapping(measures={"views": ("page_views", "views"), "comments": ("comments",)},
                              zero_when_missing=("views", "comments")),
        preview="article",
    )

    def _result(self, article: Article) -> PublishResult:
        warnings = tuple(str(_l("The picture %(id)s has no alternative text for blind readers.", id=img["media_id"]))
                         for img in ([article.cover] if article.cover else []) + list(article.images)
                         if img.get("kind") == "image" and not img.get("alt"))
        return PublishResult(remote_id=str(article.id), remote_url=services.article_url(self.settings, article),
                             warnings=warnings)

    def _call(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except ChannelError:
            raise
        except (services.WebsiteError, SQLAlchemyError) as exc:
            raise _classify(exc) from exc

    def validate(self, request: PublishRequest) -> list[Problem]:
        existing = services.article_by_key(request.idempotency_key)
        return [Problem(p.field, str(p.message))
                for p in services.find_problems(request, exclude_article_id=existing.id if existing else None)]

    def publish(self, request: PublishRequest) -> PublishResult:
        article = self._call(services.publish_article, request, self.settings, self.channel_id)
        return self._result(article)

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        article = self._call(services.update_article, _article_id(remote_id), request, self.settings)
        return self._result(article)

    def unpublish(self, remote_id: str) -> None:
        article_id = services.parse_article_id(remote_id)
        if article_id is not None:  # an address that never was an article is as gone as a removed one
            self._call(services.remove_article, article_id)

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        article = self._call(services.article_by_key, request.idempotency_key)
        if article is None or not article.is_live:
            return None
        return self._result(article)

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        ids = {remote_id: services.parse_article_id(remote_id) for remote_id in remote_ids}
        figures = self._call(services.article_metrics, [i for i in ids.values() if i is not None])
        out: dict[str, Metrics] = {}
        for remote_id, article_id in ids.items():
            found = figures.get(article_id) if article_id is not None else None
            if found is None:
                out[remote_id] = Metrics(remote_id=remote_id, values={"page_views": 0, "comments": 0}, removed=True)
            else:
                out[remote_id] = Metrics(remote_id=remote_id, removed=not found["live"],
                                         values={"page_views": found["page_views"], "comments": found["comments"]})
        return out

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[RemoteComment]:
        comments: list[ReaderComment] = self._call(services.shown_comments, _article_id(remote_id), since)
        return [RemoteComment(remote_id=str(c.id), post_remote_id=str(c.article_id), author_name=c.author_name,
                              message=c.message, created_at=c.created_at,
                              parent_remote_id=str(c.parent_id) if c.parent_id else None) for c in comments]

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        comment_id = services.parse_article_id(comment_remote_id)
        if comment_id is None:
            raise ChannelError(ErrorKind.REJECTED, str(_l("No such comment on the website.")), code="unknown_comment")
        reply = self._call(services.add_staff_reply, comment_id, message)
        return str(reply.id)

    def check_connection(self) -> ConnectionStatus:
        try:
            db.session.execute(select(text("1")))
            db.session.execute(select(Article.id).limit(1))
        except SQLAlchemyError as exc:
            error = _classify(exc)
            return ConnectionStatus(ok=False, message=error.message, error=error)
        return ConnectionStatus(ok=True, message=str(_l("The website is served by Loa at %(url)s.",
                                                         url=self.settings.public_url)),
                                details={"public_url": self.settings.public_url})
