"""Exports of a report: CSV and XLSX of the underlying figures (every post), and the six-monthly / annual report in
Vietnamese as PDF and DOCX (``document.py`` says what it holds; ``pdf.py`` and ``docx.py`` lay it out)."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from publisher.labels import kind_label
from publisher.reports.services import Period

MEASURES = ("views", "reactions", "comments", "shares")


def measure_labels() -> dict[str, str]:
    return {"views": _("Views"), "reactions": _("Reactions"), "comments": _("Comments"), "shares": _("Shares"),
            "watch_time": _("Watch time (minutes)")}


def _detail_header() -> list[str]:
    labels = measure_labels()
    return [_("From"), _("To"), _("Unit"), _("Channel"), _("Channel kind"), _("Post id"), _("Post"), _("Campaign"),
            *[labels[m] for m in MEASURES]]


def _detail_values(period: Period, row: dict[str, Any]) -> list[Any]:
    return [period.start.isoformat(), period.end.isoformat(), row["unit"], row["channel"], kind_label(row["kind"]),
            row["post_id"], row["title"], row["campaign"], *[row[m] for m in MEASURES]]


def export_csv(period: Period, rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so spreadsheet programs read the Vietnamese right."""
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(_detail_header())
    for row in rows:
        writer.writerow(_detail_values(period, row))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def export_xlsx(period: Period, report: dict[str, Any], rows: list[dict[str, Any]],
                series: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    labels = measure_labels()
    book = Workbook()
    summary = book.active
    summary.title = _("Overview")[:31]
    summary.append([_("Engagement report"), f"{period.start.isoformat()} – {period.end.isoformat()}"])
    summary.append([])
    summary.append(["", _("This period"), _("Previous period"), _("Change")])
    previous = report.get("previous", {}).get("totals", dict.fromkeys(MEASURES, 0))
    for m in MEASURES:
        change = report.get("previous", {}).get("change", {}).get(m)
        summary.append([labels[m], report["totals"][m], previous[m], round(change, 4) if change is not None else None])

    def sheet(title: str, header: list[str], values: list[list[Any]]) -> None:
        ws = book.create_sheet(title[:31])
        ws.append(header)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for value in values:
            ws.append(value)

    measures_header = [labels[m] for m in MEASURES]
    sheet(_("By channel"), [_("Channel id"), _("Channel"), _("Channel kind"), *measures_header],
          [[c["channel_id"], c["name"], kind_label(c["kind"]), *[c["totals"][m] for m in MEASURES]]
           for c in report["by_channel"]])
    sheet(_("By post"), [_("Post id"), _("Post"), *measures_header],
          [[p["post_id"], p["title"], *[p["totals"][m] for m in MEASURES]] for p in report["by_post"]])
    if "by_unit" in report:
        sheet(_("By unit"), [_("Unit id"), _("Unit"), *measures_header],
              [[u["unit_id"], u["name"], *[u["totals"][m] for m in MEASURES]] for u in report["by_unit"]])
    sheet(_("Trend"), [_("From"), *measures_header], [[p["start"], *[p[m] for m in MEASURES]] for p in series])
    sheet(_("Details"), _detail_header(), [_detail_values(period, r) for r in rows])
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def _dates(campaign: dict[str, Any]) -> str:
    start, end = campaign.get("starts_on"), campaign.get("ends_on")
    if start and end:
        return f"{start:%d/%m/%Y} – {end:%d/%m/%Y}"
    if start:
        return _("from %(date)s", date=f"{start:%d/%m/%Y}")
    if end:
        return _("until %(date)s", date=f"{end:%d/%m/%Y}")
    return ""


def report_document(period: Period, report: dict[str, Any], series: list[dict[str, Any]], bucket: str, *,
                    unit_name: str, superior_body: str, place: str | None, campaign_name: str | None,
                    campaigns: list[dict[str, Any]], generated_at: datetime) -> Any:
    """The six-monthly / annual report document, always in Vietnamese (what the federation signs and sends)."""
    from web.reports.document import build_document

    with force_locale("vi"):
        return build_document(period, report, series, bucket, unit_name=unit_name, superior_body=superior_body,
                              place=place, campaign_name=campaign_name,
                              campaigns=[{**c, "dates": _dates(c)} for c in campaigns],
                              generated_at=generated_at, labels=measure_labels())


def export_pdf(document: Any) -> bytes:
    from web.reports.pdf import render_pdf

    return render_pdf(document)


def export_docx(document: Any) -> bytes:
    from web.reports.docx import render_docx

    return render_docx(document)
