"""Uploaded media: images checked and rendered per channel with Pillow, videos streamed to disk in chunks (and a
poster frame taken from them with ffmpeg).

Files live under the media folder as ``YYYY/MM/<token>/<name>``; rows keep paths relative to it.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
import shutil
import subprocess
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import imageio_ffmpeg
from flask_babel import lazy_gettext as _l
from PIL import Image, ImageOps, UnidentifiedImageError

from publisher.accounts.models import User
from publisher.accounts.services import require_role
from publisher.audit import record
from publisher.content.models import MediaItem
from publisher.content.sanitize import clean_text
from publisher.db import db, utcnow
from publisher.errors import TooLarge, ValidationFailed

log = logging.getLogger(__name__)

CHUNK = 1024 * 1024
MAX_PIXELS = 60_000_000  # 60 MP: any real photo; far below what a decompression bomb expands to
CAPTION_MAX = 2000
ALT_TEXT_MAX = 500
# MPO is how Pillow names the JPEG files many phones write (a JPEG with extra pictures appended).
IMAGE_FORMATS = {"JPEG": ("image/jpeg", "jpg"), "MPO": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"),
                 "WEBP": ("image/webp", "webp"), "GIF": ("image/gif", "gif")}
WEB_WIDTHS = (480, 960, 1600)
SOCIAL_CARD = (1200, 630)
YOUTUBE_THUMB = (1280, 720)
YOUTUBE_THUMB_MAX_BYTES = 2 * 1024 * 1024
POSTER_WIDTHS = {"poster": 1280, "poster_w480": 480}  # a video's poster frame: renditions of one early frame
POSTER_SEEKS = ("1", "0")  # a frame one second in (past a black first frame), or the first of a shorter video
POSTER_TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class MediaLimits:
    max_image_bytes: int
    max_video_bytes: int


def sniff_video(head: bytes) -> tuple[str, str] | None:
    """(content type, extension) of a video container recognised from its first bytes, or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand == b"qt  ":
            return "video/quicktime", "mov"
        return "video/mp4", "mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm", "webm"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "video/x-msvideo", "avi"
    if head.startswith(b"\x00\x00\x01\xba") or head.startswith(b"\x00\x00\x01\xb3"):
        return "video/mpeg", "mpg"
    return None


def sniff_image(head: bytes) -> bool:
    """Whether the first bytes are those of a JPEG, PNG, GIF or WebP file (the formats Loa keeps)."""
    return (head.startswith(b"\xff\xd8\xff") or head.startswith(b"\x89PNG\r\n\x1a\n")
            or head[:6] in (b"GIF87a", b"GIF89a") or (head.startswith(b"RIFF") and head[8:12] == b"WEBP"))


HEAD_BYTES = 16  # enough for every magic number above
MULTIPART_SLACK = 64 * 1024  # what a multipart request carries besides the file: boundaries, caption, alt text


