"""The report document as a Word file (python-docx), for units that paste its figures into their own reports:
the same cover, letterhead, numbered sections, tables and charts as the PDF, in Times New Roman 13 pt (Word has
it), A4 with the margins of Decree 30/2020. The letterhead is a borderless two-column table, as union offices
lay it out in Word."""

from __future__ import annotations

import io

from web.reports.document import MOTTO, NATIONAL_TITLE, Chart, Heading, Paragraph, ReportDocument, Table

FONT = "Times New Roman"


def render_docx(doc: ReportDocument) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
    from docx.oxml.ns import qn
    from docx.shared import Mm, Pt, RGBColor

    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(13)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)  # Word otherwise keeps its theme font for some scripts
    for section in document.sections:
        section.page_height, section.page_width = Mm(297), Mm(210)
        section.top_margin = section.bottom_margin = Mm(20)
        section.left_margin, section.right_margin = Mm(30), Mm(15)
    text_width = Mm(210 - 30 - 15)

    def para(value: str = "", *, bold: bool = False, italic: bool = False, size: float = 13,
             align: int = WD_ALIGN_PARAGRAPH.JUSTIFY, container: object = None) -> object:
        target = container or document
        paragraph = target.add_paragraph()  # type: ignore[attr-defined]
        paragraph.alignment = align
        paragraph.paragraph_format.space_after = Pt(3)
        run = paragraph.add_run(value)
        run.bold, run.italic, run.font.size, run.font.name = bold, italic, Pt(size), FONT
        return paragraph

    # The cover
    for index, line in enumerate(doc.cover_lines):
        if index == 0:
            for _ in range(8):
                para("")
        para(line.upper() if index < 2 else line, bold=index < 3, size=15 if index == 0 else 20 if index == 1 else 14,
             align=WD_ALIGN_PARAGRAPH.CENTER)
    document.paragraphs[-1].add_run().add_break(WD_BREAK.PAGE)

    # The letterhead
    head = document.add_table(rows=1, cols=2)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.width, right.width = Mm(70), Mm(95)
    left.paragraphs[0].text = ""
    first = left.paragraphs[0]
    first.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = first.add_run(doc.superior_body)
    run.font.size = Pt(12.5)
    para(doc.unit_name, bold=True, size=12.5, align=WD_ALIGN_PARAGRAPH.CENTER, container=left)
    para("―――――", size=8, align=WD_ALIGN_PARAGRAPH.CENTER, container=left)
    para(doc.number, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, container=left)
    title = right.paragraphs[0]
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(NATIONAL_TITLE)
    run.bold, run.font.size = True, Pt(12.5)
    motto = para(MOTTO, bold=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, container=right)
    motto.runs[0].underline = False
    para("――――――――――――", size=8, align=WD_ALIGN_PARAGRAPH.CENTER, container=right)
    para(doc.place_date, italic=True, size=13, align=WD_ALIGN_PARAGRAPH.CENTER, container=right)

    para("")
    para(doc.kind, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc.subject, bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)

    for block in doc.blocks:
        if isinstance(block, Heading):
            heading = para(f"{block.number}. {block.text.upper()}", bold=True, align=WD_ALIGN_PARAGRAPH.LEFT)
            heading.paragraph_format.space_before = Pt(6)  # type: ignore[attr-defined]
            heading.paragraph_format.keep_with_next = True  # type: ignore[attr-defined]
        elif isinstance(block, Paragraph):
            para(block.text)
        elif isinstance(block, Table):
            table = document.add_table(rows=1, cols=len(block.header))
            table.style = "Table Grid"
            total = sum(block.widths)
            for index, name in enumerate(block.header):
                cell = table.rows[0].cells[index]
                cell.width = int(text_width * block.widths[index] / total)
                cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
                run = cell.paragraphs[0].add_run(name)
                run.bold, run.font.size = True, Pt(11)
            for values in block.rows:
                cells = table.add_row().cells
                for index, value in enumerate(values):
                    cells[index].width = int(text_width * block.widths[index] / total)
                    paragraph = cells[index].paragraphs[0]
                    paragraph.alignment = (WD_ALIGN_PARAGRAPH.RIGHT if index >= block.numeric_from
                                           else WD_ALIGN_PARAGRAPH.LEFT)
                    paragraph.add_run(value).font.size = Pt(11)
            para("", size=6)
        elif isinstance(block, Chart):
            picture = document.add_paragraph()
            picture.alignment = WD_ALIGN_PARAGRAPH.CENTER
            picture.add_run().add_picture(io.BytesIO(block.png()), width=int(text_width * block.width))
            caption = para(block.caption, italic=True, size=11, align=WD_ALIGN_PARAGRAPH.CENTER)
            caption.runs[0].font.color.rgb = RGBColor(0x33, 0x33, 0x33)  # type: ignore[attr-defined]

    para("")
    foot = document.add_table(rows=1, cols=2)
    left, right = foot.rows[0].cells
    left.width, right.width = Mm(75), Mm(90)
    for index, line in enumerate(doc.recipients):
        target = left.paragraphs[0] if index == 0 else left.add_paragraph()
        run = target.add_run(line)
        run.bold, run.italic = index == 0, index == 0
        run.font.size = Pt(12 if index == 0 else 11)
    for index, line in enumerate(doc.signature):
        target = right.paragraphs[0] if index == 0 else right.add_paragraph()
        target.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = target.add_run(line)
        run.bold, run.italic = index == 0, index != 0
        run.font.size = Pt(13 if index == 0 else 11)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()
