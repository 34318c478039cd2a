"""The daily look at Facebook Page tokens (``debug_token``): their expiry, data-access expiry and scopes are kept
on each channel, and admins are mailed (or, without SMTP, the log is told) once per expiry date when something
ends within 14 days — before the first post fails. Declared in ``periodic.PERIODIC_JOBS``."""

from __future__ import annotations

import logging

from flask import current_app

from publisher.channels.facebook_connect import WARN_DAYS, refresh_token_health
from publisher.db import db
from publisher.scheduler.notify import send_admin_mail

log = logging.getLogger(__name__)

WHAT = {"token": ("mã truy cập (token) của Trang", "the Page access token"),
        "data_access": ("quyền truy cập dữ liệu", "data access"),
        "invalid": ("mã truy cập không còn hợp lệ", "the Page access token is no longer valid")}


def check_facebook_tokens() -> int:
    """The job: read every Facebook channel's token health, commit, then tell admins; answers how many
    channels they were told about."""
    settings = current_app.extensions["publisher.settings"]
    try:
        notices = refresh_token_health(settings)
        mails = [(channel.unit_id, channel.id, channel.name, warnings) for channel, warnings in notices]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    for unit_id, channel_id, name, warnings in mails:
        vi = "; ".join(WHAT[what][0] if what == "invalid" else f"{WHAT[what][0]} hết hạn lúc {when:%d/%m/%Y %H:%M} UTC"
                       for what, when in warnings)
        en = "; ".join(WHAT[what][1] if what == "invalid" else f"{WHAT[what][1]} ends {when:%Y-%m-%d %H:%M} UTC"
                       for what, when in warnings)
        subject = f"[Loa] Kênh «{name}»: quyền Facebook sắp hết hạn / Facebook access ends soon"
        body = (f"Kênh «{name}» (#{channel_id}): {vi}. Hãy kết nối lại Trang bằng «Kết nối lại bằng Facebook» trong "
                f"Kênh trước thời điểm đó (cảnh báo trước {WARN_DAYS} ngày).\n\n"
                f"Channel «{name}» (#{channel_id}): {en}. Reconnect the Page with Facebook Login under Channels "
                f"before then.\n{settings.public_url}/admin/channels/\n")
        send_admin_mail(settings, unit_id, subject, body)
    log.info("facebook token health: %s channel(s) to warn about", len(mails))
    return len(mails)
