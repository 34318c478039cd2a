"""CSV, XLSX and the Vietnamese PDF report, parsed back."""

from __future__ import annotations

import csv
import io
import subprocess

import pytest
from openpyxl import load_workbook

from tests.engagement.test_engagement_pages import sign_in

JUNE = "from=2026-06-01&to=2026-06-30"


@pytest.fixture
def viewer_client(client, seeded, make_user):  # type: ignore[no-untyped-def]
    sign_in(client, make_user("viewer"))
    return client


def test_csv_holds_the_underlying_figures(viewer_client, seeded):
    response = viewer_client.get(f"/admin/reports/export.csv?{JUNE}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert header[:3] == ["Từ ngày", "Đến ngày", "Đơn vị"]
    views = header.index("Lượt xem")
    assert sum(int(r[views]) for r in body) == 200
    titles = {(r[3], r[6]): int(r[views]) for r in body}
    assert titles[("Trang Facebook", "Ngày hội Công nhân")] == 150
    assert titles[("Kênh YouTube", "Ngày hội Công nhân")] == 10


def test_xlsx_opens_with_every_breakdown(viewer_client, seeded, root_unit):
    response = viewer_client.get(f"/admin/reports/export.xlsx?{JUNE}&unit_id={root_unit.id}&include_sub_units=true")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == ["Tổng hợp", "Theo kênh", "Theo bài viết", "Theo đơn vị", "Xu hướng", "Chi tiết"]
    summary = {row[0]: row[1:] for row in book["Tổng hợp"].iter_rows(min_row=4, values_only=True)}
    assert summary["Lượt xem"][0] == 207 and summary["Lượt xem"][1] == 100
    units = {row[1]: row[2] for row in book["Theo đơn vị"].iter_rows(min_row=2, values_only=True)}
    assert units["Công đoàn ngành Giáo dục"] == 7 and units["Công đoàn trường THPT Lê Lợi"] == 0
    trend_total = sum(row[1] for row in book["Xu hướng"].iter_rows(min_row=2, values_only=True))
    assert trend_total == 207


@pytest.mark.parametrize("period", ["period=previous_half", "period=year", f"period=custom&{JUNE}"])
def test_pdf_report_in_vietnamese_with_charts(viewer_client, seeded, root_unit, period, tmp_path):
    response = viewer_client.get(f"/admin/reports/export.pdf?{period}&unit_id={root_unit.id}&include_sub_units=true")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert response.data.startswith(b"%PDF")
    path = tmp_path / "report.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "BÁO CÁO CÔNG TÁC TRUYỀN THÔNG" in text
    assert "LIÊN ĐOÀN LAO ĐỘNG TỈNH" in text
    assert "Lượt xem" in text and "BẢNG XẾP HẠNG CÁC ĐƠN VỊ" in text
    assert "Công đoàn ngành Giáo dục" in text
    assert "Tương tác theo thời gian" in text and "Lượt xem theo kênh" in text  # the trend and channel charts


def test_pdf_in_vietnamese_even_for_an_english_user(client, seeded, make_user, tmp_path):
    sign_in(client, make_user("viewer", locale="en"))
    html = client.get(f"/admin/reports/?period=custom&{JUNE}").get_data(as_text=True)
    assert "Engagement report" in html and 'lang="en"' in html
    response = client.get(f"/admin/reports/export.pdf?{JUNE}")
    path = tmp_path / "r.pdf"
    path.write_bytes(response.data)
    text = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True,
                          text=True).stdout
    assert "BÁO CÁO CÔNG TÁC TRUYỀN THÔNG" in text and "Từ 01/06/2026 đến 30/06/2026" in text
