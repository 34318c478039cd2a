"""Posts: the list, the compose page (with autosave and stale-save handling), review, revisions and history."""

from __future__ import annotations

import re
from typing import Any

from flask import abort, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from publisher.accounts.services import units_visible_to, visible_filter
from publisher.audit import AuditEntry
from publisher.channels.base import descriptions
from publisher.content import queries
from publisher.content import services as content
from publisher.content.models import MediaItem, Post, PostRevision
from publisher.content.revisions import revision_changes
from publisher.content.variants import channel_media
from publisher.db import db
from publisher.errors import ValidationFailed
from web import current_settings
from web.api.serializers import media_json
from web.editorial import bp
from web.editorial.helpers import field_errors, int_or_none, require

_MEDIA_IN_BODY = re.compile(r'data-media-id="(\d+)"')
_TAGS = re.compile(r"<[^>]+>")


def compose_fields(kind: str) -> tuple[Any, ...]:
    """The variant fields a kind's compose tab draws as inputs (its description's; media have their chooser)."""
    return tuple(f for f in descriptions()[kind].variant if f.compose and f.type != "media")


def limits() -> dict[str, int]:
    """``{"<kind>.<field>": limit}`` of every kind's platform limits (the compose counters)."""
    return {key: n for d in descriptions().values() for key, n in d.limits().items()}


# --- form <-> service data ----------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,\n]", value or "") if part.strip()]


def post_data(form: Any, *, creating: bool) -> dict[str, Any]:
    """The service's data from the compose form (an HTML form or the autosave JSON with the same names)."""

    def text(name: str) -> str:
        value = form.get(name, "")
        return value if isinstance(value, str) else str(value or "")

    data: dict[str, Any] = {name: text(name) for name in ("title", "summary", "body_html", "category", "locality")}
    if text("byline").strip():
        data["byline"] = text("byline")
    slug = text("slug").strip()
    if slug or not creating:
        if slug:
            data["slug"] = slug
    data["tags"] = _split(text("tags"))
    data["campaign_id"] = int_or_none(form.get("campaign_id"))
    data["cover_media_id"] = int_or_none(form.get("cover_media_id"))
    media_ids = [int(m) for m in _MEDIA_IN_BODY.findall(data["body_html"])]
    media_ids += [int(m) for m in _split(text("media_ids")) if m.isdigit()]
    data["media_ids"] = list(dict.fromkeys(media_ids))
    variants: dict[str, Any] = {}
    for kind in descriptions():
        values: dict[str, Any] = {}
        for spec in compose_fields(kind):
            raw = text(f"variants.{kind}.{spec.name}").strip()
            values[spec.name] = _split(raw) if spec.type == "tags" else raw
        # The media this channel's tab chose (a hidden field the page keeps; absent: the channel gets everything).
        chosen = ([int(m) for m in _split(text(f"variants.{kind}.media_ids")) if m.isdigit()]
                  if f"variants.{kind}.media_ids" in form else None)
        written = {k: v for k, v in values.items() if v and descriptions()[kind].variant_field(k).type != "choice"}
        if not written and (chosen is None or not descriptions()[kind].media.media_without_text):
            variants[kind] = None
            continue
        kept: dict[str, Any] = dict(written)
        if written:  # a choice (a video's visibility) is kept with what was written, its default when left empty
            for spec in compose_fields(kind):
                if spec.type == "choice":
                    kept[spec.name] = values[spec.name] or spec.default
                elif spec.type == "tags":
                    kept.setdefault(spec.name, [])
        if chosen is not None:
            kept["media_ids"] = chosen
        variants[kind] = kept or None
    data["variants"] = variants
    return data


def post_values(post: Post | None) -> dict[str, str]:
    """The compose form's fields as the post holds them now."""
    if post is None:
        return _variant_defaults({})
    values = {
        "title": post.title, "slug": post.slug, "summary": post.summary, "body_html": post.body_html,
        "byline": post.byline, "category": post.category, "locality": post.locality,
        "tags": ", ".join(post.tags or []), "campaign_id": str(post.campaign_id or ""),
        "cover_media_id": str(post.cover_media_id or ""), "version": str(post.version),
        "media_ids": ", ".join(str(link.media_id) for link in post.media_links),
    }
    attached = [link.media_id for link in post.media_links]
    for kind in descriptions():
        data = post.variant(kind)
        for name in (f.name for f in compose_fields(kind)):
            value = data.get(name, "")
            values[f"variants.{kind}.{name}"] = ", ".join(value) if isinstance(value, list) else str(value or "")
        chosen = data.get("media_ids")
        values[f"variants.{kind}.media_ids"] = ", ".join(str(i) for i in (chosen if isinstance(chosen, list)
                                                                          else attached))
    return _variant_defaults(values)


