"""Campaign kits pushed down the union's tree: send, list, adopt, and follow progress.

Visibility: nothing is visible sideways or upwards, except a kit sent down to a unit in the user's scope, its
campaign and the original posts it links to (read-only).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from publisher.accounts.models import Unit, User
from publisher.accounts.services import can_see_unit, require_role, visible_filter
from publisher.audit import record
from publisher.content.models import Campaign, MediaItem, Post, PostMedia, Variant
from publisher.content.services import VISIBILITY_HOOKS, save_revision, unique_slug
from publisher.db import db, utcnow
from publisher.engagement.models import EngagementTotals
from publisher.errors import NotFound, ValidationFailed
from publisher.hierarchy.models import AdoptedPost, Kit, KitPost, KitRecipient
from publisher.ids import is_id
from publisher.scheduler.models import Delivery
from publisher.scheduler.services import parse_time
from publisher.settings import Settings

KIT_STATES = ("pending", "adopted", "adapted", "published")


# --- visibility ------------------------------------------------------------------------------------------


def kit_visible(user: User, kit: Kit) -> bool:
    """The sender's staff (and units above) see a kit; so do the receiving units' staff (and units above)."""
    if can_see_unit(user, kit.sender_unit.path):
        return True
    return any(can_see_unit(user, r.unit.path) for r in kit.recipients)


def _kits_received_in_scope(user: User):  # type: ignore[no-untyped-def]
    """A subquery of kit ids sent to the user's unit or a unit below it."""
    return (select(KitRecipient.kit_id).join(Unit, Unit.id == KitRecipient.unit_id)
            .where(Unit.path.startswith(user.unit.path)))


def campaign_shared_with(user: User, campaign: Campaign) -> bool:
    """A campaign from above is visible to a unit it was sent to in a kit."""
    return bool(db.session.scalar(select(exists().where(
        Kit.campaign_id == campaign.id, Kit.id.in_(_kits_received_in_scope(user))))))


def original_shared_with(user: User, post: Post) -> bool:
    """A post from above is visible (read-only) to a unit that received it in a kit."""
    return bool(db.session.scalar(select(exists().where(
        KitPost.post_id == post.id, KitPost.kit_id.in_(_kits_received_in_scope(user))))))


def shared_from_above(user: User, post: Post | None, campaign: Campaign | None) -> bool:
    """Content's visibility hook: kits sent down make their campaign and original posts visible to the receiving
    units (read-only)."""
    if post is not None:
        return original_shared_with(user, post)
    return campaign is not None and campaign_shared_with(user, campaign)


if shared_from_above not in VISIBILITY_HOOKS:
    VISIBILITY_HOOKS.append(shared_from_above)


def get_kit(kit_id: int, user: User) -> Kit:
    kit = db.session.get(Kit, kit_id)
    if kit is None or not kit_visible(user, kit):
        raise NotFound(_l("No such kit."))
    return kit


# --- sending ---------------------------------------------------------------------------------------------


def _parse_deadline(value: Any, problems: dict[str, list[Any]]) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    problems.setdefault("deadline", []).append(_l("Expected a date like 2026-05-01."))
    return None


