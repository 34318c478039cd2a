"""Deliveries as people change them: schedule a post on channels, cancel, reschedule, retry, unpublish.

Every change bumps ``Delivery.version`` so that a job queued for the older version finds it changed and does
nothing. Functions flush and write the audit log; none commits. Enqueueing happens after the commit.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from publisher.accounts.models import User
from publisher.accounts.services import can_see_unit, require_role
from publisher.audit import record
from publisher.channels import services as channel_services
from publisher.channels.base import ChannelError, PublishRequest, adapter_class
from publisher.channels.models import PAUSING_STATES, Channel
from publisher.content.deliveries import register_lookup
from publisher.content.models import Campaign, Post
from publisher.content.services import POST_EVENT_HOOKS
from publisher.db import after_commit, db, utcnow
from publisher.errors import Conflict, NotFound, ValidationFailed
from publisher.ids import is_id, parse_id, parse_id_list
from publisher.labels import delivery_state_in_sentence, post_state_in_sentence
from publisher.scheduler.enqueue import enqueue_deliveries, enqueue_job
from publisher.scheduler.models import Delivery, DeliveryAttempt
from publisher.scheduler.requests import publish_request_for
from publisher.settings import Settings

log = logging.getLogger(__name__)

# A delivery in one of these states is live on its channel or on its way there: the channel takes no second one.
ACTIVE_STATES = ("scheduled", "publishing", "published", "paused", "unconfirmed", "held")
NOT_YET_PUBLISHED = ("scheduled", "paused", "failed", "unconfirmed", "cancelled", "held")
# A person may hold (pause) a delivery in one of these states; ``held`` is not the contract's ``paused`` (which
# means "the channel needs reconnecting" and ends on its own with a reconnect): only a person resumes it.
HOLDABLE_STATES = ("scheduled", "paused", "failed", "unconfirmed")


# --- times -----------------------------------------------------------------------------------------------


def parse_time(value: Any, settings: Settings, field: str = "at") -> datetime | None:
    """An ISO 8601 time (with offset; a naive one is in the organisation's zone) as UTC; None when absent."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ValidationFailed({field: _l("Expected a time like 2026-05-01T07:30:00+07:00.")}) from None
    else:
        raise ValidationFailed({field: _l("Expected a time like 2026-05-01T07:30:00+07:00.")})
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=settings.zone)
    return parsed.astimezone(UTC)


# --- building what adapters get --------------------------------------------------------------------------


def build_request(post: Post, channel: Channel, idempotency_key: str, settings: Settings) -> PublishRequest:
    """The one dataclass an adapter receives for this post on this channel."""
    return publish_request_for(post, channel.kind, idempotency_key, settings)


def new_idempotency_key() -> str:
    return "loa-" + uuid.uuid4().hex


# --- loading ---------------------------------------------------------------------------------------------


def get_delivery(delivery_id: int, user: User) -> Delivery:
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or not can_see_unit(user, delivery.post.unit.path):
        raise NotFound(_l("No such delivery."))
    return delivery


def post_deliveries(post: Post) -> list[Delivery]:
    return list(db.session.scalars(select(Delivery).where(Delivery.post_id == post.id).order_by(Delivery.id)))


def publish_attempt_count(delivery: Delivery) -> int:
    return sum(1 for a in delivery.history if a.action == "publish")


def delivery_summary(delivery: Delivery) -> dict[str, Any]:
    """The shape of one delivery inside a post (``GET /posts/ID``)."""
    return {
        "id": delivery.id,
        "channel_id": delivery.channel_id,
        "state": delivery.state,
        "at": delivery.scheduled_at.isoformat(),
        "remote_id": delivery.remote_id,
        "remote_url": delivery.remote_url,
        "attempts": publish_attempt_count(delivery),
        "error": delivery.last_error,
    }


register_lookup(lambda post: [delivery_summary(d) for d in post_deliveries(post)])


# --- side effects after commit ---------------------------------------------------------------------------


def _enqueue_after_commit(settings: Settings, deliveries: list[Delivery]) -> None:
    """Deliveries due now are queued as soon as the commit lands; later ones are the scheduler's."""
    now = utcnow()
    due = [(d.id, d.version) for d in deliveries if d.state == "scheduled" and d.scheduled_at <= now]
    if not due:
        return

    def enqueue() -> None:
        try:
            enqueue_deliveries(settings, due)
        except Exception:  # noqa: BLE001 - Redis away: the scheduler re-enqueues from the database
            import logging

            logging.getLogger(__name__).warning("could not enqueue deliveries %s now; the scheduler will", due)

    after_commit(enqueue)


