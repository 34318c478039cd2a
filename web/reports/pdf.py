"""The report document as a PDF (reportlab): a cover, then the administrative document. Liberation Serif
(vendored under ``fonts/``, metric-compatible with Times New Roman, covers Vietnamese) at 13 pt; tables at 11 pt
whose cells wrap (a long title is printed whole, over as many lines as it needs) and whose header repeats on
every page; charts drawn as vector graphics from the same figures as the page's charts. A4 with the margins of
Decree 30/2020 (top and bottom 20 mm, left 30 mm, right 15 mm).

Why reportlab and not fpdf2 (used before): fpdf2 parses and subsets each TrueType font anew for every
document (about 250 ms for the three styles, most of the PDF's time beside the matplotlib charts); reportlab
registers them once per process, and vector charts need no matplotlib at all.
"""

from __future__ import annotations

import io
import math
from functools import lru_cache
from typing import Any
from xml.sax.saxutils import escape

from web.reports.charts import COLOURS, FONT_DIR, bucket_label
from web.reports.document import MOTTO, NATIONAL_TITLE, Chart, Heading, Paragraph, ReportDocument, Table

FONT = "LiberationSerif"
BODY, SMALL = 13, 11


@lru_cache(maxsize=1)
def _register_fonts() -> None:
    from reportlab.lib.fonts import addMapping
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    for name, file in ((FONT, "Regular"), (f"{FONT}-Bold", "Bold"), (f"{FONT}-Italic", "Italic")):
        pdfmetrics.registerFont(TTFont(name, str(FONT_DIR / f"LiberationSerif-{file}.ttf")))
    addMapping(FONT, 0, 0, FONT)
    addMapping(FONT, 1, 0, f"{FONT}-Bold")
    addMapping(FONT, 0, 1, f"{FONT}-Italic")
    addMapping(FONT, 1, 1, f"{FONT}-Bold")


@lru_cache(maxsize=1)
def _styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    body = ParagraphStyle("body", fontName=FONT, fontSize=BODY, leading=BODY * 1.3, alignment=TA_JUSTIFY,
                          spaceAfter=3)
    return {
        "body": body,
        "centre": ParagraphStyle("centre", parent=body, alignment=TA_CENTER),
        "head": ParagraphStyle("head", parent=body, fontSize=12.5, leading=15, alignment=TA_CENTER, spaceAfter=0),
        "headbold": ParagraphStyle("headbold", parent=body, fontName=f"{FONT}-Bold", fontSize=12.5, leading=15,
                                   alignment=TA_CENTER, spaceAfter=0),
        "motto": ParagraphStyle("motto", parent=body, fontName=f"{FONT}-Bold", alignment=TA_CENTER, spaceAfter=0),
        "date": ParagraphStyle("date", parent=body, fontName=f"{FONT}-Italic", alignment=TA_CENTER),
        "title": ParagraphStyle("title", parent=body, fontName=f"{FONT}-Bold", fontSize=14, leading=18,
                                alignment=TA_CENTER, spaceAfter=0),
        "section": ParagraphStyle("section", parent=body, fontName=f"{FONT}-Bold", alignment=TA_LEFT, spaceBefore=8,
                                  spaceAfter=4, keepWithNext=1),
        "cell": ParagraphStyle("cell", parent=body, fontSize=SMALL, leading=SMALL * 1.25, alignment=TA_LEFT,
                               spaceAfter=0),
        "cellnum": ParagraphStyle("cellnum", parent=body, fontSize=SMALL, leading=SMALL * 1.25, alignment=TA_RIGHT,
                                  spaceAfter=0),
        "cellhead": ParagraphStyle("cellhead", parent=body, fontName=f"{FONT}-Bold", fontSize=SMALL,
                                   leading=SMALL * 1.25, alignment=TA_CENTER, spaceAfter=0),
        "caption": ParagraphStyle("caption", parent=body, fontName=f"{FONT}-Italic", fontSize=SMALL,
                                  leading=SMALL * 1.3, alignment=TA_CENTER, spaceAfter=6),
        "small": ParagraphStyle("small", parent=body, fontSize=SMALL, leading=SMALL * 1.3, alignment=TA_LEFT,
                                spaceAfter=0),
    }


