def test_search_words_are_escaped(client):
    html = client.get("/tim-kiem?q=%3Cscript%3Ealert(1)%3C/script%3E").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;" in html


def test_staff_who_chose_english_read_the_site_in_english(client, publish, make_user, sign_in):
    post, _ = publish()
    user = make_user("editor", locale="en")
    sign_in(user)
    html = client.get(f"/tin/{post.slug}").get_data(as_text=True)
    assert '<html lang="en">' in html and "Your comment will be edited before it is published." in html
    assert "Ý kiến của bạn sẽ được biên tập trước khi đăng" in client.application.test_client().get(
        f"/tin/{post.slug}").get_data(as_text=True)
