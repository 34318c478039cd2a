"""Who is asking: session users for the editorial UI (Flask-Login), bearer tokens for the API."""

from __future__ import annotations

from publisher.accounts.models import User
from publisher.db import db


def load_user(session_id: str) -> User | None:
    """Flask-Login's loader: ``"<id>:<epoch>"``; a changed epoch (password change, deactivation) ends the session."""
    user_id, _, epoch = (session_id or "").partition(":")
    if not user_id.isdigit() or not epoch.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.session_epoch != int(epoch):
        return None
    return user
