"""Typed domain errors, each with a stable code, parameters and an English message.

No HTTP numbers here: the web edge maps each category once. No prose for a client to
parse either: a client reads ``code`` and ``params`` (``too_long {max: 4096}``) and says
it in its reader's language; ``message`` is the English form, for logs and API users.

Every code a category may carry is declared in its ``CODES`` table with its English
template, so a typo fails where the error is raised and a translation catalogue can be
checked against the full list (``all_codes``). Per-field codes live in ``FIELD_CODES``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, ClassVar

import attrs

# Per-field validation codes and their English templates.
FIELD_CODES: Mapping[str, str] = {
    "required": "Required",
    "empty": "Must not be empty",
    "too_long": "At most {max} characters",
    "too_short": "At least {min} characters",
    "control_characters": "Must not contain control characters",
    "invalid_email": "Not a valid email address",
    "invalid_phone": "Use the international form, e.g. {example}",
    "out_of_range": "Must be a whole number from {min} to {max}",
    "negative": "Must not be negative",
    "email_taken": "This email is already registered",
    "old_password_required": "Enter your current password to change email or password",
    "own_id": "This is your own id",
    "nothing_to_send": "A message needs text, a sticker or a file",
    "too_many_attachments": "At most {max} attachments",
    "duplicate_attachment": "An attachment is listed twice",
    "not_your_upload": "Attachment {id} is not an unsent upload of yours",
    "no_such_sticker": "There is no such sticker",
    "chat_or_receiver": "Name the chat (chat_id) or the receiver (receiver_id)",
    "before_and_after": "Use before or after, not both",
    "around_alone": "Use around without before, after or since",
    "not_an_image": "Not an image: use PNG, JPEG, WebP or GIF",
    "file_not_an_image": "{name} is not an image",
    "pack_empty": "A pack needs at least one image",
    "image_too_large": "The image is too large: at most {max_pixels} pixels",
    "group_full": "A group has at most {max} members",
    "not_a_member": "Not a member of this chat: {user_id}",
    "no_members": "Name at least one friend to add",
    "invalid_username": "{min} to {max} characters: Latin letters, digits and _",
    "username_taken": "This username is taken",
    "no_such_message": "There is no such message in this chat",
    "no_chats": "Name at least one chat",
    "too_many_chats": "At most {max} chats",
    "no_such_chat": "You cannot write in chat {id}",
    "not_an_emoji": "A reaction is one emoji",
    "not_a_tag": "Use one of: {options}",
    "not_in_future": "Must be a time in the future",
}


@attrs.frozen
class FieldError:
    """What is wrong with one field: a code, its parameters and the English message."""

    code: str
    params: Mapping[str, Any] = attrs.field(factory=dict)
    message: str = attrs.field(default="")

    def __attrs_post_init__(self) -> None:
        if not self.message:
            if self.code not in FIELD_CODES:
                raise ValueError(f"unknown field error code {self.code!r}")
            object.__setattr__(self, "message", FIELD_CODES[self.code].format(**self.params))


def field(code: str, **params: Any) -> FieldError:
    """A core field error: ``field("too_long", max=4096)``."""
    return FieldError(code, params)


class MessengerError(Exception):
    """Base of every error the core raises on purpose.

    ``MessengerError(code, fields=…, **params)``: the code must be one of the class's
    ``CODES`` (the first is the default); params fill its English template.
    """

    CODES: ClassVar[Mapping[str, str]] = {"error": "Something went wrong"}

    def __init__(
        self, code: str | None = None, /, *, fields: Mapping[str, FieldError] | None = None, **params: Any
    ) -> None:
        code = code or next(iter(self.CODES))
        template = self.CODES.get(code)
        if template is None:
            raise ValueError(f"{type(self).__name__} has no code {code!r}")
        self.code = code
        self.params: dict[str, Any] = params
        self.fields: dict[str, FieldError] = dict(fields or {})
        self.message = template.format(**params)
        super().__init__(self.message)

    @property
    def key(self) -> str:
        """Where a translation catalogue finds this error's text: its code."""
        return self.code


class NotFound(MessengerError):
    """Nothing of the kind ``what`` is visible to the actor (one code, as clients have
    always matched it; ``what`` tells the kinds apart, and each has its own message)."""

    CODES: ClassVar[Mapping[str, str]] = {"not_found": "{what} not found"}
    WHAT: ClassVar[Mapping[str, str]] = {
        "thing": "Not found",
        "user": "No user with this id",
        "chat": "No such chat",
        "member": "No such member in this chat",
        "message": "No such message",
        "message_in_chat": "No such message in this chat",
        "chat_with_user": "You have no chat with this user",
        "request": "This user has not sent you a request",
        "pending_request": "This user has no pending request to you",
        "friendship": "There is no friendship or request with this user",
        "sticker": "No such sticker",
        "attachment": "No such attachment",
        "thumbnail": "This attachment has no thumbnail",
        "stored_file": "No such stored file",
        "session": "No such session of yours",
        "export": "You have no export: start one first",
    }

    def __init__(self, what: str = "thing") -> None:
        if what not in self.WHAT:
            raise ValueError(f"NotFound has no kind {what!r}")
        super().__init__("not_found", what=what)
        self.message = self.WHAT[what]
        self.args = (self.message,)

    @property
    def key(self) -> str:
        return f"not_found.{self.params['what']}"


