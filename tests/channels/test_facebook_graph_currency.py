"""Graph as a new Meta app meets it in December 2026, with the REAL facebook-sdk against the Graph sandbox.

Rules followed (each also named in the adapter and the sandbox):
- Meta developer blog, 4 November 2026, "Introducing Graph API v27.0 and Marketing API v27.0", entry "Graph API -
  Legacy features": new apps cannot use multi-ID requests, date/time formatting, HTTP method override, field
  aliases, JSONP callbacks or asynchronous batch requests, on any Graph version.
- Graph's "Batch Requests" page (read 2026-12-02): ``POST /`` with ``batch=[…]``, at most 50 requests, one answer
  each (``code``, ``headers``, JSON-encoded ``body``), ``null`` for one that did not complete.
"""

from __future__ import annotations

import json

import facebook
import pytest
import requests
from fb_fixtures import *  # noqa: F403  (the sandbox fixtures)

from publisher.channels.base import ErrorKind, PublishRequest
from publisher.channels.facebook import BATCH_MAX, FacebookAdapter, GraphCallError, GraphClient
from publisher.channels.sandbox import Fault
from publisher.channels.sandbox.graph import DEMO_PAGE_ID, DEMO_PAGE_TOKEN, LEGACY_CODE

PAGE = DEMO_PAGE_ID


def adapter(settings, token: str = DEMO_PAGE_TOKEN) -> FacebookAdapter:  # type: ignore[no-untyped-def]
    return FacebookAdapter(settings, {"page_id": PAGE}, {"access_token": token}, channel_id=7)


def request(message: str) -> PublishRequest:
    return PublishRequest(post_id=1, idempotency_key="k", title="Tin", summary="", body_html="", slug="tin",
                          variant={"message": message})


def refused(graph_sandbox, call) -> GraphCallError:  # type: ignore[no-untyped-def]
    with pytest.raises(GraphCallError) as caught:
        call()
    error = caught.value
    assert error.http_status == 400 and error.code == LEGACY_CODE and error.error_type == "OAuthException"
    assert error.fbtrace_id  # Graph's error shape, not a silent answer
    return error


def test_the_default_graph_version_is_v27(settings):  # type: ignore[no-untyped-def]
    assert settings.facebook_graph_version == "v27.0"


