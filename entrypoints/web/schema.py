"""Request shapes of the API and the web edge's private cattrs converter.

Each shape's fields are named after the parameters of the use case it feeds, so a
resource calls ``messenger.use_case(actor, **fields_of(body))`` with no copying; where
the wire name differs from the use case's (``search_request`` is ``text``), the
converter renames it. The OpenAPI document is generated from these classes: what a
field's type cannot say (limits, patterns, descriptions) rides on it as
``Annotated[T, doc(…)]`` metadata, which cattrs sees through.

Wrong types are a 400, missing, unknown or out-of-set fields a 422; both name the fields
with a code each.
"""

from __future__ import annotations

import enum
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, override

from messenger_core import Invalid
from messenger_core.errors import FieldError, field
from messenger_core.limits import (
    ABOUT_MAX,
    AGE_MAX,
    AGE_MIN,
    ATTACHMENTS_MAX,
    CITY_MAX,
    EMAIL_MAX,
    FORWARD_CHATS_MAX,
    GROUP_TITLE_MAX,
    HISTORY_LIMIT_DEFAULT,
    HISTORY_LIMIT_MAX,
    MESSAGE_MAX,
    MESSAGE_SEARCH_LIMIT_DEFAULT,
    MESSAGE_SEARCH_LIMIT_MAX,
    NAME_MAX,
    PASSWORD_MAX,
    PASSWORD_MIN,
    SEARCH_LIMIT_MAX,
    SEARCH_QUERY_MAX,
    USERNAME_MAX,
    USERNAME_MIN,
)
from messenger_core.model import FriendListKind, MemberRole, ProfileChanges, Visibility
from messenger_core.policies import EMAIL_PATTERN, PHONE_EXAMPLE

from .errors import BadRequest, edge_field
from .shapes import NAME_PATTERN, NOT_BLANK, PHONE_PATTERN, Doc, doc, setting

T = TypeVar("T")

# Token fields may ride in any JSON body (the spec's clients do that); they are read
# by authentication, never by a use case.
TOKEN_FIELDS = frozenset({"access_token", "refresh_token", "jwt"})

# ASCII digits only: "１" and "٣" are digits to Python, never ids to us. At most
# QUERY_DIGITS of them, so a number from a query string always fits in 64 bits.
QUERY_DIGITS = 18
_INT = re.compile(rf"^-?[0-9]{{1,{QUERY_DIGITS}}}$")
_FLOAT = re.compile(rf"^-?[0-9]{{1,{QUERY_DIGITS}}}(\.[0-9]+)?$")
# Ids and counts are SQLite INTEGERs: a JSON number past 64 bits would overflow the driver.
INT_RANGE = (-(2**63), 2**63 - 1)


class _Refused(ValueError):
    """A field value the converter refuses; ``status`` 400 for a wrong type, 422 for a
    value of the right type outside what the field allows."""

    def __init__(self, error: FieldError, status: int = 400) -> None:
        super().__init__(error.message)
        self.error = error
        self.status = status


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT_RANGE[0] <= value <= INT_RANGE[1]:
            raise _Refused(edge_field("integer_too_big"))
        return value
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value)
    raise _Refused(edge_field("not_integer"))


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    raise _Refused(edge_field("not_number"))


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    raise _Refused(edge_field("not_string"))


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise _Refused(edge_field("not_boolean"))


def _structure_int_list(value: Any, _: type) -> list[int]:
    if isinstance(value, str):  # a query string: "1,2,3"
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise _Refused(edge_field("not_integer_list"))
    return [_structure_int(v, int) for v in value]


def _structure_str_list(value: Any, _: type) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _Refused(edge_field("not_string_list"))
    return value


def _structure_unix_time(value: Any, _: type) -> datetime:
    seconds = _structure_float(value, float)
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise _Refused(edge_field("invalid_time"), 422) from None


def _structure_enum(value: Any, cls: type[enum.Enum]) -> enum.Enum:
    text = _structure_str(value, str)
    try:
        return cls(text)
    except ValueError:
        options = ", ".join(str(member.value) for member in cls)
        raise _Refused(edge_field("one_of", options=options), 422) from None


