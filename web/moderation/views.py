from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.website import services
from web.moderation import bp

TABS = ("pending", "approved", "rejected")


@bp.get("/")
def queue():  # type: ignore[no-untyped-def]
    state = request.args.get("state", "pending")
    if state not in TABS:
        abort(404)
    comments = services.moderation_queue(current_user, state)
    return render_template("moderation/queue.html", comments=comments, state=state, tabs=TABS)


@bp.post("/<int:comment_id>/approve")
def approve(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    services.moderate_comment(comment, current_user, approve=True)
    flash(_("The comment is now shown under the article."), "success")
    return redirect(url_for("moderation.queue", state=request.form.get("back", "pending")))


@bp.post("/<int:comment_id>/reject")
def reject(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    services.moderate_comment(comment, current_user, approve=False)
    flash(_("The comment was rejected; it will not be shown."), "success")
    return redirect(url_for("moderation.queue", state=request.form.get("back", "pending")))


@bp.post("/<int:comment_id>/reply")
def reply(comment_id: int):  # type: ignore[no-untyped-def]
    comment = services.get_comment(comment_id, current_user)
    if comment.state == "pending":
        services.moderate_comment(comment, current_user, approve=True)
    try:
        services.add_staff_reply(comment.id, request.form.get("message", ""), current_user)
    except services.WebsiteError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("moderation.queue", state="approved"))
    flash(_("Your answer is shown under the reader's comment."), "success")
    return redirect(url_for("moderation.queue", state="approved"))
