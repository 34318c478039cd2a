"""The YouTube sandbox's wire protocol, spoken to directly (httplib2), as the documentation describes it."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httplib2
import pytest

from publisher.channels.sandbox import youtube as sandbox_module
from publisher.channels.sandbox.youtube import CLIENT_ID, CLIENT_SECRET, YouTubeSandbox


@pytest.fixture
def youtube() -> Iterator[YouTubeSandbox]:
    box = sandbox_module.start()
    yield box
    box.stop()


@pytest.fixture
def http() -> httplib2.Http:
    client = httplib2.Http(timeout=5)
    client.follow_redirects = False
    client.redirect_codes = client.redirect_codes - {308}
    return client


def call(http: httplib2.Http, method: str, url: str, token: str | None, body: Any = None,
         headers: dict[str, str] | None = None) -> tuple[Any, Any]:
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if isinstance(body, dict):
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    response, content = http.request(url, method, body=body, headers=headers)
    return response, (json.loads(content) if content else None)


def test_resumable_upload_protocol(youtube, http):
    token = youtube.issue_tokens()["access_token"]
    data = bytes(range(256)) * 4096  # 1 MiB
    response, _ = call(http, "POST", youtube.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet,status",
                       token, {"snippet": {"title": "Thử"}, "status": {"privacyStatus": "private"}},
                       {"X-Upload-Content-Length": str(len(data)), "X-Upload-Content-Type": "video/mp4"})
    assert response.status == 200
    session = response["location"]
    half = len(data) // 2
    response, _ = call(http, "PUT", session, token, data[:half],
                       {"Content-Range": f"bytes 0-{half - 1}/{len(data)}"})
    assert response.status == 308 and response["range"] == f"bytes=0-{half - 1}"
    response, _ = call(http, "PUT", session, token, b"", {"Content-Range": f"bytes */{len(data)}"})
    assert response.status == 308 and response["range"] == f"bytes=0-{half - 1}"
    response, video = call(http, "PUT", session, token, data[half:],
                           {"Content-Range": f"bytes {half}-{len(data) - 1}/{len(data)}"})
    assert response.status == 200 and video["kind"] == "youtube#video"
    assert youtube.video_files[video["id"]] == {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                                                "content_type": "video/mp4"}
    # asking again after completion answers with the video
    response, again = call(http, "PUT", session, token, b"", {"Content-Range": f"bytes */{len(data)}"})
    assert response.status == 200 and again["id"] == video["id"]


def test_error_bodies_and_bearer_checks(youtube, http):
    response, body = call(http, "GET", youtube.url + "youtube/v3/channels?part=id&mine=true", "wrong")
    assert response.status == 401
    assert body["error"]["code"] == 401 and body["error"]["errors"][0]["reason"] == "authError"
    token = youtube.issue_tokens()["access_token"]
    ids = ",".join(f"v{n}" for n in range(51))
    response, body = call(http, "GET", youtube.url + f"youtube/v3/videos?part=statistics&id={ids}", token)
    assert response.status == 400 and body["error"]["errors"][0]["reason"] == "invalidFilters"
    response, body = call(http, "POST", youtube.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet",
                          token, {"snippet": {"title": "x" * 101}}, {"X-Upload-Content-Length": "10"})
    assert response.status == 400 and body["error"]["errors"][0]["reason"] == "invalidTitle"
    youtube.inject("quotaExceeded")
    response, body = call(http, "GET", youtube.url + "youtube/v3/channels?part=id&mine=true", token)
    assert response.status == 403
    assert body["error"]["errors"][0] == {"message": body["error"]["message"], "domain": "youtube.quota",
                                          "reason": "quotaExceeded"}


def test_token_endpoint(youtube, http):
    refresh = youtube.issue_tokens()["refresh_token"]
    form = {"grant_type": "refresh_token", "refresh_token": refresh, "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    response, body = call(http, "POST", youtube.token_url, None, urlencode(form), headers)
    assert response.status == 200 and body["token_type"] == "Bearer" and body["expires_in"] > 0
    youtube.revoke_refresh_tokens()
    response, body = call(http, "POST", youtube.token_url, None, urlencode(form), headers)
    assert response.status == 400 and body["error"] == "invalid_grant"
    response, body = call(http, "POST", youtube.token_url, None, urlencode({**form, "client_secret": "x"}), headers)
    assert response.status == 401 and body["error"] == "invalid_client"


def test_statistics_grow(youtube, http):
    token = youtube.issue_tokens()["access_token"]
    response, _ = call(http, "POST", youtube.url + "upload/youtube/v3/videos?uploadType=resumable&part=snippet",
                       token, {"snippet": {"title": "Thử"}}, {"X-Upload-Content-Length": "4"})
    response, video = call(http, "PUT", response["location"], token, b"abcd", {"Content-Range": "bytes 0-3/4"})
    url = youtube.url + f"youtube/v3/videos?part=statistics&id={video['id']},missing"
    _, first = call(http, "GET", url, token)
    youtube.uploaded_at[video["id"]] -= 60
    _, later = call(http, "GET", url, token)
    assert len(first["items"]) == 1
    assert int(later["items"][0]["statistics"]["viewCount"]) > int(first["items"][0]["statistics"]["viewCount"])


def test_unknown_fault_is_refused(youtube):
    with pytest.raises(ValueError):
        youtube.inject("meteorStrike")
