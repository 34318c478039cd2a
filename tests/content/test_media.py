"""Media uploads: images checked, oriented, stripped and rendered per channel; videos streamed to disk."""

from __future__ import annotations

import io
import os
import resource
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import select

from publisher.content.media import CHUNK, MediaLimits, save_upload
from publisher.content.models import MediaItem
from publisher.db import db
from publisher.errors import TooLarge, ValidationFailed
from tests.conftest import image_bytes


def upload(api, data: bytes, filename: str = "anh.jpg", **fields):  # type: ignore[no-untyped-def]
    return api.post("/api/v1/media", data={"file": (io.BytesIO(data), filename), **fields},
                    content_type="multipart/form-data")


def stored_files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.exists() else []


def exif_jpeg_with_gps(size: tuple[int, int] = (400, 200)) -> bytes:
    """A JPEG as a phone takes it: sideways pixels with orientation 6 and a GPS position in its EXIF."""
    image = Image.new("RGB", size, "blue")
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))  # left half red
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to show
    exif[0x010F] = "Điện thoại"
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: (20.0, 56.0, 30.0), 3: "E", 4: (106.0, 3.0, 15.0)})
    buf = io.BytesIO()
    image.save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    check = Image.open(io.BytesIO(data)).getexif()
    assert check[0x0112] == 6 and check.get_ifd(0x8825)[1] == "N"
    return data