def _variant_defaults(values: dict[str, str]) -> dict[str, str]:
    """An empty variant field that has a default (a video's visibility) shows it."""
    for kind in descriptions():
        for spec in compose_fields(kind):
            if spec.default is not None and not values.get(f"variants.{kind}.{spec.name}"):
                values[f"variants.{kind}.{spec.name}"] = str(spec.default)
    return values


def _form_values(form: Any) -> dict[str, str]:
    return {key: (value if isinstance(value, str) else str(value)) for key, value in form.items()
            if key != "csrf_token"}


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", _TAGS.sub(" ", html or "")).strip()


def _conflict_rows(mine: dict[str, str], theirs: dict[str, str]) -> list[dict[str, str]]:
    """The fields where the submitted edit and the saved post differ, for the side-by-side view."""
    rows = []
    for key in sorted(set(mine) | set(theirs)):
        if key in ("version", "csrf_token", "action"):
            continue
        a, b = mine.get(key, ""), theirs.get(key, "")
        if key == "body_html":
            a, b = _plain(a), _plain(b)
        if a.strip() != b.strip():
            rows.append({"field": key, "mine": a, "theirs": b})
    return rows


def field_labels() -> dict[str, str]:
    return {
        "title": _("Title"), "slug": _("Address (slug)"), "summary": _("Summary"), "body_html": _("Text"),
        "byline": _("Byline"), "category": _("Category"), "locality": _("Locality"), "tags": _("Tags"),
        "campaign_id": _("Campaign"), "cover_media_id": _("Cover image"), "media_ids": _("Media"),
        "version": _("Version"),
        **{f"variants.{kind}.{f.name}": str(f.label) for kind, d in descriptions().items() for f in d.variant
           if f.label},
    }


def field_ids() -> dict[str, str]:
    return {"title": "title", "slug": "slug", "summary": "summary", "body_html": "body_html", "byline": "byline",
            "category": "category", "locality": "locality", "tags": "tags", "campaign_id": "campaign_id",
            **{f"variants.{kind}.{f.name}": f"v-{kind}-{f.name}" for kind in descriptions()
               for f in compose_fields(kind)}}


def _compose_context(post: Post | None, values: dict[str, str], errors: dict[str, list[str]], **extra: Any):
    return dict(
        field_labels=field_labels(), field_ids=field_ids(),
        post=post, values=values, errors=errors,
        campaigns=queries.visible_campaigns(current_user),
        limits=limits(), channel_kinds=descriptions(),
        compose_fields={kind: compose_fields(kind) for kind in descriptions()},
        media_lookup={m.id: m for m in (post.media if post else [])},
        attached_media=[media_json(m) for m in _attached(post, values)],
        **extra,
    )


def _attached(post: Post | None, values: dict[str, str]) -> list[MediaItem]:
    """The media the form's ``media_ids`` names (after a refused save, some may not be attached yet)."""
    ids = [int(m) for m in _split(values.get("media_ids", "")) if m.isdigit()]
    known = {m.id: m for m in (post.media if post else [])}
    missing = [i for i in ids if i not in known]
    if missing:
        known.update({m.id: m for m in queries.media_items_visible(current_user, missing)})
    return [known[i] for i in ids if i in known]


def _load(post_id: int) -> Post:
    post = queries.load_post_for_edit(post_id)
    if post is None:
        abort(404)
    return content.get_post(post.id, current_user)


# --- list --------------------------------------------------------------------------------------------------


@bp.get("/posts")
def post_list():  # type: ignore[no-untyped-def]
    filters = queries.PostFilters.from_args(request.args)
    page = queries.list_posts(current_user, filters, current_settings().zone)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "editorial/posts/list.html", page=page, filters=filters, args=args,
        campaigns=queries.visible_campaigns(current_user), authors=queries.visible_authors(current_user),
        units=units_visible_to(current_user),
    )


# --- compose -----------------------------------------------------------------------------------------------


@bp.route("/posts/new", methods=["GET", "POST"])
def post_new():  # type: ignore[no-untyped-def]
    require("editor")
    if request.method == "GET":
        return render_template("editorial/posts/compose.html", **_compose_context(None, post_values(None), {}))
    values = _form_values(request.form)
    try:
        post = content.create_post(current_user, post_data(request.form, creating=True))
    except ValidationFailed as exc:
        flash(_("Some fields need attention; nothing was saved yet."), "error")
        return render_template("editorial/posts/compose.html",
                               **_compose_context(None, values, field_errors(exc))), 422
    if request.form.get("action") == "submit":
        content.submit_post(post, current_user)
        flash(_("Sent for review."), "info")
        return redirect(url_for("editorial.post_show", post_id=post.id))
    flash(_("Draft saved."), "info")
    return redirect(url_for("editorial.post_edit", post_id=post.id))


