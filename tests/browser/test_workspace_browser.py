"""The editorial workspace in a real browser (issue #14, "work that is lost or blocked"): the body editor keeps
paragraphs and the other constructs through the sanitiser; each channel tab chooses its media; attached media are
listed with thumbnails; campaign kits are sent from the UI."""

from __future__ import annotations

import io
import re
from pathlib import Path

import axe_playwright_python
import pytest
from babel.messages.pofile import read_po

from publisher.content.media import MediaLimits, save_upload
from publisher.content.models import Post
from publisher.content.sanitize import clean_html
from publisher.db import db
from tests.conftest import image_bytes
from tests.media_files import tiny_mp4

pytestmark = pytest.mark.browser
AXE_SOURCE = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text(encoding="utf-8")


def fresh_post(post_id: int) -> Post:
    db.session.rollback()
    db.session.expire_all()  # the server thread changed the rows
    return db.session.get(Post, post_id)


def body_of(page) -> str:  # type: ignore[no-untyped-def]
    return page.input_value("#body_html")


def new_post_page(w, title: str = "Đoàn viên và người lao động"):  # type: ignore[no-untyped-def]
    w.goto("/admin/posts/new")
    w.page.fill("#title", title)
    w.page.click(".editable")
    return w.page


def test_enter_makes_two_paragraphs_that_survive_saving(browser_page, make_user):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    page = new_post_page(w)
    page.keyboard.type("Đoạn một.")
    page.keyboard.press("Enter")
    page.keyboard.type("Đoạn hai.")
    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"))
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url).group(1))
    assert fresh_post(post_id).body_html == "<p>Đoạn một.</p><p>Đoạn hai.</p>"
    # and the editor shows them again as two paragraphs
    assert page.locator(".editable p").all_inner_texts() == ["Đoạn một.", "Đoạn hai."]


def test_every_construct_the_editor_makes_round_trips_through_the_sanitiser(browser_page, make_user, tmp_path):
    email = make_user("editor").email
    photo = tmp_path / "hoi-nghi.jpg"
    photo.write_bytes(image_bytes(size=(1200, 800), color="teal"))
    w = browser_page()
    w.sign_in(email)
    page = new_post_page(w)
    kb = page.keyboard
    seen: dict[str, str] = {}

    def snap(name: str) -> None:
        seen[name] = body_of(page)

    page.click("button[data-cmd=h2]")
    kb.type("Tiêu đề mục")
    kb.press("Enter")
    snap("heading")
    page.click("button[data-cmd=h3]")
    kb.type("Tiêu đề nhỏ")
    kb.press("Enter")
    kb.type("Chữ ")
    page.click("button[data-cmd=bold]")
    kb.type("đậm")
    page.click("button[data-cmd=bold]")
    kb.type(" và ")
    page.click("button[data-cmd=italic]")
    kb.type("nghiêng")
    page.click("button[data-cmd=italic]")
    kb.type(", dòng")
    kb.press("Shift+Enter")
    kb.type("mới & “ngoặc” <thẻ>.")
    snap("marks")
    kb.press("Enter")
    page.click("button[data-cmd=bulletList]")
    kb.type("Ý một")
    kb.press("Enter")
    kb.type("Ý hai")
    kb.press("Enter")
    kb.press("Enter")
    page.click("button[data-cmd=orderedList]")
    kb.type("Bước một")
    kb.press("Enter")
    kb.press("Enter")
    snap("lists")
    page.click("button[data-cmd=blockquote]")
    kb.type("Lời trích dẫn")
    kb.press("Enter")
    kb.press("Enter")
    snap("quote")
    kb.type("Xem trang công đoàn")
    kb.press("Shift+Home")
    page.once("dialog", lambda d: d.accept("https://congdoan.vn/tin?a=1&b=2"))
    page.click("button[data-cmd=link]")
    kb.press("End")
    kb.press("Enter")
    snap("link")
    page.click("#insert-image")
    page.set_input_files("#picker-upload", str(photo))
    page.wait_for_selector("#picker-progress li.done")
    page.fill("#picker-caption", "Hội nghị đại biểu")
    page.click(".media-choice >> nth=0")
    snap("figure")

    assert "<h2>Tiêu đề mục</h2>" in seen["heading"]
    assert "<strong>đậm</strong>" in seen["marks"] and "<em>nghiêng</em>" in seen["marks"]
    assert "<br>mới &amp; “ngoặc” &lt;thẻ&gt;." in seen["marks"]
    assert "<ul><li><p>Ý một</p></li><li><p>Ý hai</p></li></ul><ol><li><p>Bước một</p></li></ol>" in seen["lists"]
    assert "<blockquote><p>Lời trích dẫn</p></blockquote>" in seen["quote"]
    assert ('<a href="https://congdoan.vn/tin?a=1&amp;b=2" rel="noopener noreferrer">Xem trang công đoàn</a>'
            in seen["link"])
    assert re.search(r'<figure data-media-id="\d+"><img src="[^"]+" alt="" data-media-id="\d+">'
                     r"<figcaption>Hội nghị đại biểu</figcaption></figure>", seen["figure"]), seen["figure"]
    for name, html in seen.items():
        assert clean_html(html) == html, name
    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"))
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url).group(1))
    assert fresh_post(post_id).body_html == seen["figure"]
    assert body_of(page) == seen["figure"]  # loaded back into the editor, it gives the same HTML
    w.screenshot("workspace-editor")


