"""The six-monthly and annual report as PDF and DOCX, read back: the letterhead of a union document, sections
numbered without gaps, long titles printed whole, the unit league table, the campaigns, the charts."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
from docx import Document

from publisher.db import db
from tests.engagement.test_engagement_pages import sign_in

JUNE = "period=custom&from=2026-06-01&to=2026-06-30"
LONG_TITLE = ("Công đoàn ngành Giáo dục tỉnh tổ chức Hội nghị tổng kết công tác chăm lo đời sống, bảo vệ quyền và "
              "lợi ích hợp pháp, chính đáng của đoàn viên, người lao động năm học 2025–2026 và triển khai nhiệm vụ "
              "trọng tâm năm học mới")
SECTIONS_WITH_UNITS = ["I. KẾT QUẢ CHUNG", "II. DIỄN BIẾN TRONG KỲ", "III. THEO KÊNH", "IV. BẢNG XẾP HẠNG CÁC ĐƠN VỊ",
                       "V. CÁC CHIẾN DỊCH TRONG KỲ", "VI. BÀI VIẾT NỔI BẬT"]


@pytest.fixture
def long_titled(seeded):  # type: ignore[no-untyped-def]
    seeded["post2"].title = LONG_TITLE
    db.session.commit()
    return seeded


def _pdf_text(data: bytes, tmp_path) -> str:  # type: ignore[no-untyped-def]
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_pdf_is_a_union_report_with_numbered_sections(client, long_titled, make_user, root_unit, tmp_path):
    sign_in(client, make_user("viewer"))
    response = client.get(f"/admin/reports/export.pdf?{JUNE}&unit_id={root_unit.id}&include_sub_units=true")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = _pdf_text(response.data, tmp_path)
    flat = _flat(text)
    # the cover: unit, period, date
    cover = _flat(text.split("\f")[0])
    assert "LIÊN ĐOÀN LAO ĐỘNG TỈNH" in cover and "Từ 01/06/2026 đến 30/06/2026" in cover and "Lập ngày" in cover
    # the letterhead
    for part in ("TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                 "Độc lập - Tự do - Hạnh phúc", "Số: ……/BC-……", "BÁO CÁO",
                 "Kết quả công tác truyền thông tháng 6 năm 2026"):
        assert part in flat, part
    assert re.search(r"……, ngày \d\d tháng \d{1,2} năm 20\d\d", flat)
    # numbered sections, every one, in order
    positions = [flat.index(heading) for heading in SECTIONS_WITH_UNITS]
    assert positions == sorted(positions)
    assert "VII." not in flat
    # the comparison in words, the long title whole, the league table, the campaign
    assert "Lượt xem: 207 (+107 % so với tháng trước (100 → 207))" in flat
    assert LONG_TITLE in flat
    assert "Công đoàn ngành Giáo dục" in flat and "Công đoàn trường THPT Lê Lợi" in flat
    assert "Tháng Công nhân 2026" in flat
    assert "TM. BAN THƯỜNG VỤ" in flat and "Nơi nhận:" in flat
    # the charts, drawn as vector graphics: the trend (one per measure) and the views per channel
    assert "Tương tác theo thời gian" in flat and "mỗi chỉ số một thang đo riêng" in flat
    assert "Lượt xem theo kênh" in flat
    assert b"LiberationSerif" in response.data  # the vendored Times-compatible font, embedded


def test_pdf_of_one_unit_numbers_without_a_gap(client, seeded, make_user, tmp_path):
    sign_in(client, make_user("viewer"))
    flat = _flat(_pdf_text(client.get(f"/admin/reports/export.pdf?{JUNE}").data, tmp_path))
    assert "BẢNG XẾP HẠNG" not in flat
    for heading in ("III. THEO KÊNH", "IV. CÁC CHIẾN DỊCH TRONG KỲ", "V. BÀI VIẾT NỔI BẬT"):
        assert heading in flat


def test_pdf_superior_body_is_the_parent_unit(client, seeded, make_user, tmp_path):
    sign_in(client, make_user("viewer"))
    text = _pdf_text(client.get(f"/admin/reports/export.pdf?{JUNE}&unit_id={seeded['child'].id}").data, tmp_path)
    letterhead = _flat(text.split("\f")[1])
    assert "LIÊN ĐOÀN LAO ĐỘNG TỈNH" in letterhead and "CÔNG ĐOÀN NGÀNH GIÁO DỤC" in letterhead
    assert "TỔNG LIÊN ĐOÀN" not in letterhead
    assert "- Liên đoàn Lao động tỉnh;" in letterhead or "- Liên đoàn Lao động tỉnh;" in _flat(text)


def test_docx_is_the_same_report(client, long_titled, make_user, root_unit):
    sign_in(client, make_user("viewer", locale="en"))
    response = client.get(f"/admin/reports/export.docx?{JUNE}&unit_id={root_unit.id}&include_sub_units=true")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert "attachment" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    paragraphs = [p.text for p in document.paragraphs]
    headings = [t for t in paragraphs if re.match(r"^[IVX]+\. ", t)]
    assert headings == SECTIONS_WITH_UNITS
    letterhead = [c.text for c in document.tables[0].rows[0].cells]
    assert "TỔNG LIÊN ĐOÀN LAO ĐỘNG VIỆT NAM" in letterhead[0] and "Số: ……/BC-……" in letterhead[0]
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in letterhead[1] and "Độc lập - Tự do - Hạnh phúc" in letterhead[1]
    assert "BÁO CÁO" in paragraphs and "Kết quả công tác truyền thông tháng 6 năm 2026" in paragraphs
    cells = {cell.text for table in document.tables for row in table.rows for cell in row.cells}
    assert LONG_TITLE in cells and "Công đoàn trường THPT Lê Lợi" in cells
    assert document.styles["Normal"].font.name == "Times New Roman"
    assert document.styles["Normal"].font.size.pt == 13
    assert len(document.inline_shapes) >= 2  # the charts
    assert document.sections[0].left_margin.mm == pytest.approx(30, abs=0.1)


def test_xlsx_keeps_every_post(client, long_titled, make_user):
    from openpyxl import load_workbook

    sign_in(client, make_user("viewer"))
    book = load_workbook(io.BytesIO(client.get(f"/admin/reports/export.xlsx?{JUNE}").data))
    titles = [row[1] for row in book["Theo bài viết"].iter_rows(min_row=2, values_only=True)]
    assert LONG_TITLE in titles and "Ngày hội Công nhân" in titles


def test_place_and_date_follow_the_decree(app):
    from datetime import date

    from flask_babel import force_locale

    from web.reports.document import place_and_date

    with app.test_request_context(), force_locale("vi"):
        assert place_and_date("Thanh Hóa", date(2027, 2, 5)) == "Thanh Hóa, ngày 05 tháng 02 năm 2027"
        assert place_and_date(None, date(2026, 12, 2)) == "……, ngày 02 tháng 12 năm 2026"


def test_place_and_superior_body_are_settings(app, client, seeded, make_user, tmp_path, monkeypatch):  # type: ignore[no-untyped-def]
    import dataclasses

    settings = dataclasses.replace(app.extensions["publisher.settings"], report_place="Thanh Hóa",
                                   report_superior_body="Công đoàn Việt Nam")
    monkeypatch.setitem(app.extensions, "publisher.settings", settings)
    sign_in(client, make_user("viewer"))
    flat = _flat(_pdf_text(client.get(f"/admin/reports/export.pdf?{JUNE}").data, tmp_path))
    assert "Thanh Hóa, ngày" in flat and "CÔNG ĐOÀN VIỆT NAM" in flat


def test_settings_parse(tmp_path):  # type: ignore[no-untyped-def]
    from publisher.settings import load_settings

    loaded = load_settings(environ={"PUBLISHER_REPORT_PLACE": " Thanh Hóa ", "PUBLISHER_SECRET_KEY": "x" * 20,
                                    "PUBLISHER_INSTANCE_PATH": str(tmp_path)})
    assert loaded.report_place == "Thanh Hóa" and loaded.report_superior_body == "Tổng Liên đoàn Lao động Việt Nam"
