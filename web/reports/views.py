from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from publisher.accounts.services import units_visible_to, visible_filter
from publisher.channels.base import ChannelError
from publisher.content.models import Campaign
from publisher.content.services import get_campaign
from publisher.db import db, utcnow
from publisher.engagement.services import answer_comment, get_comment
from publisher.errors import ValidationFailed
from publisher.hierarchy.services import campaign_league
from publisher.reports.services import (
    DASHBOARD_TOP_POSTS,
    Period,
    Scope,
    campaign_posts_report,
    dashboard_report,
    detail_rows,
    engagement_report,
    parse_flag,
    parse_id,
    parse_period,
    period_campaigns,
    preset_period,
    resolve_scope,
    trend,
)
from web import current_settings
from web.reports import bp
from web.reports.charts import bars_png, chart_data, trend_png
from web.reports.exports import export_csv, export_docx, export_pdf, export_xlsx, measure_labels, report_document
from web.reports.wording import age_words, compare_words

BUCKETS = ("auto", "day", "week", "month")


def preset_labels() -> dict[str, str]:
    return {"month": _("This month"), "previous_month": _("Last month"), "quarter": _("This quarter"),
            "previous_quarter": _("Last quarter"), "half": _("These six months"),
            "previous_half": _("The previous six months"), "year": _("This year"), "previous_year": _("Last year"),
            "custom": _("Dates below")}


def _today() -> Any:
    return utcnow().astimezone(current_settings().zone).date()


def _report_request() -> tuple[Period, Scope, str, str]:
    """Period, scope, preset and trend bucket from the query string; ValidationFailed names bad fields."""
    args = request.args
    preset = args.get("period") or ("custom" if args.get("from") or args.get("to") else "month")
    if preset == "custom":
        period = parse_period(args.get("from"), args.get("to"))
    else:
        period = preset_period(preset, _today())
    bucket = args.get("bucket") or "auto"
    if bucket not in BUCKETS:
        raise ValidationFailed({"bucket": _("Unknown grouping.")})
    scope = resolve_scope(current_user, unit_id=parse_id(args.get("unit_id"), "unit_id"),
                          include_sub_units=parse_flag(args.get("include_sub_units"), "include_sub_units"),
                          campaign_id=parse_id(args.get("campaign_id"), "campaign_id"))
    return period, scope, preset, bucket


def _query(period: Period, scope: Scope, bucket: str) -> dict[str, Any]:
    """The query string that reproduces this report (for charts and exports)."""
    query: dict[str, Any] = {"from": period.start.isoformat(), "to": period.end.isoformat(), "unit_id": scope.unit.id}
    if scope.include_sub_units:
        query["include_sub_units"] = "true"
    if scope.campaign is not None:
        query["campaign_id"] = scope.campaign.id
    if bucket != "auto":
        query["bucket"] = bucket
    return query



def _choices() -> dict[str, Any]:
    units = units_visible_to(current_user)
    campaigns = db.session.scalars(select(Campaign).where(visible_filter(current_user, Campaign.unit_id))
                                   .order_by(Campaign.id.desc())).all()
    return {"units": units, "campaigns": campaigns, "presets": preset_labels(), "buckets": BUCKETS}


@bp.get("/")
def dashboard():  # type: ignore[no-untyped-def]
    try:
        period, scope, preset, bucket = _report_request()
    except ValidationFailed as exc:
        return render_template("reports/dashboard.html", report=None, errors=exc.fields, args=request.args,
                               labels=measure_labels(), **_choices()), 422
    settings = current_settings()
    report, freshness = dashboard_report(scope, period, settings, bucket)
    labels = measure_labels()
    return render_template("reports/dashboard.html", report=report, period=period, scope=scope, preset=preset,
                           bucket=bucket, errors={}, args=request.args,
                           freshness=freshness, query=_query(period, scope, bucket),
                           labels=labels, charts=chart_data(report, labels), now=utcnow(), **_choices())


