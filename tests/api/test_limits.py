"""Size limits (issue #19, item 3): a request body over the API's limit answers 413 (media uploads keep the large
upload limit), a post's ``body_html`` over 2 MB answers 413 and leaves no trace (no post, no revision), a too-long
short field answers 422 naming it, and lists never carry or even load whole bodies."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from publisher.content.models import Post, PostRevision
from publisher.content.variants import BODY_HTML_MAX_BYTES
from publisher.db import db
from tests.conftest import sign_in_session

LIMIT_MB = 3


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    app_config["api_max_body_mb"] = LIMIT_MB
    return app_config


def too_large(response) -> dict:  # type: ignore[no-untyped-def]
    assert response.status_code == 413, (response.status_code, response.data[:300])
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and error["message"]
    return error


def counts() -> tuple[int, int]:
    return db.session.scalar(select(func.count(Post.id))), db.session.scalar(select(func.count(PostRevision.id)))


def test_body_html_over_2_mb_is_refused_whole(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    before = counts()
    over = "<p>" + "a" * (BODY_HTML_MAX_BYTES - 7 + 1) + "</p>"  # one byte too many
    assert "body_html" in too_large(api.post("/api/v1/posts", json={"title": "Lớn", "body_html": over}))["fields"]
    vietnamese = "<p>" + "ạ" * (BODY_HTML_MAX_BYTES // 3 + 1) + "</p>"  # fewer characters, more than 2 MB of UTF-8
    assert "body_html" in too_large(api.post("/api/v1/posts", json={"title": "Lớn", "body_html": vietnamese}))["fields"]
    fields = too_large(api.post("/api/v1/posts", json={"title": "Lớn", "variants": {"website": {"body_html": over}}}))[
        "fields"]
    assert "variants.website.body_html" in fields
    assert counts() == before

    at_limit = "<p>" + "a" * (BODY_HTML_MAX_BYTES - 7) + "</p>"
    created = api.post("/api/v1/posts", json={"title": "Vừa đủ", "body_html": at_limit})
    assert created.status_code == 201, created.get_json()
    post = created.get_json()
    revisions = counts()[1]
    edit = api.patch(f"/api/v1/posts/{post['id']}", json={"version": post["version"], "body_html": over})
    too_large(edit)
    assert counts()[1] == revisions  # the revision history never keeps an over-limit body
    shown = api.get(f"/api/v1/posts/{post['id']}").get_json()
    assert shown["version"] == post["version"] and len(shown["body_html"]) == BODY_HTML_MAX_BYTES


def test_a_request_body_over_the_api_limit_is_413_but_uploads_keep_theirs(api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    big = json.dumps({"title": "x", "summary": "y" * (LIMIT_MB * 1024 * 1024)})
    too_large(api.post("/api/v1/posts", data=big, content_type="application/json"))
    too_large(api.post("/api/v1/posts", data=b"[" * (LIMIT_MB * 1024 * 1024 + 1), content_type="application/json"))

    noise = Image.frombytes("RGB", (1100, 1100), os.urandom(1100 * 1100 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "PNG")
    assert buffer.tell() > LIMIT_MB * 1024 * 1024
    buffer.seek(0)
    uploaded = api.post("/api/v1/media", data={"file": (buffer, "nhieu.png")}, content_type="multipart/form-data")
    assert uploaded.status_code == 201, uploaded.get_json()


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/posts", {"title": "t" * 301}, "title"),
    ("/api/v1/posts", {"title": "t", "summary": "s" * 1001}, "summary"),
    ("/api/v1/posts", {"title": "t", "byline": "b" * 201}, "byline"),
    ("/api/v1/posts", {"title": "t", "tags": [f"the {i}" for i in range(51)]}, "tags"),
    ("/api/v1/posts", {"title": "t", "variants": {"facebook": {"link": "https://x.vn/" + "a" * 2000}}},
     "variants.facebook.link"),
    ("/api/v1/posts", {"title": "t", "variants": {"youtube": {"playlist_id": "p" * 101}}}, "variants.youtube.playlist_id"),
    ("/api/v1/posts", {"title": "t", "variants": {"website": {"title": "w" * 301}}}, "variants.website.title"),
    ("/api/v1/campaigns", {"name": "n" * 201}, "name"),
    ("/api/v1/campaigns", {"name": "n", "description": "d" * 5001}, "description"),
    ("/api/v1/campaigns", {"name": "n", "hashtags": ["h" * 101]}, "hashtags"),
    ("/api/v1/channels", {"kind": "website", "name": "c" * 201}, "name"),
])
def test_too_long_short_fields_are_422_naming_them(api_as, path: str, body: dict, field: str) -> None:  # type: ignore[no-untyped-def]
    api = api_as("admin")
    answer = api.post(path, json=body)
    assert answer.status_code == 422, (answer.status_code, answer.get_json())
    assert field in answer.get_json()["error"]["fields"]


def test_long_reasons_and_captions_are_refused_not_cut(api_as, make_post) -> None:  # type: ignore[no-untyped-def]
    api = api_as("approver")
    post = make_post(state="in_review")
    answer = api.post(f"/api/v1/posts/{post.id}/reject", json={"reason": "r" * 2001})
    assert answer.status_code == 422 and "reason" in answer.get_json()["error"]["fields"]
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(buffer, "PNG")
    buffer.seek(0)
    editor = api_as("editor")
    media = editor.post("/api/v1/media", data={"file": (buffer, "a.png")}, content_type="multipart/form-data")
    assert media.status_code == 201, media.get_json()
    answer = editor.patch(f"/api/v1/media/{media.get_json()['id']}", json={"caption": "c" * 2001, "alt_text": "a" * 501})
    assert answer.status_code == 422 and {"caption", "alt_text"} <= set(answer.get_json()["error"]["fields"])


@pytest.fixture
def statements(app) -> Iterator[list[str]]:  # type: ignore[no-untyped-def]
    seen: list[str] = []

    def keep(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", keep)
    yield seen
    event.remove(db.engine, "before_cursor_execute", keep)


def test_lists_never_carry_or_load_whole_bodies(client, api_as, make_post, statements) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    body = "<p>" + "Nội dung dài. " * 20000 + "</p>"
    post = make_post(author=api.user, body_html=body, variants={"website": {"body_html": body}})
    make_post(author=api.user, state="in_review")
    db.session.expunge_all()  # nothing of the posts in memory: every list reads them from the database

    listed = api.get("/api/v1/posts")
    assert listed.status_code == 200 and len(listed.data) < 20000
    row = next(p for p in listed.get_json()["posts"] if p["id"] == post.id)
    assert "body_html" not in row and "body_html" not in row["variants"].get("website", {})
    assert api.get(f"/api/v1/posts/{post.id}").get_json()["body_html"].startswith("<p>Nội dung dài.")

    sign_in_session(client, api.user)
    for page in ("/admin/", "/admin/posts"):
        statements.clear()
        db.session.expunge_all()
        answer = client.get(page)
        assert answer.status_code == 200 and len(answer.data) < 100000
        loading = [s[:300] for s in statements if "posts.body_html" in s or "posts.search_text" in s]
        assert not loading, (page, loading)
