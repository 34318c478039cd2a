from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import BuildError

from publisher.accounts.services import has_role_in, require_role
from publisher.content.models import Post
from publisher.db import after_commit
from publisher.errors import ValidationFailed
from publisher.feeds.services import (
    create_source,
    draft_from_item,
    get_item,
    get_source,
    inbox_items,
    list_sources,
    update_source,
)
from web import current_settings
from web.feeds_ui import bp
from web.feeds_ui.forms import SourceForm

PAGE_SIZE = 50
# Where a post opens, when the editorial area has such a page (the first endpoint that exists wins).
POST_ENDPOINTS = ("editorial.edit_post", "editorial.post_edit", "editorial.show_post", "editorial.post")


def _require_admin() -> None:
    require_role(current_user, "admin", current_user.unit)


def _require_editor() -> None:
    require_role(current_user, "editor", current_user.unit)


def _copy_errors(form: SourceForm, exc: ValidationFailed) -> None:
    for name, messages in exc.fields.items():
        field = getattr(form, name, None)
        target = field.errors if field is not None else form.form_errors
        if isinstance(target, tuple):
            target = list(target)
            if field is not None:
                field.errors = target
        target.extend(str(m) for m in messages)


# --- sources (admins) ---------------------------------------------------------------------------------------


@bp.get("/sources")
def sources():  # type: ignore[no-untyped-def]
    _require_admin()
    return render_template("feeds/sources.html", sources=list_sources(current_user))


@bp.route("/sources/new", methods=["GET", "POST"])
def new_source():  # type: ignore[no-untyped-def]
    _require_admin()
    form = SourceForm()
    if form.validate_on_submit():
        try:
            source = create_source(current_user, form.data_for_service())
        except ValidationFailed as exc:
            _copy_errors(form, exc)
        else:
            flash(_("Source “%(name)s” added.", name=source.name), "ok")
            return redirect(url_for("feeds_ui.sources"))
    status = 400 if request.method == "POST" else 200
    return render_template("feeds/source_form.html", form=form, source=None), status


@bp.route("/sources/<int:source_id>/edit", methods=["GET", "POST"])
def edit_source(source_id: int):  # type: ignore[no-untyped-def]
    source = get_source(source_id, current_user)
    require_role(current_user, "admin", source.unit)
    form = SourceForm(obj=source)
    if form.validate_on_submit():
        try:
            update_source(source, current_user, form.data_for_service())
        except ValidationFailed as exc:
            _copy_errors(form, exc)
        else:
            flash(_("Source “%(name)s” saved.", name=source.name), "ok")
            return redirect(url_for("feeds_ui.sources"))
    status = 400 if request.method == "POST" else 200
    return render_template("feeds/source_form.html", form=form, source=source), status


@bp.post("/sources/<int:source_id>/active")
def toggle_source(source_id: int):  # type: ignore[no-untyped-def]
    source = get_source(source_id, current_user)
    active = request.form.get("active") == "1"
    update_source(source, current_user, {"active": active})
    flash(_("Source “%(name)s” is active again.", name=source.name) if active
          else _("Source “%(name)s” is deactivated; it is no longer fetched.", name=source.name), "ok")
    return redirect(url_for("feeds_ui.sources"))


@bp.post("/sources/<int:source_id>/fetch")
def fetch_now(source_id: int):  # type: ignore[no-untyped-def]
    source = get_source(source_id, current_user)
    require_role(current_user, "admin", source.unit)
    from publisher.feeds.jobs import enqueue_fetch_now

    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def enqueue() -> None:
        with app.app_context():
            enqueue_fetch_now(source.id)

    after_commit(enqueue)
    flash(_("Fetching “%(name)s” now; reload this page in a moment to see the result.", name=source.name), "ok")
    return redirect(url_for("feeds_ui.sources"))


# --- the inbox (editors and up) -----------------------------------------------------------------------------


def _day_start(value: str | None, zone) -> datetime | None:  # type: ignore[no-untyped-def]
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        flash(_("Dates look like 2026-05-01."), "error")
        return None
    return datetime.combine(day, time.min, tzinfo=zone)


@bp.get("/items")
def inbox():  # type: ignore[no-untyped-def]
    _require_editor()
    zone = current_settings().zone
    source_id = request.args.get("source_id", type=int)
    since = _day_start(request.args.get("from"), zone)
    until = _day_start(request.args.get("to"), zone)
    if until is not None:
        until += timedelta(days=1)  # the "to" day is included
    undrafted = request.args.get("undrafted") == "1"
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    items, total = inbox_items(current_user, source_id=source_id, since=since, until=until, undrafted=undrafted,
                               limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("feeds/inbox.html", items=items, total=total, page=page, page_size=PAGE_SIZE,
                           sources=list_sources(current_user), source_id=source_id, args=args,
                           date_from=request.args.get("from", ""), date_to=request.args.get("to", ""),
                           undrafted=undrafted, can_admin=has_role_in(current_user, "admin", current_user.unit))


def post_url(post: Post) -> str:
    for endpoint in POST_ENDPOINTS:
        if endpoint in current_app.view_functions:
            try:
                return url_for(endpoint, post_id=post.id)
            except BuildError:
                continue
    return url_for("feeds_ui.draft_made", post_id=post.id)


@bp.post("/items/<int:item_id>/draft")
def make_draft(item_id: int):  # type: ignore[no-untyped-def]
    post, created = draft_from_item(get_item(item_id, current_user), current_user)
    if created:
        flash(_("Draft “%(title)s” made; it keeps the link to the source.", title=post.title), "ok")
    else:
        flash(_("This item already has a draft; here it is."), "ok")
    return redirect(post_url(post))


@bp.get("/items/drafts/<int:post_id>")
def draft_made(post_id: int):  # type: ignore[no-untyped-def]
    """The draft made from an item, shown until the editorial area has its own post page."""
    from publisher.content.services import get_post

    post = get_post(post_id, current_user)
    if post.source_url is None and post.source_name is None:
        abort(404)
    return render_template("feeds/draft.html", post=post)
