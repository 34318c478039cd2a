"""``publisher run --demo``'s set-up: demo channels connected to the sandboxes and demo content, offline."""

from __future__ import annotations

from fb_fixtures import *  # noqa: F403  (the sandbox fixtures; the app points at the sandbox)
from sqlalchemy import func

from publisher.channels.base import PublishRequest
from publisher.channels.models import Channel
from publisher.channels.services import adapter_for
from publisher.content.models import Campaign, Post
from publisher.db import db, utcnow
from publisher.demo import set_up_demo
from publisher.engagement.models import EngagementTotals, InboxComment
from publisher.hierarchy.models import Kit
from publisher.scheduler.models import Delivery
from publisher.website.models import ReaderComment


def test_demo_set_up_connects_channels_and_creates_content_once(app, settings, sandboxes, graph_sandbox):  # type: ignore[no-untyped-def]
    lines = set_up_demo(settings, sandboxes.demo_channels())
    db.session.commit()
    assert any("facebook" in line and "(connected)" in line for line in lines)
    channels = {c.kind: c for c in db.session.query(Channel)}
    assert set(channels) >= {"website", "facebook"} and all(c.state == "connected" for c in channels.values())
    posts = db.session.query(Post).order_by(Post.id).all()
    assert [p.state for p in posts] == ["approved", "in_review", "draft", "approved"] and posts[0].media_links
    assert db.session.query(Campaign).count() == 1

    set_up_demo(settings, sandboxes.demo_channels())  # a second start reuses everything
    db.session.commit()
    assert db.session.query(Post).count() == 4 and db.session.query(Channel).count() == len(channels)
    assert db.session.query(Delivery).count() == 6 and db.session.query(Kit).count() == 1

    facebook = adapter_for(channels["facebook"], settings)
    assert facebook.check_connection().ok
    post = posts[0]
    result = facebook.publish(PublishRequest(post_id=post.id, idempotency_key="demo-1", title=post.title,
                                             summary=post.summary, body_html=post.body_html, slug=post.slug,
                                             variant=post.variant("facebook"), hashtags=("ChuyenDoiSo",)))
    assert graph_sandbox.posts[result.remote_id].message.endswith("#ChuyenDoiSo")


def test_the_demo_workspace_has_something_on_every_page(app, settings, sandboxes, graph_sandbox):  # type: ignore[no-untyped-def]
    """A new user finds readers' comments waiting (the website's and the Page's, both real on their side), a
    delivery Zalo refused and one unconfirmed, one scheduled for tomorrow, figures, and a kit sent down."""
    set_up_demo(settings, sandboxes.demo_channels())
    db.session.commit()
    first, _review, _draft, gifts = db.session.query(Post).order_by(Post.id).all()
    by_kind = {d.channel.kind: d for d in db.session.query(Delivery).filter_by(post_id=first.id)}
    assert {k: d.state for k, d in by_kind.items()} == {"website": "published", "facebook": "published",
                                                        "zalo": "failed"}
    refused = by_kind["zalo"]
    assert refused.last_error_code == "-201" and refused.last_error and refused.history[-1].outcome == "rejected"
    lost = db.session.query(Delivery).filter_by(post_id=gifts.id).join(Channel).filter(Channel.kind == "zalo").one()
    assert lost.state == "unconfirmed" and lost.needs_lookup and lost.last_error
    assert [a.outcome for a in lost.history] == ["error", "unknown"]
    later = db.session.query(Delivery).filter_by(post_id=gifts.id, state="scheduled").all()
    assert {d.channel.kind for d in later} == {"website", "facebook"} and all(d.scheduled_at > utcnow() for d in later)

    waiting = db.session.query(ReaderComment).filter_by(state="pending").all()
    assert len(waiting) == 2 and all(c.article.post_id == first.id for c in waiting)
    page_comments = db.session.query(InboxComment).filter_by(state="new").all()
    assert len(page_comments) == 2 and all(c.delivery_id == by_kind["facebook"].id for c in page_comments)
    assert all(c.remote_id in graph_sandbox.comments for c in page_comments)  # an answer from the inbox reaches it
    assert db.session.query(func.sum(EngagementTotals.views)).scalar() > 0

    kit = db.session.query(Kit).one()
    assert [r.unit.name for r in kit.recipients] == ["Liên đoàn Lao động huyện Quảng Xương"]


def test_the_demo_page_connects_through_facebook_login(app, settings, sandboxes, graph_sandbox):  # type: ignore[no-untyped-def]
    from publisher.channels.sandbox.facebook_login import login_of
    from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN
    from publisher.channels.services import channel_secrets

    lines = set_up_demo(settings, sandboxes.demo_channels())
    db.session.commit()
    assert any("through Facebook Login" in line for line in lines)
    page = db.session.query(Channel).filter_by(kind="facebook").one()
    token = channel_secrets(page, settings)["access_token"]
    assert token != DEMO_PAGE_TOKEN and graph_sandbox.tokens[token] == ("page", DEMO_PAGE_ID)
    assert page.settings["facebook_user_id"] == login_of(graph_sandbox).person_id
    assert page.settings["token_health"]["is_valid"] is True
    # The person removes the app on Facebook: the next start connects the Page again through the same flow.
    login_of(graph_sandbox).deauthorize()
    page.state = "needs_reconnect"
    db.session.commit()
    set_up_demo(settings, sandboxes.demo_channels())
    db.session.commit()
    assert db.session.query(Channel).filter_by(kind="facebook").one().state == "connected"
