"""Editorial UI behaviour: sign-in hardening, language, search, compose, autosave, stale saves, review, revisions."""

from __future__ import annotations

from datetime import UTC, timedelta

from sqlalchemy import event, select

from publisher.accounts.throttle import MAX_FAILURES
from publisher.audit import AuditEntry
from publisher.content.models import Post
from publisher.content.queries import unaccent
from publisher.db import db
from tests.conftest import PASSWORD, image_bytes
from tests.web.editorial.conftest import csrf_from, sign_in


def compose_form(**overrides):  # type: ignore[no-untyped-def]
    data = {
        "title": "Công đoàn tỉnh tổ chức Tháng Công nhân", "slug": "", "summary": "Nhiều hoạt động ý nghĩa",
        "body_html": "<p>Nội dung <strong>chính</strong></p><p style=\"color:red\">Đoạn hai</p>", "category": "Tin tức",
        "locality": "Huế", "tags": "công nhân, tháng 5", "campaign_id": "", "cover_media_id": "", "media_ids": "",
        "variants.website.title": "", "variants.website.summary": "",
        "variants.facebook.message": "Tháng Công nhân 2026 #ThangCongNhan", "variants.facebook.link": "",
        "variants.youtube.title": "", "variants.youtube.description": "", "variants.youtube.tags": "",
        "variants.youtube.privacy": "public", "action": "save",
    }
    data.update(overrides)
    return data


# --- sign-in ---------------------------------------------------------------------------------------------


