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