class Forbidden(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {
        "forbidden": "Not allowed",
        "not_friends": "You can only start a chat with a friend",
        "not_author": "Only the author may change a message",
        "wrong_password": "The current password is wrong",
        "not_yours": "You can only change your own account",
        "not_group_admin": "Only the group's owner and admins may do this",
        "not_group_owner": "Only the group's owner may do this",
        "cannot_remove_admin": "An admin cannot remove the owner or another admin",
        "add_only_friends": "You can add only your friends to a group",
        "blocked": "You cannot write to this user",
        "no_longer_friends": "You are no longer friends: become friends again to write here",
    }


class Conflict(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {
        "conflict": "The current state does not allow this",
        "email_taken": "This email is already registered",
        "alternative_id_taken": "This public id is already taken",
        "friendship_exists": "These users already have a friendship or a request",
        "already_friends": "You are already friends",
        "already_requested": "You have already sent a request",
        "message_deleted": "The message was deleted",
        "already_member": "Already a member of this group",
        "not_a_group": "This works in group chats only",
        "system_message": "A system message cannot be changed",
        "username_taken": "This username is taken",
        "edit_window_passed": "A message can be edited for {hours} hours after it was sent",
        "too_many_reactions": "A message has at most {max} different reactions",
        "too_many_pins": "A chat has at most {max} pinned messages",
    }


class Invalid(MessengerError):
    """Validation failed; ``fields`` maps each field to what is wrong with it."""

    CODES: ClassVar[Mapping[str, str]] = {"invalid": "Validation failed"}

    def __init__(self, fields: Mapping[str, FieldError], code: str = "invalid") -> None:
        super().__init__(code, fields=fields)


class Unauthorized(MessengerError):
    """Authentication failed; ``reason`` (the code) says why."""

    CODES: ClassVar[Mapping[str, str]] = {
        "token_missing": "No token was sent",
        "token_invalid": "The token is malformed or its signature is wrong",
        "token_expired": "The token has expired",
        "token_revoked": "The token was revoked: sign in again",
        "bad_credentials": "Wrong email or password",
    }

    @property
    def reason(self) -> str:
        return self.code


class TooLarge(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {
        "too_large": "Too large: at most {max} bytes",
        "unsent_uploads_full": "Your uploads not yet sent may hold at most {max} bytes: send them, or "
        "wait until they expire",
    }


class Gone(MessengerError):
    """A cursor too old or unknown: the client must reload its state."""

    CODES: ClassVar[Mapping[str, str]] = {
        "resync": "The cursor is unknown or too old: reload and start again"
    }


class Throttled(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {
        "throttled": "Too many attempts: try again in {retry_after} s",
        "export_daily": "One export a day: try again in {retry_after} s",
    }

    def __init__(self, code: str | None = None, /, *, retry_after: int, **params: Any) -> None:
        super().__init__(code, retry_after=retry_after, **params)
        self.retry_after = retry_after


class Unavailable(MessengerError):
    """The storage cannot take the change now (a full disk, a read-only or broken
    database or folder, a database too busy to decide): nothing was changed, and trying
    later may work. ``storage_busy`` is one that trying again at once may settle (units
    that waited on each other in a circle): use cases are retried on it."""

    CODES: ClassVar[Mapping[str, str]] = {
        "storage_full": "The server's storage is full: try again later",
        "storage_unavailable": "The server's storage is unavailable: try again later",
        "storage_busy": "The server is busy: try again in a moment",
    }


CATEGORIES: tuple[type[MessengerError], ...] = (
    NotFound,
    Forbidden,
    Conflict,
    Invalid,
    Unauthorized,
    TooLarge,
    Gone,
    Throttled,
    Unavailable,
)


def all_codes(categories: tuple[type[MessengerError], ...] = CATEGORIES) -> Iterator[tuple[str, str]]:
    """Every (catalogue key, English template) the categories and the field errors may
    carry: each code, and ``not_found.<what>`` for each kind NotFound names."""
    for category in categories:
        if issubclass(category, NotFound):
            yield from ((f"not_found.{what}", text) for what, text in category.WHAT.items())
        else:
            yield from category.CODES.items()
    yield from FIELD_CODES.items()


class FieldErrors:
    """Collects per-field errors and raises them together as one Invalid."""

    def __init__(self) -> None:
        self.fields: dict[str, FieldError] = {}

    def add(self, name: str, code: str, **params: Any) -> None:
        self.fields.setdefault(name, field(code, **params))

    def __bool__(self) -> bool:
        return bool(self.fields)

    def raise_if_any(self) -> None:
        if self.fields:
            raise Invalid(self.fields)
