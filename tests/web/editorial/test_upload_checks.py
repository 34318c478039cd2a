"""Uploads refused on their first bytes (issue #14, "uploads that respect people's time"): a Content-Length over the
limit before the body is read, a file that is no picture or video and a picture declared over the picture limit
after its first bytes, in the editorial upload (JSON for its script, in Vietnamese) and in the API (problem body)."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from tests.conftest import image_bytes

BOUNDARY = "loa-boundary"
MB = 1024 * 1024


@pytest.fixture
def app_config(app_config):  # type: ignore[no-untyped-def]
    return {**app_config, "max_image_mb": 1, "max_video_mb": 3}


class Body(io.BytesIO):
    """A request body that counts the bytes the server reads from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        self.read_bytes += len(chunk)
        return chunk

    def read1(self, size: int | None = -1) -> bytes:
        return self.read(size)

    def readline(self, size: int | None = -1) -> bytes:
        chunk = super().readline(size)
        self.read_bytes += len(chunk)
        return chunk

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
        count = super().readinto(buffer)
        self.read_bytes += count
        return count


def multipart(filename: str, content: bytes) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
            f"Content-Type: application/octet-stream\r\n\r\n").encode() + content + f"\r\n--{BOUNDARY}--\r\n".encode()


def send(client, path: str, body: Body, length: int, headers: dict[str, str]):  # type: ignore[no-untyped-def]
    return client.post(path, input_stream=body, environ_overrides={"CONTENT_LENGTH": str(length)},
                       content_type=f"multipart/form-data; boundary={BOUNDARY}", headers=headers)


def stored_files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.exists() else []


@pytest.fixture
def senders(ui_as, api_as):  # type: ignore[no-untyped-def]
    """The two upload endpoints: (client, path, headers) for the editorial script and for the API."""
    ui = ui_as("editor")
    api = api_as("editor")
    return {"editorial": (ui.client, "/admin/media/upload", {"X-CSRFToken": ui.token(), "Accept": "application/json"}),
            "api": (api.client, "/api/v1/media", {"Authorization": f"Bearer {api.token}"})}


@pytest.mark.parametrize("where", ["editorial", "api"])
def test_a_too_large_content_length_is_refused_before_the_body_is_read(senders, settings, where):  # type: ignore[no-untyped-def]
    client, path, headers = senders[where]
    body = Body(multipart("hop.mp4", b"\x00" * 1024))
    response = send(client, path, body, 97 * MB, headers)
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "too_large" and error["message"] == "Tệp lớn hơn mức 3 MB cho phép."
    assert body.read_bytes == 0
    assert stored_files(settings.media_dir) == []


@pytest.mark.parametrize("where", ["editorial", "api"])
def test_a_wrong_magic_number_is_refused_on_the_first_bytes(senders, settings, where):  # type: ignore[no-untyped-def]
    client, path, headers = senders[where]
    data = multipart("anh.jpg", b"MZ\x90\x00\x03\x00\x00\x00" + os.urandom(int(2.5 * MB)))  # a program, named .jpg
    body = Body(data)
    response = send(client, path, body, len(data), headers)
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["fields"]["file"] == ["Tệp này không phải ảnh hoặc video mà Loa dùng được: hãy dùng ảnh JPEG, PNG, "
                                       "WebP hoặc GIF, hoặc video MP4, MOV, WebM, AVI hoặc MPEG."]
    assert body.read_bytes < MB  # the rest of the 2.5 MB was never read
    assert stored_files(settings.media_dir) == []


@pytest.mark.parametrize("where", ["editorial", "api"])
def test_a_picture_declared_over_the_picture_limit_is_refused_on_its_first_bytes(senders, settings, where):  # type: ignore[no-untyped-def]
    client, path, headers = senders[where]
    data = multipart("anh.png", b"\x89PNG\r\n\x1a\n" + os.urandom(int(2.5 * MB)))  # under the video limit
    body = Body(data)
    response = send(client, path, body, len(data), headers)
    assert response.status_code == 413, response.get_data(as_text=True)[:300]
    assert response.get_json()["error"]["message"] == "Ảnh lớn hơn mức 1 MB cho phép."
    assert body.read_bytes < MB
    assert stored_files(settings.media_dir) == []


@pytest.mark.parametrize("where", ["editorial", "api"])
def test_pictures_and_videos_within_their_limits_still_go_through(senders, where):  # type: ignore[no-untyped-def]
    client, path, headers = senders[where]
    for name, content in (("anh.jpg", image_bytes(size=(400, 300))),
                          ("clip.mp4", b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(2 * MB))):
        data = multipart(name, content)
        response = send(client, path, Body(data), len(data), headers)
        assert response.status_code == 201, response.get_data(as_text=True)[:300]
