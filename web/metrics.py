"""``/metrics`` for Prometheus: Loa's figures (publisher.metrics) and this process's HTTP requests by route and
status. Answers to a scraper carrying ``Authorization: Bearer PUBLISHER_METRICS_TOKEN``, or, with no token set,
only to requests from this machine (loopback), so the endpoint is never public by accident.

With several gunicorn workers set ``PROMETHEUS_MULTIPROC_DIR`` (config/gunicorn.conf.py does) so that the request
counts of all of them are added up."""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

from publisher.metrics import LoaCollector

bp = Blueprint("metrics", __name__)

REQUEST_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class _HttpMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("loa_http_requests", "HTTP requests answered, by route and status.",
                                ["method", "route", "status"], registry=self.registry)
        self.seconds = Histogram("loa_http_request_duration_seconds", "Time to answer, by route.",
                                 ["method", "route"], buckets=REQUEST_BUCKETS, registry=self.registry)


@bp.record_once
def _install(state) -> None:  # type: ignore[no-untyped-def]
    app: Flask = state.app
    app.extensions["publisher.http_metrics"] = _HttpMetrics()
    app.before_request(_started)
    app.after_request(_answered)


def _started() -> None:
    g._metrics_started = time.perf_counter()


def _answered(response: Response) -> Response:
    started = g.pop("_metrics_started", None)
    if started is not None:
        metrics: _HttpMetrics = current_app.extensions["publisher.http_metrics"]
        # The route's pattern (/tin/<slug>), never the path itself: one series per route, whatever readers type.
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.requests.labels(request.method, route, str(response.status_code)).inc()
        metrics.seconds.labels(request.method, route).observe(time.perf_counter() - started)
    return response


def _allowed() -> bool:
    token = current_app.extensions["publisher.settings"].metrics_token
    if token:
        given = request.headers.get("Authorization", "")
        return given.startswith("Bearer ") and hmac.compare_digest(given[len("Bearer "):].encode(), token.encode())
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/metrics")
def metrics() -> Response:
    if not _allowed():
        return Response("metrics: a valid bearer token is needed (PUBLISHER_METRICS_TOKEN)\n", status=403,
                        mimetype="text/plain")
    registry = CollectorRegistry(auto_describe=False)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(current_app.extensions["publisher.http_metrics"].registry)
    registry.register(LoaCollector(current_app._get_current_object()))  # type: ignore[attr-defined]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
