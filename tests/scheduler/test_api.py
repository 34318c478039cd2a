"""The scheduling API: schedule, look at, cancel, reschedule, retry, unpublish; health proves workers consume."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from publisher.content.services import approve_post, update_post
from publisher.db import db
from publisher.scheduler.models import Delivery
from tests.scheduler.conftest import fresh, run_worker, soon, tick


def test_schedule_only_approved_posts_and_validate_each_channel(api_as, make_post, make_channel, platform):
    api = api_as("editor")
    ok, strict = make_channel(), make_channel(name="Kênh khó tính", max_chars=10)
    draft = make_post(author=api.user)
    answer = api.post(f"/api/v1/posts/{draft.id}/schedule", json={"channel_ids": [ok.id]})
    assert answer.status_code == 409 and answer.get_json()["error"]["code"] == "invalid_state"
    post = make_post(author=api.user, state="approved")
    answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [ok.id, strict.id]})
    assert answer.status_code == 422
    fields = answer.get_json()["error"]["fields"]
    assert list(fields) == [f"channels.{strict.id}.title"]
    assert "Kênh khó tính" in fields[f"channels.{strict.id}.title"][0]
    assert db.session.query(Delivery).count() == 0  # nothing scheduled
    answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [999999]})
    assert answer.status_code == 422
    answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [ok.id], "at": "ngày mai"})
    assert answer.status_code == 422 and "at" in answer.get_json()["error"]["fields"]


def test_schedule_per_channel_times_in_the_organisation_zone(api_as, make_post, make_channel, platform):
    api = api_as("editor")
    a, b = make_channel(), make_channel()
    post = make_post(author=api.user, state="approved")
    answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"deliveries": [
        {"channel_id": a.id, "at": "2099-05-01T07:30:00"},  # naive: Asia/Ho_Chi_Minh
        {"channel_id": b.id, "at": "2099-05-01T07:30:00+00:00"}]})
    assert answer.status_code == 201, answer.get_json()
    first, second = answer.get_json()["deliveries"]
    assert datetime.fromisoformat(first["at"]) == datetime(2099, 5, 1, 0, 30, tzinfo=UTC)
    assert datetime.fromisoformat(second["at"]) == datetime(2099, 5, 1, 7, 30, tzinfo=UTC)
    shown = api.get(f"/api/v1/posts/{post.id}").get_json()["deliveries"]
    assert [(d["channel_id"], d["state"], d["attempts"], d["error"]) for d in shown] == [
        (a.id, "scheduled", 0, None), (b.id, "scheduled", 0, None)]
    assert set(shown[0]) == {"id", "channel_id", "state", "at", "remote_id", "remote_url", "attempts", "error"}
    again = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [a.id]})
    assert again.status_code == 409


def test_cancel_reschedule_retry_and_unpublish(app, api_as, make_post, make_channel, platform):
    api = api_as("editor")
    channel, other = make_channel(), make_channel()
    post = make_post(author=api.user, state="approved")
    answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id, other.id],
                                                                 "at": soon(3600).isoformat()})
    first, second = (d["id"] for d in answer.get_json()["deliveries"])
    moved = api.post(f"/api/v1/deliveries/{first}/reschedule", json={"at": "2000-01-01T00:00:00+07:00"})
    assert moved.status_code == 200 and moved.get_json()["version"] == 2  # a past time means now
    assert api.post(f"/api/v1/deliveries/{first}/reschedule", json={}).status_code == 422
    assert api.post(f"/api/v1/deliveries/{second}/cancel").get_json()["state"] == "cancelled"
    assert api.post(f"/api/v1/deliveries/{second}/cancel").status_code == 409
    assert api.post(f"/api/v1/deliveries/{first}/retry").status_code == 409  # not failed
    tick(app)
    body = api.get(f"/api/v1/deliveries/{first}").get_json()
    assert body["state"] == "published" and body["remote_id"]
    assert [(h["outcome"], h["code"]) for h in body["history"]] == [("published", None)]
    assert {"started_at", "ended_at", "outcome", "code", "message"} <= set(body["history"][0])
    for action in ("cancel", "retry"):
        assert api.post(f"/api/v1/deliveries/{first}/{action}").status_code == 409
    assert api.post(f"/api/v1/deliveries/{first}/reschedule", json={"at": "2099-01-01T00:00:00Z"}).status_code == 409
    assert api.post(f"/api/v1/posts/{post.id}/unpublish", json={"channel_ids": [other.id]}).status_code == 409
    gone = api.post(f"/api/v1/posts/{post.id}/unpublish", json={"channel_ids": [channel.id]})
    assert gone.status_code == 200 and gone.get_json()["deliveries"][0]["state"] == "unpublished"
    run_worker(app)
    assert platform.removed == [body["remote_id"]]
    history = api.get(f"/api/v1/deliveries/{first}").get_json()["history"]
    assert [(h["action"], h["outcome"]) for h in history][-1] == ("unpublish", "unpublished")


def test_deliveries_out_of_scope_are_not_found(api_as, make_unit, make_post, make_channel, platform):
    api = api_as("editor")
    post = make_post(author=api.user, state="approved")
    channel = make_channel()
    delivery = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id],
                                                                   "at": soon(600).isoformat()}).get_json()
    outsider = api_as("admin", unit=make_unit("Công đoàn ngành Y tế"))
    assert outsider.get(f"/api/v1/deliveries/{delivery['deliveries'][0]['id']}").status_code == 404


def test_editing_a_published_post_pushes_the_approved_edit(app, make_user, make_post, make_channel, schedule,
                                                           platform):
    editor, approver = make_user("editor"), make_user("approver")
    post = make_post(author=editor, state="approved")
    [delivery] = schedule(post, [make_channel()])
    tick(app)
    assert fresh(delivery.id).state == "published"
    update_post(post, editor, {"title": "Tiêu đề mới"}, post.version)
    db.session.commit()
    run_worker(app)
    assert platform.updated == []  # not before it is approved again
    approve_post(post, approver)
    db.session.commit()
    run_worker(app)
    done = fresh(delivery.id)
    assert platform.updated == [done.remote_id]
    assert [(a.action, a.outcome) for a in done.history] == [("publish", "published"), ("update", "updated")]
    assert done.post_version == post.version


def test_edit_while_scheduled_waits_for_approval_then_goes_out(app, make_user, make_post, make_channel, schedule,
                                                               platform):
    editor, approver = make_user("editor"), make_user("approver")
    post = make_post(author=editor, state="approved")
    [delivery] = schedule(post, [make_channel()], at=soon(3600))
    version = fresh(delivery.id).version
    update_post(post, editor, {"title": "Tiêu đề đã sửa"}, post.version)
    db.session.commit()
    assert fresh(delivery.id).version == version + 1
    row = fresh(delivery.id)
    row.scheduled_at = soon(-1)
    db.session.commit()
    tick(app)
    assert not platform.posts  # in review again: held
    assert post.state == "in_review"
    approve_post(post, approver)
    db.session.commit()
    tick(app)
    assert fresh(delivery.id).state == "published"
    assert list(platform.posts.values())[0]["text"] == "Tiêu đề đã sửa"


def test_health_proves_workers_consume(app, client, settings):
    from publisher.scheduler.periodic import PERIODIC_JOBS, run_periodic_job

    body = client.get("/api/v1/health").get_json()
    assert (body["status"], body["database"], body["queue"]) == ("ok", "ok", "ok")  # within the start grace
    assert body["heartbeat_at"] is None and "queue_depth" in body and "oldest_overdue" in body
    app.extensions["publisher.started_at"] = time.time() - settings.heartbeat_grace_seconds - 1
    stale = client.get("/api/v1/health")
    assert stale.status_code == 503 and stale.get_json()["queue"].startswith("error")
    [beat] = [j for j in PERIODIC_JOBS if j.name == "workers.heartbeat"]
    run_periodic_job(app, beat)
    assert client.get("/api/v1/health").get_json()["queue_depth"]["publish"] == 1
    run_worker(app)
    body = client.get("/api/v1/health").get_json()
    assert body["queue"] == "ok" and body["heartbeat_age_seconds"] < 5


class _Receiver:
    def __init__(self, fail_first: int = 0):
        self.received: list[tuple[dict, dict]] = []
        self.fail_first = fail_first
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # type: ignore[no-untyped-def]
                pass

            def do_POST(self):  # type: ignore[no-untyped-def]  # noqa: N802
                data = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), data))
                status = 500 if receiver.fail_first > 0 else 200
                receiver.fail_first -= 1
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"


def test_signed_webhooks_with_retries(app, root_unit, make_post, make_channel, schedule, platform, caplog):
    from publisher.scheduler import jobs
    from publisher.scheduler.models import WebhookEvent
    from publisher.scheduler.notify import create_webhook

    receiver = _Receiver(fail_first=1)
    hook = create_webhook(root_unit.id, receiver.url, secret="bi-mat")
    db.session.commit()
    platform.faults = ["400"]
    [ok] = schedule(make_post(state="approved", title="Tin một"), [make_channel()])
    tick(app)  # the first publish is rejected: delivery.failed (the receiver answers 500 first)
    [bad_event] = db.session.query(WebhookEvent).all()
    assert bad_event.state == "pending" and bad_event.attempts == 1
    bad_event.next_attempt_at = None
    db.session.commit()
    jobs.resend_webhooks()
    db.session.commit()
    headers, data = receiver.received[-1]
    payload = json.loads(data)
    assert payload["event"] == "delivery.failed" and payload["delivery"]["id"] == ok.id
    assert payload["id"] == json.loads(receiver.received[0][1])["id"]  # the same event id on the retry
    expected = "sha256=" + hmac.new(b"bi-mat", data, hashlib.sha256).hexdigest()
    assert headers["X-Loa-Signature"] == expected and headers["X-Loa-Event-Id"] == payload["id"]
    assert f"Delivery #{ok.id}" in caplog.text  # no SMTP host: the admin notice is in the log
    del hook


def test_campaign_series_one_a_day_at_0730_for_two_weeks(app, api_as, make_user, make_post, make_channel, platform):
    from publisher.content.models import Campaign

    api = api_as("editor")
    campaign = Campaign(unit_id=api.user.unit_id, name="Tháng Công nhân", hashtags=[], description="", goal="")
    db.session.add(campaign)
    db.session.commit()
    posts = [make_post(author=api.user, state="approved", title=f"Ngày {i + 1}", campaign_id=campaign.id)
             for i in range(14)]
    channel = make_channel()
    answer = api.post(f"/api/v1/campaigns/{campaign.id}/schedule-series",
                      json={"channel_ids": [channel.id], "start": "2099-05-01", "time": "07:30"})
    assert answer.status_code == 201, answer.get_json()
    times = [datetime.fromisoformat(d["at"]) for d in answer.get_json()["deliveries"]]
    zone = app.extensions["publisher.settings"].zone
    assert [t.astimezone(zone).strftime("%Y-%m-%d %H:%M") for t in times] == [
        f"2099-05-{day:02d} 07:30" for day in range(1, 15)]
    assert [d.post_id for d in db.session.query(Delivery).order_by(Delivery.scheduled_at)] == [p.id for p in posts]
    draft = make_post(author=api.user, campaign_id=campaign.id)
    refused = api.post(f"/api/v1/campaigns/{campaign.id}/schedule-series",
                       json={"channel_ids": [make_channel().id], "start": "2099-06-01", "time": "07:30",
                             "post_ids": [posts[0].id, draft.id]})
    assert refused.status_code == 409 and db.session.query(Delivery).count() == 14  # all or nothing


def test_posting_slots_queue_fills_the_next_free_slot(app, api_as, make_post, make_channel, platform):
    api = api_as("editor")
    channel = make_channel(slots=["19:00", "07:30"])
    zone = app.extensions["publisher.settings"].zone
    seen = []
    for i in range(3):
        post = make_post(author=api.user, state="approved", title=f"Tin {i}")
        answer = api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [channel.id], "queue": True})
        assert answer.status_code == 201, answer.get_json()
        seen.append(datetime.fromisoformat(answer.get_json()["deliveries"][0]["at"]).astimezone(zone))
    assert [t.strftime("%H:%M") for t in seen] in (["07:30", "19:00", "07:30"], ["19:00", "07:30", "19:00"])
    assert seen[0] < seen[1] < seen[2] and seen[0] > datetime.now(zone)
    bare = make_channel()
    post = make_post(author=api.user, state="approved", title="Không có khung giờ")
    assert api.post(f"/api/v1/posts/{post.id}/schedule",
                    json={"channel_ids": [bare.id], "queue": True}).status_code == 422
