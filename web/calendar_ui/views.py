from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from flask import abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from publisher.accounts.services import visible_filter
from publisher.channels.models import Channel
from publisher.channels.services import get_channel
from publisher.content.services import get_campaign, get_post
from publisher.db import db, utcnow
from publisher.errors import DomainError, PermissionDenied, ValidationFailed
from publisher.labels import delivery_state_label
from publisher.scheduler.models import Delivery
from publisher.scheduler.services import (
    cancel_delivery,
    channel_slots,
    get_delivery,
    hold_delivery,
    parse_time,
    reschedule_delivery,
    resume_delivery,
    retry_delivery,
    schedule_post,
    schedule_series,
    set_channel_slots,
)
from web import current_settings
from web.calendar_ui import bp
from web.channel_look import channel_look

OVERDUE_MINUTES = 5


def state_label(state: str) -> str:
    return delivery_state_label(state)


def _error_message(exc: DomainError) -> str:
    message = str(exc.message)
    if isinstance(exc, ValidationFailed):
        message += " " + "; ".join(str(m) for messages in exc.fields.values() for m in messages)
    return message


def _visible_channels() -> list[Channel]:
    return list(db.session.scalars(select(Channel).where(visible_filter(current_user, Channel.unit_id))
                                   .order_by(Channel.name)))


bp.add_app_template_global(channel_look, "channel_look")


@bp.app_template_global("delivery_state_label")
def _state_label_global(state: str) -> str:
    return state_label(state)


@bp.app_template_global("post_deliveries")
def post_deliveries(post_id: int) -> list[Delivery]:
    """The post's deliveries the signed-in user may see (listed on the post's page)."""
    return list(db.session.scalars(select(Delivery).where(Delivery.post_id == post_id,
                                                          visible_filter(current_user, Delivery.unit_id))
                                   .order_by(Delivery.scheduled_at, Delivery.id)))


@bp.app_template_global("deliveries_of_posts")
def deliveries_of_posts(post_ids: list[int]) -> dict[int, list[Delivery]]:
    """The deliveries of several posts at once (the posts list's channel column), each post's in channel order."""
    if not post_ids:
        return {}
    out: dict[int, list[Delivery]] = {}
    query = (select(Delivery).where(Delivery.post_id.in_(post_ids), visible_filter(current_user, Delivery.unit_id))
             .options(joinedload(Delivery.channel)).order_by(Delivery.post_id, Delivery.channel_id, Delivery.id))
    for delivery in db.session.scalars(query).unique():
        out.setdefault(delivery.post_id, []).append(delivery)
    return out


@bp.app_template_global("schedule_attention")
def schedule_attention() -> dict[str, Any]:
    """What the dashboard flags: deliveries overdue by more than a few minutes, failed or unconfirmed ones,
    channels to reconnect, and workers that stopped consuming."""
    from publisher.scheduler.jobs import HEARTBEAT_KEY
    from publisher.scheduler.pipeline import due_filter

    now = utcnow()
    mine = visible_filter(current_user, Delivery.unit_id)
    overdue = list(db.session.scalars(select(Delivery).where(
        mine, *due_filter(now - timedelta(minutes=OVERDUE_MINUTES))).order_by(Delivery.scheduled_at).limit(20)))
    stuck = list(db.session.scalars(select(Delivery).where(
        mine, Delivery.state == "publishing",
        Delivery.claimed_at < now - timedelta(minutes=OVERDUE_MINUTES)).limit(20)))
    attention = list(db.session.scalars(select(Delivery).where(
        mine, Delivery.state.in_(("failed", "unconfirmed", "paused"))).order_by(Delivery.updated_at.desc())
        .limit(20)))
    channels = list(db.session.scalars(select(Channel).where(visible_filter(current_user, Channel.unit_id),
                                                             Channel.state == "needs_reconnect")))
    workers_ok = True
    try:
        from publisher.queue import redis_connection

        raw = redis_connection(current_settings()).get(HEARTBEAT_KEY)
        grace = current_settings().heartbeat_grace_seconds
        started = current_app.extensions.get("publisher.started_at", time.time())
        beat = json.loads(raw)["at"] if raw else None
        workers_ok = (beat is not None and time.time() - beat <= grace) or time.time() - started <= grace
    except Exception:  # noqa: BLE001 - Redis away: that is what the banner says
        workers_ok = False
    return {"overdue": overdue + stuck, "attention": attention, "channels": channels, "workers_ok": workers_ok}


# --- scheduling ------------------------------------------------------------------------------------------


