"""Ids too large for the database (issue #19, item 1): every list of ids, every id field, query parameter and path
answers 422 naming the field (404 for a path), never a 500. On PostgreSQL 3,000,000,000 is already too large; on
SQLite 99999999999999999999 is."""

from __future__ import annotations

import pytest

from publisher.db import MAX_ID
from publisher.errors import ValidationFailed
from publisher.ids import parse_id, parse_id_list, parse_id_text

HUGE = (3_000_000_000, 99_999_999_999_999_999_999, 2**63)


def fields_of(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, (response.status_code, response.data[:300])
    body = response.get_json()
    assert body["error"]["code"] == "validation_failed"
    return body["error"]["fields"]


def test_the_helpers_accept_the_id_range_only() -> None:
    assert parse_id(MAX_ID, "x") == MAX_ID and parse_id(None, "x") is None
    assert parse_id_list([1, MAX_ID], "x") == [1, MAX_ID]
    assert parse_id_text(" 0012 ", "x") == 12 and parse_id_text("", "x") is None
    for bad in (0, -1, True, "1", 1.0, MAX_ID + 1, *HUGE):
        with pytest.raises(ValidationFailed) as caught:
            parse_id(bad, "x")
        assert list(caught.value.fields) == ["x"]
        with pytest.raises(ValidationFailed):
            parse_id_list([1, bad], "x")
    for text in ("0", "-1", "+1", "1.0", "abc", "null", "١", str(MAX_ID + 1), "9" * 5000):
        with pytest.raises(ValidationFailed):
            parse_id_text(text, "x")


@pytest.mark.parametrize("huge", HUGE)
def test_schedule_with_huge_channel_ids(api_as, make_post, huge: int) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    post = make_post(author=api.user, state="approved")
    assert "channel_ids" in fields_of(api.post(f"/api/v1/posts/{post.id}/schedule", json={"channel_ids": [huge]}))
    assert "channel_ids" in fields_of(api.post(f"/api/v1/posts/{post.id}/schedule",
                                               json={"channel_ids": [huge], "queue": True}))
    fields = fields_of(api.post(f"/api/v1/posts/{post.id}/schedule", json={"deliveries": [{"channel_id": huge}]}))
    assert "deliveries.0.channel_id" in fields
    assert "channel_ids" in fields_of(api.post(f"/api/v1/posts/{post.id}/unpublish", json={"channel_ids": [huge]}))


@pytest.mark.parametrize("huge", HUGE)
def test_series_and_kits_with_huge_ids(api_as, make_campaign, huge: int) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    campaign = make_campaign(user=api.user)
    fields = fields_of(api.post(f"/api/v1/campaigns/{campaign.id}/schedule-series",
                                json={"channel_ids": [1], "post_ids": [huge], "start": "2027-01-01", "time": "07:30"}))
    assert "post_ids" in fields
    fields = fields_of(api.post(f"/api/v1/campaigns/{campaign.id}/kits", json={"post_ids": [huge], "unit_ids": [huge]}))
    assert "post_ids" in fields and "unit_ids" in fields


@pytest.mark.parametrize("huge", HUGE)
def test_reports_and_lists_with_huge_query_ids(api_as, huge: int) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    for name in ("unit_id", "campaign_id"):
        answer = api.get(f"/api/v1/reports/engagement?from=2026-01-01&to=2026-01-31&{name}={huge}")
        assert name in fields_of(answer)
    assert "campaign_id" in fields_of(api.get(f"/api/v1/posts?campaign_id={huge}"))


@pytest.mark.parametrize("huge", HUGE)
def test_single_id_fields_and_paths_with_huge_ids(api_as, huge: int) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    assert "unit_id" in fields_of(api.post("/api/v1/posts", json={"title": "Tin", "unit_id": huge}))
    assert "campaign_id" in fields_of(api.post("/api/v1/posts", json={"title": "Tin", "campaign_id": huge}))
    for path in (f"/api/v1/posts/{huge}", f"/api/v1/deliveries/{huge}", f"/api/v1/channels/{huge}",
                 f"/api/v1/campaigns/{huge}", f"/api/v1/kits/{huge}", f"/api/v1/units/{huge}", f"/api/v1/media/{huge}"):
        answer = api.get(path)
        assert answer.status_code == 404, (path, answer.status_code)
        assert answer.get_json()["error"]["code"] == "not_found"
