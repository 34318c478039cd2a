"""The Facebook Login side of the Graph sandbox answers as Meta documents it (codes used once, redirect URIs
compared exactly, app secrets checked, debug_token only with an app token), driven through facebook-sdk."""

from __future__ import annotations

from urllib.parse import urlencode

import facebook
import pytest
import requests
from fb_fixtures import *  # noqa: F403

from publisher.channels.facebook import GraphCallError, GraphClient
from publisher.channels.sandbox.facebook_login import DEMO_APP_ID, DEMO_APP_SECRET, answer_dialog, login_of
from publisher.channels.sandbox.graph import DEMO_PAGE_ID

REDIRECT = "https://loa.example/admin/channels/facebook/callback"


def dialog_url(fb_settings, **overrides):  # type: ignore[no-untyped-def]
    query = {"client_id": DEMO_APP_ID, "redirect_uri": REDIRECT, "state": "s1", "response_type": "code",
             "scope": "pages_show_list,pages_manage_posts,pages_read_engagement", **overrides}
    return f"{fb_settings.facebook_dialog_url}/{fb_settings.facebook_graph_version}/dialog/oauth?{urlencode(query)}"


def client(fb_settings, token=""):  # type: ignore[no-untyped-def]
    return GraphClient.from_settings(fb_settings, token)


def test_a_code_is_good_for_one_exchange_with_the_same_redirect_uri(fb_settings):  # type: ignore[no-untyped-def]
    back = answer_dialog(dialog_url(fb_settings), pages=[DEMO_PAGE_ID])
    assert back["state"] == "s1"
    with pytest.raises(GraphCallError) as wrong_uri:
        client(fb_settings).get_access_token_from_code(back["code"], REDIRECT + "x", DEMO_APP_ID, DEMO_APP_SECRET)
    assert wrong_uri.value.code == 100
    with pytest.raises(GraphCallError) as wrong_secret:
        client(fb_settings).get_access_token_from_code(back["code"], REDIRECT, DEMO_APP_ID, "nope")
    assert wrong_secret.value.code == 1
    token = client(fb_settings).get_access_token_from_code(back["code"], REDIRECT, DEMO_APP_ID, DEMO_APP_SECRET)
    assert token["token_type"] == "bearer" and token["expires_in"] < 24 * 3600
    with pytest.raises(GraphCallError) as used:
        client(fb_settings).get_access_token_from_code(back["code"], REDIRECT, DEMO_APP_ID, DEMO_APP_SECRET)
    assert used.value.subcode == 36009
    long_lived = client(fb_settings, token["access_token"]).extend_access_token(DEMO_APP_ID, DEMO_APP_SECRET)
    assert long_lived["expires_in"] > 50 * 24 * 3600
    accounts = client(fb_settings, long_lived["access_token"]).get_connections("me", "accounts",
                                                                                fields="id,name,access_token,tasks")
    assert [p["id"] for p in accounts["data"]] == [DEMO_PAGE_ID] and "CREATE_CONTENT" in accounts["data"][0]["tasks"]
    page_token = accounts["data"][0]["access_token"]
    assert client(fb_settings, page_token).get_object("me")["id"] == DEMO_PAGE_ID
    info = client(fb_settings).debug_access_token(page_token, DEMO_APP_ID, DEMO_APP_SECRET)["data"]
    assert info["type"] == "PAGE" and info["expires_at"] == 0 and info["is_valid"] and info["profile_id"] == DEMO_PAGE_ID
    with pytest.raises(GraphCallError):
        client(fb_settings).debug_access_token(page_token, DEMO_APP_ID, "wrong")


def test_a_cancelled_dialog_comes_back_with_access_denied(fb_settings):  # type: ignore[no-untyped-def]
    back = answer_dialog(dialog_url(fb_settings), pages=[DEMO_PAGE_ID], allow=False)
    assert back == {"error": "access_denied", "error_code": "200", "error_description": "Permissions error",
                    "error_reason": "user_denied", "state": "s1"}


def test_the_dialog_refuses_unknown_apps_and_scopes(fb_settings):  # type: ignore[no-untyped-def]
    assert requests.get(dialog_url(fb_settings, client_id="123"), timeout=5).status_code == 400
    assert requests.get(dialog_url(fb_settings, scope="manage_pages"), timeout=5).status_code == 400


def test_declined_permissions_and_removed_apps(fb_settings, graph_sandbox):  # type: ignore[no-untyped-def]
    back = answer_dialog(dialog_url(fb_settings), pages=[DEMO_PAGE_ID], decline=("pages_show_list",))
    token = client(fb_settings).get_access_token_from_code(back["code"], REDIRECT, DEMO_APP_ID,
                                                           DEMO_APP_SECRET)["access_token"]
    user = client(fb_settings, token)
    assert user.get_permissions("me") == {"pages_manage_posts", "pages_read_engagement"}
    assert user.get_connections("me", "accounts")["data"] == []  # without pages_show_list
    login_of(graph_sandbox).deauthorize()
    with pytest.raises(facebook.GraphAPIError):
        user.get_object("me")
