"""A channel kind is one class that describes itself: a kind registered here, in this file only, appears in
``GET /api/v1/channels/kinds``, the channel form, the compose tab and variant validation with no other edit."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from flask_babel import lazy_gettext as _l

from publisher.channels import base
from publisher.channels.base import ChannelAdapter, ConnectionStatus, Metrics, Problem, PublishRequest, PublishResult
from publisher.channels.description import (
    COUNT_BYTES,
    Capabilities,
    ChannelDescription,
    ConnectField,
    HealthLine,
    MediaRules,
    MetricMapping,
    SignIn,
    TokenHealth,
    VariantField,
)
from publisher.channels.models import Channel
from publisher.db import db
from tests.conftest import csrf_from, sign_in


class NoticeboardAdapter(ChannelAdapter):
    """A made-up platform: a union's notice board, with a short headline and a body counted in bytes."""

    kind = "noticeboard"
    description = ChannelDescription(
        kind="noticeboard",
        label=_l("Notice board"),
        colour="#123456",
        connect_fields=(ConnectField("board_id", _l("Board"), max_length=20, required_message=_l("Board?")),
                        ConnectField("api_key", _l("Key"), secret=True, reconnect=True)),
        variant=(
            VariantField("headline", "text", _l("Headline"), max_length=12,
                         limit_message=lambda **kw: f"at most {kw['n']} (has {kw['have']})"),
            VariantField("body", "text", _l("Body"), max_length=10, count=COUNT_BYTES, multiline=True,
                         forbidden_chars="#", forbidden_message="no #",
                         limit_message=lambda **kw: f"{kw['n']} bytes at most (has {kw['have']})"),
            VariantField("media_ids", "media", _l("Pictures"), compose=False),
        ),
        media=MediaRules(accepts=("image",), max_images=2, images_message="two pictures at most"),
        rate_per_minute=7,
        metrics_batch_size=9,
        capabilities=Capabilities(delete=True, metrics=True),
        metrics=MetricMapping(measures={"views": ("reads",)}),
    )

    def validate(self, request: PublishRequest) -> list[Problem]:
        return []

    def publish(self, request: PublishRequest) -> PublishResult:
        return PublishResult(remote_id=f"n{request.post_id}")

    def update(self, remote_id: str, request: PublishRequest) -> PublishResult:
        return PublishResult(remote_id=remote_id)

    def unpublish(self, remote_id: str) -> None:
        return None

    def find_existing(self, request: PublishRequest) -> PublishResult | None:
        return None

    def fetch_metrics(self, remote_ids: list[str]) -> dict[str, Metrics]:
        return {r: Metrics(remote_id=r, values={"reads": 1}) for r in remote_ids}

    def fetch_comments(self, remote_id: str, since: datetime | None = None) -> list[Any]:
        return []

    def reply_comment(self, comment_remote_id: str, message: str) -> str:
        return ""

    def check_connection(self) -> ConnectionStatus:
        return ConnectionStatus(ok=True, message="ok")


@pytest.fixture
def noticeboard(app) -> Iterator[type[ChannelAdapter]]:  # type: ignore[no-untyped-def]
    base.descriptions()  # the real adapters first, as at start-up
    base.register(NoticeboardAdapter)
    yield NoticeboardAdapter
    base.unregister("noticeboard")


def test_kinds_answers_every_registered_kind_as_it_describes_itself(api_as) -> None:  # type: ignore[no-untyped-def]
    response = api_as("viewer").get("/api/v1/channels/kinds")
    assert response.status_code == 200
    kinds = {k["kind"]: k for k in response.get_json()["kinds"]}
    assert list(kinds) == list(base.descriptions())
    for kind, desc in base.descriptions().items():
        assert kinds[kind] == json.loads(json.dumps(desc.as_json(), ensure_ascii=False))
        assert {"kind", "label", "settings", "variant", "capabilities"} <= set(kinds[kind])
    assert kinds["facebook"]["variant"]["message"]["max_length"] == 63206
    assert kinds["youtube"]["variant"]["description"] == {**kinds["youtube"]["variant"]["description"],
                                                          "max_length": 5000, "count": "bytes"}
    assert kinds["youtube"]["variant"]["privacy"]["choices"] == ["public", "unlisted", "private"]
    assert "shares" in kinds["youtube"]["metrics"]["not_available"]
    assert [s["name"] for s in kinds["facebook"]["settings"] if s["secret"]] == ["access_token"]
    assert kinds["website"]["label"] == "Trang web"  # in the user's language (Vietnamese by default), not the code