def render_pdf(doc: ReportDocument) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, PageBreak, SimpleDocTemplate, Spacer
    from reportlab.platypus import Paragraph as P
    from reportlab.platypus import Table as T
    from reportlab.platypus.flowables import HRFlowable

    _register_fonts()
    st = _styles()
    buf = io.BytesIO()
    template = SimpleDocTemplate(buf, pagesize=A4, leftMargin=30 * mm, rightMargin=15 * mm, topMargin=20 * mm,
                                 bottomMargin=20 * mm, title=f"{doc.kind} {doc.subject}", author=doc.unit_name,
                                 lang="vi")
    width = template.width
    story: list[Any] = []

    # The cover
    story.append(Spacer(1, 55 * mm))
    for index, line in enumerate(doc.cover_lines):
        size = 15 if index == 0 else 20 if index == 1 else BODY + 1
        style = st["title"].clone(f"cover{index}", fontSize=size, leading=size * 1.35,
                                  fontName=f"{FONT}-Bold" if index < 3 else FONT, spaceAfter=8 if index < 2 else 3)
        story.append(P(escape(line.upper() if index < 2 else line), style))
    story.append(PageBreak())

    # The letterhead: the superior body and the unit | the national title and motto, then Số | place and date
    left = [P(escape(doc.superior_body), st["head"]), P(escape(doc.unit_name), st["headbold"]),
            HRFlowable(width="35%", thickness=0.6, color="black", spaceBefore=2, spaceAfter=4, hAlign="CENTER"),
            P(escape(doc.number), st["centre"])]
    right = [P(NATIONAL_TITLE, st["headbold"]), P(MOTTO, st["motto"]),
             HRFlowable(width="62%", thickness=0.6, color="black", spaceBefore=1, spaceAfter=4, hAlign="CENTER"),
             P(escape(doc.place_date), st["date"])]
    head = T([[left, right]], colWidths=[width * 0.42, width * 0.58])
    head.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                   ("LEFTPADDING", (0, 0), (-1, -1), 0),
                   ("RIGHTPADDING", (0, 0), (-1, -1), 0)])
    story += [head, Spacer(1, 6 * mm), P(escape(doc.kind), st["title"]), P(escape(doc.subject), st["title"]),
              Spacer(1, 5 * mm)]

    for block in doc.blocks:
        if isinstance(block, Heading):
            story.append(P(escape(f"{block.number}. {block.text.upper()}"), st["section"]))
        elif isinstance(block, Paragraph):
            story.append(P(escape(block.text), st["body"]))
        elif isinstance(block, Table):
            story += [_table(block, width, st), Spacer(1, 3 * mm)]
        elif isinstance(block, Chart):
            drawing = _trend(block, width) if block.kind == "trend" else _bars(block, width * block.width)
            story.append(KeepTogether([drawing, P(escape(block.caption), st["caption"])]))

    # Recipients on the left, the signature on the right
    recipients = [P(f"<b><i>{escape(line)}</i></b>" if i == 0 else escape(line), st["small"])
                  for i, line in enumerate(doc.recipients)]
    signature = [P(f"<b>{escape(line)}</b>" if i == 0 else f"<i>{escape(line)}</i>", st["centre"])
                 for i, line in enumerate(doc.signature)]
    foot = T([[recipients, signature]], colWidths=[width * 0.45, width * 0.55])
    foot.setStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)])
    story += [Spacer(1, 8 * mm), KeepTogether([foot])]
    template.build(story)
    return buf.getvalue()


def _table(block: Table, width: float, st: dict[str, Any]) -> Any:
    """Every cell a paragraph, so long names and titles wrap; the header is bold and repeats after a page break."""
    from reportlab.lib import colors
    from reportlab.platypus import Paragraph as P
    from reportlab.platypus import Table as T

    total = sum(block.widths)
    rows = [[P(escape(cell), st["cellhead"]) for cell in block.header]]
    for values in block.rows:
        rows.append([P(escape(value), st["cellnum"] if index >= block.numeric_from else st["cell"])
                     for index, value in enumerate(values)])
    table = T(rows, colWidths=[width * w / total for w in block.widths], repeatRows=1)
    table.setStyle([("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#8a93a3")),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#ebeef3")),
                    ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                    ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3)])
    return table


def _n(value: float) -> str:
    return f"{int(value):,}".replace(",", ".")


