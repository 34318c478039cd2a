"""One comments inbox (issue #14): readers' comments on the website (approve, reject, answer under the article)
and comments read from Facebook and YouTube (answer on the platform), filterable by channel and state, with what
is waiting first. ``/admin/reports/comments`` (the platforms' old inbox) redirects here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from publisher.accounts.services import visible_filter
from publisher.channels.models import Channel
from publisher.db import db
from publisher.engagement.services import inbox_comments, replies_to
from publisher.website import services
from web.moderation import bp

TABS = ("pending", "approved", "rejected")  # a website comment's states (the old queue's tabs)
STATES = ("waiting", "handled", "all")
WEBSITE = "website"  # the `channel` filter's value for readers' comments on the website
LIMIT = 100


@dataclass
class InboxRow:
    """One comment in the inbox, from the website or from a platform."""

    source: str  # "website" or "platform"
    id: int
    author: str
    message: str
    created_at: datetime
    state: str  # website: pending/approved/rejected; platform: new/answered
    waiting: bool
    channel: Channel | None
    where_title: str = ""
    where_url: str = ""
    post_id: int | None = None
    replies: list[tuple[str, str, datetime | None]] = field(default_factory=list)


def _website_rows(state: str) -> list[InboxRow]:
    if not current_user.has_role("editor"):
        return []  # moderation is for editors; viewers read the platforms' comments only
    wanted = {"waiting": ("pending",), "handled": ("approved", "rejected"), "all": TABS}.get(state, (state,))
    rows = []
    for one in wanted:
        for c in services.moderation_queue(current_user, one, limit=LIMIT):
            rows.append(InboxRow("website", c.id, c.author_name, c.message, c.created_at, c.state,
                                 c.state == "pending", None, c.article.title,
                                 url_for("public.article_page", slug=c.article.slug), c.article.post_id,
                                 [(r.author_name, r.message, r.created_at) for r in c.replies]))
    return rows


def _platform_rows(state: str, channel_id: int | None, post_id: int | None, campaign_id: int | None,
                   channels: dict[int, Channel]) -> list[InboxRow]:
    if state in TABS:
        return []  # a website-only state (old links)
    found = inbox_comments(current_user, channel_id=channel_id, post_id=post_id, campaign_id=campaign_id, limit=LIMIT)
    replies = replies_to([c.id for c in found])
    rows = []
    for c in found:
        waiting = c.state == "new"
        if (state == "waiting" and not waiting) or (state == "handled" and waiting):
            continue
        rows.append(InboxRow("platform", c.id, c.author_name, c.message, c.created_at, c.state, waiting,
                             channels.get(c.channel_id), post_id=c.post_id,
                             replies=[(r.author_name, r.message, r.created_at) for r in replies.get(c.id, [])]))
    return rows


def _int_arg(name: str) -> int | None:
    value = request.args.get(name, "")
    if value == "":
        return None
    if not value.isdigit() or len(value) > 9:
        abort(404)
    return int(value)


@bp.get("/")
def inbox():  # type: ignore[no-untyped-def]
    state = request.args.get("state", "waiting")
    if state not in STATES + TABS:
        abort(404)
    channel = request.args.get("channel", "")
    post_id, campaign_id = _int_arg("post_id"), _int_arg("campaign_id")
    channel_list = list(db.session.scalars(select(Channel).where(visible_filter(current_user, Channel.unit_id),
                                                                 Channel.kind != "website").order_by(Channel.name)))
    channels = {c.id: c for c in channel_list}
    rows: list[InboxRow] = []
    if channel in ("", WEBSITE) and campaign_id is None:
        rows += [r for r in _website_rows(state) if post_id is None or r.post_id == post_id]
    if channel != WEBSITE:
        if channel and (not channel.isdigit() or int(channel) not in channels):
            abort(404)
        rows += _platform_rows(state, int(channel) if channel else None, post_id, campaign_id, channels)
    # What is waiting comes first; within each part, newest first (as the platforms' inboxes do).
    waiting = sorted((r for r in rows if r.waiting), key=lambda r: (r.created_at, r.id), reverse=True)
    rest = sorted((r for r in rows if not r.waiting), key=lambda r: (r.created_at, r.id), reverse=True)
    filters: dict[str, Any] = {"state": state, "channel": channel, "post_id": post_id, "campaign_id": campaign_id}
    return render_template("moderation/inbox.html", rows=waiting + rest, channels=channel_list, filters=filters,
                           states=STATES, website=WEBSITE, can_moderate=current_user.has_role("editor"))


def _back() -> str:
    back = request.form.get("back", "")
    if back.startswith("/admin/comments/") and not back.startswith("//"):
        return back
    if back in TABS:  # the old queue's forms sent their tab
        return url_for("moderation.inbox", state=back)
    return url_for("moderation.inbox")


@bp.post("/<int:comment_id>/approve")
def approve(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    services.moderate_comment(comment, current_user, approve=True)
    flash(_("The comment is now shown under the article."), "success")
    return redirect(_back())


@bp.post("/<int:comment_id>/reject")
def reject(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    services.moderate_comment(comment, current_user, approve=False)
    flash(_("The comment was rejected; it will not be shown."), "success")
    return redirect(_back())


@bp.post("/<int:comment_id>/reply")
def reply(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    if comment.state == "pending":
        services.moderate_comment(comment, current_user, approve=True)
    try:
        services.add_staff_reply(comment.id, request.form.get("message", ""), current_user)
    except services.WebsiteError as exc:
        flash(str(exc.message), "error")
        return redirect(_back())
    flash(_("Your answer is shown under the reader's comment."), "success")
    return redirect(_back())


# The old queue's endpoint name, for links written before the inbox (same address, same page).
bp.add_url_rule("/", endpoint="queue", view_func=inbox)
