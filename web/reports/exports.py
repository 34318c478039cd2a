"""Exports of a report: CSV and XLSX of the underlying figures, and a printable PDF report in Vietnamese with
its charts (fpdf2 with the DejaVu fonts bundled in matplotlib, which cover Vietnamese)."""

from __future__ import annotations

import csv
import io
import os
from datetime import date, datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from publisher.reports.services import Period

MEASURES = ("views", "reactions", "comments", "shares")


def measure_labels() -> dict[str, str]:
    return {"views": _("Views"), "reactions": _("Reactions"), "comments": _("Comments"), "shares": _("Shares")}


def _detail_header() -> list[str]:
    labels = measure_labels()
    return [_("From"), _("To"), _("Unit"), _("Channel"), _("Channel kind"), _("Post id"), _("Post"), _("Campaign"),
            *[labels[m] for m in MEASURES]]


def _detail_values(period: Period, row: dict[str, Any]) -> list[Any]:
    return [period.start.isoformat(), period.end.isoformat(), row["unit"], row["channel"], row["kind"],
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
          [[c["channel_id"], c["name"], c["kind"], *[c["totals"][m] for m in MEASURES]] for c in report["by_channel"]])
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


def _fonts() -> tuple[str, str]:
    import matplotlib

    folder = os.path.join(matplotlib.get_data_path(), "fonts", "ttf")
    return os.path.join(folder, "DejaVuSans.ttf"), os.path.join(folder, "DejaVuSans-Bold.ttf")


def _number(value: int) -> str:
    return f"{value:,}".replace(",", ".")


def _percent(change: float | None) -> str:
    if change is None:
        return "—"
    return f"{change * 100:+.1f} %".replace(".", ",")


def _dmy(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def export_pdf(period: Period, report: dict[str, Any], series: list[dict[str, Any]], bucket: str, unit_name: str,
               campaign_name: str | None, generated_at: datetime) -> bytes:
    """The printable report, always in Vietnamese (the federation's six-monthly and annual reports)."""
    from fpdf import FPDF

    from web.reports.charts import bars_png, trend_png

    with force_locale("vi"):
        labels = measure_labels()
        regular, bold = _fonts()
        pdf = FPDF(format="A4")
        pdf.set_auto_page_break(auto=True, margin=15)
        pdf.add_font("DejaVu", "", regular)
        pdf.add_font("DejaVu", "B", bold)
        pdf.set_title(_("Communications work report"))
        pdf.add_page()
        pdf.set_font("DejaVu", "B", 16)
        pdf.multi_cell(0, 9, _("Communications work report"), new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.set_font("DejaVu", "", 11)
        pdf.multi_cell(0, 6, unit_name, new_x="LMARGIN", new_y="NEXT", align="C")
        pdf.multi_cell(0, 6, _("From %(start)s to %(end)s", start=_dmy(period.start), end=_dmy(period.end)),
                       new_x="LMARGIN", new_y="NEXT", align="C")
        if campaign_name:
            pdf.multi_cell(0, 6, _("Campaign: %(name)s", name=campaign_name), new_x="LMARGIN", new_y="NEXT",
                           align="C")
        pdf.ln(4)

        def heading(text: str) -> None:
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 12)
            pdf.multi_cell(0, 7, text, new_x="LMARGIN", new_y="NEXT")
            pdf.set_font("DejaVu", "", 9)

        def table(header: list[str], rows: list[list[str]], widths: list[int]) -> None:
            pdf.set_font("DejaVu", "B", 9)
            for text, width in zip(header, widths, strict=True):
                pdf.cell(width, 7, text, border=1, align="C")
            pdf.ln()
            pdf.set_font("DejaVu", "", 9)
            for row in rows:
                for index, (text, width) in enumerate(zip(row, widths, strict=True)):
                    limit = max(4, int(width / 1.9))
                    text = text if len(text) <= limit else text[:limit - 1] + "…"
                    pdf.cell(width, 6, text, border=1, align="L" if index == 0 else "R")
                pdf.ln()

        heading(_("1. Overall results"))
        previous = report.get("previous", {})
        table([_("Measure"), _("This period"), _("Previous period"), _("Change")],
              [[labels[m], _number(report["totals"][m]), _number(previous.get("totals", {}).get(m, 0)),
                _percent(previous.get("change", {}).get(m))] for m in MEASURES], [55, 45, 45, 35])

        heading(_("2. By channel"))
        table([_("Channel"), *[labels[m] for m in MEASURES]],
              [[c["name"], *[_number(c["totals"][m]) if c.get("measure_states", {}).get(m, "ok") == "ok" else
                             (_("retired") if c["measure_states"][m] == "retired" else "—") for m in MEASURES]]
               for c in report["by_channel"]], [70, 30, 30, 25, 25])

        if report.get("by_unit"):
            heading(_("3. By unit"))
            table([_("Unit"), *[labels[m] for m in MEASURES]],
                  [[u["name"], *[_number(u["totals"][m]) for m in MEASURES]] for u in report["by_unit"]],
                  [70, 30, 30, 25, 25])

        heading(_("Top posts"))
        table([_("Post"), *[labels[m] for m in MEASURES]],
              [[p["title"], *[_number(p["totals"][m]) for m in MEASURES]] for p in report["by_post"][:10]],
              [70, 30, 30, 25, 25])

        heading(_("Trend over the period"))
        chart = trend_png(series, bucket, labels, _("Engagement over time"))
        pdf.image(io.BytesIO(chart), w=180)
        if report["by_channel"]:
            bars = bars_png([(c["name"], c["totals"]["views"]) for c in report["by_channel"]], _("Views by channel"))
            pdf.image(io.BytesIO(bars), w=170)
        pdf.ln(3)
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(0, 5, _("Engagement gained in the period: the figure at the end of the last day minus the "
                               "figure before the first day, per post and channel. Generated by Loa on %(at)s.",
                               at=generated_at.strftime("%d/%m/%Y %H:%M")), new_x="LMARGIN", new_y="NEXT")
        return bytes(pdf.output())