def test_login_form_contract(client):
    response = client.get("/admin/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'type="password"' in html and 'name="email"' in html and 'name="csrf_token"' in html
    assert '<html lang="vi">' in html and "Đăng nhập" in html


def test_login_without_token_is_refused_and_changes_nothing(client, make_user):
    user = make_user("editor")
    response = client.post("/admin/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


def test_wrong_password_then_rate_limited(client, make_user):
    user = make_user("editor")
    for _ in range(MAX_FAILURES):
        response = sign_in(client, user.email, "wrong-password-123")
        assert response.status_code == 400
        assert "Địa chỉ e-mail hoặc mật khẩu không đúng." in response.get_data(as_text=True)
    response = sign_in(client, user.email, PASSWORD)  # even the right password waits now
    assert response.status_code == 429
    assert "Vui lòng đợi 15 phút" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302


def test_logout_ends_session(ui_as):
    ui = ui_as("editor")
    assert ui.get("/admin/").status_code == 200
    response = ui.post("/admin/logout")
    assert response.status_code == 302
    assert ui.get("/admin/").status_code == 302


def test_session_cookie_expires(app, client, make_user):
    user = make_user("editor")
    response = sign_in(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "Expires=" in cookie and "HttpOnly" in cookie
    assert app.permanent_session_lifetime <= timedelta(hours=24)


def test_password_change(ui_as, app):
    ui = ui_as("editor")
    response = ui.post("/admin/password", {"current_password": "sai", "new_password": "mat-khau-moi-2026",
                                           "confirm": "mat-khau-moi-2026"})
    assert response.status_code == 400
    assert "Mật khẩu hiện tại không đúng." in response.get_data(as_text=True)
    response = ui.post("/admin/password", {"current_password": PASSWORD, "new_password": "ngan", "confirm": "ngan"})
    assert response.status_code == 400 and "Dùng ít nhất 10 ký tự." in response.get_data(as_text=True)
    response = ui.post("/admin/password", {"current_password": PASSWORD, "new_password": "mat-khau-moi-2026",
                                           "confirm": "mat-khau-moi-2026"})
    assert response.status_code == 302
    assert ui.get("/admin/").status_code == 200  # this session goes on
    other = app.test_client()
    assert sign_in(other, ui.user.email, "mat-khau-moi-2026").status_code == 302


def test_switch_to_english(ui_as):
    ui = ui_as("editor")
    response = ui.post("/admin/profile", {"name": "Nguyễn Văn A", "locale": "en"})
    assert response.status_code == 302
    html = ui.get("/admin/").get_data(as_text=True)
    assert '<html lang="en">' in html and "My drafts" in html


# --- dashboard, list, search -----------------------------------------------------------------------------


def test_dashboard_lists_own_drafts(ui_as, make_post, make_user):
    ui = ui_as("editor")
    make_post(author=ui.user, title="Bản nháp của tôi")
    make_post(author=make_user("editor"), title="Bài của người khác")
    html = ui.get("/admin/").get_data(as_text=True)
    mine = html.split('id="my-drafts"')[1].split("</section>")[0]
    assert "Bản nháp của tôi" in mine and "Bài của người khác" not in mine


def test_search_ignores_tone_marks_and_case(ui_as, make_post):
    ui = ui_as("editor")
    make_post(title="Đại hội Công đoàn cơ sở")
    make_post(title="Hội thao công nhân")
    html = ui.get("/admin/posts?q=CONG+DOAN").get_data(as_text=True)
    assert "Đại hội Công đoàn cơ sở" in html and "Hội thao công nhân" not in html
    html = ui.get("/admin/posts?q=dai hoi").get_data(as_text=True)
    assert "Đại hội Công đoàn cơ sở" in html
    assert unaccent("Đường ĐẶNG Công đoàn") == "duong dang cong doan"


def test_filters_and_pagination(ui_as, make_post, make_campaign, make_user):
    ui = ui_as("approver")
    campaign = make_campaign()
    make_post(title="Trong chiến dịch", campaign_id=campaign.id, state="in_review")
    for i in range(27):
        make_post(title=f"Bài số {i}", author=ui.user)
    html = ui.get(f"/admin/posts?campaign_id={campaign.id}").get_data(as_text=True)
    assert "Trong chiến dịch" in html and "Bài số 1<" not in html
    html = ui.get("/admin/posts?state=in_review").get_data(as_text=True)
    assert "Trong chiến dịch" in html and "Bài số" not in html
    html = ui.get(f"/admin/posts?author_id={ui.user.id}").get_data(as_text=True)
    assert "Trong chiến dịch" not in html and "Trang 1 / 2" in html
    html = ui.get(f"/admin/posts?author_id={ui.user.id}&page=2").get_data(as_text=True)
    assert html.count("Bài số") == 2
    response = ui.get("/admin/posts?date_from=not-a-date&date_to=2000-01-01")
    assert response.status_code == 200 and "Cần một ngày dạng 2026-05-01." in response.get_data(as_text=True)
    assert "Không có bài viết phù hợp." in response.get_data(as_text=True)


def test_pages_need_few_queries(app, ui_as, make_post, make_campaign):
    ui = ui_as("admin")
    campaign = make_campaign()
    for i in range(15):
        make_post(title=f"Bài {i}", campaign_id=campaign.id, state="in_review" if i % 2 else "draft")
    post = make_post(title="Bài có phiên bản", author=ui.user, campaign_id=campaign.id)
    paths = [f"/admin/posts/{post.id}/edit", f"/admin/posts/{post.id}", f"/admin/posts/{post.id}/revisions",
             "/admin/", "/admin/posts", "/admin/review", f"/admin/campaigns/{campaign.id}", "/admin/audit",
             "/admin/users", "/admin/units", "/admin/media"]
    ui.get("/admin/")  # warm up
    for path in paths:
        count = [0]

        def counter(*_args, count=count, **_kwargs):  # type: ignore[no-untyped-def]
            count[0] += 1

        event.listen(db.engine, "before_cursor_execute", counter)
        try:
            assert ui.get(path).status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", counter)
        assert count[0] <= 10, (path, count[0])


# --- compose ---------------------------------------------------------------------------------------------


def test_compose_creates_sanitised_draft_with_variants(ui_as):
    ui = ui_as("editor")
    response = ui.post("/admin/posts/new", compose_form())
    assert response.status_code == 302
    post = db.session.scalar(select(Post))
    assert post.slug == "cong-doan-tinh-to-chuc-thang-cong-nhan"
    assert "style=" not in post.body_html and "<strong>chính</strong>" in post.body_html
    assert post.variant("facebook")["message"].startswith("Tháng Công nhân")
    assert post.tags == ["công nhân", "tháng 5"]


def test_compose_error_is_next_to_field_and_keeps_input(ui_as):
    ui = ui_as("editor")
    response = ui.post("/admin/posts/new", compose_form(**{"title": "", "variants.youtube.title": "x" * 120,
                                                            "summary": "Giữ nguyên điều tôi đã gõ"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Cần nhập tiêu đề." in html
    assert "YouTube cho phép tiêu đề tối đa 100 ký tự" in html
    assert "Giữ nguyên điều tôi đã gõ" in html and "x" * 120 in html
    assert db.session.scalar(select(Post)) is None


def test_dangerous_body_is_refused(ui_as):
    ui = ui_as("editor")
    response = ui.post("/admin/posts/new", compose_form(body_html='<p onclick="x()">a</p>'))
    assert response.status_code == 422
    assert "có thể chạy script" in response.get_data(as_text=True)


def test_stale_html_save_shows_both_versions(ui_as, make_post):
    ui = ui_as("editor")
    post = make_post(author=ui.user, title="Bản gốc")
    other = ui_as("editor")
    assert other.post(f"/admin/posts/{post.id}/edit", compose_form(title="Bản của người khác", version="1")).status_code == 302
    response = ui.post(f"/admin/posts/{post.id}/edit", compose_form(title="Bản của tôi", version="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Hai phiên bản của bài viết" in html
    assert "Bản của tôi" in html and "Bản của người khác" in html
    assert 'name="version" value="2"' in html
    # saving again keeps mine, on top of theirs
    response = ui.post(f"/admin/posts/{post.id}/edit", compose_form(title="Bản của tôi", version="2"))
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).title == "Bản của tôi"


def test_autosave_creates_then_updates_and_detects_stale(ui_as):
    ui = ui_as("editor")
    data = {k: v for k, v in compose_form().items() if k != "action"}
    response = ui.post_json("/admin/posts/autosave", data)
    assert response.status_code == 201
    body = response.get_json()
    response = ui.post_json(body["autosave_url"], {**data, "title": "Tiêu đề mới", "version": body["version"]})
    assert response.status_code == 200 and response.get_json()["version"] == 2
    response = ui.post_json(body["autosave_url"], {**data, "title": "Bản cũ", "version": 1})
    assert response.status_code == 409
    answer = response.get_json()
    assert answer["current"]["title"] == "Tiêu đề mới" and answer["current"]["version"] == "2"
    assert any(row["field"] == "title" for row in answer["conflict"])
    response = ui.post_json(body["autosave_url"], {**data, "title": "", "version": 2})
    assert response.status_code == 422 and "title" in response.get_json()["error"]["fields"]


def test_autosave_without_csrf_header_is_refused(ui_as, make_post):
    ui = ui_as("editor")
    post = make_post(author=ui.user)
    response = ui.client.post(f"/admin/posts/{post.id}/autosave", json={"title": "x", "version": 1},
                              headers={"Accept": "application/json"})
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(Post, post.id).version == 1


# --- review, revisions, audit ----------------------------------------------------------------------------


def test_submit_reject_with_reason_then_approve(ui_as, make_post):
    author = ui_as("editor")
    approver = ui_as("approver")
    post = make_post(author=author.user)
    assert author.post(f"/admin/posts/{post.id}/submit").status_code == 302
    assert post.title in approver.get("/admin/review").get_data(as_text=True)
    response = approver.post(f"/admin/posts/{post.id}/reject", {"reason": ""})
    assert response.status_code == 422 and "Hãy cho tác giả biết lý do" in response.get_data(as_text=True)
    assert approver.post(f"/admin/posts/{post.id}/reject", {"reason": "Thiếu ảnh minh họa"}).status_code == 302
    assert "Thiếu ảnh minh họa" in author.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert author.post(f"/admin/posts/{post.id}/submit").status_code == 302
    assert approver.post(f"/admin/posts/{post.id}/approve").status_code == 302
    db.session.expire_all()
    assert db.session.get(Post, post.id).state == "approved"
    audit = approver.get("/admin/audit").get_data(as_text=True)
    assert "duyệt bài" in audit and "trả bài lại" in audit  # actions in words (publisher.labels), not codes
    assert "post.approve" not in audit and "post.reject" not in audit


def test_revisions_diff_and_restore(ui_as, make_post):
    ui = ui_as("editor")
    post = make_post(author=ui.user, title="Phiên bản một")
    ui.post(f"/admin/posts/{post.id}/edit", compose_form(title="Phiên bản hai", version="1"))
    html = ui.get(f"/admin/posts/{post.id}/revisions").get_data(as_text=True)
    # word by word: only the word that changed is marked (publisher/content/revisions.py)
    assert '<span class="diff-same">Phiên bản </span><del class="diff-del">một</del><ins class="diff-add">hai</ins>' in html
    assert ui.post(f"/admin/posts/{post.id}/revisions/1/restore", {"version": "2"}).status_code == 302
    db.session.expire_all()
    restored = db.session.get(Post, post.id)
    assert restored.title == "Phiên bản một" and restored.version == 3


# --- media, campaigns, units, users ----------------------------------------------------------------------


def test_media_upload_caption_and_library(ui_as):
    ui = ui_as("editor")
    from io import BytesIO

    response = ui.client.post("/admin/media/upload", data={"file": (BytesIO(image_bytes()), "anh.jpg")},
                              headers={"X-CSRFToken": ui.token(), "Accept": "application/json"},
                              content_type="multipart/form-data")
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert "w480" in item["renditions"]
    response = ui.client.post("/admin/media/upload", data={"file": (BytesIO(b"not an image at all"), "x.jpg")},
                              headers={"X-CSRFToken": ui.token(), "Accept": "application/json"},
                              content_type="multipart/form-data")
    assert response.status_code in (413, 415, 422) and response.get_json()["error"]["message"]
    assert ui.post(f"/admin/media/{item['id']}", {"caption": "Lễ mít tinh", "alt_text": "Đoàn viên"}).status_code == 302
    html = ui.get("/admin/media").get_data(as_text=True)
    assert "Lễ mít tinh" in html and "w480" in html
    assert ui.get("/admin/media/library.json").get_json()["items"][0]["caption"] == "Lễ mít tinh"


def test_campaign_create_edit_and_errors(ui_as):
    ui = ui_as("editor")
    response = ui.post("/admin/campaigns/new", {"name": "", "starts_on": "2026-05-10", "ends_on": "2026-05-01",
                                                "hashtags": "ThangCongNhan", "description": "Mô tả giữ lại"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Cần nhập tên." in html and "Mô tả giữ lại" in html
    response = ui.post("/admin/campaigns/new", {"name": "Tháng Công nhân", "starts_on": "2026-05-10",
                                                "ends_on": "2026-05-01", "hashtags": "#A B"})
    assert response.status_code == 422 and "Ngày kết thúc trước ngày bắt đầu." in response.get_data(as_text=True)
    response = ui.post("/admin/campaigns/new", {"name": "Tháng Công nhân", "starts_on": "2026-05-01",
                                                "ends_on": "2026-05-31", "hashtags": "#ThangCongNhan AnToan",
                                                "goal": "100 bài"})
    assert response.status_code == 302
    html = ui.get(response.headers["Location"]).get_data(as_text=True)
    assert "#ThangCongNhan" in html and "#AnToan" in html and "100 bài" in html


def test_units_tree_create_and_rename(ui_as):
    ui = ui_as("admin")
    assert ui.post("/admin/units", {"name": "Công đoàn ngành Giáo dục", "parent_id": str(ui.user.unit_id)}).status_code == 302
    response = ui.post("/admin/units", {"name": "", "parent_id": str(ui.user.unit_id)})
    assert response.status_code == 422 and "Cần nhập tên." in response.get_data(as_text=True)
    html = ui.get("/admin/units").get_data(as_text=True)
    assert "Công đoàn ngành Giáo dục" in html
    from publisher.accounts.models import Unit

    unit = db.session.scalar(select(Unit).where(Unit.name == "Công đoàn ngành Giáo dục"))
    assert ui.post(f"/admin/units/{unit.id}/rename", {"name": "CĐ ngành Giáo dục"}).status_code == 302
    assert "CĐ ngành Giáo dục" in ui.get("/admin/units").get_data(as_text=True)


def test_user_management(ui_as, app):
    ui = ui_as("admin")
    response = ui.post("/admin/users/new", {"email": "sai", "name": "A", "role": "editor",
                                            "unit_id": str(ui.user.unit_id), "password": "ngan"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "Dùng ít nhất 10 ký tự." in html
    response = ui.post("/admin/users/new", {"email": "moi@ldld.test", "name": "Người mới", "role": "editor",
                                            "unit_id": str(ui.user.unit_id), "password": "mat-khau-dai-2026"})
    assert response.status_code == 302
    response = ui.post("/admin/users/new", {"email": "moi@ldld.test", "name": "Trùng", "role": "editor",
                                            "unit_id": str(ui.user.unit_id), "password": "mat-khau-dai-2026"})
    assert response.status_code == 422 and "Đã có người dùng với địa chỉ e-mail này." in response.get_data(as_text=True)
    from publisher.accounts.models import User

    new = db.session.scalar(select(User).where(User.email == "moi@ldld.test"))
    assert ui.post(f"/admin/users/{new.id}", {"name": "Người mới", "role": "approver",
                                              "unit_id": str(ui.user.unit_id), "active": "0"}).status_code == 302
    db.session.expire_all()
    new = db.session.get(User, new.id)
    assert new.role == "approver" and not new.active
    assert sign_in(app.test_client(), "moi@ldld.test", "mat-khau-dai-2026").status_code == 400
    response = ui.post(f"/admin/users/{ui.user.id}", {"name": "x", "role": "admin", "unit_id": str(ui.user.unit_id),
                                                      "active": "0"})
    assert response.status_code == 422 and "Bạn không thể tự khóa" in response.get_data(as_text=True)
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.update")) is not None
    assert csrf_from(ui.get("/admin/users").get_data(as_text=True))


def test_times_shown_in_the_organisation_time_zone(ui_as, make_post):
    from datetime import datetime

    ui = ui_as("editor")
    post = make_post(author=ui.user, title="Giờ Việt Nam")
    post.updated_at = datetime(2026, 5, 1, 18, 30, tzinfo=UTC)  # 01:30 on 2 May in Hà Nội
    db.session.commit()
    html = ui.get("/admin/posts").get_data(as_text=True)
    assert "01:30" in html and "2/5/26" in html or "02/05/2026" in html, html.split("Giờ Việt Nam")[1][:300]
    ui.post("/admin/profile", {"name": "", "locale": "en"})
    html = ui.get("/admin/posts").get_data(as_text=True)
    assert "5/2/26" in html and "1:30" in html


def test_bad_hidden_fields_are_listed_not_a_500(ui_as, make_post):
    ui = ui_as("editor")
    post = make_post(author=ui.user)
    response = ui.post(f"/admin/posts/{post.id}/edit", compose_form(version="abc", campaign_id="999999",
                                                                     cover_media_id="x"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'id="error-summary"' in html and "Cần biết phiên bản bạn đã sửa." in html


def test_editing_approved_post_does_not_autosave(ui_as, make_post):
    ui = ui_as("editor")
    post = make_post(author=ui.user, state="approved")
    html = ui.get(f"/admin/posts/{post.id}/edit").get_data(as_text=True)
    assert 'data-autosave="0"' in html and 'id="not-autosaved"' in html
    html = ui.get(f"/admin/posts/{make_post(author=ui.user).id}/edit").get_data(as_text=True)
    assert 'data-autosave="1"' in html


def test_wtforms_messages_are_vietnamese(ui_as):
    ui = ui_as("admin")
    response = ui.post("/admin/units", {"name": "x" * 300, "parent_id": "abc"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Trường không được dài quá 200 ký tự." in html
