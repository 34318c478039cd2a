"""Personal data: the comment form's notice and consent, one person's export and erasure, retention."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from publisher.accounts.services import authenticate
from publisher.accounts.throttle import LoginFailure, record_failure
from publisher.audit import AuditEntry, record
from publisher.db import db, utcnow
from publisher.errors import Conflict, PermissionDenied
from publisher.privacy import services as privacy
from publisher.scheduler.periodic import PERIODIC_JOBS
from publisher.website import services as website
from publisher.website.models import ReaderComment
from tests.conftest import csrf_from, sign_in_session

READER = "Trần Thị Bình"
READER_EMAIL = "binh.tran@example.vn"


def comment(client, post, **data):  # type: ignore[no-untyped-def]
    form = {"name": READER, "message": "Bài viết rất bổ ích", "email": READER_EMAIL, "consent": "yes", **data}
    return client.post(f"/tin/{post.slug}/y-kien", data={k: v for k, v in form.items() if v is not None})


def approve_all(user) -> None:  # type: ignore[no-untyped-def]
    for c in website.moderation_queue(user):
        website.moderate_comment(c, user, approve=True)
    db.session.commit()


# --- the comment form --------------------------------------------------------------------------------------


def test_the_form_says_what_is_kept_why_and_how_long_and_asks_consent(client, publish, settings):
    post, _ = publish()
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert "Dữ liệu cá nhân của bạn" in html
    assert f"{settings.retention_comments_days} ngày" in html
    assert "91/2025/QH15" in html
    assert 'type="checkbox" id="c-consent" name="consent" value="yes" required' in html
    assert 'type="email" id="c-email" name="email"' in html


def test_a_comment_without_consent_is_refused_and_nothing_kept(client, publish):
    post, _ = publish()
    response = comment(client, post, consent=None)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="e-consent"' in html and "Bài viết rất bổ ích" in html  # what was typed is kept in the form
    assert db.session.scalar(select(ReaderComment)) is None


def test_consent_and_its_time_are_stored_with_the_comment(client, publish):
    post, _ = publish()
    before = utcnow()
    assert comment(client, post, email="Binh.Tran@Example.VN").status_code == 303
    stored = db.session.scalar(select(ReaderComment))
    assert stored.consent_at is not None and before <= stored.consent_at <= utcnow()
    assert stored.consent_version == website.COMMENT_NOTICE_VERSION
    assert stored.author_email == READER_EMAIL


def test_a_bad_email_is_refused_and_an_empty_one_is_fine(client, publish):
    post, _ = publish()
    assert comment(client, post, email="khong-phai-email").status_code == 422
    assert comment(client, post, email="").status_code == 303
    assert db.session.scalar(select(ReaderComment)).author_email is None


def test_the_email_is_never_shown(client, publish, make_user):
    post, _ = publish()
    comment(client, post)
    approve_all(make_user("editor"))
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert "Bài viết rất bổ ích" in html and READER_EMAIL not in html


# --- finding, exporting, erasing one person ----------------------------------------------------------------


@pytest.fixture
def reader_history(client, publish, make_user):  # type: ignore[no-untyped-def]
    """Two comments by the reader (one shown), one by somebody else, all approved."""
    post, article = publish()
    comment(client, post)
    comment(client, post, message="Ý kiến thứ hai", email="")
    comment(client, post, name="Lê Văn Cường", email="cuong@example.vn", message="Tôi đồng ý")
    approve_all(make_user("editor"))
    return post, article


def test_an_admin_finds_a_reader_by_email_or_by_name(app, reader_history, make_user):
    admin = make_user("admin")
    by_email = privacy.find_person(admin, " BINH.tran@example.vn ")
    assert [c.message for c in by_email.reader_comments] == ["Bài viết rất bổ ích"]
    by_name = privacy.find_person(admin, READER)
    assert {c.message for c in by_name.reader_comments} == {"Bài viết rất bổ ích", "Ý kiến thứ hai"}
    with pytest.raises(PermissionDenied):
        privacy.find_person(make_user("approver"), READER)


def test_export_is_a_json_download_with_an_audit_entry_that_does_not_name_the_person(client, app, reader_history,
                                                                                       make_user):
    admin = make_user("admin")
    sign_in_session(client, admin)
    page = client.get("/admin/privacy/?q=" + READER_EMAIL)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Bài viết rất bổ ích" in html and "Tải về dạng JSON" in html
    response = client.post("/admin/privacy/export", data={"q": READER_EMAIL, "csrf_token": csrf_from(html)})
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    document = json.loads(response.get_data())
    (only,) = document["reader_comments"]
    assert only["author_email"] == READER_EMAIL and only["consent_at"] and only["consent_version"]
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.export"))
    assert entry.user_id == admin.id and entry.details["reader_comments"] == 1
    assert READER_EMAIL not in json.dumps(entry.details) and entry.details["subject"] == privacy.subject_digest(
        READER_EMAIL)


def test_export_of_a_staff_account(app, make_user):
    admin = make_user("admin")
    editor = make_user("editor", email="hoa.nguyen@ldld.test", name="Nguyễn Thị Hoa")
    record_failure("hoa.nguyen@ldld.test", "203.0.113.5")
    db.session.commit()
    document = privacy.export_person(admin, "Nguyễn Thị Hoa")
    (account,) = document["staff_accounts"]
    assert account["email"] == "hoa.nguyen@ldld.test" and "password_hash" not in account
    assert account["name"] == "Nguyễn Thị Hoa" and account["unit"]["name"] and account["api_tokens"] == []
    assert document["sign_in_failures"][0]["ip"] == "203.0.113.5"
    assert editor.active


def test_erasing_a_reader_anonymises_their_comments_and_keeps_the_figures(client, app, reader_history, make_user):
    post, article = reader_history
    admin = make_user("admin")
    figures_before = website.article_metrics([article.id])[article.id]["comments"]
    assert figures_before == 3
    sign_in_session(client, admin)
    html = client.get("/admin/privacy/?q=" + READER).get_data(as_text=True)
    refused = client.post("/admin/privacy/erase", data={"q": READER, "csrf_token": csrf_from(html)})
    assert refused.status_code == 302 and db.session.scalar(
        select(ReaderComment).where(ReaderComment.anonymised_at.is_not(None))) is None  # not confirmed
    response = client.post("/admin/privacy/erase", data={"q": READER, "confirm": "yes", "reference": "YC-12",
                                                          "csrf_token": csrf_from(html)})
    assert response.status_code == 302
    db.session.expire_all()
    rows = db.session.scalars(select(ReaderComment).order_by(ReaderComment.id)).all()
    erased = [r for r in rows if r.anonymised_at is not None]
    assert len(erased) == 2
    for row in erased:
        assert row.author_name == privacy.ERASED_READER and row.author_email is None and row.message == ""
    assert website.article_metrics([article.id])[article.id]["comments"] == figures_before  # figures stay
    page = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert READER not in page and "Bài viết rất bổ ích" not in page and "Tôi đồng ý" in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "privacy.erase"))
    assert entry.details["reader_comments"] == 2 and entry.details["reference"] == "YC-12"
    assert READER not in json.dumps(entry.details, ensure_ascii=False)
    assert privacy.find_person(admin, READER).empty  # nothing left to find


def test_erasing_a_staff_member_deactivates_the_account_and_replaces_name_and_email(app, make_user, make_post):
    admin = make_user("admin")
    editor = make_user("editor", email="minh.le@ldld.test", name="Lê Minh")
    post = make_post(author=editor)
    record(admin, "user.note", editor, email="minh.le@ldld.test", note="Lê Minh chuyển công tác")
    record_failure("minh.le@ldld.test", "198.51.100.7")
    db.session.commit()
    result = privacy.erase_person(admin, "minh.le@ldld.test")
    db.session.commit()
    assert result.accounts == 1 and result.sign_in_failures == 1 and result.audit_entries_scrubbed >= 2
    db.session.expire_all()
    assert not editor.active and editor.password_hash is None
    assert editor.email == f"erased-{editor.id}@erased.invalid" and editor.name == f"Tài khoản đã xóa #{editor.id}"
    assert authenticate("minh.le@ldld.test", "x" * 12) is None
    assert post.author_id == editor.id  # the post (and any report counting it) keeps its author row
    for entry in db.session.scalars(select(AuditEntry)):
        text = json.dumps(entry.details, ensure_ascii=False)
        assert "minh.le@ldld.test" not in text and "Lê Minh" not in text
    assert db.session.scalar(select(LoginFailure)) is None
    note = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "user.note"))
    assert note.details == {"email": "[đã xóa]", "note": "[đã xóa] chuyển công tác"}


def test_a_one_word_name_is_scrubbed_only_where_it_is_the_whole_value(app, make_user, publish):
    _, article = publish()
    admin = make_user("admin")
    website.submit_comment(article, "Lan", "Ý kiến", consent=True)
    record(admin, "test.mention", article, who="Lan", text="Phong trào lan tỏa; Lan phát biểu")
    db.session.commit()
    privacy.erase_person(admin, "Lan")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "test.mention"))
    assert entry.details == {"who": "[đã xóa]", "text": "Phong trào lan tỏa; Lan phát biểu"}


def test_an_admin_cannot_erase_themselves(client, app, make_user):
    admin = make_user("admin", email="tu.xoa@ldld.test")
    with pytest.raises(Conflict):
        privacy.erase_person(admin, "tu.xoa@ldld.test")
    sign_in_session(client, admin)
    html = client.get("/admin/privacy/?q=tu.xoa@ldld.test").get_data(as_text=True)
    response = client.post("/admin/privacy/erase", data={"q": "tu.xoa@ldld.test", "confirm": "yes",
                                                          "csrf_token": csrf_from(html)}, follow_redirects=True)
    assert response.status_code == 200 and "không thể tự xóa" in response.get_data(as_text=True)
    db.session.expire_all()
    assert admin.active and admin.email == "tu.xoa@ldld.test"


def test_a_unit_admin_only_sees_their_own_units(app, make_user, make_unit):
    district = make_unit("Liên đoàn lao động huyện")
    other = make_unit("Công đoàn ngành Y tế")
    local_admin = make_user("admin", unit=district)
    make_user("editor", unit=other, email="ngoai@ldld.test")
    make_user("editor", unit=district, email="trong@ldld.test")
    assert privacy.find_person(local_admin, "ngoai@ldld.test").empty
    assert len(privacy.find_person(local_admin, "trong@ldld.test").accounts) == 1


def test_the_privacy_page_is_for_admins(client, app, make_user):
    sign_in_session(client, make_user("approver"))
    assert client.get("/admin/privacy/").status_code == 403
    client.get("/admin/logout")
    admin = make_user("admin")
    sign_in_session(client, admin)
    page = client.get("/admin/privacy/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Dữ liệu cá nhân" in html and 'lang="vi"' in html
    assert "PUBLISHER_RETENTION_COMMENTS_DAYS" in html


# --- retention ---------------------------------------------------------------------------------------------


def test_retention_anonymises_old_comments_and_deletes_old_records(app, settings, publish, make_user):
    post, article = publish()
    editor = make_user("editor")
    old = website.submit_comment(article, "Bạn đọc cũ", "Ý kiến năm xưa", consent=True, email="cu@example.vn")
    new = website.submit_comment(article, "Bạn đọc mới", "Ý kiến hôm nay", consent=True)
    db.session.flush()
    now = utcnow()
    old.created_at = now - timedelta(days=settings.retention_comments_days + 1)
    for c in (old, new):
        website.moderate_comment(c, editor, approve=True)
    db.session.add(LoginFailure(email="a@b.vn", ip="203.0.113.1", at=now - timedelta(days=settings.retention_signin_days + 1)))
    db.session.add(LoginFailure(email="a@b.vn", ip="203.0.113.1", at=now))
    stale = record(None, "test.old", article)
    stale.at = now - timedelta(days=settings.retention_audit_days + 1)
    record(None, "test.recent", article)
    db.session.commit()
    result = privacy.apply_retention(settings, now)
    db.session.commit()
    assert (result.reader_comments, result.sign_in_failures, result.audit_entries) == (1, 1, 1)
    db.session.expire_all()
    assert old.anonymised_at is not None and old.author_email is None and old.message == ""
    assert new.anonymised_at is None and new.author_name == "Bạn đọc mới"
    assert website.article_metrics([article.id])[article.id]["comments"] == 2
    assert db.session.query(LoginFailure).count() == 1
    actions = {e.action for e in db.session.scalars(select(AuditEntry))}
    assert "test.old" not in actions and "test.recent" in actions and "privacy.retention" in actions
    again = privacy.apply_retention(settings, now)
    assert not again.anything  # idempotent


def test_retention_is_a_declared_periodic_job_that_a_worker_runs(app, settings, publish, make_user):
    from publisher.scheduler.periodic import run_periodic_job
    from tests.scheduler.conftest import run_worker

    (job,) = [j for j in PERIODIC_JOBS if j.name == "privacy.apply_retention"]
    assert not job.inline and job.interval(settings) == 3600.0
    _, article = publish()
    old = website.submit_comment(article, "Bạn đọc cũ", "Ý kiến năm xưa", consent=True)
    old.created_at = utcnow() - timedelta(days=settings.retention_comments_days + 1)
    db.session.commit()
    run_periodic_job(app, job)  # what the scheduler does each hour: queue it for the workers
    run_worker(app)
    assert db.session.get(ReaderComment, old.id).anonymised_at is not None


def test_retention_settings(tmp_path):
    from publisher.settings import SettingsError, load_settings

    env = {"PUBLISHER_SECRET_KEY": "k" * 32, "PUBLISHER_INSTANCE_PATH": str(tmp_path),
           "PUBLISHER_RETENTION_COMMENTS_DAYS": "365", "PUBLISHER_RETENTION_SIGNIN_DAYS": "30",
           "PUBLISHER_RETENTION_AUDIT_DAYS": "3650"}
    loaded = load_settings(env, config_dir=tmp_path)
    assert (loaded.retention_comments_days, loaded.retention_signin_days, loaded.retention_audit_days) == (
        365, 30, 3650)
    defaults = load_settings({k: v for k, v in env.items() if "RETENTION" not in k}, config_dir=tmp_path)
    assert (defaults.retention_comments_days, defaults.retention_signin_days, defaults.retention_audit_days) == (
        730, 90, 1825)
    with pytest.raises(SettingsError):
        load_settings({**env, "PUBLISHER_RETENTION_AUDIT_DAYS": "7"}, config_dir=tmp_path)