@bp.route("/posts/<int:post_id>/schedule", methods=["GET", "POST"])
def schedule(post_id: int):  # type: ignore[no-untyped-def]
    post = get_post(post_id, current_user)
    channels = _visible_channels()
    if request.method == "POST":
        channel_ids = [int(v) for v in request.form.getlist("channel_ids") if v.isdigit()]
        data: dict[str, Any] = {"channel_ids": channel_ids}
        when = request.form.get("at", "").strip()
        if request.form.get("mode") == "queue":
            data["queue"] = True  # each channel's next free posting slot
        elif request.form.get("mode") != "now" and when:
            data["at"] = when  # <input type="datetime-local">: the organisation's local time
        try:
            created = schedule_post(post, current_user, data, current_settings())
        except DomainError as exc:
            db.session.rollback()
            flash(_error_message(exc), "error")
            return render_template("scheduler/schedule.html", post=post, channels=channels, form=request.form,
                                   slots=_slots_of(channels)), 422
        flash(_("Scheduled on %(n)s channel(s).", n=len(channel_ids)), "success")
        # Then the calendar, at the day the first of them goes out.
        zone = current_settings().zone
        first = min((d.scheduled_at for d in created), default=utcnow())
        return redirect(url_for("schedule_ui.calendar", date=first.astimezone(zone).date().isoformat()))
    return render_template("scheduler/schedule.html", post=post, channels=channels, form={},
                           slots=_slots_of(channels))


def _slots_of(channels: list[Channel]) -> dict[int, str]:
    return {c.id: ", ".join(t.strftime("%H:%M") for t in channel_slots(c)) for c in channels}