def _bump(delivery: Delivery) -> None:
    delivery.version += 1
    delivery.updated_at = utcnow()


# --- scheduling ------------------------------------------------------------------------------------------


def _parse_targets(data: dict[str, Any], settings: Settings) -> list[tuple[int, datetime | None]]:
    if data.get("queue") is True:
        # The posting-slot queue: each channel's next free slot (times resolved once the channels are loaded).
        ids = parse_id_list(data.get("channel_ids"), "channel_ids", message=_l("Choose at least one channel."))
        return [(cid, None) for cid in ids]
    if "deliveries" in data and data["deliveries"] is not None:
        raw = data["deliveries"]
        if not isinstance(raw, list) or not raw:
            raise ValidationFailed({"deliveries": _l("Expected a list of {channel_id, at}.")})
        targets = []
        for i, item in enumerate(raw):
            if not isinstance(item, dict):
                raise ValidationFailed({f"deliveries.{i}": _l("Expected {channel_id, at}.")})
            cid = parse_id(item.get("channel_id"), f"deliveries.{i}.channel_id", required=True)
            targets.append((cid, parse_time(item.get("at"), settings, f"deliveries.{i}.at")))
        return targets
    ids = parse_id_list(data.get("channel_ids"), "channel_ids", message=_l("Choose at least one channel."))
    at = parse_time(data.get("at"), settings)
    return [(cid, at) for cid in ids]


def schedule_post(post: Post, user: User, data: dict[str, Any], settings: Settings) -> list[Delivery]:
    """Schedule an approved post on channels at one time (``channel_ids`` + ``at``) or per channel
    (``deliveries: [{channel_id, at}]``). A missing or past time means now. Every channel's rules are checked
    with its adapter first: if any channel would refuse the post, nothing is scheduled (422)."""
    require_role(user, "editor", post.unit)
    if post.state != "approved":
        raise Conflict(_l("Only an approved post can be scheduled (this post is %(state)s).",
                          state=post_state_in_sentence(post.state)),
                       code="invalid_state")
    targets = _parse_targets(data, settings)
    if len({cid for cid, _at in targets}) != len(targets):
        raise ValidationFailed({"channel_ids": _l("Each channel may appear only once.")})
    problems: dict[str, list[Any]] = {}
    channels: dict[int, Channel] = {}
    for cid, _at in targets:
        channel = db.session.get(Channel, cid)
        if channel is None or not can_see_unit(user, channel.unit.path):
            problems.setdefault("channel_ids", []).append(_l("No such channel: %(id)s.", id=cid))
            continue
        channels[cid] = channel
    if problems:
        raise ValidationFailed(problems)
    for cid, _at in targets:
        if channels[cid].state == "disconnected":
            raise Conflict(_l("Channel %(name)s is disconnected: connect it again before scheduling on it.",
                              name=channels[cid].name), code="channel_disconnected", details={"channel_id": cid})
    taken = {d.channel_id: d for d in post_deliveries(post) if d.state in ACTIVE_STATES}
    for cid, _at in targets:
        if cid in taken:
            raise Conflict(_l("This post is already %(state)s on channel %(name)s; reschedule or cancel that "
                              "delivery instead.", state=delivery_state_in_sentence(taken[cid].state),
                              name=channels[cid].name),
                           code="already_scheduled", details={"delivery_id": taken[cid].id})
    for cid, _at in targets:
        channel = channels[cid]
        try:
            adapter = channel_services.adapter_for(channel, settings)
        except KeyError:
            problems.setdefault(f"channels.{cid}", []).append(
                _l("Loa cannot publish to channels of kind %(kind)s.", kind=channel.kind))
            continue
        request = build_request(post, channel, "validation", settings)
        for problem in adapter.validate(request):
            problems.setdefault(f"channels.{cid}.{problem.field}", []).append(f"{channel.name}: {problem.message}")
        check = channel_services.SCHEDULE_CHECKS.get(channel.kind)
        if check is not None:
            try:
                check(channel, _at or utcnow(), _pending_counter(channel), settings)
            except ValidationFailed as exc:
                for messages in exc.fields.values():
                    problems.setdefault(f"channels.{cid}", []).extend(messages)
    if problems:
        raise ValidationFailed(problems, message=_l("Some channels would refuse this post; nothing was scheduled."))
    now = utcnow()
    if data.get("queue") is True:
        targets = [(cid, next_free_slot(channels[cid], settings, now)) for cid, _at in targets]
    created = []
    for cid, at in targets:
        channel = channels[cid]
        delivery = Delivery(post_id=post.id, post=post, channel_id=cid, channel=channel, unit_id=post.unit_id,
                            state="paused" if channel.state in PAUSING_STATES else "scheduled",
                            scheduled_at=max(at, now) if at is not None else now, version=1,
                            post_version=post.version, attempts=0, idempotency_key=new_idempotency_key(),
                            created_by_id=user.id, warnings=[], needs_lookup=False)
        db.session.add(delivery)
        created.append(delivery)
    db.session.flush()
    for delivery in created:
        record(user, "delivery.schedule", delivery, post_id=post.id, channel_id=delivery.channel_id,
               at=delivery.scheduled_at)
    _enqueue_after_commit(settings, created)
    return created


