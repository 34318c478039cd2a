"""What the compose page's editor (web/static/vendor/tiptap/loa-editor.js) produces for each construct goes through
the sanitiser unchanged: the strings below are the editor's own output, as the browser test
tests/browser/test_workspace_browser.py records it from typing in Chromium."""

from __future__ import annotations

import pytest

from publisher.content.sanitize import clean_html, find_dangerous_markup

EDITOR_OUTPUT = {
    "paragraphs": "<p>Đoạn một.</p><p>Đoạn hai.</p>",
    "headings": "<h2>Tiêu đề mục</h2><h3>Tiêu đề nhỏ</h3>",
    "marks": "<p>Chữ <strong>đậm</strong> và <em>nghiêng</em>, <u>gạch dưới</u>, <s>gạch ngang</s></p>",
    "hard break and entities": "<p>dòng<br>mới &amp; “ngoặc” &lt;thẻ&gt; A&nbsp;B</p>",
    "lists": "<ul><li><p>Ý một</p></li><li><p>Ý hai</p></li></ul><ol><li><p>Bước một</p></li></ol>",
    "nested list": "<ul><li><p>Ý một</p><ul><li><p>Ý con</p></li></ul></li></ul>",
    "quote": "<blockquote><p>Lời trích dẫn</p></blockquote>",
    "rule": "<p>Trên</p><hr><p>Dưới</p>",
    "link": '<p><a href="https://congdoan.vn/tin?a=1&amp;b=2" rel="noopener noreferrer">Xem trang công đoàn</a></p>',
    "mail link": '<p><a href="mailto:bantuyengiao@congdoan.vn" rel="noopener noreferrer">Gửi thư</a></p>',
    "figure": ('<figure data-media-id="12"><img src="/media/2026/12/ab12/w960.jpg" alt="Đoàn viên" '
               'data-media-id="12"><figcaption>Hội nghị đại biểu</figcaption></figure>'),
    "figure without caption": ('<figure data-media-id="3"><img src="/media/2026/12/cd34/w960.jpg" alt="" '
                               'data-media-id="3"><figcaption></figcaption></figure>'),
    "empty line kept between paragraphs": "<p>Một</p><p></p><p>Hai</p>",
}


@pytest.mark.parametrize("html", EDITOR_OUTPUT.values(), ids=EDITOR_OUTPUT.keys())
def test_the_editors_output_round_trips_through_the_sanitiser(html: str) -> None:
    assert find_dangerous_markup(html) == []
    assert clean_html(html) == html
