"""The demo's data in the test database, for the walks over every page (issue #14): what ``publisher run --demo``
creates (``set_up_demo`` against the sandboxes, when given) plus a news source, the ids each /admin/ route takes,
the words the data itself says (content, not UI), and what must be on the workspace's pages for a new user.

Used by tests/web/test_every_page_vi.py, tests/browser/test_admin_quality.py and tests/browser/test_demo_walk.py.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from publisher.db import db

DEMO_PASSWORD = "loa-demo-2026"
ADMIN = "admin@demo.loa"


def build_demo(settings: Any, sandboxes: Any = None) -> dict[str, Any]:
    """The demo data, committed; answers the ids /admin/ routes take and ``content`` (the data's own words).

    ``post_id`` is the post with a failed delivery (refused by the platform when the sandboxes run),
    ``delivery_id`` that failed delivery when there is one."""
    from publisher.accounts.models import Unit, User
    from publisher.channels.models import Channel
    from publisher.content.models import Campaign, Post
    from publisher.demo import DISTRICT, POSTS, set_up_demo
    from publisher.feeds.services import create_source
    from publisher.hierarchy.models import Kit
    from publisher.scheduler.models import Delivery

    set_up_demo(settings, sandboxes.demo_channels() if sandboxes is not None else [])
    admin = db.session.scalar(select(User).where(User.email == ADMIN))
    source = create_source(admin, {"name": "Báo Lao Động", "url": "http://127.0.0.1:9/rss.xml",
                                   "allow_private_address": True})
    db.session.commit()
    posts = list(db.session.scalars(select(Post).order_by(Post.id)))
    first = next(p for p in posts if p.title == POSTS[0]["title"])
    channels = list(db.session.scalars(select(Channel).order_by(Channel.id)))
    deliveries = list(db.session.scalars(select(Delivery).order_by(Delivery.id)))
    failed = next((d for d in deliveries if d.state == "failed"), None)
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.id))
    kit = db.session.scalar(select(Kit).order_by(Kit.id))
    district = db.session.scalar(select(Unit).where(Unit.name == DISTRICT))
    return {"admin": admin, "post_id": first.id, "campaign_id": campaign.id, "channel_id": channels[-1].id,
            "delivery_id": (failed or deliveries[0]).id, "kit_id": kit.id, "source_id": source.id,
            "unit_id": district.id, "user_id": admin.id, "kind": "facebook", "name": "by_channel", "fmt": "xlsx",
            "content": content_words(), "failed": failed is not None,
            "failed_channel": failed.channel.name if failed is not None else None}


def content_words() -> set[str]:
    """What the data says (titles, names, bodies, readers' comments, the platforms' own error messages): content is
    the people's and the platforms', not the UI's."""
    from publisher.accounts.models import Unit, User
    from publisher.channels.models import Channel
    from publisher.content.models import Campaign, Post
    from publisher.engagement.models import InboxComment
    from publisher.feeds.models import Source
    from publisher.scheduler.models import Delivery
    from publisher.website.models import ReaderComment

    words: set[str] = set()
    for post in db.session.scalars(select(Post)):
        words |= {post.title, post.summary or "", post.slug, post.category or "", post.locality or ""}
    for campaign in db.session.scalars(select(Campaign)):
        words |= {campaign.name, campaign.description or ""}
    words |= set(db.session.scalars(select(Unit.name))) | set(db.session.scalars(select(Channel.name)))
    for user in db.session.scalars(select(User)):
        words |= {user.name or "", user.email}
    for source in db.session.scalars(select(Source)):
        words |= {source.name, source.url}
    for comment in db.session.scalars(select(ReaderComment)):
        words |= {comment.author_name, comment.message}
    for comment in db.session.scalars(select(InboxComment)):
        words |= {comment.author_name, comment.message}
    for delivery in db.session.scalars(select(Delivery).where(Delivery.last_error.is_not(None))):
        words.add((delivery.last_error or "").partition(": ")[2])  # the platform's own words, after its code
    return {w for w in words if w}


def filled_pages(data: dict[str, Any]) -> dict[str, list[str]]:
    """{path: texts that must be on it}: the workspace's pages a new user opens first, none of them empty."""
    from publisher.demo import POSTS, WEBSITE_COMMENTS

    first, gifts = POSTS[0]["title"], POSTS[3]["title"]
    pages = {
        "/admin/comments/": [WEBSITE_COMMENTS[0][2], WEBSITE_COMMENTS[1][0]],
        "/admin/calendar": [first],  # out today (tomorrow's may be next month, off this month's page)
        f"/admin/posts/{data['post_id']}": [first],
        f"/admin/kits/{data['kit_id']}": ["Liên đoàn Lao động huyện Quảng Xương"],  # sent down, its progress
        "/admin/reports/": [first],
        "/admin/posts": [first, gifts],
    }
    if data.get("failed"):  # the sandboxes ran: the Page's readers commented, a platform refused a delivery
        from publisher.demo import PAGE_COMMENTS

        pages["/admin/comments/"] += [PAGE_COMMENTS[0][1], PAGE_COMMENTS[1][0]]
        pages[f"/admin/posts/{data['post_id']}"].append(data["failed_channel"])
    return pages


def missing_on_pages(data: dict[str, Any], text_of: Callable[[str], str]) -> dict[str, list[str]]:
    """{path: the expected texts it lacks} for ``filled_pages``; ``text_of(path)`` answers a page's visible text."""
    missing = {}
    for path, wanted in filled_pages(data).items():
        text = " ".join(text_of(path).split())
        lacks = [w for w in wanted if " ".join(w.split()) not in text]
        if lacks:
            missing[path] = lacks
    return missing
