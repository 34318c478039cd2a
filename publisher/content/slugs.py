"""Vietnamese-aware URL slugs: "Đẩy mạnh chuyển đổi số" -> ``day-manh-chuyen-doi-so``."""

from __future__ import annotations

import re
import unicodedata

from slugify import slugify as _slugify

MAX_SLUG_LENGTH = 120
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


def make_slug(text: str) -> str:
    # python-slugify maps đ/Đ to d and strips the tone marks; NFC first so NFD input gives the same.
    text = unicodedata.normalize("NFC", text or "")
    return _slugify(text, max_length=MAX_SLUG_LENGTH, word_boundary=True, save_order=True) or "bai-viet"


def is_valid_slug(slug: str) -> bool:
    return bool(SLUG_RE.match(slug or "")) and len(slug) <= MAX_SLUG_LENGTH