@bp.get("/chart/<name>.png")
def chart(name: str):  # type: ignore[no-untyped-def]
    try:
        period, scope, _preset, bucket = _report_request()
    except ValidationFailed:
        return Response(status=422)
    labels = measure_labels()
    if name == "trend":
        bucket_used, series = trend(scope, period, bucket)
        png = trend_png(series, bucket_used, labels, _("Engagement over time"))
    elif name in ("channels", "units", "campaigns"):
        report = engagement_report(scope, period, current_settings(), with_previous=False, top_posts=0)
        if name == "channels":
            items = [(c["name"], c["totals"]["views"]) for c in report["by_channel"]]
            title = _("Views by channel")
        elif name == "units":
            items = sorted(((u["name"], u["totals"]["views"]) for u in report.get("by_unit", [])),
                           key=lambda item: -item[1])
            title = _("Views by unit")
        else:
            items = [(c["name"] or _("No campaign"), c["totals"]["views"]) for c in report["by_campaign"]]
            title = _("Views by campaign")
        png = bars_png(items, title)
    else:
        return Response(status=404)
    response = Response(png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def _export_name(period: Period, extension: str) -> str:
    return f"bao-cao-tuong-tac-{period.start.isoformat()}-{period.end.isoformat()}.{extension}"


def _attachment(data: bytes, mimetype: str, filename: str) -> Response:
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export.<fmt>")
def export(fmt: str):  # type: ignore[no-untyped-def]
    if fmt not in ("csv", "xlsx", "pdf", "docx"):
        return Response(status=404)
    try:
        period, scope, _preset, bucket = _report_request()
    except ValidationFailed as exc:
        flash("; ".join(str(m) for messages in exc.fields.values() for m in messages), "error")
        return redirect(url_for("reports.dashboard"))
    if fmt == "csv":
        return _attachment(export_csv(period, detail_rows(scope, period)), "text/csv; charset=utf-8",
                           _export_name(period, "csv"))
    settings = current_settings()
    report = engagement_report(scope, period, settings, trend_bucket=bucket,
                               top_posts=None if fmt == "xlsx" else DASHBOARD_TOP_POSTS)  # the spreadsheet: every post
    bucket_used, series = report["trend"]["bucket"], report.pop("trend")["series"]
    if fmt == "xlsx":
        data = export_xlsx(period, report, detail_rows(scope, period), series)
        return _attachment(data, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                           _export_name(period, "xlsx"))
    parent = scope.unit.parent
    document = report_document(period, report, series, bucket_used, unit_name=scope.unit.name,
                               superior_body=parent.name if parent else settings.report_superior_body,
                               place=settings.report_place, campaign_name=scope.campaign.name if scope.campaign else None,
                               campaigns=period_campaigns(scope, period, report["by_campaign"]),
                               generated_at=datetime.now(settings.zone))
    if fmt == "docx":
        return _attachment(export_docx(document),
                           "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                           _export_name(period, "docx"))
    return _attachment(export_pdf(document), "application/pdf", _export_name(period, "pdf"))


@bp.get("/campaigns/<int:campaign_id>")
def campaign_report(campaign_id: int):  # type: ignore[no-untyped-def]
    campaign = get_campaign(campaign_id, current_user)
    scope = resolve_scope(current_user, include_sub_units=True, campaign_id=campaign.id)
    posts = campaign_posts_report(scope)
    league = campaign_league(campaign, current_user)
    return render_template("reports/campaign.html", campaign=campaign, posts=posts, labels=measure_labels(),
                           now=utcnow(), league=league)


@bp.get("/comments")
def comments():  # type: ignore[no-untyped-def]
    """The platforms' comments moved into the one comments inbox (issue #14); old links land there."""
    args: dict[str, Any] = {k: v for k, v in request.args.items() if k in ("post_id", "campaign_id") and v}
    if request.args.get("channel_id"):
        args["channel"] = request.args["channel_id"]
    if args.get("post_id") or args.get("campaign_id"):
        args["state"] = "all"
    return redirect(url_for("moderation.inbox", **args), code=301)


@bp.post("/comments/<int:comment_id>/answer")
def answer(comment_id: int):  # type: ignore[no-untyped-def]
    comment = get_comment(comment_id, current_user)
    back = request.form.get("back") or ""
    target = back if back.startswith("/admin/comments/") else url_for("moderation.inbox")
    try:
        answer_comment(comment, current_user, request.form.get("message", ""), current_settings())
    except ValidationFailed as exc:
        flash("; ".join(str(m) for messages in exc.fields.values() for m in messages), "error")
        return redirect(target)
    except ChannelError as exc:
        db.session.rollback()
        flash(_("The platform did not take the answer; nothing was sent. (%(reason)s)", reason=exc.message), "error")
        return redirect(target)
    flash(_("Your answer was posted."), "success")
    return redirect(target)


@bp.app_template_filter("change")
def _change(value: float | None) -> str:
    """A relative change in the user's locale (+12 %), or a dash when there was nothing to compare with."""
    from flask_babel import format_percent

    if value is None:
        return "—"
    text = format_percent(value, "#,##0.0 %")
    return text if value < 0 else "+" + text


@bp.app_template_global("compare")
def _compare(current: int, previous: int, period: Period) -> str:
    return compare_words(current, previous, period)


@bp.app_template_filter("age")
def _age(moment: datetime | None) -> str:
    return age_words(moment, utcnow())
