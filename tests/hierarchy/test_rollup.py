"""Roll-up across the tree: a campaign's league table of units, and reports of a unit with its sub-units."""

from __future__ import annotations

from publisher.channels.models import Channel
from publisher.db import db, utcnow
from publisher.engagement.models import EngagementTotals
from publisher.scheduler.models import Delivery
from tests.conftest import sign_in


def _publish_with_figures(post_id: int, unit_id: int, views: int, reactions: int = 0) -> None:
    channel = Channel(unit_id=unit_id, kind="website", name=f"Trang {unit_id}", settings={})
    db.session.add(channel)
    db.session.flush()
    delivery = Delivery(post_id=post_id, channel_id=channel.id, unit_id=unit_id, state="published",
                        scheduled_at=utcnow(), published_at=utcnow(), idempotency_key=f"rollup-{post_id}-{unit_id}")
    db.session.add(delivery)
    db.session.flush()
    db.session.add(EngagementTotals(delivery_id=delivery.id, channel_id=delivery.channel_id, unit_id=delivery.unit_id,
                                    views=views, reactions=reactions, comments=0, shares=0,
                                    collected_at=utcnow()))
    db.session.commit()


def test_campaign_league_table_ranks_the_units_and_respects_scope(app, make_unit, api_as, make_campaign, make_post):  # type: ignore[no-untyped-def]
    district_a = make_unit("LĐLĐ huyện Thọ Xuân")
    district_b = make_unit("Công đoàn ngành Giáo dục")
    province = api_as("editor")
    campaign = make_campaign(user=province.user, name="Tháng hành động ATVSLĐ")
    original = make_post(author=province.user, title="Bài mẫu ATVSLĐ", campaign_id=campaign.id)
    kit = province.post(f"/api/v1/campaigns/{campaign.id}/kits",
                        json={"post_ids": [original.id], "all_below": True}).get_json()
    api_a, api_b = api_as("editor", unit=district_a), api_as("editor", unit=district_b)
    [copy_a] = api_a.post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]
    [copy_b] = api_b.post(f"/api/v1/kits/{kit['id']}/adopt").get_json()["post_ids"]
    _publish_with_figures(original.id, province.user.unit_id, views=500, reactions=20)
    _publish_with_figures(copy_a, district_a.id, views=120, reactions=9)
    _publish_with_figures(copy_b, district_b.id, views=800, reactions=31)

    viewer = province.client.application.test_client()
    leader = api_as("viewer").user
    sign_in(viewer, leader)
    page = viewer.get(f"/admin/reports/campaigns/{campaign.id}").get_data(as_text=True)
    league = page.split('id="league"', 1)[1].split("</section>", 1)[0]
    order = [league.index(name) for name in ("Công đoàn ngành Giáo dục", "Liên đoàn Lao động tỉnh", "LĐLĐ huyện Thọ Xuân")]
    assert order == sorted(order)  # 800, 500, 120 views

    # A district sees only itself: nothing sideways, nothing above.
    district_client = province.client.application.test_client()
    sign_in(district_client, api_a.user)
    page_a = district_client.get(f"/admin/reports/campaigns/{campaign.id}").get_data(as_text=True)
    assert "Công đoàn ngành Giáo dục" not in page_a

    # The API's roll-up: the province with its sub-units, each unit with its own figures, summing to the total.
    today = utcnow().date().isoformat()
    report = province.get(f"/api/v1/reports/engagement?from={today}&to={today}&unit_id={province.user.unit_id}"
                          f"&include_sub_units=true&campaign_id={campaign.id}")
    assert report.status_code == 200, report.get_json()
    body = report.get_json()
    assert {u["unit_id"] for u in body["by_unit"]} == {province.user.unit_id, district_a.id, district_b.id}
    assert sum(u["totals"]["views"] for u in body["by_unit"]) == body["totals"]["views"]
    # Sideways is refused: district A cannot ask for district B's figures.
    assert api_a.get(f"/api/v1/reports/engagement?from={today}&to={today}&unit_id={district_b.id}").status_code == 404
