"""The history page: per field, word by word, Vietnamese words whole."""

from __future__ import annotations


def test_the_history_page_shows_changed_fields_word_by_word(ui_as, make_post) -> None:  # type: ignore[no-untyped-def]
    from tests.web.editorial.test_editorial_flows import compose_form

    ui = ui_as("editor")
    post = make_post(author=ui.user, title="Hội nghị Ban Chấp hành Công đoàn tỉnh lần thứ nhất")
    ui.post(f"/admin/posts/{post.id}/edit", compose_form(title="Hội nghị Ban Chấp hành Công đoàn tỉnh lần thứ hai",
                                                         slug=post.slug, version="1"))
    html = ui.get(f"/admin/posts/{post.id}/revisions").get_data(as_text=True)
    assert '<del class="diff-del">nhất</del><ins class="diff-add">hai</ins>' in html
    assert "<dt>Tiêu đề</dt>" in html or "<dt>tiêu đề</dt>" in html
    changes = html.split('class="changes"')[1]
    assert 'data-field="title"' in changes and 'data-field="slug"' not in changes  # the address did not change
    assert 'data-field="campaign_id"' not in changes
