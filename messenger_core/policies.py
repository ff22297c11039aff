"""Pure rules: what valid input looks like, who may do what, paging bounds, media kinds.

Each rule is a named function with its own unit tests; use cases call them instead of
spelling the rule out inline. Validators add to a ``FieldErrors`` so that a form learns
about every bad field at once; the others raise a domain error themselves.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence, Set
from datetime import datetime, timedelta

from .errors import Conflict, FieldErrors, Forbidden, Invalid, field
from .limits import (
    ABOUT_MAX,
    AGE_MAX,
    AGE_MIN,
    ATTACHMENTS_MAX,
    CITY_MAX,
    EMAIL_MAX,
    FILE_NAME_MAX,
    FORWARD_CHATS_MAX,
    GROUP_TITLE_MAX,
    LAST_SEEN_RECENTLY_DAYS,
    LAST_SEEN_WEEK_DAYS,
    MESSAGE_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    PINS_MAX,
    REACTION_MAX_LENGTH,
    REACTIONS_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
    USERNAME_PATTERN,
)
from .model import AttachmentKind, Chat, ChatMember, MemberRole, Message, MessageKind, Visibility
from .normalize import clean_name, clean_text

# The one definition of a plausible address (the OpenAPI document states the same pattern).
EMAIL_PATTERN = r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$"
PHONE_EXAMPLE = "+79161234567"
_EMAIL = re.compile(EMAIL_PATTERN)
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")


def has_control_characters(text: str) -> bool:
    return any(unicodedata.category(c).startswith("C") for c in text)


# --- profile fields ---------------------------------------------------------------


def check_name(errors: FieldErrors, name: str, value: str) -> str:
    cleaned = clean_name(value)
    if not cleaned:
        errors.add(name, "empty")
    elif len(cleaned) > NAME_MAX:
        errors.add(name, "too_long", max=NAME_MAX)
    elif has_control_characters(cleaned):
        errors.add(name, "control_characters")
    return cleaned


def check_email(errors: FieldErrors, name: str, value: str) -> str:
    email = value.strip()
    if len(email) > EMAIL_MAX or not _EMAIL.match(email):
        errors.add(name, "invalid_email")
    return email


def check_password(errors: FieldErrors, name: str, value: str) -> str:
    if len(value) < PASSWORD_MIN:
        errors.add(name, "too_short", min=PASSWORD_MIN)
    elif len(value) > PASSWORD_MAX:
        errors.add(name, "too_long", max=PASSWORD_MAX)
    return value


def check_phone(errors: FieldErrors, name: str, value: str) -> str:
    phone = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE.match(phone):
        errors.add(name, "invalid_phone", example=PHONE_EXAMPLE)
    return phone


def check_age(errors: FieldErrors, name: str, value: int) -> int:
    if isinstance(value, bool) or not AGE_MIN <= value <= AGE_MAX:
        errors.add(name, "out_of_range", min=AGE_MIN, max=AGE_MAX)
    return value


def check_length(errors: FieldErrors, name: str, value: str, maximum: int) -> str:
    text = value.strip()
    if len(text) > maximum:
        errors.add(name, "too_long", max=maximum)
    return text


def check_city(errors: FieldErrors, value: str) -> str | None:
    return check_length(errors, "city", value, CITY_MAX) or None


def check_about(errors: FieldErrors, value: str) -> str | None:
    return check_length(errors, "additional_inf", value, ABOUT_MAX) or None


_USERNAME = re.compile(USERNAME_PATTERN)


def check_username(errors: FieldErrors, name: str, value: str) -> str:
    """A username folded to lower case: USERNAME_MIN to USERNAME_MAX of a-z, 0-9 and _."""
    username = value.strip().lower()
    if not _USERNAME.match(username):
        errors.add(name, "invalid_username", min=USERNAME_MIN, max=USERNAME_MAX)
    return username


def check_paging(start: int, limit: int, maximum: int) -> None:
    errors = FieldErrors()
    if start < 0:
        errors.add("start", "negative")
    check_limit(errors, limit, maximum)
    errors.raise_if_any()


def check_limit(errors: FieldErrors, limit: int, maximum: int) -> None:
    if not 1 <= limit <= maximum:
        errors.add("limit", "out_of_range", min=1, max=maximum)


# --- messages ---------------------------------------------------------------------


def check_message_content(
    errors: FieldErrors,
    text: str | None,
    *,
    sticker_id: int | None = None,
    attachment_ids: Sequence[int] = (),
) -> str | None:
    """The cleaned text of a message about to be sent or saved.

    A message holds text, a sticker or files (at least one); text is at most MESSAGE_MAX
    characters after trimming; files are at most ATTACHMENTS_MAX, each named once.
    """
    cleaned = clean_text(text or "") or None
    if cleaned is None and sticker_id is None and not attachment_ids:
        errors.add("text", "nothing_to_send")
    if cleaned is not None and len(cleaned) > MESSAGE_MAX:
        errors.add("text", "too_long", max=MESSAGE_MAX)
    if len(attachment_ids) > ATTACHMENTS_MAX:
        errors.add("attachment_ids", "too_many_attachments", max=ATTACHMENTS_MAX)
    elif len(set(attachment_ids)) != len(attachment_ids):
        errors.add("attachment_ids", "duplicate_attachment")
    return cleaned


def check_may_change(message: Message, actor_id: int) -> None:
    """Only its author edits a message, and nobody edits what the system wrote."""
    if message.kind is MessageKind.SYSTEM:
        raise Conflict("system_message")
    if message.sender_id != actor_id:
        raise Forbidden("not_author")


def check_may_edit(message: Message, actor_id: int, now: datetime, window: timedelta | None) -> None:
    """Its author edits a live message within ``window`` of sending it (None: always)."""
    check_may_change(message, actor_id)
    if message.is_deleted:
        raise Conflict("message_deleted")
    if window is not None and now - message.sending_date > window:
        raise Conflict("edit_window_passed", hours=round(window.total_seconds() / 3600))


def check_live_user_message(message: Message) -> None:
    """Replies, forwards, reactions and pins take a live message a member wrote."""
    if message.kind is MessageKind.SYSTEM:
        raise Conflict("system_message")
    if message.is_deleted:
        raise Conflict("message_deleted")


def check_forward_targets(errors: FieldErrors, chat_ids: Sequence[int]) -> list[int]:
    """At least one chat, at most FORWARD_CHATS_MAX; each counts once."""
    targets = list(dict.fromkeys(chat_ids))
    if not targets:
        errors.add("chat_ids", "no_chats")
    elif len(targets) > FORWARD_CHATS_MAX:
        errors.add("chat_ids", "too_many_chats", max=FORWARD_CHATS_MAX)
    return targets


def check_reaction(emoji: str | None) -> str:
    """A reaction is one emoji (the catalogue's canonical form, or None for anything else)."""
    if emoji is None:
        raise Invalid({"emoji": field("not_an_emoji")})
    return emoji


def reaction_candidate(text: str) -> str | None:
    """The text worth asking the emoji catalogue about: short, without white space."""
    text = text.strip()
    return text if 0 < len(text) <= REACTION_MAX_LENGTH else None


def check_room_for_reaction(emoji: str, present: Set[str]) -> None:
    """A message has at most REACTIONS_MAX distinct emoji (one already there is fine)."""
    if emoji not in present and len(present) >= REACTIONS_MAX:
        raise Conflict("too_many_reactions", max=REACTIONS_MAX)


def check_may_pin(chat: Chat, member: ChatMember) -> None:
    """Either member pins in a direct chat; in a group, its owner and admins."""
    if chat.is_group:
        check_manages(member)


def check_room_for_pin(pinned: int) -> None:
    if pinned >= PINS_MAX:
        raise Conflict("too_many_pins", max=PINS_MAX)


def check_may_delete(message: Message, actor: ChatMember, *, in_group: bool) -> None:
    """The author deletes their message for everyone; in a group, its owner and admins
    may delete anyone's (a moderation tombstone names them)."""
    if message.kind is MessageKind.SYSTEM:
        raise Conflict("system_message")
    if message.sender_id != actor.user_id and not (in_group and actor.manages):
        raise Forbidden("not_author")


# --- groups -----------------------------------------------------------------------


def check_group_title(errors: FieldErrors, value: str) -> str:
    """1 to GROUP_TITLE_MAX characters after trimming, no control characters."""
    title = clean_name(value)
    if not title:
        errors.add("title", "empty")
    elif len(title) > GROUP_TITLE_MAX:
        errors.add("title", "too_long", max=GROUP_TITLE_MAX)
    elif has_control_characters(title):
        errors.add("title", "control_characters")
    return title


def check_group_size(count: int, maximum: int, *, field_name: str = "user_ids") -> None:
    """At most ``maximum`` members; the error names the request's field of new members."""
    if count > maximum:
        raise Invalid({field_name: field("group_full", max=maximum)})


def check_manages(member: ChatMember) -> None:
    """Members, title, photo and settings are the owner's and the admins' to change."""
    if not member.manages:
        raise Forbidden("not_group_admin")


def check_owner(member: ChatMember) -> None:
    """Roles are the owner's to give."""
    if member.role is not MemberRole.OWNER:
        raise Forbidden("not_group_owner")


def check_may_remove(actor: ChatMember, target: ChatMember) -> None:
    """The owner removes anyone; an admin removes members, not the owner or other admins."""
    check_manages(actor)
    if actor.role is MemberRole.ADMIN and target.role is not MemberRole.MEMBER:
        raise Forbidden("cannot_remove_admin")


def next_owner(members: Sequence[ChatMember]) -> ChatMember | None:
    """Who owns the group after its owner leaves: the longest-standing admin, else the
    longest-standing member (ties by who joined first by id)."""

    def seniority(member: ChatMember) -> tuple[bool, float, int]:
        joined = member.joined_date.timestamp() if member.joined_date else 0.0
        return (member.role is not MemberRole.ADMIN, joined, member.user_id)

    return min(members, key=seniority, default=None)


def check_not_self(actor_public_id: str, user_id: str) -> None:
    """Befriending or chatting with yourself makes no sense."""
    if user_id == actor_public_id:
        raise Invalid({"user_id": field("own_id")})


# --- privacy ----------------------------------------------------------------------


def _allows(setting: Visibility, *, friends: bool) -> bool:
    return setting is Visibility.EVERYBODY or (setting is Visibility.FRIENDS and friends)


def sees_presence(subject: Visibility, viewer: Visibility, *, friends: bool) -> bool:
    """Whether a viewer sees someone's online status and exact last-seen time: the
    person's setting must allow the viewer, and, reciprocally, the viewer's own setting
    must allow the person (who hides theirs sees nobody's). Blocks are decided before."""
    return _allows(subject, friends=friends) and _allows(viewer, friends=friends)


def fuzzy_last_seen(last_seen: datetime | None, now: datetime) -> str:
    """A hidden last-seen time as a word: recently, within_week or long_ago."""
    if last_seen is not None and now - last_seen <= timedelta(days=LAST_SEEN_RECENTLY_DAYS):
        return "recently"
    if last_seen is not None and now - last_seen <= timedelta(days=LAST_SEEN_WEEK_DAYS):
        return "within_week"
    return "long_ago"


def minute_of(moment: datetime) -> datetime:
    """A time as last seen is kept: to the minute."""
    return moment.replace(second=0, microsecond=0)


# --- files ------------------------------------------------------------------------


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
