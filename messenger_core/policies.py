"""Pure rules: what valid input looks like, who may do what, paging bounds, media kinds."""

from __future__ import annotations

import re
import unicodedata

from .errors import Invalid
from .model import AttachmentKind
from .normalize import clean_name

NAME_MAX = 64
CITY_MAX = 100
ABOUT_MAX = 1000
PASSWORD_MIN = 8
PASSWORD_MAX = 1024  # bounds the hashing work one request can ask for
EMAIL_MAX = 254
AGE_RANGE = (1, 150)
MESSAGE_MAX = 4096
ATTACHMENTS_MAX = 10
FILE_NAME_MAX = 255
SEARCH_LIMIT_MAX = 20
HISTORY_LIMIT_DEFAULT = 50
HISTORY_LIMIT_MAX = 100
ALTERNATIVE_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789_"
ALTERNATIVE_ID_LENGTH = 16

_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


class FieldErrors:
    """Collects per-field messages and raises them together."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, field: str, message: str) -> None:
        self.fields.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.fields:
            raise Invalid(self.fields)


def check_name(errors: FieldErrors, field: str, value: str) -> str:
    name = clean_name(value)
    if not name:
        errors.add(field, "Must not be empty")
    elif len(name) > NAME_MAX:
        errors.add(field, f"At most {NAME_MAX} characters")
    elif any(unicodedata.category(c).startswith("C") for c in name):
        errors.add(field, "Must not contain control characters")
    return name


def check_email(errors: FieldErrors, field: str, value: str) -> str:
    email = value.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        errors.add(field, "Not a valid email address")
    return email


def check_password(errors: FieldErrors, field: str, value: str) -> str:
    if len(value) < PASSWORD_MIN:
        errors.add(field, f"At least {PASSWORD_MIN} characters")
    elif len(value) > PASSWORD_MAX:
        errors.add(field, f"At most {PASSWORD_MAX} characters")
    return value


def check_phone(errors: FieldErrors, field: str, value: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.match(phone):
        errors.add(field, "Use the international form, e.g. +79161234567")
    return phone


def check_age(errors: FieldErrors, field: str, value: int) -> int:
    low, high = AGE_RANGE
    if isinstance(value, bool) or not low <= value <= high:
        errors.add(field, f"Must be a whole number from {low} to {high}")
    return value


def check_length(errors: FieldErrors, field: str, value: str, maximum: int) -> str:
    text = value.strip()
    if len(text) > maximum:
        errors.add(field, f"At most {maximum} characters")
    return text


def check_paging(start: int, limit: int, maximum: int) -> None:
    errors = FieldErrors()
    if start < 0:
        errors.add("start", "Must not be negative")
    if not 1 <= limit <= maximum:
        errors.add("limit", f"Must be from 1 to {maximum}")
    errors.raise_if_any()


def clean_file_name(name: str | None) -> str:
    """A display name for an upload: no folders, no control characters, bounded."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if not unicodedata.category(c).startswith("C")).strip()
    if len(base) > FILE_NAME_MAX:
        _, dot, ext = base.rpartition(".")
        keep = ext if dot and len(ext) <= 16 else ""
        base = base[: FILE_NAME_MAX - len(keep) - 1] + ("." + keep if keep else "")
    return base or "file"


# Magic numbers decide an upload's kind, never its name or the client's type.
_SIGNATURES: tuple[tuple[int, bytes, AttachmentKind, str], ...] = (
    (0, b"\x89PNG\r\n\x1a\n", AttachmentKind.PHOTO, "image/png"),
    (0, b"\xff\xd8\xff", AttachmentKind.PHOTO, "image/jpeg"),
    (0, b"GIF87a", AttachmentKind.PHOTO, "image/gif"),
    (0, b"GIF89a", AttachmentKind.PHOTO, "image/gif"),
    (0, b"\x1a\x45\xdf\xa3", AttachmentKind.VIDEO, "video/webm"),
    (0, b"OggS", AttachmentKind.AUDIO, "audio/ogg"),
    (0, b"ID3", AttachmentKind.AUDIO, "audio/mpeg"),
    (0, b"fLaC", AttachmentKind.AUDIO, "audio/flac"),
    (0, b"%PDF-", AttachmentKind.FILE, "application/pdf"),
)

# Major brands of the ISO base media format (the "ftyp" box) that are not video.
_AUDIO_BRANDS = (b"M4A ", b"M4B ", b"M4P ")
_STILL_IMAGE_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"heim": "image/heic",
    b"heis": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
    b"avis": "image/avif",
}


def sniff_media(head: bytes) -> tuple[AttachmentKind, str]:
    """The kind and MIME type of a file from its first bytes (at least 16 of them)."""
    for offset, magic, kind, mime in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return kind, mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return AttachmentKind.PHOTO, "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return AttachmentKind.AUDIO, "audio/wav"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _AUDIO_BRANDS:
            return AttachmentKind.AUDIO, "audio/mp4"
        if brand in _STILL_IMAGE_BRANDS:  # HEIC/AVIF share the MP4 box format: not a video
            return AttachmentKind.FILE, _STILL_IMAGE_BRANDS[brand]
        return AttachmentKind.VIDEO, "video/mp4"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return AttachmentKind.AUDIO, "audio/mpeg"  # an MPEG audio frame without ID3
    return AttachmentKind.FILE, "application/octet-stream"
