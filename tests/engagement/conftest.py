from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from publisher.channels import base
from publisher.db import db
from tests.engagement.testchannel import MetricsServer, TestChannelAdapter

TEST_CONFIG = """
[batch]
testchannel = 3

[measures.testchannel]
views = ["post_media_view"]
reactions = ["reactions"]
comments = ["comments"]
shares = ["shares"]
zero_when_missing = ["shares"]
retired = ["post_impressions"]
"""

NOW = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)  # 10:00 in Hanoi


@pytest.fixture
def app_config(app_config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "engagement.toml"
    path.write_text(TEST_CONFIG, encoding="utf-8")
    return {**app_config, "engagement_config": path}


@pytest.fixture
def testchannel() -> Iterator[type]:
    base.REGISTRY["testchannel"] = TestChannelAdapter
    yield TestChannelAdapter
    base.REGISTRY.pop("testchannel", None)


@pytest.fixture
def metrics_server(testchannel: type) -> Iterator[MetricsServer]:
    server = MetricsServer().start()
    yield server
    server.stop()


@pytest.fixture
def make_channel(app, root_unit, metrics_server) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.channels.models import Channel

    def make(name: str = "Kênh thử", kind: str = "testchannel", unit: Any = None, **settings: Any) -> Any:
        channel = Channel(unit_id=(unit or root_unit).id, kind=kind, name=name,
                          settings={"url": metrics_server.url, **settings}, state="connected")
        db.session.add(channel)
        db.session.commit()
        return channel

    return make


@pytest.fixture
def make_delivery(app, make_post) -> Callable[..., Any]:  # type: ignore[no-untyped-def]
    from publisher.scheduler.models import Delivery

    counter = itertools.count(1)

    def make(channel: Any, post: Any = None, remote_id: str | None = None, published_at: datetime | None = None,
             state: str = "published") -> Any:
        post = post or make_post(state="approved")
        n = next(counter)
        published_at = published_at or NOW - timedelta(hours=2)
        delivery = Delivery(post_id=post.id, channel_id=channel.id, unit_id=channel.unit_id, state=state,
                            scheduled_at=published_at, idempotency_key=f"test-{n}-{channel.id}-{post.id}",
                            remote_id=remote_id or f"r{n}", published_at=published_at)
        db.session.add(delivery)
        db.session.commit()
        return delivery

    return make


@pytest.fixture
def seeded(app, metrics_server, make_channel, make_delivery, make_post, make_user, make_campaign, make_unit,
           root_unit):  # type: ignore[no-untyped-def]
    """Two channels, two posts (one in a campaign), collected across the June 2026 boundaries (Asia/Ho_Chi_Minh)
    and a sub-unit with its own channel. June gains: views 200 (A 190, B 10), reactions 2; sub-unit: 7 views."""
    from publisher.engagement.services import collect_engagement

    editor = make_user("editor")
    campaign = make_campaign(editor, name="Tháng Công nhân 2026")
    post1 = make_post(editor, state="approved", campaign_id=campaign.id, title="Ngày hội Công nhân")
    post2 = make_post(editor, state="approved", title="Tuyên truyền an toàn lao động")
    channel_a, channel_b = make_channel("Trang Facebook"), make_channel("Kênh YouTube")
    published = datetime(2026, 5, 31, 10, 0, tzinfo=UTC)
    d1 = make_delivery(channel_a, post1, published_at=published)
    d2 = make_delivery(channel_a, post2, published_at=published)
    d3 = make_delivery(channel_b, post1, published_at=published)
    child = make_unit("Công đoàn ngành Giáo dục")
    grandchild = make_unit("Công đoàn trường THPT Lê Lợi", parent=child)
    child_editor = make_user("editor", unit=child)
    child_post = make_post(child_editor, state="approved", title="Hội nghị người lao động")
    channel_c = make_channel("Trang Công đoàn Giáo dục", unit=child)
    d4 = make_delivery(channel_c, child_post, published_at=published)

    def collect(at: datetime, **values: dict) -> None:
        for d, v in values.items():
            metrics_server.figures[{"d1": d1, "d2": d2, "d3": d3, "d4": d4}[d].remote_id] = {"values": v}
        collect_engagement(at, every_published=True)
        db.session.commit()

    collect(datetime(2026, 5, 31, 16, 0, tzinfo=UTC), d1={"post_media_view": 100})  # 23:00 on 31 May locally
    collect(datetime(2026, 5, 31, 17, 30, tzinfo=UTC), d1={"post_media_view": 120})  # 00:30 on 1 June locally
    collect(datetime(2026, 6, 10, 3, 0, tzinfo=UTC), d1={"post_media_view": 250}, d2={"post_media_view": 40},
            d3={"post_media_view": 10, "reactions": 2}, d4={"post_media_view": 7})
    collect(datetime(2026, 6, 30, 18, 0, tzinfo=UTC), d1={"post_media_view": 300})  # 01:00 on 1 July locally
    return {"campaign": campaign, "post1": post1, "post2": post2, "a": channel_a, "b": channel_b, "c": channel_c,
            "child": child, "grandchild": grandchild, "editor": editor, "child_editor": child_editor,
            "deliveries": (d1, d2, d3, d4)}
