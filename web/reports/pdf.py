"""The report document as a PDF (fpdf2): a cover, then the administrative document. Liberation Serif (vendored
under ``fonts/``, metric-compatible with Times New Roman, covers Vietnamese) at 13 pt, tables at 11 pt whose
cells wrap (a long title is printed whole, over as many lines as it needs) and whose header repeats on every
page. A4 with the margins of Decree 30/2020 (top and bottom 20 mm, left 30 mm, right 15 mm)."""

from __future__ import annotations

import io
from functools import lru_cache

from web.reports.charts import FONT_DIR
from web.reports.document import MOTTO, NATIONAL_TITLE, Chart, Heading, Paragraph, ReportDocument, Table

FONT = "LiberationSerif"
BODY, SMALL = 13, 11
LINE = 6.5  # mm per body line at 13 pt


@lru_cache(maxsize=1)
def _font_files() -> dict[str, str]:
    return {"": str(FONT_DIR / "LiberationSerif-Regular.ttf"), "B": str(FONT_DIR / "LiberationSerif-Bold.ttf"),
            "I": str(FONT_DIR / "LiberationSerif-Italic.ttf")}


def render_pdf(doc: ReportDocument) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_margins(30, 20, 15)
    pdf.set_auto_page_break(auto=True, margin=20)
    for style, path in _font_files().items():
        pdf.add_font(FONT, style, path)
    pdf.set_title(f"{doc.kind} {doc.subject}")
    pdf.set_lang("vi")
    width = pdf.epw

    def text(value: str, size: float = BODY, style: str = "", align: str = "J", height: float = LINE) -> None:
        pdf.set_font(FONT, style, size)
        pdf.multi_cell(0, height, value, new_x="LMARGIN", new_y="NEXT", align=align)

    # The cover
    pdf.add_page()
    pdf.set_y(70)
    for index, line in enumerate(doc.cover_lines):
        size = 15 if index == 0 else 20 if index == 1 else BODY + 1
        text(line.upper() if index < 2 else line, size, "B" if index < 3 else "", "C", height=size * 0.55)
        pdf.ln(6 if index < 2 else 2)

    # The letterhead: two columns
    pdf.add_page()
    left_w, right_w = width * 0.42, width * 0.58
    top = pdf.get_y()
    pdf.set_font(FONT, "", 12.5)
    pdf.multi_cell(left_w, 5.5, doc.superior_body, align="C", new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", 12.5)
    pdf.multi_cell(left_w, 5.5, doc.unit_name, align="C", new_x="LEFT", new_y="NEXT")
    rule_y = pdf.get_y() + 0.8
    pdf.line(pdf.l_margin + left_w * 0.35, rule_y, pdf.l_margin + left_w * 0.65, rule_y)
    pdf.set_y(rule_y + 2)
    pdf.set_font(FONT, "", BODY)
    pdf.multi_cell(left_w, LINE, doc.number, align="C", new_x="LMARGIN", new_y="NEXT")
    left_bottom = pdf.get_y()
    pdf.set_xy(pdf.l_margin + left_w, top)
    pdf.set_font(FONT, "B", 12.5)
    pdf.multi_cell(right_w, 5.5, NATIONAL_TITLE, align="C",
                   new_x="LEFT", new_y="NEXT")
    pdf.set_font(FONT, "B", BODY)
    pdf.multi_cell(right_w, 6, MOTTO, align="C", new_x="LEFT", new_y="NEXT")
    rule_y = pdf.get_y() + 0.5
    motto_w = pdf.get_string_width(MOTTO)
    centre = pdf.l_margin + left_w + right_w / 2
    pdf.line(centre - motto_w / 2, rule_y, centre + motto_w / 2, rule_y)
    pdf.set_xy(pdf.l_margin + left_w, rule_y + 2)
    pdf.set_font(FONT, "I", BODY)
    pdf.multi_cell(right_w, LINE, doc.place_date, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(max(left_bottom, pdf.get_y()) + 6)
    text(doc.kind, 14, "B", "C")
    text(doc.subject, 14, "B", "C")
    pdf.ln(4)

    for block in doc.blocks:
        if isinstance(block, Heading):
            pdf.ln(2)
            text(f"{block.number}. {block.text.upper()}", BODY, "B", "L")
            pdf.ln(1)
        elif isinstance(block, Paragraph):
            text(block.text)
        elif isinstance(block, Table):
            _table(pdf, block, FontFace)
            pdf.ln(2)
        elif isinstance(block, Chart):
            pdf.image(io.BytesIO(block.png), w=width * block.width, x=pdf.l_margin + width * (1 - block.width) / 2)
            pdf.set_font(FONT, "I", SMALL)
            pdf.multi_cell(0, 5, block.caption, align="C", new_x="LMARGIN", new_y="NEXT")
            pdf.ln(2)

    # Recipients on the left, the signature on the right
    pdf.ln(6)
    if pdf.get_y() > pdf.h - 60:
        pdf.add_page()
    top = pdf.get_y()
    for index, line in enumerate(doc.recipients):
        pdf.set_font(FONT, "B" if index == 0 else "", 12 if index == 0 else SMALL)
        pdf.multi_cell(width * 0.45, 5.5, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(pdf.l_margin + width * 0.45, top)
    for index, line in enumerate(doc.signature):
        pdf.set_font(FONT, "B" if index == 0 else "I", BODY if index == 0 else SMALL)
        pdf.multi_cell(width * 0.55, LINE, line, align="C", new_x="LEFT", new_y="NEXT")
    return bytes(pdf.output())


def _table(pdf: object, block: Table, font_face: type) -> None:
    """A table whose cells wrap; the header is bold and repeats after a page break."""
    total = sum(block.widths)
    widths = [w / total * pdf.epw for w in block.widths]  # type: ignore[attr-defined]
    align = ["LEFT" if i < block.numeric_from else "RIGHT" for i in range(len(block.header))]
    pdf.set_font(FONT, "", SMALL)  # type: ignore[attr-defined]
    with pdf.table(col_widths=widths, text_align=align, line_height=5.5, first_row_as_headings=True,  # type: ignore[attr-defined]
                   headings_style=font_face(emphasis="BOLD", fill_color=(235, 238, 243)), repeat_headings=1,
                   padding=1.2) as table:
        heading = table.row()
        for cell in block.header:
            heading.cell(cell, align="CENTER")
        for values in block.rows:
            row = table.row()
            for value in values:
                row.cell(value)