def loads_json(text: str) -> Any:
    """Parse a JSON body strictly (RFC 8259), raising ValueError (a 400) for what the
    standard library would let through to crash later: NaN and Infinity, strings with
    lone surrogates (no UTF-8 form, so SQLite and the hasher refuse them) and nesting
    too deep for the parser (a RecursionError)."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise ValueError("The JSON is nested too deeply") from None
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            item.encode("utf-8")  # UnicodeEncodeError is a ValueError
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


converter = cattrs.Converter(forbid_extra_keys=True)
converter.register_structure_hook(int, _structure_int)
converter.register_structure_hook(float, _structure_float)
converter.register_structure_hook(str, _structure_str)
converter.register_structure_hook(bool, _structure_bool)
converter.register_structure_hook(datetime, _structure_unix_time)
converter.register_structure_hook_func(lambda t: t == list[int], _structure_int_list)
converter.register_structure_hook_func(lambda t: t == list[str], _structure_str_list)
converter.register_structure_hook_func(
    lambda t: isinstance(t, type) and issubclass(t, enum.Enum), _structure_enum
)


# Fields whose wire name differs from the use case's parameter: {class: {field: wire name}}.
_WIRE_NAMES: dict[type, dict[str, str]] = {}


def _renamed(cls: type[T], **wire_names: str) -> Any:
    """A structure function for ``cls`` reading each named field under its wire name."""
    _WIRE_NAMES[cls] = wire_names
    renames: dict[str, Any] = {name: override(rename=wire) for name, wire in wire_names.items()}
    return make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True, **renames)


def parse(cls: type[T], data: dict[str, Any]) -> T:
    """Structure request data into ``cls``, or raise BadRequest (a wrong type) or
    Invalid (missing, unknown or refused fields), naming every field with its code."""
    data = {k: v for k, v in data.items() if k not in TOKEN_FIELDS}
    try:
        return converter.structure(data, cls)
    except ClassValidationError as group:
        fields: dict[str, FieldError] = {}
        status = 422
        wire = _WIRE_NAMES.get(group.cl, {})
        with_notes, others = group.group_exceptions()
        for error, note in with_notes:
            name = wire.get(note.name, note.name)
            if isinstance(error, KeyError):
                fields[name] = field("required")
            elif isinstance(error, _Refused):
                fields[name] = error.error
                status = min(status, error.status)
            else:
                fields[name] = edge_field("wrong_type")
                status = 400
        for error in others:
            if isinstance(error, ForbiddenExtraKeysError):
                fields.update({name: edge_field("unknown_field") for name in sorted(error.extra_fields)})
            else:
                status = 400
        raise (BadRequest(fields=fields) if status == 400 else Invalid(fields)) from None


def fields_of(shape: Any) -> dict[str, Any]:
    """A shape's fields as keyword arguments of its use case."""
    return attrs.asdict(shape, recurse=False)


# --- shapes ----------------------------------------------------------------------------

NAME = doc(minLength=1, maxLength=NAME_MAX, pattern=NAME_PATTERN)
EMAIL = doc(maxLength=EMAIL_MAX, pattern=EMAIL_PATTERN)
PASSWORD = doc(minLength=PASSWORD_MIN, maxLength=PASSWORD_MAX)
MessageText = Annotated[str, doc(maxLength=MESSAGE_MAX)]
OtherUser = Annotated[str | None, doc("user_id of the other user")]
AlsoOtherUser = Annotated[str | None, doc("The same as friend_id")]
ChatId = Annotated[int | None, doc("The chat's id", minimum=1)]


@attrs.frozen
class Register:
    first_name: Annotated[str, NAME]
    second_name: Annotated[str, NAME]
    email: Annotated[str, EMAIL]
    password: Annotated[str, PASSWORD]


@attrs.frozen
class Login:
    email: str
    password: str
    expires_in: Annotated[
        int | None,
        doc(
            "Lifetime of the access token, seconds (default {JWT_ACCESS_TOKEN_EXPIRES})",
            minimum=1,
            maximum=setting("JWT_ACCESS_TOKEN_MAX_EXPIRES"),
        ),
    ] = None


