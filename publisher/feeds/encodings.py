"""Telling the character encoding of a feed that declares none, Vietnamese code pages included.

A feed declares its encoding in the HTTP ``Content-Type`` charset, a byte order mark or its XML declaration. When
it declares none, feedparser falls back to windows-1252, and a Vietnamese feed in windows-1258 or VISCII comes out
as mojibake ("Công ðoàn tiÒnh…") without a complaint. Here, such a body is:

1. read as UTF-8 when it is valid UTF-8 (plain ASCII included): certain;
2. otherwise decoded as each Vietnamese legacy code page (windows-1258 and VISCII) and as charset-normalizer's best
   guess, and each reading is scored by how many of its accented words are well-formed Vietnamese syllables
   (known initial consonant, vowel group, final consonant, at most one tone mark). A wrong code page gives
   accented letters in impossible places, so the right one stands out; when no reading is clearly best, the
   best is used and the caller is told it is unsure.

charset-normalizer (the detector requests itself uses) knows neither VISCII (Python has no codec for it) nor
Vietnamese syllables, and it often calls windows-1258 text windows-1250 or windows-1252; hence the syllable check.
The VISCII codec below is registered under the name ``viscii`` (RFC 1456; its table was generated from glibc's
VISCII charmap).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

import charset_normalizer

# --- a VISCII codec (RFC 1456) ---------------------------------------------------------------------------

# VISCII keeps ASCII except six C0 positions that hold capital letters, and fills 0x80-0xFF with letters.
_VISCII_LOW = {0x02: "Ẳ", 0x05: "Ẵ", 0x06: "Ẫ", 0x14: "Ỷ", 0x19: "Ỹ", 0x1E: "Ỵ"}
_VISCII_HIGH = (
    "ẠẮẰẶẤẦẨẬẼẸẾỀỂỄỆỐỒỔỖỘỢỚỜỞỊỎỌỈỦŨỤỲ"
    "ÕắằặấầẩậẽẹếềểễệốồổỗỠƠộờởịỰỨỪỬơớƯ"
    "ÀÁÂÃẢĂẳẵÈÉÊẺÌÍĨỳĐứÒÓÔạỷừửÙÚỹỵÝỡư"
    "àáâãảăữẫèéêẻìíĩỉđựòóôõỏọụùúũủýợỮ"
)
VISCII_DECODING_TABLE = "".join(_VISCII_LOW.get(i, chr(i)) for i in range(128)) + _VISCII_HIGH
_VISCII_ENCODING_TABLE = codecs.charmap_build(VISCII_DECODING_TABLE)


class _VisciiCodec(codecs.Codec):
    def encode(self, input: str, errors: str = "strict") -> tuple[bytes, int]:  # noqa: A002
        return codecs.charmap_encode(unicodedata.normalize("NFC", input), errors, _VISCII_ENCODING_TABLE)

    def decode(self, input: bytes, errors: str = "strict") -> tuple[str, int]:  # noqa: A002
        return codecs.charmap_decode(input, errors, VISCII_DECODING_TABLE)


class _VisciiIncrementalEncoder(codecs.IncrementalEncoder):
    def encode(self, input: str, final: bool = False) -> bytes:  # noqa: A002
        return _VisciiCodec().encode(input, self.errors)[0]


class _VisciiIncrementalDecoder(codecs.IncrementalDecoder):
    def decode(self, input: bytes, final: bool = False) -> str:  # noqa: A002
        return _VisciiCodec().decode(input, self.errors)[0]


class _VisciiStreamWriter(_VisciiCodec, codecs.StreamWriter):
    pass


class _VisciiStreamReader(_VisciiCodec, codecs.StreamReader):
    pass


_VISCII_INFO = codecs.CodecInfo(
    name="viscii", encode=_VisciiCodec().encode, decode=_VisciiCodec().decode,
    incrementalencoder=_VisciiIncrementalEncoder, incrementaldecoder=_VisciiIncrementalDecoder,
    streamwriter=_VisciiStreamWriter, streamreader=_VisciiStreamReader,
)


def _search(name: str) -> codecs.CodecInfo | None:
    return _VISCII_INFO if name.replace("-", "").replace("_", "").lower() in ("viscii", "csviscii") else None


codecs.register(_search)


# --- is the encoding declared? ---------------------------------------------------------------------------

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
_XML_DECLARED = re.compile(rb"^\s*<\?xml[^>]*?\bencoding\s*=\s*[\"'][A-Za-z0-9._:-]+[\"']", re.IGNORECASE)
_CHARSET_PARAM = re.compile(r";\s*charset\s*=\s*\"?[A-Za-z0-9._:-]+", re.IGNORECASE)


def declares_encoding(body: bytes, content_type: str) -> bool:
    """True when the HTTP charset, a byte order mark or the XML declaration names the body's encoding (or the body
    is not ASCII-compatible, e.g. UTF-16 without a mark, which feedparser recognises by itself)."""
    if _CHARSET_PARAM.search(content_type or ""):
        return True
    if body.startswith(_BOMS) or b"\x00" in body[:4]:
        return True
    return _XML_DECLARED.match(body[:1024]) is not None


# --- scoring a reading as Vietnamese ---------------------------------------------------------------------

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}  # huyền, sắc, ngã, hỏi, nặng
_SYLLABLE = re.compile(
    r"^(ngh|ng|gh|gi|kh|nh|ph|qu|th|tr|ch|[bcdđghklmnprstvx])?"
    r"(?:[aăâeêioôơuưy]{1,3})"
    r"(ch|ng|nh|[cmnpt])?$"
)
_WORD = re.compile(r"[^\W\d_]+")
# Letters of Vietnamese beyond ASCII, without tone marks (tones are checked separately).
_VIETNAMESE_BASES = set("ăâđêôơư")


def _syllable_ok(word: str) -> bool:
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = sum(1 for ch in decomposed if ch in _TONES)
    if tones > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(ch for ch in decomposed if ch not in _TONES))
    if any(not ("a" <= ch <= "z") and ch not in _VIETNAMESE_BASES for ch in base):
        return False
    return _SYLLABLE.match(base) is not None


@dataclass(frozen=True)
class Reading:
    encoding: str
    text: str
    accented_words: int  # words with a letter beyond ASCII
    good_words: int  # of those, the well-formed Vietnamese syllables

    @property
    def score(self) -> float:
        """The share of accented words that are Vietnamese syllables, less a penalty for control characters."""
        if not self.accented_words:
            return 0.0
        controls = sum(1 for ch in self.text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r")
        return self.good_words / self.accented_words - controls / max(self.accented_words, 1)


def read_as(body: bytes, encoding: str) -> Reading | None:
    """The body decoded as ``encoding`` (NFC: windows-1258 writes tones as combining marks), scored; None when the
    bytes are not valid in it."""
    try:
        text = unicodedata.normalize("NFC", body.decode(encoding))
    except (UnicodeDecodeError, LookupError):
        return None
    accented = good = 0
    for word in _WORD.findall(text):
        if word.isascii():
            continue
        accented += 1
        good += _syllable_ok(word)
    return Reading(encoding=encoding, text=text, accented_words=accented, good_words=good)


# --- detection -------------------------------------------------------------------------------------------

VIETNAMESE_CODE_PAGES = ("windows-1258", "viscii")
CONFIDENT_SCORE = 0.9  # at least this share of accented words are syllables…
CONFIDENT_MARGIN = 0.2  # …and the runner-up is this much worse (or reads the same text)
MIN_WORDS = 3  # fewer accented words than this cannot tell code pages apart
LOOKS_VIETNAMESE = 0.5  # below this share of syllables, the text is not Vietnamese in any of its code pages


@dataclass(frozen=True)
class Detection:
    encoding: str
    text: str
    confident: bool


def detect(body: bytes) -> Detection:
    """The most likely encoding of a body that declares none, its text, and whether the choice is clear."""
    try:
        return Detection("utf-8", unicodedata.normalize("NFC", body.decode("utf-8")), True)
    except UnicodeDecodeError:
        pass
    readings = [r for r in (read_as(body, name) for name in VIETNAMESE_CODE_PAGES) if r is not None]
    readings.sort(key=lambda r: r.score, reverse=True)
    guess = charset_normalizer.from_bytes(body).best()
    general = read_as(body, guess.encoding) if guess is not None else None
    if not readings or readings[0].score < LOOKS_VIETNAMESE:
        # Not Vietnamese: charset-normalizer's answer stands, as sure as it is.
        if general is not None and guess is not None:
            return Detection(general.encoding, general.text, guess.chaos < 0.1 and guess.coherence > 0.1)
        fallback = readings[0].encoding if readings else "windows-1258"
        return Detection(fallback, unicodedata.normalize("NFC", body.decode(fallback, "replace")), False)
    best = readings[0]
    if general is not None and general.encoding.replace("_", "-") not in ("cp1258", "windows-1258"):
        readings.append(general)
    rivals = sorted((r for r in readings[1:] if r.text != best.text), key=lambda r: r.score, reverse=True)
    margin = best.score - rivals[0].score if rivals else 1.0
    confident = best.accented_words >= MIN_WORDS and best.score >= CONFIDENT_SCORE and margin >= CONFIDENT_MARGIN
    return Detection(best.encoding, best.text, confident)
