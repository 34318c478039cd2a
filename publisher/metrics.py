"""Figures for monitoring (Prometheus), read at scrape time from the database and Redis, so that every web
process answers the same whatever machine published: deliveries by state, publish latency and lateness of the last
hour, queue depth, engagement collection and feed results, workers' heartbeat."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prometheus_client.core import GaugeHistogramMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from publisher.db import db
from publisher.engagement.models import EngagementTotals
from publisher.feeds.models import Source
from publisher.queue import QUEUE_NAMES, get_queue, redis_connection
from publisher.scheduler.jobs import HEARTBEAT_KEY
from publisher.scheduler.models import Delivery, DeliveryAttempt
from publisher.settings import Settings

# Seconds: a platform call takes from a fraction of a second (a Page post) to minutes (a large video upload).
LATENCY_BUCKETS: Sequence[float] = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900)
# Seconds after the due time: on time is within a second or two; a backlog shows as minutes.
LATENESS_BUCKETS: Sequence[float] = (0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600)
WINDOW = timedelta(hours=1)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def gauge_histogram(name: str, doc: str, values: list[float], buckets: Sequence[float]) -> GaugeHistogramMetricFamily:
    """A histogram over a moving window (it may go down, hence a gauge histogram, not a counter one)."""
    counts = [(str(bound), float(sum(1 for v in values if v <= bound))) for bound in buckets]
    counts.append(("+Inf", float(len(values))))
    return GaugeHistogramMetricFamily(name, doc, buckets=counts, gsum_value=float(sum(values)))


class LoaCollector(Collector):
    """Collects Loa's figures inside ``app``'s context on every scrape."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def collect(self) -> Iterator[Any]:
        with self.app.app_context():
            try:
                yield from database_metrics(datetime.now(UTC))
            finally:
                db.session.remove()
            yield from queue_metrics(self.app.extensions["publisher.settings"])


def database_metrics(now: datetime) -> Iterator[Any]:
    states = GaugeMetricFamily("loa_deliveries", "Deliveries by state.", labels=["state"])
    for state, count in db.session.execute(select(Delivery.state, func.count()).group_by(Delivery.state)):
        states.add_metric([state], count)
    yield states

    since = now - WINDOW
    latencies = [(_utc(ended) - _utc(started)).total_seconds() for started, ended in db.session.execute(
        select(DeliveryAttempt.started_at, DeliveryAttempt.ended_at).where(
            DeliveryAttempt.action == "publish", DeliveryAttempt.outcome == "published",
            DeliveryAttempt.ended_at >= since))]
    yield gauge_histogram("loa_publish_latency_seconds",
                          "Platform call time of the deliveries published in the last hour.",
                          latencies, LATENCY_BUCKETS)
    lateness = [max(0.0, (_utc(published) - _utc(due)).total_seconds()) for due, published in db.session.execute(
        select(Delivery.scheduled_at, Delivery.published_at).where(Delivery.published_at >= since))]
    yield gauge_histogram("loa_publish_lateness_seconds",
                          "From the due time to the platform's acceptance, deliveries published in the last hour.",
                          lateness, LATENESS_BUCKETS)

    collected = db.session.scalar(select(func.max(EngagementTotals.collected_at)))
    last = GaugeMetricFamily("loa_engagement_last_collected_timestamp_seconds",
                             "When engagement figures were last read from a channel (Unix time; 0 = never).")
    last.add_metric([], _utc(collected).timestamp() if collected else 0.0)
    yield last
    overdue = GaugeMetricFamily("loa_engagement_overdue", "Published deliveries whose collection is overdue by an hour.")
    overdue.add_metric([], db.session.scalar(select(func.count()).select_from(EngagementTotals).where(
        EngagementTotals.removed_at.is_(None), EngagementTotals.next_due_at < now - WINDOW)) or 0)
    yield overdue

    feeds = GaugeMetricFamily("loa_feed_sources", "News sources by the result of their last fetch.", labels=["status"])
    for status, count in db.session.execute(
            select(Source.last_fetch_status, func.count()).group_by(Source.last_fetch_status)):
        feeds.add_metric([status or "never"], count)
    yield feeds


def queue_metrics(settings: Settings) -> Iterator[Any]:
    depth = GaugeMetricFamily("loa_queue_depth", "Jobs waiting in each queue.", labels=["queue"])
    up = GaugeMetricFamily("loa_redis_up", "Whether Redis answered this scrape.")
    beat = GaugeMetricFamily("loa_worker_heartbeat_age_seconds",
                             "Seconds since a worker last ran the heartbeat job (-1 = never).")
    try:
        for name in QUEUE_NAMES:
            depth.add_metric([name], get_queue(settings, name).count)
        raw = redis_connection(settings).get(HEARTBEAT_KEY)
        beat.add_metric([], time.time() - float(json.loads(raw)["at"]) if raw else -1.0)
        up.add_metric([], 1.0)
    except Exception:  # noqa: BLE001 - a scrape reports Redis down rather than failing
        up.add_metric([], 0.0)
        yield up
        return
    yield from (depth, beat, up)
