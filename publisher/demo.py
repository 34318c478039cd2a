"""Demo set-up for ``publisher run --demo``: demo users, channels connected to the sandbox services, a campaign
and a few Vietnamese posts, so that the whole flow works offline with no accounts. Safe to run on every start:
what already exists is reused."""

from __future__ import annotations

import io
import logging
from datetime import datetime, timedelta
from typing import Any

import requests
from PIL import Image, ImageDraw
from sqlalchemy import select

from publisher.accounts.models import Unit, User
from publisher.accounts.services import create_unit, create_user, find_user_by_email, get_root_unit
from publisher.channels import facebook_connect
from publisher.channels import services as channels
from publisher.channels.models import Channel
from publisher.content.media import MediaLimits, save_upload
from publisher.content.models import Campaign, Post
from publisher.content.services import approve_post, create_campaign, create_post, submit_post
from publisher.db import db, utcnow
from publisher.engagement.services import collect_engagement, local_day
from publisher.errors import DomainError
from publisher.hierarchy.services import send_kit
from publisher.scheduler import pipeline
from publisher.scheduler.models import Delivery, DeliveryAttempt
from publisher.scheduler.services import schedule_post
from publisher.settings import Settings
from publisher.website.services import add_views, get_article, submit_comment

log = logging.getLogger(__name__)

DEMO_PASSWORD = "loa-demo-2026"
DEMO_USERS = (("admin@demo.loa", "admin", "Quản trị viên (demo)"), ("bientap@demo.loa", "editor", "Biên tập viên (demo)"),
              ("duyet@demo.loa", "approver", "Lãnh đạo duyệt bài (demo)"))
CAMPAIGN = {"name": "Chuyển đổi số trong hoạt động Công đoàn", "starts_on": "2026-11-01", "ends_on": "2026-12-31",
            "description": "Tuyên truyền Kế hoạch hành động thực hiện Nghị quyết 06 về chuyển đổi số tới cán bộ, "
                           "đoàn viên, CNVCLĐ toàn tỉnh.", "hashtags": ["ChuyenDoiSo", "CongDoan"]}
