"""Sign-in throttling: after too many failed attempts for one e-mail address from one IP address, wait.

Failures are rows (not process memory) so that every web worker sees the same count.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Index, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from publisher.db import db, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


class LoginFailure(db.Model):
    __tablename__ = "login_failures"
    __table_args__ = (Index("ix_login_failures_email_ip_at", "email", "ip", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<LoginFailure {self.email} {self.ip}>"


def _key(email: str) -> str:
    return (email or "").strip().lower()[:320]


def is_throttled(email: str, ip: str, now: datetime | None = None) -> bool:
    """True when this e-mail from this address failed MAX_FAILURES times within the window."""
    since = (now or utcnow()) - WINDOW
    count = db.session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.email == _key(email), LoginFailure.ip == ip[:64], LoginFailure.at >= since)
    )
    return (count or 0) >= MAX_FAILURES


def record_failure(email: str, ip: str) -> None:
    db.session.add(LoginFailure(email=_key(email), ip=ip[:64]))
    db.session.flush()


def clear_failures(email: str, ip: str) -> None:
    """A successful sign-in forgets the earlier failures (and old rows of everyone are pruned)."""
    db.session.execute(delete(LoginFailure).where(LoginFailure.email == _key(email), LoginFailure.ip == ip[:64]))
    db.session.execute(delete(LoginFailure).where(LoginFailure.at < utcnow() - WINDOW))
