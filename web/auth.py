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


def editorial_blueprint(bp) -> None:  # type: ignore[no-untyped-def]
    """Give an editorial-UI blueprint of another area the /admin/ rules: signed in, one commit per request."""
    from flask_login import current_user

    from web import login_manager
    from web.tx import commit_request

    @bp.before_request
    def _signed_in():  # type: ignore[no-untyped-def]
        if not current_user.is_authenticated:
            return login_manager.unauthorized()
        return None

    @bp.after_request
    def _commit(response):  # type: ignore[no-untyped-def]
        return commit_request(response, api=False)