WORD_HTML = (
    '<html xmlns:o="urn:schemas-microsoft-com:office:office"><head><style>p.MsoNormal{margin:0}</style></head><body>'
    "<!--StartFragment-->"
    '<p class="MsoNormal" style="margin-bottom:8pt"><span lang="VI" style="font-family:Calibri">Công đoàn '
    '<b><span style="color:red">phát động</span></b> thi đua.<o:p></o:p></span></p>'
    '<p class="MsoNormal"><o:p>&nbsp;</o:p></p>'
    '<h1 style="mso-outline-level:1"><span style="font-size:20pt">Kết quả</span></h1>'
    '<p class="MsoNormal"><span style="mso-spacerun:yes"> </span>Hai đoạn.<o:p></o:p></p>'
    "<!--EndFragment--></body></html>"
)
DOCS_HTML = (
    '<meta charset="utf-8"><b style="font-weight:normal;" id="docs-internal-guid-1234">'
    '<p dir="ltr" style="line-height:1.38"><span style="font-size:11pt;font-weight:400">Một dòng thường, </span>'
    '<span style="font-size:11pt;font-weight:700">một chữ đậm</span></p>'
    '<ul style="margin-top:0"><li dir="ltr" style="list-style-type:disc"><p dir="ltr"><span>Mục một</span></p></li>'
    "</ul></b>"
)


@pytest.mark.parametrize("pasted, expected", [
    (WORD_HTML, "<p>Công đoàn <strong>phát động</strong> thi đua.</p><h2>Kết quả</h2><p>Hai đoạn.</p>"),
    (DOCS_HTML, "<p>Một dòng thường, <strong>một chữ đậm</strong></p><ul><li><p>Mục một</p></li></ul>"),
], ids=["word", "google-docs"])
def test_pasted_office_documents_are_cleaned(browser_page, make_user, pasted, expected):
    email = make_user("editor").email
    w = browser_page()
    w.sign_in(email)
    page = new_post_page(w)
    page.evaluate("""(html) => {
        const data = new DataTransfer();
        data.setData("text/html", html);
        data.setData("text/plain", "x");
        document.querySelector(".editable").dispatchEvent(
            new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    }""", pasted)
    html = body_of(page)
    assert html.replace("&nbsp;", " ").replace("\u00a0", " ").replace("  ", " ") == expected
    assert clean_html(html) == html


# --- each channel chooses its media; attached media are seen, replaced and removed ----------------------------