def _nice_top(value: float) -> int:
    """A round axis top at or above ``value`` whose quarters are whole round numbers (4 gridlines)."""
    quarter = max(1.0, value / 4)
    if quarter <= 10:
        return 4 * math.ceil(quarter)
    power = 10 ** (len(str(int(quarter))) - 1)
    step = next(s * power for s in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if s * power >= quarter)
    return int(4 * step)


def _trend(chart: Chart, width: float) -> Any:
    """One small chart per measure, each with its own axis (2 × 2), bars for a few buckets, a line for many."""
    from reportlab.graphics.shapes import Drawing, Line, PolyLine, Rect, String
    from reportlab.lib import colors

    series, bucket, labels = chart.data["series"], chart.data["bucket"], chart.data["labels"]
    measures = chart.data["measures"]
    columns = 2
    rows = (len(measures) + 1) // columns
    cell_w, cell_h = width / columns, 118.0
    drawing = Drawing(width, cell_h * rows + 18)
    drawing.add(String(width / 2, cell_h * rows + 5, chart.title, fontName=f"{FONT}-Bold", fontSize=11,
                       textAnchor="middle"))
    ticks = [bucket_label(point["start"], bucket) for point in series]
    step = max(1, (len(series) + 5) // 6)
    bars = bucket == "month" or len(series) <= 14
    for index, measure in enumerate(measures):
        x0 = (index % columns) * cell_w + 34
        y0 = (rows - 1 - index // columns) * cell_h + 18
        plot_w, plot_h = cell_w - 46, cell_h - 42
        values = [point.get(measure, 0) for point in series]
        top = _nice_top(max(values + [0]))
        colour = colors.HexColor(COLOURS.get(measure, "#1f5fa8"))
        drawing.add(String(x0 - 30, y0 + plot_h + 8, labels.get(measure, measure), fontName=f"{FONT}-Bold",
                           fontSize=9.5))
        for k in range(5):  # gridlines and their values
            y = y0 + plot_h * k / 4
            drawing.add(Line(x0, y, x0 + plot_w, y, strokeColor=colors.HexColor("#d9dee7"), strokeWidth=0.4))
            drawing.add(String(x0 - 3, y - 2.5, _n(top * k / 4), fontName=FONT, fontSize=7, textAnchor="end"))
        count = max(1, len(values))
        slot = plot_w / count
        if bars:
            for i, value in enumerate(values):
                h = plot_h * value / top
                drawing.add(Rect(x0 + i * slot + slot * 0.15, y0, slot * 0.7, h, fillColor=colour, strokeColor=None))
        elif values:
            points: list[float] = []
            for i, value in enumerate(values):
                points += [x0 + i * slot + slot / 2, y0 + plot_h * value / top]
            drawing.add(PolyLine(points, strokeColor=colour, strokeWidth=1.3))
        for i in range(0, len(ticks), step):
            drawing.add(String(x0 + i * slot + slot / 2, y0 - 9, ticks[i], fontName=FONT, fontSize=7,
                               textAnchor="middle"))
    return drawing


def _bars(chart: Chart, width: float) -> Any:
    """Horizontal bars, largest first, each in its own colour, with its value at its end."""
    from reportlab.graphics.shapes import Drawing, Rect, String
    from reportlab.lib import colors
    from reportlab.pdfbase.pdfmetrics import stringWidth

    items = chart.data["items"][:15]
    colours = chart.data["colours"]
    row = 16.0
    label_w = width * 0.36
    drawing = Drawing(width, row * len(items) + 22)
    drawing.add(String(0, row * len(items) + 8, chart.title, fontName=f"{FONT}-Bold", fontSize=11))
    top = max([value for _name, value in items] + [1])
    plot_w = width - label_w - 50
    for i, (name, value) in enumerate(items):
        y = row * (len(items) - 1 - i) + 2
        while stringWidth(name, FONT, 9) > label_w - 6 and len(name) > 4:
            name = name[:-2].rstrip() + "…" if not name.endswith("…") else name[:-2].rstrip() + "…"
        drawing.add(String(label_w - 4, y + 3.5, name, fontName=FONT, fontSize=9, textAnchor="end"))
        bar_w = plot_w * value / top
        drawing.add(Rect(label_w, y, bar_w, row - 5, fillColor=colors.HexColor(colours[i] if i < len(colours)
                                                                                else "#1f5fa8"), strokeColor=None))
        drawing.add(String(label_w + bar_w + 3, y + 3.5, _n(value), fontName=FONT, fontSize=9))
    return drawing