def _pending_counter(channel: Channel) -> Callable[[datetime, datetime], int]:
    def pending_between(start: datetime, end: datetime) -> int:
        return db.session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.channel_id == channel.id, Delivery.state.in_(("scheduled", "publishing", "paused", "held")),
            Delivery.scheduled_at >= start, Delivery.scheduled_at < end)) or 0

    return pending_between


# --- posting slots and campaign series -------------------------------------------------------------------


def channel_slots(channel: Channel) -> list[time]:
    """The channel's daily posting slots (``settings["slots"]``: local times like "07:30"), in order."""
    raw_slots = (channel.settings or {}).get("slots") or []
    if isinstance(raw_slots, str):  # PATCH /channels takes plain values: "07:30, 19:00"
        raw_slots = raw_slots.replace(";", ",").split(",")
    slots = []
    for raw in raw_slots:
        try:
            slots.append(time.fromisoformat(str(raw).strip()))
        except ValueError:
            continue
    return sorted(set(slots))


def set_channel_slots(channel: Channel, user: User, raw: Any) -> Channel:
    """Replace a channel's daily posting slots: local times of day ("07:30, 12:00, 19:00" or a list); an empty
    value removes them. Admins of the channel's unit only, like every other change to a channel."""
    require_role(user, "admin", channel.unit)
    items = raw.replace(";", ",").replace("\n", ",").split(",") if isinstance(raw, str) else raw
    if not isinstance(items, list):
        raise ValidationFailed({"slots": _l("Expected times of day like 07:30, separated by commas.")})
    slots: set[time] = set()
    bad = []
    for item in items:
        text = str(item).strip()
        if not text:
            continue
        try:
            slot = time.fromisoformat(text)
        except ValueError:
            bad.append(text)
            continue
        slots.add(slot.replace(second=0, microsecond=0, tzinfo=None))
    if bad:
        raise ValidationFailed({"slots": [_l("Not a time of day like 07:30: %(value)s.", value=value)
                                          for value in bad]})
    if len(slots) > 48:
        raise ValidationFailed({"slots": _l("At most 48 slots a day.")})
    shown = sorted(s.strftime("%H:%M") for s in slots)
    channel.settings = {**(channel.settings or {}), "slots": shown}
    db.session.flush()
    record(user, "channel.slots", channel, slots=shown)
    return channel


def next_free_slot(channel: Channel, settings: Settings, after: datetime) -> datetime:
    """The first of the channel's slots after ``after`` that holds no live delivery yet (the queue fills slots in
    order, like the social schedulers do); a channel without slots (or with every slot full for 90 days) raises
    a validation error."""
    slots = channel_slots(channel)
    if not slots:
        raise ValidationFailed({"queue": _l("Channel %(name)s has no posting slots.", name=channel.name)})
    zone = settings.zone
    taken = set(db.session.scalars(select(Delivery.scheduled_at).where(
        Delivery.channel_id == channel.id, Delivery.state.in_(ACTIVE_STATES), Delivery.scheduled_at > after)))
    pending = {d.scheduled_at for d in db.session.new if isinstance(d, Delivery) and d.channel_id == channel.id}
    day = after.astimezone(zone).date()
    for offset in range(90):
        for slot in slots:
            candidate = datetime.combine(day + timedelta(days=offset), slot, tzinfo=zone).astimezone(UTC)
            if candidate > after and candidate not in taken and candidate not in pending:
                return candidate
    raise ValidationFailed({"queue": _l("Every slot of channel %(name)s is taken for 90 days.", name=channel.name)})