@bp.get("/campaigns/series")
def choose_series():  # type: ignore[no-untyped-def]
    """The calendar's "schedule a campaign as a series" picker lands here."""
    campaign_id = request.args.get("campaign_id", type=int)
    if not campaign_id:
        return redirect(url_for("schedule_ui.calendar"))
    return redirect(url_for("schedule_ui.campaign_series", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/series", methods=["GET", "POST"])
def campaign_series(campaign_id: int):  # type: ignore[no-untyped-def]
    """Schedule a campaign's approved posts as a series: from a date, at a time of day, every N days."""
    from publisher.content.models import Post

    campaign = get_campaign(campaign_id, current_user)
    channels = _visible_channels()
    posts = list(db.session.scalars(select(Post).where(Post.campaign_id == campaign.id, Post.state == "approved",
                                                       visible_filter(current_user, Post.unit_id))
                                    .order_by(Post.id)))
    if request.method == "POST":
        if not current_user.has_role("editor"):
            raise PermissionDenied(_("Only editors can schedule posts."))
        every = request.form.get("every_days", "1").strip()
        data: dict[str, Any] = {
            "channel_ids": [int(v) for v in request.form.getlist("channel_ids") if v.isdigit()],
            "start": request.form.get("start", "").strip(), "time": request.form.get("time", "").strip(),
            "every_days": int(every) if every.isdigit() else every,
        }
        try:
            created = schedule_series(campaign, current_user, data, current_settings())
        except DomainError as exc:
            db.session.rollback()
            flash(_error_message(exc), "error")
            return render_template("scheduler/series.html", campaign=campaign, channels=channels, posts=posts,
                                   form=request.form), 422
        flash(_("Scheduled %(n)s deliveries.", n=len(created)), "success")
        return redirect(url_for("schedule_ui.calendar", date=data["start"]))
    return render_template("scheduler/series.html", campaign=campaign, channels=channels, posts=posts, form={})


@bp.route("/channels/<int:channel_id>/slots", methods=["GET", "POST"])
def channel_slots_form(channel_id: int):  # type: ignore[no-untyped-def]
    """A channel's daily posting slots, which "put in the next free slot" fills in order (admins change them)."""
    from publisher.accounts.services import require_role

    channel = get_channel(channel_id, current_user)
    if request.method == "POST":
        require_role(current_user, "admin", channel.unit)
        try:
            set_channel_slots(channel, current_user, request.form.get("slots", ""))
        except ValidationFailed as exc:
            db.session.rollback()
            flash(_error_message(exc), "error")
            return render_template("scheduler/slots.html", channel=channel, value=request.form.get("slots", "")), 422
        flash(_("The posting slots were saved."), "success")
        return redirect(url_for("schedule_ui.channel_slots_form", channel_id=channel.id))
    value = ", ".join(t.strftime("%H:%M") for t in channel_slots(channel))
    return render_template("scheduler/slots.html", channel=channel, value=value)


# --- calendar --------------------------------------------------------------------------------------------


def _local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = current_settings().zone
    start = datetime.combine(first, dtime.min, tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), dtime.min, tzinfo=zone)
    return start, end


@bp.get("/calendar")
def calendar():  # type: ignore[no-untyped-def]
    zone = current_settings().zone
    view = request.args.get("view", "month")
    if view not in CALENDAR_VIEWS:
        view = "month"
    try:
        anchor = date.fromisoformat(request.args.get("date", ""))
    except ValueError:
        anchor = utcnow().astimezone(zone).date()
    channel_id = request.args.get("channel_id", type=int)
    if view == "day":
        first = last = anchor
        previous, following = anchor - timedelta(days=1), anchor + timedelta(days=1)
    elif view == "week":
        first = anchor - timedelta(days=anchor.weekday())
        last = first + timedelta(days=6)
        previous, following = first - timedelta(days=7), first + timedelta(days=7)
    else:
        month_start = anchor.replace(day=1)
        next_month = (month_start + timedelta(days=32)).replace(day=1)
        first = month_start - timedelta(days=month_start.weekday())
        last = next_month - timedelta(days=1)
        last = last + timedelta(days=6 - last.weekday())
        previous = (month_start - timedelta(days=1)).replace(day=1)
        following = next_month
    start, end = _local_day_bounds(first, last)
    query = select(Delivery).where(visible_filter(current_user, Delivery.unit_id), Delivery.scheduled_at >= start,
                                   Delivery.scheduled_at < end).order_by(Delivery.scheduled_at)
    if channel_id:
        query = query.where(Delivery.channel_id == channel_id)
    by_day: dict[date, list[Delivery]] = {}
    for delivery in db.session.scalars(query):
        by_day.setdefault(delivery.scheduled_at.astimezone(zone).date(), []).append(delivery)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weeks = [days[i:i + 7] for i in range(0, len(days), 7)]
    campaigns: list[Any] = []
    if current_user.has_role("editor"):
        from publisher.content.models import Campaign

        campaigns = list(db.session.scalars(select(Campaign).where(visible_filter(current_user, Campaign.unit_id))
                                            .order_by(Campaign.id.desc()).limit(50)))
    return render_template("scheduler/calendar.html", view=view, weeks=weeks, by_day=by_day, anchor=anchor,
                           previous=previous, following=following, channels=_visible_channels(),
                           channel_id=channel_id, zone=zone, today=utcnow().astimezone(zone).date(),
                           campaigns=campaigns, library_view=CALENDAR_VIEWS[view],
                           utc_offset=_utc_offset(zone), can_move=current_user.has_role("editor"))


def _utc_offset(zone: Any) -> str:
    """The organisation's offset now, as the calendar library wants it ("+07:00")."""
    offset = utcnow().astimezone(zone).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


MOVABLE_STATES = ("scheduled", "paused", "failed", "unconfirmed", "held")  # what a drag may move (not yet out)
CALENDAR_VIEWS = {"month": "dayGridMonth", "week": "timeGridWeek", "day": "timeGridDay"}


def _wall(moment: datetime) -> str:
    """A time as the organisation's wall-clock time without offset: the calendar shows it as written."""
    return moment.astimezone(current_settings().zone).strftime("%Y-%m-%dT%H:%M:%S")


def _event_of(delivery: Delivery, editable: bool) -> dict[str, Any]:
    look = channel_look(delivery.channel.kind)
    start = delivery.scheduled_at
    return {
        "id": str(delivery.id), "title": delivery.post.title, "start": _wall(start),
        "end": _wall(start + timedelta(minutes=30)),
        "backgroundColor": look.fill, "classNames": ["delivery", f"state-{delivery.state}", f"kind-{look.kind}"],
        "startEditable": editable and delivery.state in MOVABLE_STATES, "durationEditable": False,
        "extendedProps": {"at": _wall(start)[:16], "kind": look.kind, "icon": look.icon, "label": look.label,
                          "channel": delivery.channel.name, "state": delivery.state,
                          "stateLabel": state_label(delivery.state),
                          "url": url_for("schedule_ui.delivery_detail", delivery_id=delivery.id),
                          "moveUrl": url_for("schedule_ui.delivery_move", delivery_id=delivery.id)},
    }


def _problem(status: int, code: str, message: str, fields: dict[str, Any] | None = None):  # type: ignore[no-untyped-def]
    body: dict[str, Any] = {"error": {"code": code, "message": message}}
    if fields:
        body["error"]["fields"] = {k: [str(m) for m in v] for k, v in fields.items()}
    return jsonify(body), status


@bp.get("/calendar/events")
def calendar_events():  # type: ignore[no-untyped-def]
    """The deliveries between ``start`` and ``end`` (ISO times; without offset, the organisation's) as calendar
    events, for the drag-and-drop calendar (web/static/editorial/calendar.js)."""
    settings = current_settings()
    try:
        start = parse_time(request.args.get("start", ""), settings, "start")
        end = parse_time(request.args.get("end", ""), settings, "end")
    except ValidationFailed as exc:
        return _problem(422, "validation_failed", _error_message(exc), exc.fields)
    if start is None or end is None or end <= start or end - start > timedelta(days=62):
        return _problem(422, "validation_failed", _("Give a start and an end at most two months apart."))
    query = select(Delivery).where(visible_filter(current_user, Delivery.unit_id), Delivery.scheduled_at >= start,
                                   Delivery.scheduled_at < end).order_by(Delivery.scheduled_at)
    channel_id = request.args.get("channel_id", type=int)
    if channel_id:
        query = query.where(Delivery.channel_id == channel_id)
    editable = current_user.has_role("editor")
    return jsonify([_event_of(d, editable) for d in db.session.scalars(query)])


@bp.post("/deliveries/<int:delivery_id>/move")
def delivery_move(delivery_id: int):  # type: ignore[no-untyped-def]
    """A delivery dragged to another day or time on the calendar: the same reschedule as the delivery's form
    (same checks), answered in JSON; a refusal carries the reason, and the calendar puts the delivery back."""
    settings = current_settings()
    data = request.get_json(silent=True)
    if not isinstance(data, dict) or not isinstance(data.get("at"), str) or len(data["at"]) > 40:
        return _problem(400, "bad_request", _("Give the new time as {\"at\": \"2026-05-01T07:30\"}."))
    try:
        delivery = get_delivery(delivery_id, current_user)
        at = parse_time(data["at"], settings)
        if at is not None and at < utcnow() - timedelta(minutes=1):
            raise ValidationFailed({"at": _("A delivery cannot be moved into the past.")})
        reschedule_delivery(delivery, current_user, data["at"], settings)
    except DomainError as exc:
        db.session.rollback()
        return _problem(exc.status, exc.code, _error_message(exc), getattr(exc, "fields", None))
    return jsonify({"message": _("The delivery was moved."), "event": _event_of(delivery, True)})


# --- one delivery ----------------------------------------------------------------------------------------


@bp.get("/deliveries/<int:delivery_id>")
def delivery_detail(delivery_id: int):  # type: ignore[no-untyped-def]
    delivery = get_delivery(delivery_id, current_user)
    return render_template("scheduler/delivery.html", delivery=delivery, zone=current_settings().zone)


@bp.post("/deliveries/<int:delivery_id>/<action>")
def delivery_action(delivery_id: int, action: str):  # type: ignore[no-untyped-def]
    from publisher.accounts.services import require_role

    delivery = get_delivery(delivery_id, current_user)
    require_role(current_user, "editor", delivery.post.unit)  # a viewer gets 403, not a flash
    try:
        if action == "retry":
            retry_delivery(delivery, current_user, current_settings())
            flash(_("The delivery will be tried again now."), "success")
        elif action == "cancel":
            cancel_delivery(delivery, current_user)
            flash(_("The delivery was cancelled."), "success")
        elif action == "reschedule":
            reschedule_delivery(delivery, current_user, request.form.get("at", ""), current_settings())
            flash(_("The delivery was moved."), "success")
        elif action == "pause":
            hold_delivery(delivery, current_user)
            flash(_("The delivery is paused until someone resumes it."), "success")
        elif action == "resume":
            resume_delivery(delivery, current_user, current_settings())
            flash(_("The delivery was resumed."), "success")
        else:
            abort(404)
    except DomainError as exc:
        db.session.rollback()
        flash(_error_message(exc), "error")
    back = request.form.get("next", "")
    if back.startswith("/admin/calendar"):  # the calendar's own buttons return there
        return redirect(back)
    return redirect(url_for("schedule_ui.delivery_detail", delivery_id=delivery_id))


# --- webhooks (admins) -----------------------------------------------------------------------------------


@bp.route("/webhooks", methods=["GET", "POST"])
def webhooks():  # type: ignore[no-untyped-def]
    from publisher.accounts.services import require_role
    from publisher.scheduler.models import WEBHOOK_EVENTS, Webhook
    from publisher.scheduler.notify import create_webhook, delete_webhook

    require_role(current_user, "admin", current_user.unit)
    if request.method == "POST":
        if request.form.get("delete", "").isdigit():
            delete_webhook(int(request.form["delete"]), current_user)
            flash(_("The webhook was removed."), "success")
            return redirect(url_for("schedule_ui.webhooks"))
        url = request.form.get("url", "").strip()
        events = [e for e in request.form.getlist("events") if e in WEBHOOK_EVENTS]
        if not (url.startswith("https://") or url.startswith("http://")) or len(url) > 1000:
            flash(_("Enter the receiver's address, starting with https://."), "error")
        else:
            hook = create_webhook(current_user.unit_id, url, events)
            flash(_("Webhook added. Its signing secret: %(secret)s", secret=hook.secret), "success")
            return redirect(url_for("schedule_ui.webhooks"))
    hooks = db.session.scalars(select(Webhook).where(visible_filter(current_user, Webhook.unit_id))
                               .order_by(Webhook.id)).all()
    return render_template("scheduler/webhooks.html", hooks=hooks, events=WEBHOOK_EVENTS)
