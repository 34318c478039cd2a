"""A delivery that did not go out says why in Loa's own words, with what to do next, on the delivery page, the post
page and the calendar; the channel's own code and message are folded under "The channel's own answer"."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from publisher.channels.description import ChannelDescription
from publisher.db import db, utcnow
from publisher.scheduler.models import Delivery, DeliveryAttempt
from tests.scheduler import testchannel
from tests.scheduler.conftest import fresh, tick

FOLD = "The channel's own answer"


@pytest.fixture
def failed(app, signed_in, make_post, make_channel, schedule, platform):  # type: ignore[no-untyped-def]
    """failed(*faults, rounds=1): a delivery published through the test platform answering ``faults``."""
    user = signed_in()

    def run(*faults: str, rounds: int = 1, lookup_faults: tuple[str, ...] = ()) -> Delivery:
        platform.faults = list(faults)
        platform.lookup_faults = list(lookup_faults)
        post = make_post(author=user, state="approved", title="Ngày hội công nhân")
        [delivery] = schedule(post, [make_channel(name="Kênh thử")])
        for _ in range(rounds):
            row = fresh(delivery.id)
            if row.state != "scheduled":
                break
            row.next_attempt_at = None  # due now: no waiting for the back-off
            db.session.commit()
            tick(app)
        return fresh(delivery.id)

    return run


def explained(client, delivery: Delivery) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    """(Loa's sentence, the folded answer) as the delivery page shows them."""
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    sentence = re.search(r'<p class="problem-sentence">(.*?)</p>', page, re.S)
    fold = re.search(r'<details class="platform-answer">\s*<summary>(.*?)</summary>(.*?)</details>', page, re.S)
    assert sentence is not None, page
    return sentence.group(1), (fold.group(1) + "|" + fold.group(2)) if fold else ""


def test_unauthorised_says_reconnect_the_channel(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("401")
    assert delivery.state == "paused"
    sentence, fold = explained(client, delivery)
    assert sentence.startswith("The channel needs reconnecting") and "reconnect the channel" in sentence
    assert FOLD in fold and "E401" in fold and "fault 401" in fold
    assert "fault 401" not in sentence


def test_rate_limited_says_loa_tries_again_by_itself(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("429:600")
    assert delivery.state == "scheduled"
    sentence, fold = explained(client, delivery)
    assert "limiting how often Loa may post" in sentence and "nothing to do" in sentence
    assert "E429" in fold


def test_rate_limited_to_the_end_says_retry_later(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("429", "429", "429", "429", rounds=4)
    assert delivery.state == "failed"
    sentence, _fold = explained(client, delivery)
    assert "Loa stopped trying" in sentence and "“Retry now” a little later" in sentence


def test_rejected_content_quotes_the_kinds_own_reason(client, failed, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(testchannel.TestChannelAdapter, "description", ChannelDescription(
        kind="testchannel", label="Test", error_sentences={"E400": "The title is longer than the channel allows."}),
        raising=False)
    delivery = failed("400")
    assert delivery.state == "failed"
    sentence, fold = explained(client, delivery)
    assert sentence == ("The channel refused the post as it is: The title is longer than the channel allows. Change "
                        "the post, then choose “Retry now”.")
    assert "E400" in fold and "fault 400" in fold


def test_rejected_content_without_a_reason_points_at_the_answer(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("400")
    sentence, fold = explained(client, delivery)
    assert "without saying which part" in sentence and "fault 400" in fold


def test_media_refused_says_use_a_smaller_file(client, failed, monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(testchannel.TestChannelAdapter, "description", ChannelDescription(
        kind="testchannel", label="Test", media_error_codes=frozenset({"E400"})), raising=False)
    delivery = failed("400")
    sentence, fold = explained(client, delivery)
    assert "refused the photo or video" in sentence and "smaller file" in sentence and "E400" in fold


def test_timeout_says_loa_checks_before_trying_again(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("timeout")
    assert delivery.state == "scheduled" and delivery.needs_lookup
    sentence, fold = explained(client, delivery)
    assert "did not answer in time" in sentence and "ReadTimeout" in fold


def test_unconfirmed_says_check_on_the_channel_then_choose(client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("timeout", rounds=3, lookup_faults=("500",))
    assert delivery.state == "unconfirmed"
    sentence, fold = explained(client, delivery)
    assert sentence.startswith("Loa is not sure the post went out") and "Check on the channel" in sentence
    assert "“Retry now”" in sentence and "“Cancel”" in sentence and "lookup unavailable" in fold


def test_temporary_failure_says_loa_tries_again(client, failed):  # type: ignore[no-untyped-def]
    waiting = failed("500")
    sentence, fold = explained(client, waiting)
    assert "temporary problem" in sentence and "E500" in fold


def test_temporary_failures_to_the_end_say_retry_when_it_works(client, failed):  # type: ignore[no-untyped-def]
    gone = failed("500", "500", "500", "500", rounds=5)
    assert gone.state == "failed"
    sentence, _fold = explained(client, gone)
    assert "kept failing, so Loa stopped trying" in sentence


def test_post_page_and_calendar_explain_too(app, client, failed):  # type: ignore[no-untyped-def]
    delivery = failed("401")
    post = client.get(f"/admin/posts/{delivery.post_id}").get_data(as_text=True)
    assert "The channel needs reconnecting" in post and FOLD in post
    zone = app.extensions["publisher.settings"].zone
    day = delivery.scheduled_at.astimezone(zone).date()
    events = client.get(f"/admin/calendar/events?start={day.isoformat()}T00:00&end="
                        f"{(day + timedelta(days=1)).isoformat()}T00:00").get_json()
    [event] = [e for e in events if e["id"] == str(delivery.id)]
    assert event["extendedProps"]["problem"].startswith("The channel needs reconnecting")


def test_in_vietnamese_by_default(client, signed_in, failed):  # type: ignore[no-untyped-def]
    delivery = failed("401")
    signed_in(locale="vi")
    page = client.get(f"/admin/deliveries/{delivery.id}").get_data(as_text=True)
    assert "Kênh cần kết nối lại" in page and "Nguyên văn trả lời của kênh" in page


def test_a_kinds_own_sentences_are_reused(app, make_post, root_unit):  # type: ignore[no-untyped-def]
    """Zalo's codes already have Loa's sentences (publisher/channels/zalo.py): the explanation quotes them."""
    from publisher.channels.models import Channel
    from publisher.channels.zalo import ERRORS
    from publisher.scheduler.explain import explain_delivery

    channel = Channel(unit_id=root_unit.id, kind="zalo", name="OA", settings={}, state="connected", last_error="")
    post = make_post(state="approved")
    db.session.add(channel)
    db.session.flush()
    delivery = Delivery(post_id=post.id, channel_id=channel.id, unit_id=root_unit.id, state="failed",
                        scheduled_at=utcnow(), idempotency_key="zalo-explain", last_error_code="-210",
                        last_error="-210: title too long")
    db.session.add(delivery)
    db.session.flush()
    db.session.add(DeliveryAttempt(delivery_id=delivery.id, outcome="rejected", code="-210",
                                   message="title too long"))
    db.session.flush()
    db.session.refresh(delivery)
    with app.test_request_context():
        problem = explain_delivery(delivery)
    assert problem is not None and problem.cause == "rejected"
    assert str(ERRORS[-210][1]) in problem.sentence and problem.code == "-210" and problem.message == "title too long"


def test_the_api_adds_the_explanation_and_keeps_the_error(failed, api_as):  # type: ignore[no-untyped-def]
    delivery = failed("401")
    body = api_as("editor").get(f"/api/v1/deliveries/{delivery.id}").get_json()
    assert body["error"] == "E401: fault 401" and body["error_code"] == "E401"
    assert body["explanation"]["cause"] == "unauthorised"
    assert body["explanation"]["message"].startswith("Kênh cần kết nối lại")  # the token's user reads Vietnamese


def test_facebooks_community_standards_refusal_is_quoted(app, make_post, root_unit):  # type: ignore[no-untyped-def]
    """A Graph refusal Loa words itself (#368) is the reason; a refused file (#324/…) is the media class."""
    from publisher.channels.facebook import REFUSALS
    from publisher.channels.models import Channel
    from publisher.scheduler.explain import explain_delivery

    channel = Channel(unit_id=root_unit.id, kind="facebook", name="Trang", settings={}, state="connected",
                      last_error="")
    db.session.add(channel)
    db.session.flush()
    causes = {}
    for code in ("368", "324/2069019"):
        delivery = Delivery(post_id=make_post(state="approved").id, channel_id=channel.id, unit_id=root_unit.id,
                            state="failed", scheduled_at=utcnow(), idempotency_key=f"fb-{code}",
                            last_error_code=code, last_error=f"{code}: (#{code}) Graph's words")
        db.session.add(delivery)
        db.session.flush()
        db.session.add(DeliveryAttempt(delivery_id=delivery.id, outcome="rejected", code=code,
                                       message=f"(#{code}) Graph's words"))
        db.session.flush()
        db.session.refresh(delivery)
        with app.test_request_context():
            causes[code] = explain_delivery(delivery)
    assert causes["368"].cause == "rejected" and str(REFUSALS["368"]) in causes["368"].sentence
    assert "Graph's words" not in causes["368"].sentence and causes["368"].message == "(#368) Graph's words"
    assert causes["324/2069019"].cause == "media"