TIME_OF_DAY = re.compile(r"([01]\d|2[0-3]):[0-5]\d")  # "07:30", as the series form and the API take it


def schedule_series(campaign: Campaign, user: User, data: dict[str, Any], settings: Settings) -> list[Delivery]:
    """Schedule a campaign's posts as a series: the first on ``start`` (a date) at ``time`` (local), then one
    every ``every_days`` days, each on ``channel_ids``. All or nothing: one refused post schedules none."""
    problems: dict[str, list[Any]] = {}
    try:
        start = date.fromisoformat(str(data.get("start", "")))
    except ValueError:
        start = None
        problems.setdefault("start", []).append(_l("Expected a date like 2026-05-01."))
    try:
        raw_time = data.get("time")
        if not isinstance(raw_time, str) or not TIME_OF_DAY.fullmatch(raw_time.strip()):
            raise ValueError(raw_time)
        at_time = time.fromisoformat(raw_time.strip())
    except ValueError:
        at_time = None
        problems.setdefault("time", []).append(_l("Expected a time of day like 07:30."))
    every = data.get("every_days", 1)
    if not isinstance(every, int) or isinstance(every, bool) or not 1 <= every <= 365:
        problems.setdefault("every_days", []).append(_l("Expected a number of days from 1 to 365."))
    post_ids = data.get("post_ids")
    if post_ids is None:
        posts = list(db.session.scalars(select(Post).where(Post.campaign_id == campaign.id, Post.state == "approved")
                                        .order_by(Post.id)))
    elif isinstance(post_ids, list) and all(is_id(i) for i in post_ids):
        by_id = {p.id: p for p in db.session.scalars(select(Post).where(Post.id.in_(post_ids)))}
        posts = []
        for pid in post_ids:
            post = by_id.get(pid)
            if post is None or post.campaign_id != campaign.id or not can_see_unit(user, post.unit.path):
                problems.setdefault("post_ids", []).append(_l("Post %(id)s is not in this campaign.", id=pid))
            else:
                posts.append(post)
    else:
        posts = []
        problems.setdefault("post_ids", []).append(_l("Expected a list of post ids."))
    if not posts and "post_ids" not in problems:
        problems.setdefault("post_ids", []).append(_l("This campaign has no approved post to schedule."))
    if problems:
        raise ValidationFailed(problems)
    assert start is not None and at_time is not None
    created: list[Delivery] = []
    for i, post in enumerate(posts):
        when = datetime.combine(start + timedelta(days=i * every), at_time, tzinfo=settings.zone)
        created += schedule_post(post, user, {"channel_ids": data.get("channel_ids"), "at": when}, settings)
    record(user, "campaign.schedule_series", campaign, posts=[p.id for p in posts], start=start.isoformat(),
           time=at_time.isoformat(), every_days=every)
    return created


def cancel_delivery(delivery: Delivery, user: User) -> Delivery:
    require_role(user, "editor", delivery.post.unit)
    if delivery.state not in ("scheduled", "paused", "failed", "unconfirmed", "held"):
        raise Conflict(_l("A %(state)s delivery cannot be cancelled.", state=delivery_state_in_sentence(delivery.state)),
                       code="invalid_state")
    delivery.state = "cancelled"
    _bump(delivery)
    record(user, "delivery.cancel", delivery, version=delivery.version)
    return delivery


def reschedule_delivery(delivery: Delivery, user: User, at_value: Any, settings: Settings) -> Delivery:
    require_role(user, "editor", delivery.post.unit)
    if delivery.state not in NOT_YET_PUBLISHED:
        raise Conflict(_l("A %(state)s delivery cannot be rescheduled.", state=delivery_state_in_sentence(delivery.state)),
                       code="invalid_state")
    if at_value in (None, ""):
        raise ValidationFailed({"at": _l("A time is required.")})
    at = parse_time(at_value, settings)
    assert at is not None
    if delivery.state == "unconfirmed":
        delivery.needs_lookup = True  # it may be out there already: look before publishing again
    delivery.scheduled_at = max(at, utcnow())
    delivery.next_attempt_at = None
    delivery.attempts = 0
    if delivery.state != "held":  # a held delivery moves but stays held until a person resumes it
        delivery.state = "paused" if delivery.channel.state in PAUSING_STATES else "scheduled"
    _bump(delivery)
    record(user, "delivery.reschedule", delivery, at=delivery.scheduled_at, version=delivery.version)
    _enqueue_after_commit(settings, [delivery])
    return delivery


