"""The calendar's JSON: deliveries as events for a range, and moving one (issue #14) through the same reschedule
as the delivery's form, with its checks; every refusal is a JSON problem with a reason, never a 500."""

from __future__ import annotations

from datetime import datetime

from publisher.db import db
from tests.conftest import csrf_of
from tests.scheduler.conftest import fresh


def _move(client, delivery_id, body, token):  # type: ignore[no-untyped-def]
    return client.post(f"/admin/deliveries/{delivery_id}/move", json=body, headers={"X-CSRFToken": token})


def test_events_for_a_range_and_a_move(app, client, signed_in, make_post, make_channel, schedule, platform):
    zone = app.extensions["publisher.settings"].zone
    user = signed_in()
    channel = make_channel(name="Trang tin")
    [delivery] = schedule(make_post(author=user, state="approved", title="Ngày hội"), [channel],
                          at=datetime(2099, 5, 5, 8, 0, tzinfo=zone))
    events = client.get("/admin/calendar/events?start=2099-04-27T00:00:00&end=2099-06-01T00:00:00").get_json()
    [event] = events
    assert event["id"] == str(delivery.id) and event["title"] == "Ngày hội" and event["start"] == "2099-05-05T08:00:00"
    assert event["startEditable"] is True and event["extendedProps"]["moveUrl"] == f"/admin/deliveries/{delivery.id}/move"
    assert client.get("/admin/calendar/events?start=2099-06-01T00:00:00&end=2099-07-01T00:00:00").get_json() == []
    token = csrf_of(client, "/admin/calendar")
    answer = _move(client, delivery.id, {"at": "2099-05-07T09:30"}, token)
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["event"]["start"] == "2099-05-07T09:30:00"
    assert fresh(delivery.id).scheduled_at.astimezone(zone) == datetime(2099, 5, 7, 9, 30, tzinfo=zone)
    assert fresh(delivery.id).version == 2


def test_refused_moves_are_json_problems(app, client, signed_in, make_user, make_post, make_channel, schedule,
                                         platform):
    zone = app.extensions["publisher.settings"].zone
    user = signed_in()
    [delivery] = schedule(make_post(author=user, state="approved"), [make_channel()],
                          at=datetime(2099, 5, 5, 8, 0, tzinfo=zone))
    token = csrf_of(client, "/admin/calendar")
    assert client.post(f"/admin/deliveries/{delivery.id}/move", json={"at": "2099-05-07T09:30"}).status_code == 400
    for body in (None, [], {"at": 5}, {"at": "x" * 41}):
        answer = _move(client, delivery.id, body, token)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_request"
    answer = _move(client, delivery.id, {"at": "not a time"}, token)
    assert answer.status_code == 422 and answer.get_json()["error"]["fields"]["at"]
    answer = _move(client, delivery.id, {"at": "2001-01-01T08:00"}, token)
    assert answer.status_code == 422 and "past" in answer.get_json()["error"]["message"]
    assert _move(client, 999999, {"at": "2099-05-07T09:30"}, token).status_code == 404
    row = fresh(delivery.id)
    row.state = "published"
    db.session.commit()
    answer = _move(client, delivery.id, {"at": "2099-05-07T09:30"}, token)
    assert answer.status_code == 409 and answer.get_json()["error"]["message"]
    assert fresh(delivery.id).scheduled_at.astimezone(zone) == datetime(2099, 5, 5, 8, 0, tzinfo=zone)
    bad = client.get("/admin/calendar/events?start=yesterday&end=2099-06-01T00:00:00")
    assert bad.status_code == 422 and bad.get_json()["error"]["fields"]["start"]
    assert client.get("/admin/calendar/events").status_code == 422
    assert client.get("/admin/calendar/events?start=2099-01-01T00:00:00&end=2099-12-01T00:00:00").status_code == 422
    # a viewer sees the events but cannot move them
    signed_in("viewer")
    [event] = client.get("/admin/calendar/events?start=2099-04-27T00:00:00&end=2099-06-01T00:00:00").get_json()
    assert event["startEditable"] is False
    row = fresh(delivery.id)
    row.state = "scheduled"
    db.session.commit()
    answer = _move(client, delivery.id, {"at": "2099-05-07T09:30"}, csrf_of(client, "/admin/calendar"))
    assert answer.status_code == 403
