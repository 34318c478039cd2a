"""The front page of a news site: a lead story, the next stories beside it, sections per category and locality,
most-read; still no JavaScript and within its byte budget."""

from __future__ import annotations

import re
from datetime import timedelta

from publisher.db import db, utcnow
from publisher.website import services


def _block(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start:html.index("</section>", start)]


def test_front_page_leads_with_the_newest_story_that_has_a_picture(client, publish, make_media):
    image = make_media(caption="Ảnh", alt_text="Hội trường")
    lead, _ = publish(title="Tin chính có ảnh", media_ids=[image.id], cover_media_id=image.id, category="Thời sự",
                      summary="Sapo của tin chính.")
    publish(title="Tin mới hơn không ảnh", category="Việc làm")
    html = client.get("/").get_data(as_text=True)
    story = html[html.index('class="lead-story"'):html.index("</article>")]
    assert "Tin chính có ảnh" in story and "Sapo của tin chính." in story and "<img" in story
    assert "Tin mới hơn không ảnh" in html[html.index('class="beside"'):]
    assert "<script" not in html.replace('<script type="application/ld+json">', "")


def test_front_page_has_sections_per_category_and_locality(client, publish):
    for n in range(14):  # more than the head of the page, so the sections show their own stories
        publish(title=f"Tin đầu trang {n}", category="Thời sự")
    publish(title="Tin việc làm", category="Việc làm", locality="Quận Hải Châu")
    publish(title="Tin pháp luật", category="Pháp luật", locality="Huyện Hòa Vang")
    for n in range(14):
        publish(title=f"Tin mới nhất {n}")
    html = client.get("/").get_data(as_text=True)
    headings = re.findall(r'<h2 class="block-h" id="cm-\d+"><a href="/chuyen-muc/([\w-]+)">', html)
    assert {"viec-lam", "phap-luat", "thoi-su"} <= set(headings)
    assert "Tin việc làm" in html and "Tin pháp luật" in html
    places = _block(html, "dp-h")
    assert "Quận Hải Châu" in places and "Huyện Hòa Vang" in places and "Tin pháp luật" in places
    assert 'rel="next" href="/?trang=2"' in html.replace('href="/?trang=2" rel="next"', 'rel="next" href="/?trang=2"')
    older = client.get("/?trang=2").get_data(as_text=True)
    assert "Tin mới nhất 1" in older and "Tin mới nhất 2" not in older  # page 2 follows the front page on


def test_most_read_counts_the_last_thirty_days_of_page_views(client, publish, settings):
    popular, a = publish(title="Tin đọc nhiều")
    second, b = publish(title="Tin đọc vừa")
    old, c = publish(title="Tin đọc nhiều tháng trước")
    _, d = publish(title="Tin đã gỡ đọc nhiều")
    today = utcnow().astimezone(settings.zone).date()
    services.add_views(a.id, today, 50)
    services.add_views(b.id, today - timedelta(days=3), 20)
    services.add_views(c.id, today - timedelta(days=40), 500)
    services.add_views(d.id, today, 900)
    services.remove_article(d.id)
    db.session.commit()
    block = _block(client.get("/").get_data(as_text=True), "doc-h")
    assert block.index("Tin đọc nhiều") < block.index("Tin đọc vừa")
    assert "tháng trước" not in block and "đã gỡ" not in block
    assert [a for a, _ in services.most_read(today - timedelta(days=29), today)] == [a, b]


def test_front_page_reads_nothing_it_would_write(client, publish):
    from publisher.accounts.models import Unit

    db.session.query(Unit).delete()
    db.session.commit()
    html = client.get("/").get_data(as_text=True)
    assert "Liên đoàn Lao động tỉnh" in html
    assert db.session.query(Unit).count() == 0  # no root unit made by a reader's visit


def test_front_page_stays_within_150_kb(client, publish, make_media):
    image = make_media()
    for n in range(30):
        publish(title=f"Tiêu đề dài của tin số {n} " + "chữ " * 50, summary="Tóm tắt dài " * 80,
                category=f"Chuyên mục {n % 6}", locality=f"Địa phương {n % 5}",
                media_ids=[image.id], cover_media_id=image.id)
    response = client.get("/")
    css = client.get("/static/public.css")
    total = len(response.data) + len(css.data)
    assert total <= 150 * 1024, total
