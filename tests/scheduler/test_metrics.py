"""/metrics for Prometheus: deliveries by state, publish latency and lateness, queue depth, HTTP requests by route;
refused to strangers (a token, or loopback only when none is set)."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.scheduler.conftest import tick


def scrape(client, **headers) -> dict:  # type: ignore[no-untyped-def]
    response = client.get("/metrics", headers=headers, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    samples: dict = {}
    for family in text_string_to_metric_families(response.get_data(as_text=True)):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def test_deliveries_by_state_latency_and_lateness_after_publishing(app, client, make_post, make_channel, schedule):  # type: ignore[no-untyped-def]
    channel = make_channel()
    schedule(make_post(state="approved"), [channel])
    schedule(make_post(state="approved"), [channel], at="2030-01-01T07:30:00+07:00")
    before = scrape(client)
    assert before[("loa_deliveries", (("state", "scheduled"),))] == 2
    assert before[("loa_publish_latency_seconds_gcount", ())] == 0

    tick(app)

    after = scrape(client)
    assert after[("loa_deliveries", (("state", "published"),))] == 1
    assert after[("loa_deliveries", (("state", "scheduled"),))] == 1
    assert after[("loa_publish_latency_seconds_gcount", ())] == 1
    assert after[("loa_publish_latency_seconds_bucket", (("le", "+Inf"),))] == 1
    assert after[("loa_publish_lateness_seconds_gcount", ())] == 1
    assert after[("loa_queue_depth", (("queue", "publish"),))] == 0
    assert after[("loa_redis_up", ())] == 1


def test_http_requests_are_counted_by_route_pattern_not_path(client):  # type: ignore[no-untyped-def]
    client.get("/tin/khong-co-bai-nay")
    client.get("/tin/cung-khong-co")
    samples = scrape(client)
    key = ("loa_http_requests_total", (("method", "GET"), ("route", "/tin/<slug>"), ("status", "404")))
    assert samples[key] == 2
    assert not any("khong-co-bai-nay" in str(labels) for _name, labels in samples)


def test_without_a_token_only_this_machine_may_scrape(client):  # type: ignore[no-untyped-def]
    response = client.get("/metrics", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 403


class TestWithAToken:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        app_config["metrics_token"] = "bi-mat-cua-prometheus"
        return app_config

    def test_the_scraper_must_carry_it_even_from_this_machine(self, client):  # type: ignore[no-untyped-def]
        assert client.get("/metrics", environ_base={"REMOTE_ADDR": "127.0.0.1"}).status_code == 403
        wrong = client.get("/metrics", headers={"Authorization": "Bearer sai"},
                           environ_base={"REMOTE_ADDR": "10.0.0.5"})
        assert wrong.status_code == 403
        samples = scrape(client, Authorization="Bearer bi-mat-cua-prometheus")
        assert ("loa_redis_up", ()) in samples