def upload_in_picker(page, path, target: str = "#attach-media") -> None:  # type: ignore[no-untyped-def]
    page.click(target)
    before = page.locator("#picker-progress li.done").count()
    page.set_input_files("#picker-upload", str(path))
    page.wait_for_selector(f"#picker-progress li.done >> nth={before}")
    page.wait_for_selector(f".media-choice >> nth={before}")
    page.click(".media-choice >> nth=0")  # the library lists the newest first


def test_each_channel_tab_chooses_its_media_with_the_rule_shown_live(browser_page, make_user, tmp_path):
    email = make_user("editor").email
    photo = tmp_path / "le-phat-dong.jpg"
    photo.write_bytes(image_bytes(size=(1200, 800), color="navy"))
    video = tiny_mp4(tmp_path / "le-phat-dong.mp4")
    w = browser_page()
    w.sign_in(email)
    page = new_post_page(w, "Lễ phát động có ảnh và video")
    page.keyboard.type("Nội dung.")
    upload_in_picker(page, photo)
    upload_in_picker(page, video)
    # both are listed with a thumbnail: the photo's own, the video's poster frame made at upload
    items = page.locator("#attached-list .attached-item")
    assert items.count() == 2
    assert "/w480.jpg" in items.nth(0).locator("img.thumb").get_attribute("src")
    assert "/poster_w480.jpg" in items.nth(1).locator("img.thumb").get_attribute("src")
    assert "Video" in items.nth(1).inner_text()

    page.click("#tab-facebook")
    panel = page.locator("#panel-facebook")
    assert "Facebook nhận ảnh hoặc một video" in panel.locator(".channel-rule").inner_text()
    boxes = panel.locator(".channel-media input[type=checkbox]")
    assert [boxes.nth(i).is_checked() for i in range(2)] == [True, False]  # the photo; the video would break the rule
    assert panel.locator("[data-warnings=facebook] li").count() == 0
    boxes.nth(1).check()  # the video as well: the rule is broken, said at once in the tab
    assert "không thể cùng lúc" in panel.locator("[data-warnings=facebook]").inner_text()
    assert panel.locator(".channel-rule.rule-broken").count() == 1
    w.screenshot("workspace-facebook-media-broken")
    assert panel.locator("[data-preview-media=facebook] .thumb").count() == 2
    boxes.nth(0).uncheck()  # Facebook gets the video only
    assert panel.locator("[data-warnings=facebook] li").count() == 0
    assert "/poster_w480.jpg" in panel.locator("[data-preview-media=facebook] img").get_attribute("src")
    assert panel.locator(".channel-rule.rule-ok").count() == 1

    page.click("#tab-youtube")
    yt = page.locator("#panel-youtube .channel-media input[type=checkbox]")
    assert [yt.nth(i).is_checked() for i in range(2)] == [True, True]  # the video and the photo as its thumbnail
    assert "/w480.jpg" in page.locator("#panel-youtube .yt-thumb").get_attribute("src")
    page.fill("#v-youtube-title", "Lễ phát động")
    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"))
    post_id = int(re.search(r"/posts/(\d+)/edit", page.url).group(1))
    post = fresh_post(post_id)
    photo_id, video_id = [link.media_id for link in post.media_links]
    assert post.variant("facebook")["media_ids"] == [video_id]
    assert post.variant("youtube")["media_ids"] == [photo_id, video_id]
    assert post.variant("website")["media_ids"] == [photo_id, video_id]
    w.screenshot("workspace-compose-media")

    # the post page lists them with their pictures and where each one goes
    w.goto(f"/admin/posts/{post_id}")
    cards = page.locator("#post-media li")
    assert cards.count() == 2
    assert "Facebook" not in cards.nth(0).locator(".channels-of").inner_text()
    assert "Facebook" in cards.nth(1).locator(".channels-of").inner_text()
    assert "/poster_w480.jpg" in cards.nth(1).locator("video").get_attribute("poster")
    w.screenshot("workspace-post-media")
    cards.nth(0).locator("button.remove-media").click()
    page.wait_for_selector(".flash-info")
    post = fresh_post(post_id)
    assert [link.media_id for link in post.media_links] == [video_id]
    assert post.variant("youtube")["media_ids"] == [video_id]