def _parse_schedule(value: Any, post_ids: list[int], settings: Settings,
                    problems: dict[str, list[Any]]) -> dict[int, datetime]:
    """``[{"post_id", "at"}]`` -> suggested UTC time per post of the kit. A naive time is in the organisation's
    zone; an item without a time suggests nothing. Problems are keyed ``schedule.N.post_id`` / ``schedule.N.at``."""
    if value in (None, []):
        return {}
    if not isinstance(value, list):
        problems.setdefault("schedule", []).append(_l("Give the schedule as a list of {post_id, at}."))
        return {}
    now = utcnow()
    suggested: dict[int, datetime] = {}
    for i, item in enumerate(value):
        where = f"schedule.{i}"
        if not isinstance(item, dict):
            problems.setdefault(where, []).append(_l("Give the schedule as a list of {post_id, at}."))
            continue
        for name in sorted(set(item) - {"post_id", "at"}):
            problems.setdefault(f"{where}.{name}", []).append(_l("Unknown field."))
        post_id = item.get("post_id")
        if not is_id(post_id) or post_id not in post_ids:
            problems.setdefault(f"{where}.post_id", []).append(_l("This post is not one of the kit's posts."))
            post_id = None
        elif post_id in suggested:
            problems.setdefault(f"{where}.post_id", []).append(_l("This post has a suggested time already."))
            post_id = None
        try:
            at = parse_time(item.get("at"), settings, f"{where}.at")
        except ValidationFailed as exc:
            for field, messages in exc.fields.items():
                problems.setdefault(field, []).extend(messages)
            continue
        if at is None:
            continue
        if at < now:
            problems.setdefault(f"{where}.at", []).append(_l("The suggested time is in the past."))
        elif post_id is not None:
            suggested[post_id] = at
    return suggested


def send_kit(user: User, campaign: Campaign, data: dict[str, Any], settings: Settings | None = None) -> Kit:
    """Push posts of a campaign down to units below the campaign's unit, optionally with a suggested publish time
    per post (``"schedule"``)."""
    if settings is None:
        from flask import current_app

        settings = current_app.extensions["publisher.settings"]
    sender = campaign.unit
    require_role(user, "editor", sender)
    problems: dict[str, list[Any]] = {}
    for name in sorted(set(data) - {"post_ids", "unit_ids", "all_below", "deadline", "schedule"}):
        problems.setdefault(name, []).append(_l("Unknown field."))

    post_ids = data.get("post_ids")
    posts: list[Post] = []
    if not isinstance(post_ids, list) or not post_ids or not all(is_id(i) for i in post_ids):
        problems.setdefault("post_ids", []).append(_l("List the ids of the posts to send."))
    else:
        found = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(post_ids)))}
        missing = [i for i in post_ids if i not in found or found[i].unit_id != sender.id]
        if missing:
            problems.setdefault("post_ids", []).append(
                _l("These posts are not posts of the sending unit: %(ids)s.", ids=", ".join(map(str, missing))))
        posts = [found[i] for i in dict.fromkeys(post_ids) if i in found]

    below = list(db.session.scalars(select(Unit).where(Unit.path.startswith(sender.path), Unit.id != sender.id)
                                    .order_by(Unit.path)))
    below_by_id = {u.id: u for u in below}
    all_below = data.get("all_below")
    unit_ids = data.get("unit_ids")
    recipients: list[Unit] = []
    if all_below is True:
        if unit_ids not in (None, []):
            problems.setdefault("unit_ids", []).append(_l("Give either unit_ids or all_below, not both."))
        recipients = below
        if not recipients:
            problems.setdefault("all_below", []).append(_l("There are no units below the sending unit."))
    elif all_below not in (None, False):
        problems.setdefault("all_below", []).append(_l("Wrong type of value."))
    elif not isinstance(unit_ids, list) or not unit_ids or not all(is_id(i) for i in unit_ids):
        problems.setdefault("unit_ids", []).append(_l("List the receiving units, or set all_below."))
    else:
        wrong = [i for i in unit_ids if i not in below_by_id]
        if wrong:
            problems.setdefault("unit_ids", []).append(
                _l("These are not units below the sender: %(ids)s.", ids=", ".join(map(str, wrong))))
        recipients = [below_by_id[i] for i in dict.fromkeys(unit_ids) if i in below_by_id]
    deadline = _parse_deadline(data.get("deadline"), problems)
    suggested = _parse_schedule(data.get("schedule"), [p.id for p in posts], settings, problems)
    if problems:
        raise ValidationFailed(problems)

    kit = Kit(campaign_id=campaign.id, campaign=campaign, sender_unit_id=sender.id, sender_unit=sender,
              created_by_id=user.id, deadline=deadline)
    kit.items = [KitPost(post_id=p.id, post=p, position=i, suggested_at=suggested.get(p.id))
                 for i, p in enumerate(posts)]
    kit.recipients = [KitRecipient(unit_id=u.id, unit=u) for u in recipients]
    db.session.add(kit)
    db.session.flush()
    record(user, "kit.send", campaign, kit_id=kit.id, post_ids=kit.post_ids, unit_ids=kit.unit_ids,
           deadline=deadline, schedule={str(i): at.isoformat() for i, at in suggested.items()})
    return kit