POSTS: tuple[dict[str, Any], ...] = (
    {"title": "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn",
     "summary": "Ban Thường vụ LĐLĐ tỉnh ban hành Kế hoạch hành động thực hiện Nghị quyết 06 về chuyển đổi số đến "
                "năm 2025, định hướng đến năm 2030.",
     "body_html": "<p>Ban Thường vụ Liên đoàn Lao động (LĐLĐ) tỉnh vừa ban hành Kế hoạch hành động thực hiện Nghị "
                  "quyết số 06-NQ/TU của Ban Thường vụ Tỉnh ủy về chuyển đổi số đến năm 2025, định hướng đến năm "
                  "2030.</p><p>Trọng tâm là quản lý đoàn viên, quản lý kinh phí, đoàn phí và truyền thông Công đoàn "
                  "trên không gian mạng, tạo sự đột phá trong cải cách hành chính.</p>",
     "category": "Chuyển đổi số", "locality": "Toàn tỉnh", "with_image": True, "state": "approved",
     "variants": {"facebook": {"message": "LĐLĐ tỉnh ban hành Kế hoạch hành động đẩy mạnh chuyển đổi số trong hoạt "
                                          "động Công đoàn: quản lý đoàn viên, tài chính và truyền thông trên nền "
                                          "tảng số."},
                  "youtube": {"title": "Đẩy mạnh chuyển đổi số trong hoạt động Công đoàn",
                              "description": "Kế hoạch hành động thực hiện Nghị quyết 06 của LĐLĐ tỉnh.",
                              "tags": ["chuyển đổi số", "công đoàn"], "privacy": "public"}}},
    {"title": "Sáu nhiệm vụ trọng tâm chuyển đổi số của Công đoàn tỉnh",
     "summary": "Từ tuyên truyền, quản lý đoàn viên trên nền tảng số đến số hóa công tác tài chính Công đoàn.",
     "body_html": "<p>Kế hoạch đưa ra 6 nhiệm vụ cụ thể: học tập, quán triệt Nghị quyết 06; hiện đại hóa công tác "
                  "tuyên truyền; phát triển đoàn viên, thành lập công đoàn cơ sở; quản lý cán bộ, đoàn viên trên "
                  "nền tảng số hóa; chăm lo, bảo vệ quyền lợi người lao động; số hóa công tác tài chính.</p>",
     "category": "Chuyển đổi số", "locality": "Toàn tỉnh", "state": "in_review",
     "variants": {"facebook": {"message": "6 nhiệm vụ trọng tâm chuyển đổi số của Công đoàn tỉnh đến năm 2030."}}},
    {"title": "Công đoàn cơ sở xây dựng kế hoạch thực hiện Nghị quyết 06",
     "summary": "Định kỳ 6 tháng, 1 năm báo cáo kết quả thực hiện về Ban Thường vụ LĐLĐ tỉnh.",
     "body_html": "<p>Căn cứ Kế hoạch hành động của Ban Thường vụ LĐLĐ tỉnh, Ban Chấp hành công đoàn cơ sở xây dựng "
                  "kế hoạch thực hiện, cụ thể hóa thành nhiệm vụ hằng năm.</p>",
     "category": "Hoạt động cơ sở", "locality": "TP. Thanh Hóa", "state": "draft", "variants": {}},
    {"title": "Công đoàn tỉnh trao 500 suất quà Tết cho đoàn viên khó khăn",
     "summary": "Những phần quà ấm áp đến với đoàn viên, người lao động có hoàn cảnh khó khăn trước Tết Nguyên đán.",
     "body_html": "<p>Liên đoàn Lao động tỉnh trao 500 suất quà Tết cho đoàn viên, người lao động có hoàn cảnh khó "
                  "khăn, mỗi suất trị giá 1.000.000 đồng.</p><p>Chương trình “Tết Sum vầy” còn tổ chức xe đưa "
                  "công nhân về quê đón Tết.</p>",
     "category": "Chăm lo đoàn viên", "locality": "Toàn tỉnh", "with_image": True, "state": "approved",
     "variants": {"facebook": {"message": "500 suất quà Tết đến với đoàn viên khó khăn: Công đoàn tỉnh chung tay để "
                                          "không ai bị bỏ lại phía sau."}}},
)
# What a new user finds in the workspace (issue #14): readers' comments waiting, deliveries out, refused and
# unconfirmed, one scheduled for tomorrow, a kit sent down to a district union, and the first figures.
DISTRICT = "Liên đoàn Lao động huyện Quảng Xương"
WEBSITE_COMMENTS = (
    ("Nguyễn Văn Hải", "hai.nv@example.vn", "Công ty tôi đã cài ứng dụng Công đoàn Việt Nam, đoàn viên tra cứu "
                                            "quyền lợi rất tiện. Mong sớm có hướng dẫn cho công nhân lớn tuổi."),
    ("Lê Thị Hằng", "", "Cho hỏi công đoàn cơ sở ở khu công nghiệp Lễ Môn được tập huấn chuyển đổi số vào "
                        "thời gian nào ạ?"),
)
PAGE_COMMENTS = (
    ("Trịnh Văn Quang", "Đoàn phí có nộp qua ngân hàng được chưa ạ? Ở công ty em vẫn thu tiền mặt.", 95),
    ("Phạm Thị Lan", "Rất mong Công đoàn tỉnh mở lớp hướng dẫn dùng sổ đoàn viên điện tử cho anh chị em "
                     "công nhân ca đêm.", 40),
)
# The refusal an Official Account gets for an article Zalo will not take (its error -201), as Zalo answers it.
ZALO_REFUSAL = {"error": -201, "message": "Parameters are invalid"}


def _demo_image() -> io.BytesIO:
    image = Image.new("RGB", (1600, 900), "#b3261e")
    draw = ImageDraw.Draw(image)
    for n in range(12):
        draw.rectangle((80 + n * 120, 600 - n * 35, 160 + n * 120, 800), fill="#f5c542")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85)
    buf.seek(0)
    return buf


def _user(email: str, role: str, name: str, created: list[str]) -> User:
    user = find_user_by_email(email)
    if user is None:
        user = create_user(email, role, get_root_unit(), name=name, password=DEMO_PASSWORD)
        created.append(email)
    return user


def _connect_page_with_login(settings: Settings, admin: User, spec: dict[str, Any], channel: Channel | None) -> Channel:
    """The demo Page connects as an admin connects one: Loa builds Facebook Login's dialog URL, the sandbox's
    person allows every permission on that Page (over HTTP, as their browser would), and Loa's callback steps
    trade the code for a long-lived token and connect the Page with its own Page token."""
    from publisher.channels.sandbox.facebook_login import answer_dialog

    page_id = str(spec["settings"]["page_id"])
    unit = get_root_unit()
    redirect_uri = f"{settings.public_url}/admin/channels/facebook/callback"
    start = facebook_connect.start_facebook_login(settings, admin, unit, redirect_uri)
    back = answer_dialog(start.url, pages=[page_id], timeout=settings.channel_timeout_seconds)
    pending = facebook_connect.finish_facebook_login(settings, admin, unit, redirect_uri, args=back,
                                                     expected_state=start.state)
    return facebook_connect.connect_pages(settings, admin, unit, pending, [page_id], reconnect=channel,
                                          names={page_id: spec["name"]})[0]


def set_up_demo(settings: Settings, demo_channels: list[dict[str, Any]]) -> list[str]:
    """Create (or reuse) the demo users, channels, campaign and posts; answer lines describing them."""
    lines: list[str] = []
    new_users: list[str] = []
    admin, editor, approver = (_user(email, role, name, new_users) for email, role, name in DEMO_USERS)
    users = ", ".join(f"{email} ({role})" for email, role, _name in DEMO_USERS)
    lines.append(f"demo users: {users}; password {DEMO_PASSWORD}" + ("" if new_users else " (unless changed)"))

    wanted = [{"kind": "website", "name": "Cổng thông tin Công đoàn tỉnh", "settings": {}}, *demo_channels]
    for spec in wanted:
        channel = db.session.scalar(select(Channel).where(Channel.kind == spec["kind"], Channel.name == spec["name"]))
        try:
            if spec["kind"] == "facebook" and facebook_connect.login_configured(settings):
                if channel is None or channel.state != "connected":
                    channel = _connect_page_with_login(settings, admin, spec, channel)
                    lines.append(f"channel #{channel.id} facebook: connected through Facebook Login (sandbox dialog)")
            elif channel is None:
                channel = channels.create_channel(admin, spec, settings)
            elif channel.state != "connected" and spec.get("settings"):
                channels.update_channel(channel, admin, {"settings": spec["settings"]}, settings)
        except DomainError as exc:
            lines.append(f"channel {spec['kind']} {spec['name']!r}: NOT connected ({exc.message})")
            continue
        lines.append(f"channel #{channel.id} {channel.kind}: {channel.name} ({channel.state})")
    if not any(c["kind"] == "youtube" for c in demo_channels):
        lines.append("channel youtube: no YouTube sandbox is installed; skipped")

    campaign = db.session.scalar(select(Campaign).where(Campaign.name == CAMPAIGN["name"]))
    if campaign is None:
        campaign = create_campaign(editor, dict(CAMPAIGN))
    lines.append(f"campaign #{campaign.id}: {campaign.name}")

    limits = MediaLimits(max_image_bytes=settings.max_image_mb * 1024 * 1024,
                         max_video_bytes=settings.max_video_mb * 1024 * 1024)
    media = None
    for spec in POSTS:
        post = db.session.scalar(select(Post).where(Post.title == spec["title"]))
        if post is None:
            data = {k: v for k, v in spec.items() if k not in ("state", "with_image")}
            data["campaign_id"] = campaign.id
            if spec.get("with_image"):
                if media is None:  # one picture serves every demo post (made once: renditions take time)
                    media = save_upload(_demo_image(), "chuyen-doi-so.jpg", editor, settings.media_dir, limits,
                                        caption="Hội nghị triển khai chuyển đổi số",
                                        alt_text="Ảnh minh họa chuyển đổi số")
                data["media_ids"] = [media.id]
                data["cover_media_id"] = media.id
            post = create_post(editor, data)
            if spec["state"] in ("in_review", "approved"):
                submit_post(post, editor)
            if spec["state"] == "approved":
                approve_post(post, approver)
        lines.append(f"post #{post.id} ({post.state}): {post.title}")
    db.session.flush()
    try:
        lines += _set_up_workspace(settings, admin, editor)
    except requests.RequestException as exc:  # a sandbox that does not answer: the demo starts without the examples
        db.session.rollback()
        lines.append(f"workspace examples skipped: a sandbox did not answer ({exc.__class__.__name__})")
    return lines


def _sandbox_call(base_url: str, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    response = requests.post(f"{base_url}{path}", json=body, timeout=timeout)
    response.raise_for_status()
    return response.json() or {}


def _go_out(deliveries: list[Delivery], now: datetime | None = None) -> None:
    """The deliveries published as the worker publishes them (the same pipeline, in this process)."""
    db.session.commit()
    pipeline.publish_deliveries([(d.id, d.version) for d in deliveries], now=now)
    for delivery in deliveries:
        db.session.refresh(delivery)


def _answer_lost(delivery: Delivery) -> None:
    """What the pipeline stores for a publish whose answer was lost (a 502 after Zalo took the article) and whose
    look-up 30 seconds later failed too (a 503): two attempts, the delivery ``unconfirmed`` with the first error.
    Whether Zalo took the article, Loa cannot tell: a person retries (Loa looks it up first) or cancels."""
    from publisher.channels.zalo import ERRORS

    sentence = str(ERRORS[-100][1])  # the sentence Zalo's adapter gives any 5xx answer
    worker = pipeline.worker_name()
    started = utcnow() - timedelta(minutes=3)
    retry_at = started + timedelta(seconds=30)
    delivery.history.append(DeliveryAttempt(
        action="publish", started_at=started, ended_at=started + timedelta(seconds=1), worker=worker, outcome="error",
        code="502", message=sentence, details={"version": delivery.version, "retry_after": None, "http_status": 502}))
    delivery.history.append(DeliveryAttempt(
        action="lookup", started_at=retry_at, ended_at=retry_at + timedelta(seconds=1), worker=worker,
        outcome="unknown", code="503", message=sentence, details={"version": delivery.version}))
    delivery.state, delivery.attempts, delivery.needs_lookup = "unconfirmed", 1, True
    delivery.scheduled_at, delivery.next_attempt_at = started, None
    delivery.last_error, delivery.last_error_code = f"502: {sentence}", "502"
    db.session.flush()


def _set_up_workspace(settings: Settings, admin: User, editor: User) -> list[str]:
    """Once, on the first start: the story of the first post is out on the website and the Page, with readers'
    comments waiting and the first figures; Zalo refused it; the second approved post's Zalo article may have
    gone out (the answer was lost: ``unconfirmed``) and it is scheduled elsewhere for tomorrow morning; a kit
    was sent down to a district union. It goes through the services and the publishing pipeline, as it would with
    people at work, the sandboxes playing the platforms (their faults for the refusal); only the unconfirmed
    delivery's attempts are written as the pipeline writes them (``_answer_lost``)."""
    first = db.session.scalar(select(Post).where(Post.title == POSTS[0]["title"]))
    gifts = db.session.scalar(select(Post).where(Post.title == POSTS[3]["title"]))
    if first is None or gifts is None or db.session.scalar(select(Delivery.id).where(Delivery.post_id == first.id)
                                                            .limit(1)) is not None:
        return []  # an earlier start did it (or people changed the demo's posts)
    lines: list[str] = []
    by_kind = {c.kind: c for c in db.session.scalars(select(Channel).where(Channel.state == "connected")
                                                      .order_by(Channel.id))}
    timeout = settings.channel_timeout_seconds

    out = [k for k in ("website", "facebook") if k in by_kind]
    published = schedule_post(first, admin, {"channel_ids": [by_kind[k].id for k in out]}, settings)
    _go_out(published)
    for delivery in published:
        lines.append(f"delivery #{delivery.id} {delivery.channel.kind}: {delivery.state}")
    live = {d.channel.kind: d for d in published if d.state == "published"}
    if "website" in live:
        article = get_article(int(live["website"].remote_id))
        for name, email, message in WEBSITE_COMMENTS:
            submit_comment(article, name, message, consent=True, email=email)
        add_views(article.id, local_day(utcnow(), settings), 146)  # read on the site this morning
    if "facebook" in live:
        for name, message, minutes_ago in PAGE_COMMENTS:
            _sandbox_call(settings.facebook_graph_url, "/__sandbox/reader_comment",
                          {"post_id": live["facebook"].remote_id, "name": name, "message": message,
                           "minutes_ago": minutes_ago}, timeout)
    if live:
        collect_engagement(every_published=True, settings=settings)  # figures and the Page's comments
        db.session.commit()

    if "zalo" in by_kind:
        zalo = by_kind["zalo"]
        # Zalo refuses the first post's article: the delivery fails, with Zalo's reason.
        _sandbox_call(settings.zalo_api_url, "/__sandbox/faults",
                      {"path_prefix": "/v2.0/article/create", "method": "POST", "status": 200, "body": ZALO_REFUSAL,
                       "count": 1}, timeout)
        refused = schedule_post(first, admin, {"channel_ids": [zalo.id]}, settings)
        _go_out(refused)
        # The second one reached Zalo but its answer was lost, and the look-up before trying again could not reach
        # Zalo either: the delivery waits for a person to decide (``unconfirmed``). Zalo takes 10 publishes a minute
        # from Loa, so the pipeline would hold these calls back for seconds: the attempts are written as it writes
        # them.
        lost = schedule_post(gifts, admin, {"channel_ids": [zalo.id]}, settings)
        _answer_lost(lost[0])
        for delivery in refused + lost:
            lines.append(f"delivery #{delivery.id} zalo: {delivery.state} ({delivery.last_error})")

    tomorrow = (utcnow().astimezone(settings.zone) + timedelta(days=1)).replace(hour=7, minute=30, second=0,
                                                                               microsecond=0)
    later = [by_kind[k].id for k in ("website", "facebook") if k in by_kind]
    if later:
        schedule_post(gifts, admin, {"channel_ids": later, "at": tomorrow.isoformat()}, settings)
        lines.append(f"post #{gifts.id}: scheduled for {tomorrow:%Y-%m-%d %H:%M}")

    district = db.session.scalar(select(Unit).where(Unit.name == DISTRICT))
    if district is None:
        district = create_unit(DISTRICT, get_root_unit(), actor=admin)
    campaign = db.session.get(Campaign, first.campaign_id)
    deadline = (utcnow().astimezone(settings.zone) + timedelta(days=14)).date()
    kit = send_kit(editor, campaign, {"post_ids": [first.id, gifts.id], "unit_ids": [district.id],
                                      "deadline": deadline.isoformat(),
                                      "schedule": [{"post_id": gifts.id, "at": tomorrow.isoformat()}]}, settings)
    lines.append(f"kit #{kit.id}: sent down to {district.name}")
    db.session.flush()
    return lines
