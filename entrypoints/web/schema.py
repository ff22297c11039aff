"""Request shapes of the API and the web edge's private cattrs converter.

Each shape's fields are named after the parameters of the use case it feeds, so a
resource calls ``messenger.use_case(actor, **fields_of(body))`` with no copying; where
the wire name differs from the use case's (``search_request`` is ``text``), the
converter renames it. The OpenAPI document is generated from these classes.

Wrong types are a 400, missing, unknown or out-of-set fields a 422; both name the fields
with a code each.
"""

from __future__ import annotations

import enum
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError
from cattrs.gen import make_dict_structure_fn, override

from messenger_core import Invalid
from messenger_core.errors import FieldError, field
from messenger_core.limits import HISTORY_LIMIT_DEFAULT, SEARCH_LIMIT_MAX
from messenger_core.model import FriendListKind, ProfileChanges

from .errors import BadRequest, edge_field

T = TypeVar("T")

# Token fields may ride in any JSON body (the spec's clients do that); they are read
# by authentication, never by a use case.
TOKEN_FIELDS = frozenset({"access_token", "refresh_token", "jwt"})

# ASCII digits only: "１" and "٣" are digits to Python, never ids to us.
_INT = re.compile(r"^-?[0-9]{1,18}$")
_FLOAT = re.compile(r"^-?[0-9]{1,18}(\.[0-9]+)?$")
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


@attrs.frozen
class Register:
    first_name: str
    second_name: str
    email: str
    password: str


@attrs.frozen
class Login:
    email: str
    password: str
    expires_in: int | None = None


@attrs.frozen
class Refresh:
    expires_in: int | None = None


# A profile edit is structured straight into the core's ProfileChanges: a clearable
# field sent as null or "" is cleared, any other empty value means "unchanged".
CLEARABLE = ("phone_number", "age", "city", "additional_inf")
_profile_changes = make_dict_structure_fn(
    ProfileChanges, converter, _cattrs_forbid_extra_keys=True, clear=override(omit=True)
)


def _structure_profile_changes(data: dict[str, Any], _: type) -> ProfileChanges:
    cleared = frozenset(k for k in CLEARABLE if k in data and data[k] in (None, ""))
    changes = _profile_changes({k: v for k, v in data.items() if v not in (None, "")}, ProfileChanges)
    return attrs.evolve(changes, clear=cleared)


converter.register_structure_hook(ProfileChanges, _structure_profile_changes)


@attrs.frozen
class Search:
    text: str | None = None  # "search_request" on the wire
    first_name: str | None = None
    second_name: str | None = None
    start: int = 0
    limit: int = SEARCH_LIMIT_MAX


converter.register_structure_hook(Search, _renamed(Search, text="search_request"))


@attrs.frozen
class FriendList:
    kind: FriendListKind = FriendListKind.FRIENDS  # "type" on the wire


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
    friend_id: str | None = None
    user_id: str | None = None  # another name for friend_id

    @property
    def other(self) -> str:
        return _named_user(self.friend_id, self.user_id)


@attrs.frozen
class FriendRemoval:
    friend_id: str | None = None
    user_id: str | None = None

    @property
    def other(self) -> str:
        return _named_user(self.friend_id, self.user_id)


@attrs.frozen
class ChatOpen:
    user_id: str


@attrs.frozen
class ChatSelect:
    chat_id: int | None = None
    chat_with: str | None = None


@attrs.frozen
class MessageSend:
    receiver_id: str | None = None
    chat_id: int | None = None
    text: str | None = None
    sticker_id: int | None = None
    attachment_ids: list[int] = attrs.Factory(list)


@attrs.frozen
class HistoryPage:
    before: int | None = None
    after: int | None = None
    since: datetime | None = None  # "date" on the wire: unix seconds
    limit: int = HISTORY_LIMIT_DEFAULT


@attrs.frozen
class MessageQuery:
    receiver_id: str | None = None
    chat_id: int | None = None
    page: HistoryPage = HistoryPage()


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
    text: str


@attrs.frozen
class ReadMark:
    message_id: int


@attrs.frozen
class EventsQuery:
    since: int | None = None
    timeout: float = 0.0


@attrs.frozen
class Credentials:
    email: str
    password: str


@attrs.frozen
class Confirmation:
    token: str