def test_every_legacy_feature_is_refused_for_a_new_app(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    post = adapter(fb_settings).publish(request("Bài để thử")).remote_id
    sdk_get_objects = facebook.GraphAPI.get_objects  # the sdk's own multi-ID read, bypassing Loa's refusal
    refused(graph_sandbox, lambda: sdk_get_objects(graph, [post, PAGE], fields="id"))
    refused(graph_sandbox, lambda: graph.get_object(post, fields="created_time", date_format="U"))
    refused(graph_sandbox, lambda: graph.request(graph.path(post), args={"method": "DELETE"}))
    graph.session.headers["X-HTTP-Method-Override"] = "DELETE"
    refused(graph_sandbox, lambda: graph.get_object(post))
    del graph.session.headers["X-HTTP-Method-Override"]
    refused(graph_sandbox, lambda: graph.get_object(post, fields="message.as(text)"))
    refused(graph_sandbox, lambda: graph.get_object(post, callback="cb"))
    batch = json.dumps([{"method": "GET", "relative_url": post}])
    refused(graph_sandbox, lambda: graph.request(graph.path(""), post_args={"batch": batch, "is_async": "true"}))
    refused(graph_sandbox, lambda: graph.request(graph.path(""), post_args={"batch": batch, "asyncbatch": "1"}))
    # inside a synchronous batch too: that one operation is refused, the batch itself is fine
    inner = graph.batch([{"method": "GET", "relative_url": f"{graph.version}/?ids={post}"},
                         {"method": "GET", "relative_url": f"{graph.version}/{post}?fields=id"}])
    assert isinstance(inner[0], GraphCallError) and inner[0].code == LEGACY_CODE and inner[1]["id"] == post
    assert graph_sandbox.legacy_refused == ["multi-ID requests", "date/time formatting", "HTTP method override",
                                            "HTTP method override", "field aliases", "JSONP callbacks",
                                            "asynchronous batch requests", "asynchronous batch requests",
                                            "multi-ID requests"]
    assert post in graph_sandbox.posts  # the refused override deleted nothing
    graph_sandbox.legacy_refused.clear()  # tried on purpose


def test_an_older_app_may_still_use_them(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    ids = [fb.publish(request(f"Bài cũ {n}")).remote_id for n in range(2)]
    assert requests.post(f"{graph_sandbox.urls['']}/__sandbox/legacy_app", json={"allowed": True}).ok
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    answer = facebook.GraphAPI.get_objects(graph, ids, fields="id,message")
    assert set(answer) == set(ids)
    graph.request(graph.path(ids[0]), args={"method": "DELETE"})
    assert ids[0] not in graph_sandbox.posts and graph_sandbox.legacy_refused == []


def test_the_retired_video_metric_is_refused_and_never_asked_for(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    """"Introducing Graph API v27.0" (2026-11-04), entry "Graph API - Page Insights": total_video_consumption_rate
    returns no data on any version from early November 2026."""
    fb = adapter(fb_settings)
    post = fb.publish(request("Bài có video")).remote_id
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    with pytest.raises(GraphCallError) as caught:
        graph.get_connections(post, "insights", metric="total_video_consumption_rate")
    assert caught.value.code == 100
    assert "total_video_consumption_rate" not in fb.metric_fields(fb.insight_metrics())


def test_loa_never_sends_a_multi_id_request(fb_settings):  # type: ignore[no-untyped-def]
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    with pytest.raises(NotImplementedError):
        graph.get_objects(["1", "2"])


def test_a_batch_holds_at_most_fifty_requests(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    operations = [{"method": "GET", "relative_url": f"{graph.version}/{PAGE}?fields=id"}] * (BATCH_MAX + 1)
    with pytest.raises(ValueError):
        graph.batch(operations)
    with pytest.raises(GraphCallError) as caught:  # Graph (the sandbox) refuses it too
        graph.request(graph.path(""), post_args={"batch": json.dumps(operations)})
    assert caught.value.code == 100 and "50" in caught.value.platform_message
    assert all(a["id"] == PAGE for a in graph.batch(operations[:BATCH_MAX]))


def test_batch_answers_carry_their_own_status_and_headers(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    graph = GraphClient.from_settings(fb_settings, DEMO_PAGE_TOKEN)
    raw = graph.request(graph.path(""), post_args={"batch": json.dumps([
        {"method": "GET", "relative_url": f"{graph.version}/{PAGE}?fields=id,name"},
        {"method": "GET", "relative_url": "999_999"}])})  # no version: the batch's own applies
    assert [a["code"] for a in raw] == [200, 400]
    assert json.loads(raw[0]["body"]) == {"id": PAGE, "name": graph_sandbox.pages[PAGE].name}
    assert json.loads(raw[1]["body"])["error"]["error_subcode"] == 33
    assert {"name": "Content-Type", "value": "application/json; charset=UTF-8"} in raw[0]["headers"]


def test_metrics_of_a_mixed_batch_keep_the_good_answers_and_classify_the_bad(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    ids = [fb.publish(request(f"Tin số {n}")).remote_id for n in range(5)]
    good, gone, limited, broken, late = ids
    fb.unpublish(gone)
    graph_sandbox.advance(900)
    graph_sandbox.rate_limit(f"/{limited}", code=613)
    graph_sandbox.server_error(f"/{broken}", status=500, code=2)
    graph_sandbox.add_fault(Fault(path_prefix=f"/{late}", drop=True))
    before = len(graph_sandbox.requests_seen)
    metrics = fb.fetch_metrics(ids)
    assert len(graph_sandbox.requests_seen) == before + 1  # one batch, no multi-ID request
    assert metrics[good].error is None and metrics[good].values["post_media_view"] > 0
    assert metrics[good].values["comments"] == 1
    assert metrics[gone].removed and metrics[gone].error is None
    assert metrics[limited].error.kind is ErrorKind.RATE_LIMITED and metrics[limited].error.code == "613"
    assert metrics[broken].error.kind is ErrorKind.TRANSIENT and metrics[broken].error.http_status == 500
    assert metrics[late].error.kind is ErrorKind.TRANSIENT  # Graph answered null: not completed in time
    assert not any(metrics[i].removed for i in (limited, broken, late))


def test_a_failed_batch_as_a_whole_raises_classified(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    remote_id = fb.publish(request("Tin hết hạn")).remote_id
    graph_sandbox.expire_token(DEMO_PAGE_TOKEN)
    with pytest.raises(Exception) as caught:
        fb.fetch_metrics([remote_id])
    assert getattr(caught.value, "kind", None) is ErrorKind.AUTH_EXPIRED


def test_metric_names_come_from_the_engagement_configuration(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    from publisher.engagement.config import engagement_config

    fb = adapter(fb_settings)
    remote_id = fb.publish(request("Tin theo cấu hình")).remote_id
    fb.wanted_metrics = engagement_config(fb_settings).mapping("facebook").wanted
    assert "total_video_consumption_rate" not in fb.wanted_metrics  # retired November 2026
    assert fb.insight_metrics() == ["post_media_view", "post_reactions_by_type_total"]
    values = fb.fetch_metrics([remote_id])[remote_id].values
    assert set(values) == {"reactions", "comments", "shares", "post_media_view", "post_reactions_by_type_total"}


def test_comments_and_look_ups_use_no_legacy_feature(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    fb = adapter(fb_settings)
    published = fb.publish(request("Tin có bình luận"))
    graph_sandbox.advance(3 * 600 + 1)
    comments = fb.fetch_comments(published.remote_id)
    assert len(comments) == 3
    reply = fb.reply_comment(comments[0].remote_id, "Cảm ơn bạn!")
    assert reply in graph_sandbox.comments
    found = fb.find_existing(request("Tin có bình luận"))
    assert found is not None and found.remote_id == published.remote_id
    assert fb.check_connection().ok
    fb.unpublish(published.remote_id)  # a real DELETE, not ?method=DELETE
    assert published.remote_id not in graph_sandbox.posts
    assert graph_sandbox.legacy_refused == [] and graph_sandbox.versions_seen == {"v27.0"}
