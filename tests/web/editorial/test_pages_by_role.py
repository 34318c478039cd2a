"""Every editorial page for every role: allowed pages answer 200, refused ones a clear 403 page, never a 500."""

from __future__ import annotations

import pytest

ROLES = ("viewer", "editor", "approver", "admin")


def page_paths(post, campaign, unit) -> dict[str, str]:
    return {
        "dashboard": "/admin/",
        "posts": "/admin/posts",
        "posts_filtered": f"/admin/posts?q=cong+doan&state=draft&campaign_id={campaign.id}&date_from=2020-01-01",
        "post": f"/admin/posts/{post.id}",
        "revisions": f"/admin/posts/{post.id}/revisions",
        "compose_new": "/admin/posts/new",
        "compose_edit": f"/admin/posts/{post.id}/edit",
        "review": "/admin/review",
        "audit": "/admin/audit",
        "media": "/admin/media",
        "media_json": "/admin/media/library.json",
        "campaigns": "/admin/campaigns",
        "campaign": f"/admin/campaigns/{campaign.id}",
        "campaign_new": "/admin/campaigns/new",
        "campaign_edit": f"/admin/campaigns/{campaign.id}/edit",
        "units": "/admin/units",
        "users": "/admin/users",
        "user_new": "/admin/users/new",
        "profile": "/admin/profile",
        "password": "/admin/password",
    }


MINIMUM = {"compose_new": "editor", "compose_edit": "editor", "review": "approver", "audit": "approver",
           "campaign_new": "editor", "campaign_edit": "editor", "users": "admin", "user_new": "admin"}
RANK = {role: i for i, role in enumerate(ROLES)}


@pytest.mark.parametrize("role", ROLES)
def test_every_page_for_every_role(role, ui_as, make_post, make_campaign, root_unit):
    campaign = make_campaign()
    post = make_post(campaign_id=campaign.id)
    ui = ui_as(role)
    for name, path in page_paths(post, campaign, root_unit).items():
        response = ui.get(path)
        allowed = RANK[role] >= RANK[MINIMUM.get(name, "viewer")]
        expected = 200 if allowed else 403
        assert response.status_code == expected, (role, name, response.status_code)
        if response.mimetype == "text/html":
            html = response.get_data(as_text=True)
            assert '<html lang="vi">' in html
            assert response.headers["Content-Security-Policy"]
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            if not allowed:
                assert "Không được phép" in html


def test_signed_out_pages_redirect_to_sign_in(client, make_post, make_campaign, root_unit):
    campaign = make_campaign()
    post = make_post()
    for name, path in page_paths(post, campaign, root_unit).items():
        response = client.get(path)
        assert response.status_code == 302, name
        assert "/admin/login" in response.headers["Location"]


def test_signed_out_script_gets_401_json(client, make_post):
    post = make_post()
    response = client.post(f"/admin/posts/{post.id}/autosave", json={"title": "x"},
                           headers={"Accept": "application/json"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthenticated"


def test_user_in_sibling_unit_cannot_see_post(ui_as, make_unit, make_post, make_user):
    a, b = make_unit("Công đoàn A"), make_unit("Công đoàn B")
    post = make_post(author=make_user("editor", unit=a))
    ui = ui_as("admin", unit=b)
    assert ui.get(f"/admin/posts/{post.id}").status_code == 404
    assert ui.get(f"/admin/posts/{post.id}/edit").status_code == 404
    assert post.title not in ui.get("/admin/posts").get_data(as_text=True)


@pytest.mark.parametrize("role,allowed", [("viewer", False), ("editor", False), ("approver", True), ("admin", True)])
def test_approve_by_role(role, allowed, ui_as, make_post):
    post = make_post(state="in_review")
    ui = ui_as(role)
    response = ui.post(f"/admin/posts/{post.id}/approve")
    assert response.status_code == (302 if allowed else 403)


@pytest.mark.parametrize("role,allowed", [("viewer", False), ("editor", False), ("approver", False), ("admin", True)])
def test_create_unit_by_role(role, allowed, ui_as):
    ui = ui_as(role)
    page = ui.get("/admin/units")
    assert page.status_code == 200
    response = ui.post("/admin/units", {"name": "Công đoàn ngành Y tế", "parent_id": str(ui.user.unit_id)})
    assert response.status_code == (302 if allowed else 403)


GARBAGE = [{}, {"title": "x" * 5000, "version": "-1", "campaign_id": "abc", "parent_id": "x", "unit_id": "9999999",
                "role": "god", "active": "maybe", "starts_on": "31/12/2026", "locale": "fr", "reason": "\x00",
                "variants.youtube.privacy": "secret", "variants.facebook.link": "javascript:alert(1)",
                "email": "@@", "password": "1", "name": "\u202e" * 10}]


@pytest.mark.parametrize("role", ["editor", "admin"])
def test_no_post_endpoint_answers_500_to_garbage(role, ui_as, make_post, make_campaign, root_unit):
    ui = ui_as(role)
    campaign = make_campaign(user=ui.user)
    post = make_post(author=ui.user)
    review = make_post(author=ui.user, state="in_review")
    paths = ["/admin/posts/new", f"/admin/posts/{post.id}/edit", f"/admin/posts/{post.id}/submit",
             f"/admin/posts/{review.id}/approve", f"/admin/posts/{review.id}/reject",
             f"/admin/posts/{post.id}/revisions/1/restore", f"/admin/posts/{post.id}/revisions/99/restore",
             "/admin/campaigns/new", f"/admin/campaigns/{campaign.id}/edit", "/admin/units",
             f"/admin/units/{root_unit.id}/rename", "/admin/users/new", f"/admin/users/{ui.user.id}",
             "/admin/profile", "/admin/password", "/admin/media/upload", "/admin/media/999999",
             "/admin/posts/999999/edit", "/admin/posts/999999/approve"]
    for data in GARBAGE:
        for path in paths:
            response = ui.post(path, data)
            assert response.status_code < 500, (path, data, response.status_code)
        for path in ("/admin/posts/autosave", f"/admin/posts/{post.id}/autosave"):
            for body in ([1, 2], {"version": "x"}, {**data, "version": 1}, "text"):
                response = ui.post_json(path, body)
                assert response.status_code < 500, (path, body, response.status_code)