def hold_delivery(delivery: Delivery, user: User) -> Delivery:
    """A person pauses a delivery not yet published: it stays ``held`` (a channel reconnect does not resume it)
    until a person resumes it. The version changes, so a job already queued for it does nothing."""
    require_role(user, "editor", delivery.post.unit)
    if delivery.state == "held":
        return delivery
    if delivery.state not in HOLDABLE_STATES:
        raise Conflict(_l("A %(state)s delivery cannot be paused.", state=delivery_state_in_sentence(delivery.state)),
                       code="invalid_state")
    if delivery.state == "unconfirmed":
        delivery.needs_lookup = True  # it may be out there already: look before publishing after the resume
    previous = delivery.state
    delivery.state = "held"
    delivery.next_attempt_at = None
    _bump(delivery)
    record(user, "delivery.pause", delivery, was=previous, version=delivery.version)
    return delivery


def resume_delivery(delivery: Delivery, user: User, settings: Settings) -> Delivery:
    """A held delivery goes back to ``scheduled`` at its time (now, if that time has passed), or to ``paused``
    while its channel needs reconnecting."""
    require_role(user, "editor", delivery.post.unit)
    if delivery.state != "held":
        raise Conflict(_l("Only a paused delivery can be resumed (this one is %(state)s).",
                          state=delivery_state_in_sentence(delivery.state)),
                       code="invalid_state")
    delivery.state = "paused" if delivery.channel.state in PAUSING_STATES else "scheduled"
    delivery.scheduled_at = max(delivery.scheduled_at, utcnow())
    delivery.attempts = 0
    delivery.next_attempt_at = None
    _bump(delivery)
    record(user, "delivery.resume", delivery, at=delivery.scheduled_at, version=delivery.version)
    _enqueue_after_commit(settings, [delivery])
    return delivery


def retry_delivery(delivery: Delivery, user: User, settings: Settings) -> Delivery:
    """A failed or unconfirmed delivery gets a fresh round of attempts, now (unconfirmed: looked up first)."""
    require_role(user, "editor", delivery.post.unit)
    if delivery.state not in ("failed", "unconfirmed"):
        raise Conflict(_l("Only a failed or unconfirmed delivery can be retried (this one is %(state)s).",
                          state=delivery_state_in_sentence(delivery.state)), code="invalid_state")
    if delivery.state == "unconfirmed":
        delivery.needs_lookup = True
    delivery.state = "paused" if delivery.channel.state in PAUSING_STATES else "scheduled"
    delivery.attempts = 0
    delivery.next_attempt_at = None
    delivery.scheduled_at = min(delivery.scheduled_at, utcnow())
    _bump(delivery)
    record(user, "delivery.retry", delivery, version=delivery.version)
    _enqueue_after_commit(settings, [delivery])
    return delivery


def _unpublish_in_request(delivery: Delivery, settings: Settings) -> None:
    """A channel whose removal is a change in Loa's own database (the website: ``unpublishes_in_request``) is
    changed in this very transaction, so that its address answers 410 as soon as the request has committed; the
    queued job then only finds it gone. A failure here is left to that job, which retries with history."""
    channel = delivery.channel
    if channel is None or not delivery.remote_id:
        return
    try:
        if not adapter_class(channel.kind).unpublishes_in_request:
            return
        channel_services.adapter_for(channel, settings).unpublish(delivery.remote_id)
    except (KeyError, ChannelError) as exc:
        log.warning("delivery %s: removal in the request failed, the job will retry: %s", delivery.id, exc)
        return
    db.session.flush()


