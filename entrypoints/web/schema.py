"""Request shapes of the API and the web edge's private cattrs converter.

Wrong types are a 400, missing or unknown fields a 422; both name the fields.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError, ForbiddenExtraKeysError

T = TypeVar("T")

# Token fields may ride in any JSON body (the spec's clients do that); they are read
# by authentication, never by a use case.
TOKEN_FIELDS = frozenset({"access_token", "refresh_token", "jwt"})


class BadRequest(Exception):
    """The request does not fit its shape; ``status`` is 400 (types) or 422 (fields)."""

    def __init__(self, status: int, fields: dict[str, str], message: str) -> None:
        super().__init__(message)
        self.status = status
        self.fields = fields
        self.message = message


_INT = re.compile(r"^-?\d{1,18}$")
_FLOAT = re.compile(r"^-?\d{1,18}(\.\d+)?$")
# Ids and counts are SQLite INTEGERs: a JSON number past 64 bits would overflow the driver.
_INT_RANGE = (-(2**63), 2**63 - 1)


class _WrongType(TypeError):
    def __init__(self, expected: str) -> None:
        super().__init__(expected)
        self.expected = expected


def _structure_int(value: Any, _: type) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        if not _INT_RANGE[0] <= value <= _INT_RANGE[1]:
            raise _WrongType("Must be a whole number that fits in 64 bits")
        return value
    if isinstance(value, str) and _INT.match(value.strip()):
        return int(value)
    raise _WrongType("Must be a whole number")


def _structure_float(value: Any, _: type) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str) and _FLOAT.match(value.strip()):
        return float(value)
    raise _WrongType("Must be a number")


def _structure_str(value: Any, _: type) -> str:
    if isinstance(value, str):
        return value
    raise _WrongType("Must be a string")


def _structure_bool(value: Any, _: type) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    raise _WrongType("Must be true or false")


def _structure_int_list(value: Any, _: type) -> list[int]:
    if isinstance(value, str):  # a query string: "1,2,3"
        value = [v for v in value.split(",") if v.strip()]
    if not isinstance(value, list):
        raise _WrongType("Must be a list of whole numbers")
    return [_structure_int(v, int) for v in value]


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
converter.register_structure_hook_func(lambda t: t == list[int], _structure_int_list)


def parse(cls: type[T], data: dict[str, Any]) -> T:
    """Structure request data into ``cls``, or raise BadRequest naming the fields."""
    data = {k: v for k, v in data.items() if k not in TOKEN_FIELDS}
    try:
        return converter.structure(data, cls)
    except ClassValidationError as group:
        fields: dict[str, str] = {}
        status = 422
        with_notes, others = group.group_exceptions()
        for error, note in with_notes:
            if isinstance(error, KeyError):
                fields[note.name] = "Required"
            else:
                status = 400
                fields[note.name] = error.expected if isinstance(error, _WrongType) else "Has the wrong type"
        for error in others:
            if isinstance(error, ForbiddenExtraKeysError):
                fields.update({name: "Unknown field" for name in sorted(error.extra_fields)})
            else:
                status = 400
        kind = "Some fields have the wrong type" if status == 400 else "Some fields are missing or unknown"
        raise BadRequest(status, fields, kind) from None


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


@attrs.frozen
class ProfileEdit:
    first_name: str | None = None
    second_name: str | None = None
    phone_number: str | None = None
    age: int | None = None
    city: str | None = None
    additional_inf: str | None = None
    email: str | None = None
    password: str | None = None
    old_password: str | None = None


CLEARABLE = ("phone_number", "age", "city", "additional_inf")


@attrs.frozen
class Search:
    search_request: str | None = None
    first_name: str | None = None
    second_name: str | None = None
    start: int = 0
    limit: int = 20


@attrs.frozen
class FriendList:
    type: str | None = None


@attrs.frozen
class FriendAction:
    action: str
    friend_id: str | None = None
    user_id: str | None = None


@attrs.frozen
class FriendRemoval:
    friend_id: str | None = None
    user_id: str | None = None


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
class MessageQuery:
    receiver_id: str | None = None
    chat_id: int | None = None
    date: float | None = None
    before: int | None = None
    after: int | None = None
    limit: int = 50


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