def test_kinds_needs_a_token(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/api/v1/channels/kinds")
    assert response.status_code == 401 and response.get_json()["error"]["code"]


def test_a_kind_registered_in_one_file_appears_in_kinds(noticeboard, api_as) -> None:  # type: ignore[no-untyped-def]
    kinds = {k["kind"]: k for k in api_as("viewer").get("/api/v1/channels/kinds").get_json()["kinds"]}
    board = kinds["noticeboard"]
    assert board["label"] == "Notice board" and board["capabilities"] == ["delete", "metrics"]
    assert board["variant"]["headline"]["max_length"] == 12 and board["variant"]["body"]["count"] == "bytes"
    assert board["rate_per_minute"] == 7 and board["metrics"]["not_available"] == ["reactions", "comments", "shares"]


def test_a_kind_registered_in_one_file_gets_its_channel_form(noticeboard, client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user("admin", locale="en"))
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert 'href="/admin/channels/new/noticeboard"' in listing and "Notice board" in listing
    page = client.get("/admin/channels/new/noticeboard").get_data(as_text=True)
    assert 'name="board_id"' in page and 'type="password"' in page and 'name="api_key"' in page
    refused = client.post("/admin/channels/new/noticeboard", data={"csrf_token": csrf_from(page), "name": "Bảng tin"})
    assert refused.status_code == 422 and "Board?" in refused.get_data(as_text=True)
    done = client.post("/admin/channels/new/noticeboard", data={"csrf_token": csrf_from(page), "name": "Bảng tin",
                                                                "board_id": "b-1", "api_key": "bí-mật"})
    assert done.status_code == 302
    channel = db.session.query(Channel).filter_by(kind="noticeboard").one()
    assert channel.settings == {"board_id": "b-1"}  # the secret is stored encrypted, not among the settings
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert f'/admin/channels/{channel.id}/reconnect' in listing  # it has a field to type again


def _board_health(channel: Channel) -> TokenHealth | None:
    seen = (channel.settings or {}).get("key_seen")
    if not seen:
        return None
    return TokenHealth(lines=(HealthLine("Key checked:", when=datetime.fromisoformat(seen)),
                              HealthLine("Boards:", text="front hall; canteen", warn=True)),
                       alert="Renew the key soon.")


def _board_seen(channel: Channel, settings: Any) -> None:
    channel.settings = {**(channel.settings or {}), "key_seen": datetime(2026, 12, 1, 8, 0, tzinfo=UTC).isoformat()}


class SigningBoardAdapter(NoticeboardAdapter):
    """The notice board again, now with a sign-in of its own, a quota and a key health it reports."""

    description = dataclasses.replace(
        NoticeboardAdapter.description,
        sign_in=SignIn("channels_ui.oauth_connect", "Notice board (sign in at the board)", "board-sign-in",
                       configured=lambda settings: True, pass_kind=True, reconnect_label="Sign in at the board again"),
        quota=lambda channel, settings: {"used": 3, "limit": 12}, quota_label="notices this week",
        token_health=_board_health, after_connect=_board_seen)


@pytest.fixture
def signing_board(app) -> Iterator[type[ChannelAdapter]]:  # type: ignore[no-untyped-def]
    base.descriptions()
    base.register(SigningBoardAdapter)
    yield SigningBoardAdapter
    base.unregister("noticeboard")


def test_the_channels_page_shows_what_a_kind_says_it_offers_and_reports(signing_board, client, make_user) -> None:  # type: ignore[no-untyped-def]
    """Sign-in button, reconnect by signing in, the quota cell and the token-health cell all come from the kind's
    description: nothing outside this file knows the notice board."""
    sign_in(client, make_user("admin", locale="en"))
    listing = client.get("/admin/channels/").get_data(as_text=True)
    assert 'id="board-sign-in" href="/admin/channels/noticeboard/connect"' in listing
    page = client.get("/admin/channels/new/noticeboard").get_data(as_text=True)
    client.post("/admin/channels/new/noticeboard", data={"csrf_token": csrf_from(page), "name": "Bảng tin",
                                                         "board_id": "b-1", "api_key": "bí-mật"})
    channel = db.session.query(Channel).filter_by(kind="noticeboard").one()
    assert channel.settings["key_seen"].startswith("2026-12-01")  # the description's after_connect ran
    listing = client.get("/admin/channels/").get_data(as_text=True)
    row = listing[listing.index(f'data-channel-id="{channel.id}"'):]
    row = row[:row.index("</tr>")]
    assert f'href="/admin/channels/noticeboard/connect?channel_id={channel.id}">Sign in at the board again' in row
    assert ">Reconnect with a token<" in row  # the token form, next to the sign-in
    assert "3 / 12" in row and "notices this week" in row
    assert "Key checked: 12/1/26" in row and '<span class="warn">Boards: front hall; canteen</span>' in row
    assert 'role="alert">Renew the key soon.' in row
    css = client.get("/channel-kinds.css").get_data(as_text=True)
    assert ".kind-noticeboard { --kind:#123456; }" in css


def test_a_kind_without_them_shows_none(noticeboard, client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user("admin", locale="en"))
    page = client.get("/admin/channels/new/noticeboard").get_data(as_text=True)
    client.post("/admin/channels/new/noticeboard", data={"csrf_token": csrf_from(page), "name": "Bảng tin",
                                                         "board_id": "b-1", "api_key": "bí-mật"})
    listing = client.get("/admin/channels/").get_data(as_text=True)
    channel = db.session.query(Channel).filter_by(kind="noticeboard").one()
    row = listing[listing.index(f'data-channel-id="{channel.id}"'):]
    row = row[:row.index("</tr>")]
    assert "token-health" not in row and "not tracked yet" not in row and "/noticeboard/connect" not in row
    assert ">Reconnect<" in row


def test_a_kind_registered_in_one_file_gets_its_compose_tab(noticeboard, client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user("editor", locale="en"))
    page = client.get("/admin/posts/new").get_data(as_text=True)
    assert 'id="tab-noticeboard"' in page and ">Notice board</button>" in page
    assert 'name="variants.noticeboard.headline"' in page and 'data-limit="12" data-count="chars"' in page
    assert 'name="variants.noticeboard.body"' in page and 'data-limit="10" data-count="bytes"' in page
    assert 'data-forbidden="#"' in page and 'data-max-images="2"' in page
    assert 'data-msg-images="two pictures at most"' in page


def test_a_kind_registered_in_one_file_has_its_variant_checked(noticeboard, api_as) -> None:  # type: ignore[no-untyped-def]
    api = api_as("editor")
    response = api.post("/api/v1/posts", json={"title": "Thông báo", "variants": {
        "noticeboard": {"headline": "Họp công đoàn tháng 5", "body": "ệệệệ", "color": "red"}}})
    assert response.status_code == 422
    fields = response.get_json()["error"]["fields"]
    assert fields["variants.noticeboard.headline"] == ["at most 12 (has 21)"]
    assert fields["variants.noticeboard.body"] == ["10 bytes at most (has 12)"]  # 4 letters, 3 bytes each
    assert "variants.noticeboard.color" in fields
    ok = api.post("/api/v1/posts", json={"title": "Thông báo", "variants": {"noticeboard": {"headline": "Họp"}}})
    assert ok.status_code == 201 and ok.get_json()["variants"]["noticeboard"] == {"headline": "Họp"}


def test_the_compose_form_saves_a_registered_kinds_variant(noticeboard, client, make_user) -> None:  # type: ignore[no-untyped-def]
    sign_in(client, make_user("editor", locale="en"))
    page = client.get("/admin/posts/new").get_data(as_text=True)
    response = client.post("/admin/posts/new", data={"csrf_token": csrf_from(page), "title": "Bảng tin tháng 5",
                                                      "body_html": "<p>Nội dung</p>", "action": "save",
                                                      "variants.noticeboard.headline": "Họp tháng 5"})
    assert response.status_code == 302
    from publisher.content.models import Post

    post = db.session.query(Post).filter_by(title="Bảng tin tháng 5").one()
    assert post.variant("noticeboard") == {"headline": "Họp tháng 5"}


def test_a_description_must_name_its_own_kind() -> None:
    class Mislabelled(NoticeboardAdapter):
        kind = "other"

    with pytest.raises(ValueError):
        base.register(Mislabelled)
    assert "other" not in base.REGISTRY