@bp.route("/posts/<int:post_id>/edit", methods=["GET", "POST"])
def post_edit(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("editor")
    if not content.can_edit(current_user, post):
        abort(403)
    if request.method == "GET":
        return render_template("editorial/posts/compose.html", **_compose_context(post, post_values(post), {}))
    values = _form_values(request.form)
    version = int_or_none(request.form.get("version"))
    try:
        content.update_post(post, current_user, post_data(request.form, creating=False), version)
    except content.StaleEdit:
        theirs = post_values(post)
        values["version"] = str(post.version)  # saving again means "keep mine" on top of their version
        flash(_("Someone else saved this post meanwhile. Nothing was overwritten: compare both versions below, "
                "then save again to keep yours."), "error")
        return render_template("editorial/posts/compose.html",
                               **_compose_context(post, values, {}, conflict=_conflict_rows(values, theirs),
                                                  theirs=theirs)), 409
    except ValidationFailed as exc:
        flash(_("Some fields need attention; nothing was saved yet."), "error")
        return render_template("editorial/posts/compose.html",
                               **_compose_context(post, values, field_errors(exc))), 422
    if request.form.get("action") == "submit" and post.state == "draft":
        content.submit_post(post, current_user)
        flash(_("Sent for review."), "info")
        return redirect(url_for("editorial.post_show", post_id=post.id))
    flash(_("Saved (version %(v)s).", v=post.version), "info")
    return redirect(url_for("editorial.post_edit", post_id=post.id))


def _autosave_answer(post: Post, status: int = 200):  # type: ignore[no-untyped-def]
    return jsonify({"id": post.id, "version": post.version, "slug": post.slug, "state": post.state,
                    "edit_url": url_for("editorial.post_edit", post_id=post.id),
                    "autosave_url": url_for("editorial.post_autosave", post_id=post.id)}), status


def _json_form() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        abort(400)
    return data


@bp.post("/posts/autosave")
def post_autosave_new():  # type: ignore[no-untyped-def]
    """The first autosave of a new post creates the draft (once it has a title)."""
    require("editor")
    data = _json_form()
    try:
        post = content.create_post(current_user, post_data(data, creating=True))
    except ValidationFailed as exc:
        return jsonify({"error": {"code": "validation_failed", "message": str(exc.message),
                                  "fields": field_errors(exc)}}), 422
    return _autosave_answer(post, 201)


@bp.post("/posts/<int:post_id>/autosave")
def post_autosave(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("editor")
    data = _json_form()
    try:
        content.update_post(post, current_user, post_data(data, creating=False), int_or_none(data.get("version")))
    except content.StaleEdit as exc:
        return jsonify({"error": {"code": "stale_version", "message": str(exc.message)},
                        "current": post_values(post),
                        "conflict": _conflict_rows(_form_values(data), post_values(post))}), 409
    except ValidationFailed as exc:
        return jsonify({"error": {"code": "validation_failed", "message": str(exc.message),
                                  "fields": field_errors(exc)}}), 422
    return _autosave_answer(post)


# --- one post, review --------------------------------------------------------------------------------------


@bp.get("/posts/<int:post_id>")
def post_show(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    history = list(db.session.scalars(
        select(AuditEntry).where(AuditEntry.object_type == "posts", AuditEntry.object_id == post.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(30)
    ))
    users = {u.id: u for u in queries.users_by_id({e.user_id for e in history if e.user_id})}
    return render_template("editorial/posts/show.html", post=post, history=history, users=users,
                           field_labels=field_labels(), channel_media=_channel_media_of(post),
                           media_warnings=_media_warnings(post),
                           can_edit=content.can_edit(current_user, post),
                           can_review=current_user.has_role("approver") and post.state == "in_review")


@bp.post("/posts/<int:post_id>/media/<int:media_id>/remove")
def post_media_remove(post_id: int, media_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("editor")
    if not content.can_edit(current_user, post):
        abort(403)
    try:
        content.detach_media(post, current_user, media_id, int_or_none(request.form.get("version")))
    except content.StaleEdit:
        flash(_("Someone else saved this post meanwhile; look at it again and remove the file then."), "error")
    else:
        flash(_("Removed from the post (the file stays in the media library)."), "info")
    return redirect(url_for("editorial.post_show", post_id=post.id) + "#post-media")


def _media_warnings(post: Post) -> list[str]:
    """What a channel would refuse in the media its tab chose, said on the post page before anyone schedules."""
    warnings = []
    for kind, description in descriptions().items():
        rules = description.media
        chosen = channel_media(post, kind)
        videos = sum(m.kind == "video" for m in chosen)
        if not rules.mix and videos and len(chosen) > videos:
            warnings.append(str(rules.mix_message))
        if rules.max_videos is not None and videos > rules.max_videos:
            warnings.append(str(rules.videos_message))
    return [w for w in warnings if w]


def _channel_media_of(post: Post) -> dict[int, list[str]]:
    """media id -> the channel kinds that get it (their tab's choice, or everything without one)."""
    out: dict[int, list[str]] = {m.id: [] for m in post.media}
    for kind in descriptions():
        for item in channel_media(post, kind):
            out[item.id].append(kind)
    return out


@bp.post("/posts/<int:post_id>/submit")
def post_submit(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("editor")
    content.submit_post(post, current_user)
    flash(_("Sent for review."), "info")
    return redirect(url_for("editorial.post_show", post_id=post.id))


@bp.post("/posts/<int:post_id>/approve")
def post_approve(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("approver")
    content.approve_post(post, current_user)
    flash(_("Approved: “%(title)s”.", title=post.title), "info")
    # The next step is choosing where and when it goes out: the approver is offered the post's schedule form.
    flash(_("Choose the channels and the time to publish it, or come back to it later."), "info")
    return redirect(url_for("schedule_ui.schedule", post_id=post.id))


@bp.post("/posts/<int:post_id>/reject")
def post_reject(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("approver")
    try:
        content.reject_post(post, current_user, request.form.get("reason", ""))
    except ValidationFailed as exc:
        history: list[AuditEntry] = []
        return render_template("editorial/posts/show.html", post=post, history=history, users={},
                               field_labels=field_labels(), channel_media=_channel_media_of(post),
                               media_warnings=_media_warnings(post),
                               can_edit=content.can_edit(current_user, post), can_review=True,
                               errors=field_errors(exc), reason=request.form.get("reason", "")), 422
    flash(_("Sent back to the author."), "info")
    return redirect(url_for("editorial.review_queue"))


@bp.get("/review")
def review_queue():  # type: ignore[no-untyped-def]
    require("approver")
    return render_template("editorial/posts/review.html", posts=queries.review_queue(current_user))


# --- revisions ---------------------------------------------------------------------------------------------


@bp.get("/posts/<int:post_id>/revisions")
def post_revisions(post_id: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    revs = list(db.session.scalars(
        select(PostRevision).where(PostRevision.post_id == post.id).options(joinedload(PostRevision.saved_by))
        .order_by(PostRevision.version.desc())
    ))
    by_version = {r.version: r for r in revs}
    new_v = int_or_none(request.args.get("b")) or post.version
    old_v = int_or_none(request.args.get("a")) or max(new_v - 1, 1)
    diff = None
    if old_v in by_version and new_v in by_version:
        diff = revision_changes(by_version[old_v].snapshot, by_version[new_v].snapshot)
    return render_template("editorial/posts/revisions.html", post=post, revisions=revs, diff=diff, old_v=old_v,
                           new_v=new_v, can_edit=content.can_edit(current_user, post))


@bp.post("/posts/<int:post_id>/revisions/<int:version>/restore")
def post_restore(post_id: int, version: int):  # type: ignore[no-untyped-def]
    post = _load(post_id)
    require("editor")
    try:
        content.restore_revision(post, current_user, version, int_or_none(request.form.get("version")))
    except content.StaleEdit:
        flash(_("Someone else saved this post meanwhile; look at the latest version and restore again."), "error")
        return redirect(url_for("editorial.post_revisions", post_id=post.id))
    flash(_("Version %(old)s restored as version %(new)s.", old=version, new=post.version), "info")
    return redirect(url_for("editorial.post_edit", post_id=post.id))


# --- audit log ---------------------------------------------------------------------------------------------


@bp.get("/audit")
def audit_log():  # type: ignore[no-untyped-def]
    require("approver")
    page = int_or_none(request.args.get("page")) or 1
    per_page = 50
    query = select(AuditEntry).where(visible_filter(current_user, AuditEntry.unit_id))
    action = (request.args.get("action") or "").strip()
    if action:
        query = query.where(AuditEntry.action.startswith(action[:60]))
    entries = list(db.session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
                                      .limit(per_page + 1).offset((page - 1) * per_page)))
    has_next = len(entries) > per_page
    entries = entries[:per_page]
    users = {u.id: u for u in queries.users_by_id({e.user_id for e in entries if e.user_id})}
    return render_template("editorial/audit.html", entries=entries, users=users, page=page, has_next=has_next,
                           action=action)