def png_declaring(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge size (a decompression bomb needs no more than that to hurt)."""
    buf = io.BytesIO()
    Image.new("L", (1, 1)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", width, height) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    return bytes(data)


# --- images --------------------------------------------------------------------------------------------------


def test_photo_is_rotated_and_stripped_of_exif_and_gps(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    response = upload(api_as("editor"), exif_jpeg_with_gps(), "IMG_0001.JPG")
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert (item["width"], item["height"]) == (200, 400)  # shown upright: portrait
    files = stored_files(settings.media_dir)
    assert len(files) >= 4
    for path in files:
        raw = path.read_bytes()
        assert b"Exif" not in raw and "Điện thoại".encode() not in raw, path
        with Image.open(path) as image:
            assert not image.getexif(), path
            assert image.info.get("exif") is None
    row = db.session.get(MediaItem, item["id"])
    with Image.open(settings.media_dir / row.path) as original:
        assert original.size == (200, 400)
        top, bottom = original.getpixel((100, 20)), original.getpixel((100, 380))
        assert top[0] > 200 and top[2] < 60, top  # the red half is on top once turned upright
        assert bottom[2] > 200 and bottom[0] < 60, bottom


def test_renditions_have_the_right_sizes(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    item = upload(api_as("editor"), image_bytes(size=(2000, 1500))).get_json()
    r = item["renditions"]
    assert (r["w480"]["width"], r["w480"]["height"]) == (480, 360)
    assert (r["w960"]["width"], r["w960"]["height"]) == (960, 720)
    assert (r["w1600"]["width"], r["w1600"]["height"]) == (1600, 1200)
    assert (r["social"]["width"], r["social"]["height"]) == (1200, 630)
    assert (r["youtube_thumb"]["width"], r["youtube_thumb"]["height"]) == (1280, 720)
    row = db.session.get(MediaItem, item["id"])
    for name, rendition in row.renditions.items():
        with Image.open(settings.media_dir / rendition["path"]) as image:
            assert image.size == (rendition["width"], rendition["height"]), name
            assert image.format == "JPEG"
    thumb = settings.media_dir / row.renditions["youtube_thumb"]["path"]
    assert thumb.stat().st_size < 2 * 1024 * 1024


def test_web_widths_are_never_upscaled(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    small = upload(api_as("editor"), image_bytes(size=(300, 200))).get_json()["renditions"]
    assert (small["w480"]["width"], small["w480"]["height"]) == (300, 200)
    assert "w960" not in small and "w1600" not in small
    assert (small["social"]["width"], small["youtube_thumb"]["width"]) == (1200, 1280)
    medium = upload(api_as("editor"), image_bytes(size=(960, 640))).get_json()["renditions"]
    assert medium["w960"]["width"] == 960 and "w1600" not in medium


def test_noisy_photo_youtube_thumbnail_stays_under_2_mb(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    noise = Image.frombytes("RGB", (1600, 900), os.urandom(1600 * 900 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    item = save_upload(io.BytesIO(buf.getvalue()), "noise.png", make_user("editor"), settings.media_dir,
                       MediaLimits(40 * 2**20, 40 * 2**20))
    thumb = settings.media_dir / item.renditions["youtube_thumb"]["path"]
    assert thumb.stat().st_size < 2 * 1024 * 1024


def test_png_with_alpha_is_flattened_on_white(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    image = Image.new("RGBA", (600, 400), (0, 0, 0, 0))
    image.paste((0, 128, 0, 255), (300, 0, 600, 400))
    buf = io.BytesIO()
    image.save(buf, "PNG")
    response = upload(api_as("editor"), buf.getvalue(), "logo.png")
    assert response.status_code == 201, response.get_json()
    row = db.session.get(MediaItem, response.get_json()["id"])
    assert row.kind == "image" and (row.width, row.height) == (600, 400)
    with Image.open(settings.media_dir / row.path) as original:
        assert original.mode == "RGB"
        assert min(original.getpixel((50, 200))) > 240  # transparent became white, not black
        assert original.getpixel((500, 200))[1] > 100


@pytest.mark.parametrize("fmt", ["WEBP", "GIF", "PNG"])
def test_other_image_formats(api_as, fmt) -> None:  # type: ignore[no-untyped-def]
    response = upload(api_as("editor"), image_bytes(fmt, size=(500, 300)), f"a.{fmt.lower()}")
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["kind"] == "image"


@pytest.mark.parametrize(("data", "name"), [
    (b"Xin chao, day khong phai la anh.\n" * 40, "anh.jpg"),
    (b"%PDF-1.4\n" + b"x" * 1000, "tai-lieu.jpg"),
    (b"\xff\xd8\xff\xe0" + b"\x00" * 500, "hong.jpg"),
    (b"", "rong.jpg"),
])
def test_what_is_not_an_image_is_refused(api_as, settings, data, name) -> None:  # type: ignore[no-untyped-def]
    response = upload(api_as("editor"), data, name)
    assert response.status_code == 422, response.get_json()
    assert "file" in response.get_json()["error"]["fields"]
    assert stored_files(settings.media_dir) == []
    assert db.session.scalar(select(db.func.count()).select_from(MediaItem)) == 0


def test_truncated_jpeg_is_refused(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    whole = image_bytes(size=(800, 600))
    noisy = Image.frombytes("RGB", (800, 600), os.urandom(800 * 600 * 3))
    buf = io.BytesIO()
    noisy.save(buf, "JPEG")
    for data in (whole[: len(whole) // 2], buf.getvalue()[: len(buf.getvalue()) // 3]):
        response = upload(api_as("editor"), data)
        assert response.status_code == 422, response.get_json()
        assert "file" in response.get_json()["error"]["fields"]
    assert stored_files(settings.media_dir) == []


@pytest.mark.parametrize(("width", "height"), [(20000, 20000), (100000, 100000), (9000, 9000)])
def test_decompression_bomb_is_refused_without_using_much_memory(api_as, settings, width, height) -> None:  # type: ignore[no-untyped-def]
    bomb = png_declaring(width, height)
    assert len(bomb) < 100
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    response = upload(api_as("editor"), bomb, "bom.png")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert response.status_code == 422, response.get_json()
    assert "file" in response.get_json()["error"]["fields"]
    assert grown_mb < 100
    assert stored_files(settings.media_dir) == []


# --- videos --------------------------------------------------------------------------------------------------


def mp4_bytes(size: int) -> bytes:
    head = struct.pack(">I", 24) + b"ftypisom" + b"\x00\x00\x02\x00" + b"isomiso2"
    return head + os.urandom(size - len(head))


class CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.reads: list[int] = []

    def read(self, size: int | None = -1) -> bytes:  # type: ignore[override]
        self.reads.append(-1 if size is None else size)
        return super().read(size)


def test_video_is_streamed_to_disk_in_chunks(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    data = mp4_bytes(5 * CHUNK + 123)
    stream = CountingStream(data)
    item = save_upload(stream, "clip.mp4", make_user("editor"), settings.media_dir,
                       MediaLimits(2**20, 50 * 2**20))
    assert item.kind == "video" and item.content_type == "video/mp4" and item.size_bytes == len(data)
    assert all(0 < size <= CHUNK for size in stream.reads), stream.reads  # never the whole file at once
    assert (settings.media_dir / item.path).read_bytes() == data


def test_video_upload_through_the_api(api_as, settings) -> None:  # type: ignore[no-untyped-def]
    data = mp4_bytes(3 * 2**20)
    response = upload(api_as("editor"), data, "Hội nghị.mp4")
    assert response.status_code == 201, response.get_json()
    item = response.get_json()
    assert item["kind"] == "video" and item["renditions"] == {} and item["bytes"] == len(data)
    row = db.session.get(MediaItem, item["id"])
    assert (settings.media_dir / row.path).read_bytes() == data


class TestSizeLimits:
    @pytest.fixture
    def app_config(self, app_config):  # type: ignore[no-untyped-def]
        return {**app_config, "max_image_mb": 1, "max_video_mb": 2}

    def test_oversize_image_is_413_and_leaves_nothing(self, api_as, settings) -> None:  # type: ignore[no-untyped-def]
        noise = Image.frombytes("RGB", (1000, 1000), os.urandom(1000 * 1000 * 3))
        buf = io.BytesIO()
        noise.save(buf, "PNG")
        assert len(buf.getvalue()) > 2**20
        response = upload(api_as("editor"), buf.getvalue(), "lon.png")
        assert response.status_code == 413, response.get_json()
        assert response.get_json()["error"]["code"] == "too_large"
        assert stored_files(settings.media_dir) == []
        assert db.session.scalar(select(db.func.count()).select_from(MediaItem)) == 0

    def test_oversize_video_is_413_and_leaves_nothing(self, api_as, settings) -> None:  # type: ignore[no-untyped-def]
        response = upload(api_as("editor"), mp4_bytes(3 * 2**20), "dai.mp4")
        assert response.status_code == 413, response.get_json()
        assert response.get_json()["error"]["code"] == "too_large"
        assert stored_files(settings.media_dir) == []
        assert db.session.scalar(select(db.func.count()).select_from(MediaItem)) == 0

    def test_within_limits_still_works(self, api_as) -> None:  # type: ignore[no-untyped-def]
        assert upload(api_as("editor"), mp4_bytes(2**20), "ngan.mp4").status_code == 201
        assert upload(api_as("editor"), image_bytes(size=(400, 300))).status_code == 201

    def test_a_request_over_the_whole_limit_is_413_json(self, api_as) -> None:  # type: ignore[no-untyped-def]
        response = upload(api_as("editor"), mp4_bytes(20 * 2**20), "qua-lon.mp4")
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "too_large"


def test_service_refuses_viewer_uploads(make_user, settings) -> None:  # type: ignore[no-untyped-def]
    from publisher.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        save_upload(io.BytesIO(image_bytes()), "a.jpg", make_user("viewer"), settings.media_dir,
                    MediaLimits(2**20, 2**20))
    with pytest.raises(TooLarge):
        save_upload(io.BytesIO(mp4_bytes(3 * 2**20)), "a.mp4", make_user("editor"), settings.media_dir,
                    MediaLimits(2**20, 2**20))
    with pytest.raises(ValidationFailed):
        save_upload(io.BytesIO(b"text"), "a.jpg", make_user("editor"), settings.media_dir, MediaLimits(2**20, 2**20))
    assert stored_files(settings.media_dir) == []