def _mb(limit: int) -> int:
    return max(1, limit // (1024 * 1024))


def check_declared_size(content_length: int | None, limits: MediaLimits) -> None:
    """Refuse (413) a request whose declared length is over the largest upload allowed, before its body is read."""
    largest = max(limits.max_image_bytes, limits.max_video_bytes)
    if content_length is not None and content_length > largest + MULTIPART_SLACK:
        raise TooLarge(_l("The file is larger than the %(mb)s MB allowed.", mb=_mb(largest)))


def check_first_bytes(head: bytes, limits: MediaLimits, content_length: int | None = None) -> str:
    """The kind (``image`` or ``video``) of an upload from its first bytes, before anything is stored: a file that is
    neither is refused (422), and one whose request declares more than that kind's limit is refused (413)."""
    if sniff_video(head) is not None:
        kind, limit, message = "video", limits.max_video_bytes, _l("The video is larger than the %(mb)s MB allowed.",
                                                                   mb=_mb(limits.max_video_bytes))
    elif sniff_image(head):
        kind, limit, message = "image", limits.max_image_bytes, _l("The image is larger than the %(mb)s MB allowed.",
                                                                   mb=_mb(limits.max_image_bytes))
    else:
        raise ValidationFailed({"file": _l("This file is not an image or video Loa can use: use JPEG, PNG, WebP or "
                                           "GIF pictures, or MP4, MOV, WebM, AVI or MPEG videos.")})
    if content_length is not None and content_length > limit + MULTIPART_SLACK:
        raise TooLarge(message)
    return kind


def _relative_dir(media_dir: Path) -> tuple[Path, str]:
    now = utcnow()
    rel = f"{now:%Y}/{now:%m}/{secrets.token_hex(8)}"
    full = media_dir / rel
    full.mkdir(parents=True, exist_ok=True)
    return full, rel


def _copy_limited(stream: IO[bytes], target: Path, limit: int, head: bytes = b"") -> int:
    """Copy ``stream`` to ``target`` in 1 MB chunks; past ``limit`` bytes the file is removed and TooLarge raised."""
    written = 0
    with open(target, "wb") as out:
        if head:
            out.write(head)
            written = len(head)
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            written += len(chunk)
            if written > limit:
                out.close()
                target.unlink(missing_ok=True)
                raise TooLarge(_l("The file is larger than the %(mb)s MB allowed.", mb=limit // (1024 * 1024)))
            out.write(chunk)
    return written


def _open_image(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data": the pixels may still be fine
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            image = Image.open(io.BytesIO(data))
            if image.format not in IMAGE_FORMATS:
                raise ValidationFailed({"file": _l("Unsupported image format %(f)s: use JPEG, PNG, WebP or GIF.",
                                                   f=image.format)})
            if image.width * image.height > MAX_PIXELS:
                raise ValidationFailed({"file": _l("The image is too large in pixels (%(w)s×%(h)s).",
                                                   w=image.width, h=image.height)})
            image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            raise ValidationFailed({"file": _l("The image is too large in pixels to be safe to open.")}) from None
        except UnidentifiedImageError:
            raise ValidationFailed({"file": _l("This file is not an image or video Loa can use.")}) from None
        except ValidationFailed:
            raise
        except Exception as exc:  # noqa: BLE001 - a damaged file trips Pillow's decoders in many ways
            log.info("corrupt image upload: %s: %s", exc.__class__.__name__, exc)
            raise ValidationFailed({"file": _l("The image file is damaged and cannot be read.")}) from None
    return image


def _to_rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _upright_rgb(image: Image.Image) -> Image.Image:
    """The pixels turned as the camera meant them, as RGB; a broken EXIF block only loses the turn."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data" is handled here, not a warning for the log
            oriented = ImageOps.exif_transpose(image)
    except Exception:  # noqa: BLE001 - malformed EXIF comes in many shapes; the pixels are still good
        log.info("ignoring unreadable EXIF orientation")
        oriented = image
    try:
        return _to_rgb(oriented)
    except (OSError, ValueError) as exc:
        log.info("image cannot be converted: %s", exc)
        raise ValidationFailed({"file": _l("The image file is damaged and cannot be read.")}) from None


def _save_jpeg(image: Image.Image, path: Path, quality: int = 85) -> int:
    image.save(path, "JPEG", quality=quality, optimize=True, progressive=True)
    return path.stat().st_size


def make_renditions(image: Image.Image, folder: Path, rel: str) -> dict[str, Any]:
    """The per-channel renditions of an already oriented, EXIF-free RGB image."""
    renditions: dict[str, Any] = {}
    for width in WEB_WIDTHS:
        if width > image.width and width != WEB_WIDTHS[0]:  # never upscaled: the smallest one is enough
            continue
        copy = image.copy()
        if copy.width > width:
            copy.thumbnail((width, width * 10), Image.Resampling.LANCZOS)
        name = f"w{width}.jpg"
        size = _save_jpeg(copy, folder / name)
        renditions[f"w{width}"] = {"path": f"{rel}/{name}", "width": copy.width, "height": copy.height,
                                   "bytes": size, "content_type": "image/jpeg"}
    social = ImageOps.fit(image, SOCIAL_CARD, Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    size = _save_jpeg(social, folder / "social.jpg")
    renditions["social"] = {"path": f"{rel}/social.jpg", "width": SOCIAL_CARD[0], "height": SOCIAL_CARD[1],
                            "bytes": size, "content_type": "image/jpeg"}
    thumb = ImageOps.fit(image, YOUTUBE_THUMB, Image.Resampling.LANCZOS, centering=(0.5, 0.4))
    quality = 90
    size = _save_jpeg(thumb, folder / "youtube_thumb.jpg", quality)
    while size >= YOUTUBE_THUMB_MAX_BYTES and quality > 30:
        quality -= 10
        size = _save_jpeg(thumb, folder / "youtube_thumb.jpg", quality)
    renditions["youtube_thumb"] = {"path": f"{rel}/youtube_thumb.jpg", "width": YOUTUBE_THUMB[0],
                                   "height": YOUTUBE_THUMB[1], "bytes": size, "content_type": "image/jpeg"}
    return renditions


def make_poster(video: Path, folder: Path, rel: str) -> dict[str, Any]:
    """The poster-frame renditions of a stored video (``poster``, ``poster_w480``: JPEG), made with the ffmpeg that
    the imageio-ffmpeg package ships; ``{}`` when ffmpeg finds no frame (a damaged or unusual file: the video stays
    usable, it only has no picture)."""
    frame = folder / "poster-frame.png"
    try:
        ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
        for seek in POSTER_SEEKS:
            subprocess.run([ffmpeg, "-v", "error", "-nostdin", "-y", "-ss", seek, "-i", str(video), "-frames:v", "1",
                            "-f", "image2", "-c:v", "png", str(frame)],
                           capture_output=True, timeout=POSTER_TIMEOUT_SECONDS, check=False)
            if frame.is_file() and frame.stat().st_size:
                break
        else:
            log.info("no poster frame for %s", video.name)
            return {}
        with Image.open(frame) as image:
            picture = _to_rgb(image)
    except (OSError, RuntimeError, subprocess.SubprocessError, UnidentifiedImageError) as exc:
        log.info("no poster frame for %s: %s", video.name, exc)
        return {}
    finally:
        frame.unlink(missing_ok=True)
    renditions: dict[str, Any] = {}
    for name, width in POSTER_WIDTHS.items():
        copy = picture.copy()
        if copy.width > width:
            copy.thumbnail((width, width * 10), Image.Resampling.LANCZOS)
        size = _save_jpeg(copy, folder / f"{name}.jpg")
        renditions[name] = {"path": f"{rel}/{name}.jpg", "width": copy.width, "height": copy.height,
                            "bytes": size, "content_type": "image/jpeg"}
    return renditions


def save_upload(
    stream: IO[bytes],
    filename: str,
    user: User,
    media_dir: Path,
    limits: MediaLimits,
    *,
    caption: str = "",
    alt_text: str = "",
) -> MediaItem:
    """Store an uploaded image or video for the user's unit and return its (flushed) row."""
    require_role(user, "editor", user.unit)
    head = stream.read(64)
    if not head:
        raise ValidationFailed({"file": _l("The file is empty.")})
    filename = os.path.basename(filename or "")[:200]
    check_first_bytes(head, limits)  # nothing is read further, nor stored, for a file that is no picture or video
    video = sniff_video(head)
    folder, rel = _relative_dir(media_dir)
    try:
        if video is not None:
            content_type, ext = video
            target = folder / f"original.{ext}"
            size = _copy_limited(stream, target, limits.max_video_bytes, head)
            renditions = make_poster(target, folder, rel)
            poster = renditions.get("poster") or {}
            item = MediaItem(kind="video", content_type=content_type, path=f"{rel}/original.{ext}", size_bytes=size,
                             width=poster.get("width"), height=poster.get("height"), renditions=renditions)
        else:
            # Images are small enough to check in memory, but never more than the image limit is read.
            data = bytearray(head)
            while True:
                chunk = stream.read(CHUNK)
                if not chunk:
                    break
                data.extend(chunk)
                if len(data) > limits.max_image_bytes:
                    raise TooLarge(_l("The image is larger than the %(mb)s MB allowed.",
                                      mb=limits.max_image_bytes // (1024 * 1024)))
            image = _open_image(bytes(data))
            fmt = image.format or "JPEG"
            content_type, ext = IMAGE_FORMATS[fmt]
            rgb = _upright_rgb(image)
            # The stored original is re-encoded from pixels only: no EXIF, no GPS, no embedded thumbnails.
            original_path = folder / "original.jpg"
            size = _save_jpeg(rgb, original_path, quality=92)
            renditions = make_renditions(rgb, folder, rel)
            item = MediaItem(kind="image", content_type="image/jpeg", path=f"{rel}/original.jpg", size_bytes=size,
                             width=rgb.width, height=rgb.height, renditions=renditions)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    item.unit_id = user.unit_id
    item.uploaded_by_id = user.id
    item.original_filename = filename
    item.caption = clean_text(caption)[:2000]
    item.alt_text = clean_text(alt_text)[:500]
    db.session.add(item)
    db.session.flush()
    record(user, "media.upload", item, kind=item.kind, filename=filename, bytes=item.size_bytes)
    return item


def update_media(item: MediaItem, user: User, *, caption: str | None = None, alt_text: str | None = None) -> MediaItem:
    from publisher.accounts.services import get_unit

    require_role(user, "editor", get_unit(item.unit_id))
    problems = {name: [_l("At most %(n)s characters.", n=limit)]
                for name, value, limit in (("caption", caption, CAPTION_MAX), ("alt_text", alt_text, ALT_TEXT_MAX))
                if value is not None and len(value) > limit}
    if problems:
        raise ValidationFailed(problems)
    if caption is not None:
        item.caption = clean_text(caption)
    if alt_text is not None:
        item.alt_text = clean_text(alt_text)
    record(user, "media.update", item)
    return item


def media_path(media_dir: Path, relative: str) -> Path:
    """The absolute path of a stored media file; refuses paths that would leave the media folder."""
    full = (media_dir / relative).resolve()
    if not str(full).startswith(str(media_dir.resolve()) + os.sep):
        raise ValueError("path outside the media folder")
    return full