def unpublish_post(post: Post, user: User, channel_ids: Any, settings: Settings) -> list[Delivery]:
    """Take a published post off channels: the deliveries become ``unpublished`` at once, a channel that lives in
    Loa's own database (the website) loses the post in the same transaction (its article answers 410 Gone as soon
    as the request commits), and a job removes the remote copies, with retries and history."""
    require_role(user, "editor", post.unit)
    published = {d.channel_id: d for d in post_deliveries(post) if d.state == "published"}
    if channel_ids is None:
        channel_ids = list(published)
    channel_ids = parse_id_list(channel_ids, "channel_ids", allow_empty=True,
                                message=_l("Expected a list of channel ids."))
    missing = [cid for cid in channel_ids if cid not in published]
    if missing:
        raise Conflict(_l("This post is not published on channel(s) %(ids)s.", ids=", ".join(map(str, missing))),
                       code="not_published")
    if not channel_ids:
        raise Conflict(_l("This post is not published anywhere."), code="not_published")
    changed = []
    for cid in channel_ids:
        delivery = published[cid]
        delivery.state = "unpublished"
        _bump(delivery)
        record(user, "delivery.unpublish", delivery, channel_id=cid, remote_id=delivery.remote_id)
        changed.append(delivery)
    db.session.flush()
    for delivery in changed:
        _unpublish_in_request(delivery, settings)
    pairs = [(d.id, d.version) for d in changed]

    def enqueue() -> None:
        for delivery_id, version in pairs:
            enqueue_job(settings, "publisher.scheduler.jobs.unpublish_delivery", delivery_id, version,
                        job_id=f"unpublish-{delivery_id}-v{version}", queue="publish", retries=5)

    after_commit(enqueue)
    return changed


# --- reacting to posts and channels ----------------------------------------------------------------------


def _on_post_event(event: str, post: Post) -> None:
    """An edit makes queued jobs stale (and holds the deliveries until the post is approved again); approving
    an edit of a published post pushes it to the channels that support edits."""
    if event == "updated":
        for delivery in post_deliveries(post):
            if delivery.state in ("scheduled", "paused", "failed", "unconfirmed", "held"):
                delivery.post_version = post.version
                _bump(delivery)
    elif event == "approved":
        stale = [d for d in post_deliveries(post) if d.state == "published" and d.post_version != post.version]
        if not stale:
            return
        from flask import current_app

        settings = current_app.extensions["publisher.settings"]
        pairs = [(d.id, post.version) for d in stale]

        def enqueue() -> None:
            for delivery_id, post_version in pairs:
                enqueue_job(settings, "publisher.scheduler.jobs.update_delivery", delivery_id, post_version,
                            job_id=f"update-{delivery_id}-p{post_version}", queue="publish", retries=5)

        after_commit(enqueue)


POST_EVENT_HOOKS.append(_on_post_event)


def resume_channel(channel: Channel) -> list[Delivery]:
    """The channel was reconnected: its paused deliveries go out on their own (now, if their time has passed)."""
    resumed = []
    for delivery in db.session.scalars(select(Delivery).where(Delivery.channel_id == channel.id,
                                                              Delivery.state == "paused")):
        delivery.state = "scheduled"
        delivery.attempts = 0
        delivery.next_attempt_at = None
        _bump(delivery)
        resumed.append(delivery)
    if channel.state == "needs_reconnect":
        channel.state = "connected"
    db.session.flush()
    if resumed:
        record(None, "channel.resume_deliveries", channel, deliveries=[d.id for d in resumed])
        from flask import current_app

        _enqueue_after_commit(current_app.extensions["publisher.settings"], resumed)
    return resumed


def pause_channel_deliveries(channel: Channel) -> list[Delivery]:
    """The channel was disconnected: its deliveries waiting to go out are ``paused`` (as for a channel that needs
    reconnecting) and resume on their own once it is connected again. Held ones stay held."""
    paused = []
    for delivery in db.session.scalars(select(Delivery).where(Delivery.channel_id == channel.id,
                                                              Delivery.state == "scheduled")):
        delivery.state = "paused"
        delivery.next_attempt_at = None
        _bump(delivery)  # a job already queued for the old version does nothing
        paused.append(delivery)
    db.session.flush()
    if paused:
        record(None, "channel.pause_deliveries", channel, deliveries=[d.id for d in paused])
    return paused


def _register_reconnect_hook() -> None:
    hooks = getattr(channel_services, "RECONNECT_HOOKS", None)
    if hooks is not None and resume_channel not in hooks:
        hooks.append(resume_channel)
    if pause_channel_deliveries not in channel_services.DISCONNECT_HOOKS:
        channel_services.DISCONNECT_HOOKS.append(pause_channel_deliveries)


_register_reconnect_hook()


def delivery_attempts(delivery: Delivery) -> list[DeliveryAttempt]:
    return list(delivery.history)
