"""The six-monthly and annual report as a document: what it says, in the form of a union's administrative
document, independent of how it is printed (``pdf.py`` and ``docx.py`` lay out the same ``ReportDocument``).

The form follows Decree 30/2020/NĐ-CP (Appendix I, administrative documents) and the Vietnam General
Confederation of Labour's rules for union documents (Quyết định 933/QĐ-TLĐ of 14 May 2024, which replaced
1014/QĐ-TLĐ of 2011; read 2026-12-02): top left the superior body (upper case, regular) over the issuing unit
(upper case, bold) with a short rule, and under them "Số: …/BC-…"; top right the national title
"CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" (upper case, bold) over "Độc lập - Tự do - Hạnh phúc" (bold, ruled below),
then the place and date in italics ("…, ngày 02 tháng 12 năm 2026": days under 10 and months under 3 with a
leading zero); the kind of document "BÁO CÁO" and its subject centred in bold; Times New Roman 13–14 pt; at the
end the recipients ("Nơi nhận") on the left and the signature block on the right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _

from publisher.reports.services import Period
from web.reports.charts import MEASURES, bars_png, kind_colour, trend_png
from web.reports.wording import compare_words

NATIONAL_TITLE = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII")


@dataclass
class Heading:
    number: str  # "I", "II", … numbered as the sections come, whichever are present
    text: str


@dataclass
class Paragraph:
    text: str


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: list[float]  # relative; the first column (a name or title) wraps, the others are figures
    numeric_from: int = 1  # columns from this one are figures, right-aligned


@dataclass
class Chart:
    """A chart as its figures; the PDF draws it as vector graphics, the DOCX as a matplotlib picture."""

    kind: str  # "trend": one small chart per measure; "bars": horizontal bars, one colour per bar
    title: str
    caption: str
    data: dict[str, Any]
    width: float = 1.0  # share of the text width

    def png(self) -> bytes:
        if self.kind == "trend":
            return trend_png(self.data["series"], self.data["bucket"], self.data["labels"], self.title,
                             tuple(self.data["measures"]))
        return bars_png(self.data["items"], self.title, self.data["colours"])


@dataclass
class ReportDocument:
    superior_body: str
    unit_name: str
    number: str
    place_date: str
    kind: str  # "BÁO CÁO"
    subject: str
    cover_lines: list[str]
    blocks: list[Any] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)
    signature: list[str] = field(default_factory=list)

    def section(self, text: str) -> None:
        """A numbered section heading; the number follows the sections already present (never a gap)."""
        count = sum(1 for block in self.blocks if isinstance(block, Heading))
        self.blocks.append(Heading(ROMAN[count] if count < len(ROMAN) else str(count + 1), text))


def place_and_date(place: str | None, day: date) -> str:
    """"Hà Nội, ngày 02 tháng 12 năm 2026" (Decree 30/2020: a leading zero for days 1–9 and months 1–2)."""
    dd = f"{day.day:02d}"
    mm = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return _("%(place)s, day %(day)s month %(month)s year %(year)s", place=place or "……", day=dd, month=mm,
             year=day.year)


def period_title(period: Period) -> str:
    """The period as a report's subject names it: "6 tháng đầu năm 2026", "năm 2026", "quý III năm 2026"."""
    months, start = period.months, period.start
    if months == 12 and start.month == 1:
        return _("the year %(year)s", year=start.year)
    if months == 6 and start.month in (1, 7):
        return (_("the first six months of %(year)s", year=start.year) if start.month == 1
                else _("the last six months of %(year)s", year=start.year))
    if months == 3 and start.month in (1, 4, 7, 10):
        return _("quarter %(quarter)s of %(year)s", quarter=ROMAN[(start.month - 1) // 3], year=start.year)
    if months == 1:
        return _("month %(month)s of %(year)s", month=start.month, year=start.year)
    return _("from %(start)s to %(end)s", start=start.strftime("%d/%m/%Y"), end=period.end.strftime("%d/%m/%Y"))


def _n(value: int) -> str:
    return format_decimal(value)


def _figure(channel: dict[str, Any], measure: str) -> str:
    state = channel.get("measure_states", {}).get(measure, "ok")
    if state == "ok":
        return _n(channel["totals"][measure])
    return _("retired") if state == "retired" else "—"


def build_document(period: Period, report: dict[str, Any], series: list[dict[str, Any]], bucket: str, *,
                   unit_name: str, superior_body: str, place: str | None, campaign_name: str | None,
                   campaigns: list[dict[str, Any]], generated_at: datetime, labels: dict[str, str]) -> ReportDocument:
    """The report in the current locale (the exports force Vietnamese)."""
    subject = _("Results of communications work in %(period)s", period=period_title(period))
    doc = ReportDocument(
        superior_body=superior_body.upper(), unit_name=unit_name.upper(), number=_("No.: ……/BC-……"),
        place_date=place_and_date(place, generated_at.date()), kind=_("REPORT"), subject=subject,
        cover_lines=[unit_name, _("Communications work report"), period_title(period).capitalize(),
                     _("From %(start)s to %(end)s", start=period.start.strftime("%d/%m/%Y"),
                       end=period.end.strftime("%d/%m/%Y")),
                     _("Drawn up on %(date)s", date=generated_at.strftime("%d/%m/%Y"))])
    if campaign_name:
        doc.cover_lines.insert(3, _("Campaign: %(name)s", name=campaign_name))
    totals = report["totals"]
    previous = report.get("previous", {}).get("totals", dict.fromkeys(MEASURES, 0))

    doc.section(_("Overall results"))
    doc.blocks.append(Paragraph(_("From %(start)s to %(end)s the unit's channels gained:",
                                  start=period.start.strftime("%d/%m/%Y"), end=period.end.strftime("%d/%m/%Y"))))
    for m in MEASURES:
        doc.blocks.append(Paragraph(f"- {labels[m]}: {_n(totals[m])} ({compare_words(totals[m], previous[m], period)})."))
    watch = report.get("watch_time") or {}
    if watch.get("total"):
        doc.blocks.append(Paragraph(f"- {labels['watch_time']}: {_n(watch['total'])} "
                                    f"({compare_words(watch['total'], watch.get('previous', 0), period)})."))
    doc.blocks.append(Table([_("Measure"), _("This period"), _("Previous period")],
                            [[labels[m], _n(totals[m]), _n(previous[m])] for m in MEASURES], [50, 25, 25]))

    doc.section(_("Trend over the period"))
    doc.blocks.append(Chart("trend", _("Engagement over time"),
                            _("Gains per %(bucket)s, each measure on its own scale.",
                              bucket={"day": _("day"), "week": _("week"), "month": _("month")}.get(bucket, bucket)),
                            {"series": series, "bucket": bucket, "labels": labels, "measures": list(MEASURES)}))

    doc.section(_("By channel"))
    doc.blocks.append(Table([_("Channel"), *[labels[m] for m in MEASURES]],
                            [[c["name"], *[_figure(c, m) for m in MEASURES]] for c in report["by_channel"]],
                            [40, 15, 15, 15, 15]))
    if report["by_channel"]:
        doc.blocks.append(Chart("bars", _("Views by channel"), _("Each channel in its kind's colour, as on the pages."),
                                {"items": [(c["name"], c["totals"]["views"]) for c in report["by_channel"]],
                                 "colours": [kind_colour(c["kind"]) for c in report["by_channel"]]}, 0.9))

    if report.get("by_unit"):
        doc.section(_("League table of the units"))
        ranked = sorted(report["by_unit"], key=lambda u: (-u["totals"]["views"], -sum(u["totals"].values()), u["name"]))
        doc.blocks.append(Table([_("Rank"), _("Unit"), *[labels[m] for m in MEASURES]],
                                [[str(i), u["name"], *[_n(u["totals"][m]) for m in MEASURES]]
                                 for i, u in enumerate(ranked, start=1)], [8, 36, 14, 14, 14, 14], numeric_from=2))

    doc.section(_("Campaigns of the period"))
    if campaigns:
        doc.blocks.append(Table([_("Campaign"), _("Dates"), *[labels[m] for m in MEASURES]],
                                [[c["name"], c["dates"], *[_n(c["totals"][m]) for m in MEASURES]] for c in campaigns],
                                [32, 20, 12, 12, 12, 12], numeric_from=2))
    else:
        doc.blocks.append(Paragraph(_("No campaign ran in this period.")))

    doc.section(_("Top posts"))
    if report["by_post"]:
        doc.blocks.append(Table([_("No."), _("Post"), *[labels[m] for m in MEASURES]],
                                [[str(i), p["title"], *[_n(p["totals"][m]) for m in MEASURES]]
                                 for i, p in enumerate(report["by_post"][:10], start=1)],
                                [7, 45, 12, 12, 12, 12], numeric_from=2))
    else:
        doc.blocks.append(Paragraph(_("Nothing in this period.")))

    doc.blocks.append(Paragraph(_("Engagement gained in the period: the figure at the end of the last day minus the "
                                  "figure before the first day, per post and channel. Generated by Loa on %(at)s.",
                                  at=generated_at.strftime("%d/%m/%Y %H:%M"))))
    doc.recipients = [_("Recipients:"), f"- {superior_body};", _("- Filed: Office.")]
    doc.signature = [_("ON BEHALF OF THE STANDING COMMITTEE"), _("(Signature, full name and seal)")]
    return doc