def test_an_attached_medium_is_replaced_and_removed_in_the_editor(browser_page, make_user, tmp_path):
    email = make_user("editor").email
    first, second = tmp_path / "mot.jpg", tmp_path / "hai.jpg"
    first.write_bytes(image_bytes(size=(900, 600), color="red"))
    second.write_bytes(image_bytes(size=(900, 600), color="green"))
    w = browser_page()
    w.sign_in(email)
    page = new_post_page(w, "Thay ảnh")
    page.keyboard.type("Nội dung.")
    upload_in_picker(page, first, "#insert-image")  # a picture in the text is attached too
    assert page.locator("#attached-list .attached-item").count() == 1
    old_src = page.locator(".editable figure img").get_attribute("src")
    page.click("#attached-list .replace-media")
    page.set_input_files("#picker-upload", str(second))
    page.wait_for_selector("#picker-progress li.done")
    page.wait_for_selector(".media-choice >> nth=1")
    page.click(".media-choice >> nth=0")
    assert page.locator("#attached-list .attached-item").count() == 1
    assert page.locator(".editable figure img").get_attribute("src") != old_src  # the text shows the new one
    new_id = page.locator("#attached-list .attached-item").get_attribute("data-media-id")
    assert page.input_value("input[name='variants.facebook.media_ids']") == new_id
    page.click("#attached-list .remove-media")
    assert page.locator("#attached-list .attached-item").count() == 0
    assert page.locator(".editable figure").count() == 0
    page.click("#save")
    page.wait_for_url(re.compile(r".*/admin/posts/\d+/edit$"))
    post = fresh_post(int(re.search(r"/posts/(\d+)/edit", page.url).group(1)))
    assert post.media_links == [] and "figure" not in post.body_html


# --- campaign kits are sent from the UI ------------------------------------------------------------------------


def test_a_campaign_is_sent_as_a_kit_from_its_page_and_drafts_are_refused(
        browser_page, make_unit, make_user, make_campaign, make_post):  # type: ignore[no-untyped-def]
    from publisher.hierarchy.models import Kit

    district = make_unit("LĐLĐ huyện Thọ Xuân")
    sender = make_user("editor")
    campaign = make_campaign(user=sender, name="Tháng Công nhân 2026")
    ready = make_post(author=sender, title="Bài đã duyệt", campaign_id=campaign.id, state="approved")
    draft = make_post(author=sender, title="Bài còn nháp", campaign_id=campaign.id)
    campaign_id, ready_id, draft_id, district_id, email = campaign.id, ready.id, draft.id, district.id, sender.email

    w = browser_page()
    w.sign_in(email)
    page = w.page
    w.goto(f"/admin/campaigns/{campaign_id}")
    page.click("a#send-kit")
    page.wait_for_url(f"**/admin/kits/new/{campaign_id}")
    rows = page.locator(".kit-post")
    ready_row = rows.filter(has_text="Bài đã duyệt")
    draft_row = rows.filter(has_text="Bài còn nháp")
    assert "Đã duyệt" in ready_row.inner_text()
    assert "Bản nháp" in draft_row.locator(".badge").inner_text()
    assert draft_row.locator("input[name=post_ids]").is_disabled()
    assert "chưa được duyệt" in draft_row.locator(".kit-refusal").inner_text()
    w.screenshot("workspace-kit-form")

    # a draft forced into the form (an old tab, a hand-made request) is refused with its reason, nothing is sent
    draft_row.locator("input[name=post_ids]").evaluate("box => { box.disabled = false; box.checked = true; }")
    ready_row.locator("input[name=post_ids]").check()
    page.check(f"input[name=unit_ids][value='{district_id}']")
    page.click("button[type=submit].primary")
    page.wait_for_selector(".field-error")
    assert "Bài còn nháp" in page.locator("#kit-posts-errors").inner_text()
    db.session.rollback()
    assert db.session.query(Kit).count() == 0

    page.check(f"input[name=post_ids][value='{ready_id}']")
    page.check(f"input[name=unit_ids][value='{district_id}']")
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r".*/admin/kits/\d+$"))
    db.session.rollback()
    kit = db.session.query(Kit).one()
    assert [i.post_id for i in kit.items] == [ready_id] and draft_id not in kit.post_ids

    # the kits page offers it too, for each campaign of the unit
    w.goto("/admin/kits/")
    assert page.locator(f"a[href$='/admin/kits/new/{campaign_id}']").count() == 1
    w.screenshot("workspace-kits-page")