@attrs.frozen
class Refresh:
    expires_in: Annotated[
        int | None,
        doc(
            "Lifetime of the new access token, seconds",
            minimum=1,
            maximum=setting("JWT_ACCESS_TOKEN_MAX_EXPIRES"),
        ),
    ] = None


# A profile edit is structured straight into the core's ProfileChanges: a clearable
# field sent as null or "" is cleared, any other empty value means "unchanged".
CLEARABLE = ("phone_number", "age", "city", "additional_inf", "username")
_profile_changes = make_dict_structure_fn(
    ProfileChanges, converter, _cattrs_forbid_extra_keys=True, clear=override(omit=True)
)


def _structure_profile_changes(data: dict[str, Any], _: type) -> ProfileChanges:
    cleared = frozenset(k for k in CLEARABLE if k in data and data[k] in (None, ""))
    changes = _profile_changes({k: v for k, v in data.items() if v not in (None, "")}, ProfileChanges)
    return attrs.evolve(changes, clear=cleared)


converter.register_structure_hook(ProfileChanges, _structure_profile_changes)

# ProfileChanges is the core's, so its fields cannot carry the edge's metadata: it is here.
PROFILE_CHANGES_DOCS: dict[str, Doc] = {
    "first_name": NAME,
    "second_name": NAME,
    "phone_number": doc(f"International form, e.g. {PHONE_EXAMPLE}", pattern=PHONE_PATTERN),
    "age": doc(minimum=AGE_MIN, maximum=AGE_MAX),
    "city": doc(maxLength=CITY_MAX),
    "additional_inf": doc(maxLength=ABOUT_MAX),
    "email": EMAIL,
    "password": PASSWORD,
    "old_password": doc("Required to change email or password"),
    "username": doc(
        "Your public username: letters a-z (any case; kept lower-case), digits and _; "
        "taken in any letter case → 409; never rotates",
        pattern=rf"^\s*[A-Za-z0-9_]{{{USERNAME_MIN},{USERNAME_MAX}}}\s*$",
    ),
}


@attrs.frozen
class Search:
    text: Annotated[  # "search_request" on the wire
        str | None, doc("Words to find, each in the first name, second name or user_id")
    ] = None
    first_name: Annotated[str | None, doc("Text to find in the first name")] = None
    second_name: Annotated[str | None, doc("Text to find in the second name")] = None
    start: Annotated[int, doc("How many results to skip", minimum=0)] = 0
    limit: Annotated[int, doc("Page size", minimum=1, maximum=SEARCH_LIMIT_MAX)] = SEARCH_LIMIT_MAX


converter.register_structure_hook(Search, _renamed(Search, text="search_request"))


class SearchTag(enum.Enum):
    PHOTO = "photo"
    VIDEO = "video"
    AUDIO = "audio"
    FILE = "file"
    LINK = "link"


@attrs.frozen
class MessageSearchQuery:
    q: Annotated[
        str,
        doc(
            'Words, each the beginning of a word to find ("прив" finds "Привет"), and "quoted '
            'phrases"; all must match. Case and ё/е do not matter',
            maxLength=SEARCH_QUERY_MAX,
        ),
    ] = ""
    chat_id: Annotated[int | None, doc("Only in this chat of yours", minimum=1)] = None
    sender_id: Annotated[str | None, doc("Only messages of this user_id")] = None
    before: Annotated[datetime | None, doc("Unix time, seconds: only messages sent before it", minimum=0)] = (
        None
    )
    after: Annotated[datetime | None, doc("Unix time, seconds: only messages sent after it", minimum=0)] = (
        None
    )
    has: Annotated[
        SearchTag | None, doc("Only messages holding this (a link: an http, https or mailto URL)")
    ] = None
    cursor: Annotated[int | None, doc("The `next` of the previous page", minimum=1)] = None
    limit: Annotated[int, doc("Page size", minimum=1, maximum=MESSAGE_SEARCH_LIMIT_MAX)] = (
        MESSAGE_SEARCH_LIMIT_DEFAULT
    )


