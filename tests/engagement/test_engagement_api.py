"""GET /api/v1/reports/engagement, to the letter of the contract."""

from __future__ import annotations

REPORT = "/api/v1/reports/engagement"


def test_period_gains_with_breakdowns_that_sum_to_totals(api_as, seeded):
    api = api_as("viewer")
    response = api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30")
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["totals"] == {"views": 200, "reactions": 2, "comments": 0, "shares": 0}
    by_channel = {c["name"]: c for c in body["by_channel"]}
    assert set(by_channel) == {"Trang Facebook", "Kênh YouTube"}
    assert by_channel["Trang Facebook"]["totals"]["views"] == 190
    assert by_channel["Trang Facebook"]["kind"] == "testchannel"
    assert by_channel["Kênh YouTube"]["channel_id"] == seeded["b"].id
    assert [(p["title"], p["totals"]["views"]) for p in body["by_post"]] == [
        ("Ngày hội Công nhân", 160), ("Tuyên truyền an toàn lao động", 40)]
    for key in ("by_channel", "by_post"):
        for m in ("views", "reactions", "comments", "shares"):
            assert sum(item["totals"][m] for item in body[key]) == body["totals"][m]
    assert "by_unit" not in body
    assert body["previous"]["from"] == "2026-05-01" and body["previous"]["totals"]["views"] == 100


def test_single_days_at_the_time_zone_boundaries(api_as, seeded):
    api = api_as("viewer")
    assert api.get(f"{REPORT}?from=2026-05-31&to=2026-05-31").get_json()["totals"]["views"] == 100
    assert api.get(f"{REPORT}?from=2026-06-01&to=2026-06-01").get_json()["totals"]["views"] == 20
    assert api.get(f"{REPORT}?from=2026-07-01&to=2026-07-01").get_json()["totals"]["views"] == 50
    assert api.get(f"{REPORT}?from=2026-01-01&to=2026-12-31").get_json()["totals"]["views"] == 350
    # a whole month from the monthly roll-up plus edge days from the daily one
    assert api.get(f"{REPORT}?from=2026-05-31&to=2026-07-01").get_json()["totals"]["views"] == 350
    assert api.get(f"{REPORT}?from=2026-06-02&to=2026-07-15").get_json()["totals"]["views"] == 230


def test_campaign_filter(api_as, seeded, make_unit, make_user, make_campaign):
    api = api_as("viewer")
    body = api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&campaign_id={seeded['campaign'].id}").get_json()
    assert body["totals"]["views"] == 160
    assert [p["post_id"] for p in body["by_post"]] == [seeded["post1"].id]
    sibling = make_unit("Công đoàn ngành Y tế")
    other = make_campaign(make_user("editor", unit=sibling), name="Chiến dịch khác")
    child_api = api_as("viewer", unit=seeded["child"])
    assert child_api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&campaign_id={other.id}").status_code == 404
    bad = api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&campaign_id=abc")
    assert bad.status_code == 422 and "campaign_id" in bad.get_json()["error"]["fields"]


def test_roll_up_over_sub_units(api_as, seeded, root_unit):
    api = api_as("viewer")
    body = api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&unit_id={root_unit.id}&include_sub_units=true").get_json()
    assert body["totals"]["views"] == 207
    units = {u["unit_id"]: u for u in body["by_unit"]}
    assert set(units) == {root_unit.id, seeded["child"].id, seeded["grandchild"].id}
    assert units[root_unit.id]["totals"]["views"] == 200
    assert units[seeded["child"].id]["totals"]["views"] == 7
    assert units[seeded["grandchild"].id]["totals"] == {"views": 0, "reactions": 0, "comments": 0, "shares": 0}
    assert units[seeded["child"].id]["name"] == "Công đoàn ngành Giáo dục"
    for key in ("by_unit", "by_channel", "by_post"):
        assert sum(item["totals"]["views"] for item in body[key]) == 207
    only_child = api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&unit_id={seeded['child'].id}").get_json()
    assert only_child["totals"]["views"] == 7


def test_scoping_hides_units_above_and_beside(api_as, seeded, root_unit, make_unit):
    child_api = api_as("admin", unit=seeded["child"])
    assert child_api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&unit_id={root_unit.id}").status_code == 404
    sibling = make_unit("Công đoàn ngành Y tế")
    assert child_api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&unit_id={sibling.id}").status_code == 404
    assert child_api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30&unit_id=99999").status_code == 404
    own = child_api.get(f"{REPORT}?from=2026-06-01&to=2026-06-30").get_json()  # default: the caller's unit
    assert own["totals"]["views"] == 7


def test_bad_dates_are_422_with_fields(api_as, seeded):
    api = api_as("viewer")
    for query, fields in [("", {"from", "to"}), ("from=2026-06-01", {"to"}), ("from=2026-13-01&to=2026-06-30", {"from"}),
                          ("from=2026-06-30&to=2026-06-01", {"to"}), ("from=yesterday&to=2026-06-01", {"from"}),
                          ("from=2026-06-01&to=2026-06-30&include_sub_units=maybe", {"include_sub_units"})]:
        response = api.get(f"{REPORT}?{query}")
        assert response.status_code == 422, query
        error = response.get_json()["error"]
        assert set(error["fields"]) == fields, query
        assert error["code"] == "validation_failed"


def test_needs_a_token_and_is_described(client, seeded):
    assert client.get(f"{REPORT}?from=2026-06-01&to=2026-06-30").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    params = {p["name"] for p in spec["paths"]["/reports/engagement"]["get"]["parameters"]}
    assert params == {"from", "to", "campaign_id", "unit_id", "include_sub_units"}
