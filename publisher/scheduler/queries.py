"""Dashboard lists that need to know about deliveries (content's lists know nothing of the scheduler)."""

from __future__ import annotations

from sqlalchemy import select

from publisher.accounts.models import User
from publisher.content.models import Post
from publisher.content.queries import visible_posts, with_relations
from publisher.db import db
from publisher.scheduler.models import Delivery


def approved_unscheduled(user: User, limit: int = 20) -> list[Post]:
    """Approved posts in the user's scope that have no delivery yet, most recently approved first."""
    has_delivery = select(Delivery.id).where(Delivery.post_id == Post.id).exists()
    query = with_relations(visible_posts(user).where(Post.state == "approved", ~has_delivery))
    return list(db.session.scalars(query.order_by(Post.approved_at.desc()).limit(limit)).unique())