@attrs.frozen
class FriendList:
    kind: Annotated[  # "type" on the wire
        FriendListKind, doc("friends, requests to you (incoming) or your requests (outgoing)")
    ] = FriendListKind.FRIENDS


converter.register_structure_hook(FriendList, _renamed(FriendList, kind="type"))


class FriendActionKind(enum.Enum):
    ADD = "add"
    ACCEPT = "accept"
    DENY = "deny"


def _named_user(friend_id: str | None, user_id: str | None) -> str:
    other = friend_id or user_id
    if not other:
        raise Invalid({"friend_id": field("required")})
    return other


@attrs.frozen
class FriendAction:
    action: FriendActionKind
    friend_id: OtherUser = None
    user_id: AlsoOtherUser = None  # another name for friend_id

    @property
    def other(self) -> str:
        return _named_user(self.friend_id, self.user_id)


@attrs.frozen
class FriendRemoval:
    friend_id: OtherUser = None
    user_id: AlsoOtherUser = None

    @property
    def other(self) -> str:
        return _named_user(self.friend_id, self.user_id)


@attrs.frozen
class ChatOpen:
    user_id: Annotated[str, doc("user_id of a friend")]


@attrs.frozen
class GroupCreate:
    title: Annotated[str, doc(minLength=1, maxLength=GROUP_TITLE_MAX)]
    member_ids: Annotated[list[str], doc("user_ids of friends of yours", minItems=1)]
    history_visible: Annotated[bool, doc("Whether members who join later see earlier messages")] = True


@attrs.frozen
class GroupChange:
    title: Annotated[str | None, doc(minLength=1, maxLength=GROUP_TITLE_MAX)] = None
    history_visible: bool | None = None


@attrs.frozen
class MembersAdd:
    user_ids: Annotated[list[str], doc("user_ids of friends of yours", minItems=1)]


@attrs.frozen
class RoleChange:
    role: Annotated[MemberRole, doc("admin or member; owner hands the group over")]


@attrs.frozen
class ChatSelect:
    chat_id: ChatId = None
    chat_with: Annotated[str | None, doc("Your 1:1 chat with this user_id")] = None


@attrs.frozen
class MessageSend:
    receiver_id: Annotated[str | None, doc("user_id of a friend; the chat is created if needed")] = None
    chat_id: ChatId = None
    text: MessageText | None = None
    sticker_id: Annotated[int | None, doc(minimum=1)] = None
    attachment_ids: Annotated[
        list[int],
        doc(
            "Your uploads not sent yet",
            items={"minimum": 1},
            maxItems=ATTACHMENTS_MAX,
            uniqueItems=True,
        ),
    ] = attrs.Factory(list)
    mentions: Annotated[
        list[str], doc("user_ids of members of the chat the text mentions", uniqueItems=True)
    ] = attrs.Factory(list)
    reply_to_id: Annotated[
        int | None, doc("A message of the same chat this one answers (it is quoted as it is now)", minimum=1)
    ] = None


@attrs.frozen
class MessageForward:
    chat_ids: Annotated[
        list[int],
        doc(
            "Chats to send a copy to: ones you may write in",
            items={"minimum": 1},
            minItems=1,
            maxItems=FORWARD_CHATS_MAX,
        ),
    ]


class DeleteScope(enum.Enum):
    EVERYONE = "everyone"
    ME = "me"


@attrs.frozen
class MessageDelete:
    scope: Annotated[  # "for" on the wire
        DeleteScope,
        doc("everyone: a tombstone for all (the author, or a group's admin); me: hide it from you only"),
    ] = DeleteScope.EVERYONE


converter.register_structure_hook(MessageDelete, _renamed(MessageDelete, scope="for"))


@attrs.frozen
class HistoryPage:
    before: Annotated[int | None, doc("A message id: the page just before it")] = None
    after: Annotated[int | None, doc("A message id: the page just after it (not with `before`)")] = None
    around: Annotated[
        int | None, doc("A message id: a page centred on it (alone, without before/after/date)", minimum=1)
    ] = None
    since: Annotated[  # "date" on the wire: unix seconds
        datetime | None, doc("Unix time, seconds: only messages sent after it", minimum=0)
    ] = None
    limit: Annotated[int, doc("Page size", minimum=1, maximum=HISTORY_LIMIT_MAX)] = HISTORY_LIMIT_DEFAULT