def kits_for(user: User) -> dict[str, list[Kit]]:
    """Kits received by the caller's unit and kits sent by it, newest first."""
    received = list(db.session.scalars(
        select(Kit).join(KitRecipient, KitRecipient.kit_id == Kit.id)
        .where(KitRecipient.unit_id == user.unit_id).order_by(Kit.id.desc())).unique())
    sent = list(db.session.scalars(select(Kit).where(Kit.sender_unit_id == user.unit_id).order_by(Kit.id.desc())))
    return {"received": received, "sent": sent}


# --- adopting --------------------------------------------------------------------------------------------


def _copy_media(item: MediaItem, unit_id: int, user: User, copies: dict[int, MediaItem]) -> MediaItem:
    """The receiving unit gets its own media rows pointing at the same stored files."""
    if item.id not in copies:
        copy = MediaItem(unit_id=unit_id, uploaded_by_id=user.id, kind=item.kind,
                         original_filename=item.original_filename, content_type=item.content_type, path=item.path,
                         size_bytes=item.size_bytes, width=item.width, height=item.height, caption=item.caption,
                         alt_text=item.alt_text, renditions=dict(item.renditions or {}))
        db.session.add(copy)
        db.session.flush()
        copies[item.id] = copy
    return copies[item.id]


def adopt_kit(kit: Kit, user: User) -> list[Post]:
    """Copy the kit's posts into the caller's unit as drafts linked to the originals (once: adopting again
    returns the same drafts)."""
    recipient = next((r for r in kit.recipients if r.unit_id == user.unit_id), None)
    if recipient is None:
        raise NotFound(_l("This kit was not sent to your unit."))
    require_role(user, "editor", user.unit)
    existing = {a.original_post_id: a.post for a in db.session.scalars(
        select(AdoptedPost).where(AdoptedPost.kit_id == kit.id, AdoptedPost.unit_id == user.unit_id))}
    media_copies: dict[int, MediaItem] = {}
    result: list[Post] = []
    for item in kit.items:
        if item.post_id in existing:
            result.append(existing[item.post_id])
            continue
        original = db.session.get(Post, item.post_id)
        if original is None:
            continue
        copy = Post(unit_id=user.unit_id, unit=user.unit, author_id=user.id, author=user, state="draft", version=1,
                    title=original.title, slug=unique_slug(original.slug), summary=original.summary,
                    body_html=original.body_html, byline=user.unit.name, category=original.category,
                    locality=original.locality, tags=list(original.tags or []), campaign_id=kit.campaign_id)
        if original.cover is not None:
            copy.cover_media_id = _copy_media(original.cover, user.unit_id, user, media_copies).id
        copy.media_links = [PostMedia(media_id=_copy_media(link.media, user.unit_id, user, media_copies).id,
                                      position=link.position) for link in original.media_links]
        copy.variants = [Variant(channel_kind=v.channel_kind, data=dict(v.data or {})) for v in original.variants]
        db.session.add(copy)
        db.session.flush()
        save_revision(copy, user)
        db.session.add(AdoptedPost(post_id=copy.id, kit_id=kit.id, unit_id=user.unit_id,
                                   original_post_id=original.id))
        record(user, "post.adopt", copy, kit_id=kit.id, original_post_id=original.id)
        result.append(copy)
    if recipient.adopted_at is None:
        recipient.adopted_at = utcnow()
        recipient.adopted_by_id = user.id
    db.session.flush()
    return result


