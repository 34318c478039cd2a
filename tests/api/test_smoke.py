def test_health_needs_no_token(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("status", "database", "queue")} == {"status": "ok", "database": "ok", "queue": "ok"}


def test_create_and_read_post(api_as):
    api = api_as("editor")
    response = api.post("/api/v1/posts", json={"title": "Đẩy mạnh chuyển đổi số", "summary": "s", "body_html": "<p>x</p>",
                                               "media_ids": [], "variants": {"facebook": {"message": "Xin chào"}}})
    assert response.status_code == 201, response.get_json()
    post = response.get_json()
    assert post["slug"] == "day-manh-chuyen-doi-so"
    assert post["state"] == "draft" and post["version"] == 1
    again = api.get(f"/api/v1/posts/{post['id']}").get_json()
    assert again["variants"]["facebook"]["message"] == "Xin chào"