@attrs.frozen
class MessageQuery:
    receiver_id: Annotated[str | None, doc("The other user's user_id (your 1:1 chat with them)")] = None
    chat_id: Annotated[int | None, doc("The chat's id (wins over receiver_id)", minimum=1)] = None
    page: HistoryPage = HistoryPage()  # its fields ride beside these, not nested


def _structure_message_query(data: dict[str, Any], _: type) -> MessageQuery:
    chat: dict[str, Any] = {k: data[k] for k in ("receiver_id", "chat_id") if k in data}
    paging = {k: v for k, v in data.items() if k not in chat}
    query = _message_query_fields(chat, MessageQuery)
    return attrs.evolve(query, page=_history_page(paging, HistoryPage))


_message_query_fields = make_dict_structure_fn(
    MessageQuery, converter, _cattrs_forbid_extra_keys=True, page=override(omit=True)
)
_history_page = _renamed(HistoryPage, since="date")
converter.register_structure_hook(MessageQuery, _structure_message_query)


@attrs.frozen
class MessageEdit:
    text: Annotated[MessageText, doc(pattern=NOT_BLANK)]


@attrs.frozen
class ReadMark:
    message_id: Annotated[int, doc("A message of this chat", minimum=1)]


class Forever(enum.Enum):
    """The end of a mute that never ends."""

    FOREVER = "forever"


# When a mute ends: unix seconds, "forever", or null (no mute).
MuteEnd = datetime | Forever | None


def _structure_mute_end(value: Any, _: type) -> datetime | Forever | None:
    if value is None:
        return None
    if value == Forever.FOREVER.value:
        return Forever.FOREVER
    if isinstance(value, str):
        raise _Refused(edge_field("not_number"))
    return _structure_unix_time(value, datetime)


converter.register_structure_hook_func(lambda t: t == MuteEnd, _structure_mute_end)


@attrs.frozen
class MuteChange:
    until: Annotated[
        MuteEnd,
        doc('Unix seconds when the mute ends, "forever", or null to unmute; a time past is refused'),
    ]


@attrs.frozen
class SettingsChange:
    notify_preview: Annotated[bool | None, doc("Notifications show the message's text")] = None
    notify_muted_mentions: Annotated[bool | None, doc("A mention of you in a muted chat still notifies")] = (
        None
    )


@attrs.frozen
class EventsQuery:
    since: Annotated[int | None, doc("The cursor of your last answer", minimum=0)] = None
    signals_since: Annotated[
        int | None, doc("The signal_cursor of your last answer: ephemeral signals after it", minimum=0)
    ] = None
    timeout: Annotated[
        float,
        doc("Seconds to wait for the first event", minimum=0, maximum=setting("LONG_POLL_MAX_TIMEOUT")),
    ] = 0.0


@attrs.frozen
class Credentials:
    email: Annotated[str, doc("Your email")]
    password: Annotated[str, doc("Your password")]


@attrs.frozen
class Confirmation:
    token: Annotated[str, doc("The token from GET /api/v1/tokens")]


@attrs.frozen
class SessionsEnd:
    others: Annotated[bool, doc("true: end every session but the current one")]


@attrs.frozen
class PrivacyChange:
    last_seen: Annotated[Visibility | None, doc("Who sees when you were last online (reciprocal)")] = None
    read_receipts: Annotated[bool | None, doc("Send read receipts in direct chats (reciprocal)")] = None
    typing: Annotated[bool | None, doc("Send typing signals")] = None
    forward_link: Annotated[bool | None, doc("Forwarded copies of your messages link to you")] = None


@attrs.frozen
class AccountDeletion:
    password: Annotated[str, doc("Your current password")]
    delete_messages: Annotated[
        bool, doc("Also turn every message you sent into a tombstone and delete your files")
    ] = False


@attrs.frozen
class ExportQuery:
    download: Annotated[bool, doc("true: the ZIP itself (404 while it is not ready)")] = False
