"""Dashboard lists that need to know about deliveries (content's lists know nothing of the scheduler)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from publisher.accounts.models import User
from publisher.accounts.services import visible_filter
from publisher.content.models import Post
from publisher.content.queries import visible_posts, with_relations
from publisher.db import db
from publisher.scheduler.models import Delivery


def approved_unscheduled(user: User, limit: int = 20) -> list[Post]:
    """Approved posts in the user's scope that have no delivery yet, most recently approved first."""
    has_delivery = select(Delivery.id).where(Delivery.post_id == Post.id).exists()
    query = with_relations(visible_posts(user).where(Post.state == "approved", ~has_delivery))
    return list(db.session.scalars(query.order_by(Post.approved_at.desc()).limit(limit)).unique())


def deliveries_between(user: User, start: datetime, end: datetime, channel_id: int | None = None) -> list[Delivery]:
    """The deliveries in the user's scope scheduled from ``start`` (included) to ``end`` (excluded), in time order,
    with their post, channel and attempts loaded (the calendar and its list view)."""
    query = (select(Delivery).where(visible_filter(user, Delivery.unit_id), Delivery.scheduled_at >= start,
                                    Delivery.scheduled_at < end)
             .options(joinedload(Delivery.post), joinedload(Delivery.channel), selectinload(Delivery.history))
             .order_by(Delivery.scheduled_at, Delivery.id))
    if channel_id:
        query = query.where(Delivery.channel_id == channel_id)
    return list(db.session.scalars(query).unique())