def adoption_of(post: Post) -> AdoptedPost | None:
    """For a draft adopted from a kit: the link to its kit and original (with the suggested time), else None."""
    return db.session.get(AdoptedPost, post.id) if post.id is not None else None


def suggested_time_of(post: Post) -> datetime | None:
    """For a draft adopted from a kit: when the sender suggested publishing its original (UTC), else None."""
    link = adoption_of(post)
    return link.suggested_at if link is not None else None


# --- progress --------------------------------------------------------------------------------------------


def kit_progress(kit: Kit, user: User, today: date) -> list[dict[str, Any]]:
    """For the sender: per receiving unit, pending / adopted / adapted / published, with the copies' ids."""
    if not can_see_unit(user, kit.sender_unit.path):
        raise NotFound(_l("No such kit."))
    copies = list(db.session.scalars(select(AdoptedPost).where(AdoptedPost.kit_id == kit.id)))
    copy_ids = [c.post_id for c in copies]
    posts = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(copy_ids)))} if copy_ids else {}
    published = set(db.session.scalars(select(Delivery.post_id).where(
        Delivery.post_id.in_(copy_ids), Delivery.state == "published"))) if copy_ids else set()
    by_unit: dict[int, list[int]] = {}
    for c in copies:
        by_unit.setdefault(c.unit_id, []).append(c.post_id)
    rows = []
    for r in sorted(kit.recipients, key=lambda r: r.unit.path):
        ids = sorted(by_unit.get(r.unit_id, []))
        if any(i in published for i in ids):
            state = "published"
        elif any(posts[i].version > 1 for i in ids if i in posts):
            state = "adapted"
        elif ids or r.adopted_at is not None:
            state = "adopted"
        else:
            state = "pending"
        rows.append({"unit_id": r.unit_id, "name": r.unit.name, "state": state, "post_ids": ids,
                     "adopted_at": r.adopted_at,
                     "overdue": bool(kit.deadline and today > kit.deadline and state == "pending")})
    return rows


# --- roll-up ---------------------------------------------------------------------------------------------


def campaign_league(campaign: Campaign, user: User) -> list[dict[str, Any]]:
    """The campaign's league table: every unit in the user's scope that received the campaign (or runs it), with
    its published posts of the campaign and their latest figures summed, most views first."""
    from sqlalchemy import func

    measures = ("views", "reactions", "comments", "shares")
    figures = {row[0]: row for row in db.session.execute(
        select(Delivery.unit_id, func.count(func.distinct(Delivery.post_id)),
               *[func.coalesce(func.sum(getattr(EngagementTotals, m)), 0) for m in measures])
        .join(Post, Post.id == Delivery.post_id)
        .outerjoin(EngagementTotals, EngagementTotals.delivery_id == Delivery.id)
        .where(Post.campaign_id == campaign.id, Delivery.state == "published", visible_filter(user, Delivery.unit_id))
        .group_by(Delivery.unit_id))}
    unit_ids = set(figures) | set(db.session.scalars(
        select(KitRecipient.unit_id).join(Kit, Kit.id == KitRecipient.kit_id)
        .where(Kit.campaign_id == campaign.id, visible_filter(user, KitRecipient.unit_id))))
    if can_see_unit(user, campaign.unit.path):
        unit_ids.add(campaign.unit_id)
    units = {u.id: u for u in db.session.scalars(select(Unit).where(Unit.id.in_(unit_ids)))} if unit_ids else {}
    rows = []
    for unit_id, unit in units.items():
        row = figures.get(unit_id)
        rows.append({"unit_id": unit_id, "name": unit.name, "posts": int(row[1]) if row else 0,
                     "totals": {m: int(row[2 + i]) if row else 0 for i, m in enumerate(measures)}})
    rows.sort(key=lambda r: (-r["totals"]["views"], -r["totals"]["reactions"], r["name"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows
