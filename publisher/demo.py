"""Demo set-up for ``publisher run --demo``: demo users, channels connected to the sandbox services, a campaign
and a few Vietnamese posts, so that the whole flow works offline with no accounts. Safe to run on every start:
what already exists is reused."""

from __future__ import annotations

import io
import logging
from typing import Any

from PIL import Image, ImageDraw
from sqlalchemy import select

from publisher.accounts.models import User
from publisher.accounts.services import create_user, find_user_by_email, get_root_unit
from publisher.channels import facebook_connect
from publisher.channels import services as channels
from publisher.channels.models import Channel
from publisher.content.media import MediaLimits, save_upload
from publisher.content.models import Campaign, Post
from publisher.content.services import approve_post, create_campaign, create_post, submit_post
from publisher.db import db
from publisher.errors import DomainError
from publisher.settings import Settings

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
)


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
    for spec in POSTS:
        post = db.session.scalar(select(Post).where(Post.title == spec["title"]))
        if post is None:
            data = {k: v for k, v in spec.items() if k not in ("state", "with_image")}
            data["campaign_id"] = campaign.id
            if spec.get("with_image"):
                media = save_upload(_demo_image(), "chuyen-doi-so.jpg", editor, settings.media_dir, limits,
                                    caption="Hội nghị triển khai chuyển đổi số", alt_text="Ảnh minh họa chuyển đổi số")
                data["media_ids"] = [media.id]
                data["cover_media_id"] = media.id
            post = create_post(editor, data)
            if spec["state"] in ("in_review", "approved"):
                submit_post(post, editor)
            if spec["state"] == "approved":
                approve_post(post, approver)
        lines.append(f"post #{post.id} ({post.state}): {post.title}")
    db.session.flush()
    return lines