# --- the pages changed above, on a phone and at a desk, in Vietnamese ------------------------------------------

WORKSPACE_PO = Path(__file__).resolve().parents[2] / "web" / "translations" / "workspace" / "vi" / "LC_MESSAGES" / \
    "messages.po"


def english_of_this_work() -> list[str]:
    """The English texts of the workspace catalogue whose Vietnamese differs (so they must never be seen in vi)."""
    with WORKSPACE_PO.open("rb") as fh:
        catalog = read_po(fh, locale="vi")
    return [m.id for m in catalog if m.id and m.string and m.id != m.string and "%(" not in m.id and len(m.id) > 6]


def serious_axe_violations(page) -> list[str]:  # type: ignore[no-untyped-def]
    page.evaluate(AXE_SOURCE)  # through the devtools protocol: the page's CSP does not apply to the test's own script
    result = page.evaluate("axe.run(document, {resultTypes: ['violations']})")
    return [f"{v['id']}: {v['help']} ({len(v['nodes'])})" for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


@pytest.mark.parametrize("width", [390, 1280], ids=["phone", "desktop"])
def test_the_changed_pages_fit_a_phone_and_speak_vietnamese(browser_page, make_unit, make_user, make_campaign,
                                                            make_post, settings, tmp_path, width):  # type: ignore[no-untyped-def]
    make_unit("LĐLĐ huyện Thọ Xuân")
    editor = make_user("editor")
    campaign = make_campaign(user=editor, name="Tháng Công nhân 2026")
    photo = save_upload(io.BytesIO(image_bytes(size=(900, 600))), "anh.jpg", editor, settings.media_dir,
                        MediaLimits(2**24, 2**26))
    with tiny_mp4(tmp_path / "clip.mp4").open("rb") as fh:
        video = save_upload(fh, "clip.mp4", editor, settings.media_dir, MediaLimits(2**24, 2**26))
    post = make_post(author=editor, title="Bài có ảnh và video", campaign_id=campaign.id, state="approved",
                     media_ids=[photo.id, video.id])
    make_post(author=editor, title="Bài nháp", campaign_id=campaign.id)
    pages = {"compose": f"/admin/posts/{post.id}/edit", "post": f"/admin/posts/{post.id}",
             "campaign": f"/admin/campaigns/{campaign.id}", "kits": "/admin/kits/",
             "kit-form": f"/admin/kits/new/{campaign.id}", "new-post": "/admin/posts/new"}
    english = english_of_this_work()
    w = browser_page(bypass_csp=True)  # for axe's script only; the other tests watch the CSP
    w.page.set_viewport_size({"width": width, "height": 900})
    w.sign_in(editor.email)
    problems: list[str] = []
    for name, path in pages.items():
        w.goto(path)
        if name == "compose":
            w.page.click("#tab-facebook")
        overflow = w.page.evaluate("document.documentElement.scrollWidth")
        if overflow > width + 1:
            problems.append(f"{name}: {overflow}px wide at {width}px")
        text = w.page.locator("body").inner_text()
        problems += [f"{name}: English “{e}”" for e in english if e in text]
        problems += [f"{name}: {v}" for v in serious_axe_violations(w.page)]
        w.screenshot(f"workspace-{name}-{width}")
    assert not problems, problems
