from __future__ import annotations

from datetime import UTC, datetime

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from publisher.errors import DomainError, ValidationFailed
from publisher.privacy import services
from web import current_settings
from web.privacy_ui import bp


@bp.before_request
def _admins_only():  # type: ignore[no-untyped-def]
    if current_user.is_authenticated and not current_user.has_role("admin"):
        abort(403)


@bp.get("/")
def index():  # type: ignore[no-untyped-def]
    query = request.args.get("q", "")
    found, problem = None, None
    if query.strip():
        try:
            found = services.find_person(current_user, query)
        except ValidationFailed as exc:
            problem = " ".join(str(m) for messages in exc.fields.values() for m in messages)
    return render_template("privacy/index.html", query=query, found=found, problem=problem,
                           periods=services.retention_periods(current_settings()))


@bp.post("/export")
def export():  # type: ignore[no-untyped-def]
    query = request.form.get("q", "")
    document = services.export_person(current_user, query)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M")
    response = Response(services.export_json(document), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="du-lieu-ca-nhan-{stamp}.json"'
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/erase")
def erase():  # type: ignore[no-untyped-def]
    query = request.form.get("q", "")
    if request.form.get("confirm") != "yes":
        flash(_("Tick the box to confirm the erasure; nothing was erased."), "error")
        return redirect(url_for("privacy_ui.index", q=query))
    try:
        result = services.erase_person(current_user, query, reference=request.form.get("reference", ""))
    except DomainError as exc:
        flash(str(exc.message), "error")
        return redirect(url_for("privacy_ui.index", q=query))
    flash(_("Erased: %(comments)s comments, %(platform)s platform comments, %(accounts)s accounts, "
            "%(signins)s sign-in records; %(audit)s audit entries no longer name the person.",
            comments=result.reader_comments, platform=result.platform_comments, accounts=result.accounts,
            signins=result.sign_in_failures, audit=result.audit_entries_scrubbed), "success")
    return redirect(url_for("privacy_ui.index"))
