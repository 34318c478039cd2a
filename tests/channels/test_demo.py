"""``publisher run --demo``'s set-up: demo channels connected to the sandboxes and demo content, offline."""

from __future__ import annotations

from fb_fixtures import *  # noqa: F403  (the sandbox fixtures; the app points at the sandbox)

from publisher.channels.base import PublishRequest
from publisher.channels.models import Channel
from publisher.channels.services import adapter_for
from publisher.content.models import Campaign, Post
from publisher.db import db
from publisher.demo import set_up_demo


def test_demo_set_up_connects_channels_and_creates_content_once(app, settings, sandboxes, graph_sandbox):  # type: ignore[no-untyped-def]
    lines = set_up_demo(settings, sandboxes.demo_channels())
    db.session.commit()
    assert any("facebook" in line and "(connected)" in line for line in lines)
    channels = {c.kind: c for c in db.session.query(Channel)}
    assert set(channels) >= {"website", "facebook"} and all(c.state == "connected" for c in channels.values())
    posts = db.session.query(Post).order_by(Post.id).all()
    assert [p.state for p in posts] == ["approved", "in_review", "draft"] and posts[0].media_links
    assert db.session.query(Campaign).count() == 1

    set_up_demo(settings, sandboxes.demo_channels())  # a second start reuses everything
    db.session.commit()
    assert db.session.query(Post).count() == 3 and db.session.query(Channel).count() == len(channels)

    facebook = adapter_for(channels["facebook"], settings)
    assert facebook.check_connection().ok
    post = posts[0]
    result = facebook.publish(PublishRequest(post_id=post.id, idempotency_key="demo-1", title=post.title,
                                             summary=post.summary, body_html=post.body_html, slug=post.slug,
                                             variant=post.variant("facebook"), hashtags=("ChuyenDoiSo",)))
    assert graph_sandbox.posts[result.remote_id].message.endswith("#ChuyenDoiSo")


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
