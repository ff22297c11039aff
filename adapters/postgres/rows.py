"""Rows ↔ model records for PostgreSQL.

psycopg already gives native values (aware datetimes, booleans, parsed JSON, arrays), so
reading a record only turns enum values back into enums and arrays into tuples; every
column that is not a field of the record (search keys) is ignored. Writing refuses naive
datetimes, as the SQLite adapter does: guessing their zone would shift them silently.
"""

from __future__ import annotations

import enum
import types
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
from psycopg.types.json import Json

from messenger_core.model import (
    Attachment,
    Block,
    Chat,
    ChatMember,
    Event,
    Export,
    Friendship,
    Message,
    Pin,
    Session,
    Sticker,
    User,
)

T = TypeVar("T")
Row = dict[str, Any]


def time(value: datetime) -> datetime:
    """An aware time as it is stored (UTC); a naive one is refused."""
    if value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC)


def json_value(data: Any) -> Json:
    """A JSON parameter: compact, and anything JSON cannot hold fails here, not on read."""
    import json as std

    return Json(
        data, dumps=lambda v: std.dumps(v, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    )


def to_row(record: Any) -> Row:
    """Column values of a record: enums as their values, times checked, the rest as is."""
    row: Row = {}
    for name, value in attrs.asdict(record, recurse=False).items():
        if isinstance(value, enum.Enum):
            value = value.value
        elif isinstance(value, datetime):
            value = time(value)
        row[name] = value
    return row


def to_message_row(record: Any) -> Row:
    """A message's (or new message's) columns: its system action, quote and forward
    source as JSON, mentions as an array."""
    row = to_row(record)
    for name in ("system", "reply_to", "forwarded_from"):
        value = getattr(record, name)
        row[name] = None if value is None else json_value(value)
    row["mentions"] = list(record.mentions)
    return row


_READERS: dict[type, Callable[[Row], Any]] = {}


def from_row(row: Row, cls: type[T]) -> T:
    """The record of class ``cls`` a row holds."""
    found = _READERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        loaders = tuple((f.name, _loader(hints[f.name])) for f in attrs.fields(cls))  # type: ignore[arg-type]

        def read(row: Row) -> Any:
            return cls(**{name: row[name] if load is None else load(row[name]) for name, load in loaders})

        found = _READERS[cls] = read
    return typing.cast(T, found(row))


def _loader(hint: Any) -> Callable[[Any], Any] | None:
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    args = typing.get_args(hint) if is_union else (hint,)
    options = [t for t in args if t is not type(None)]
    kind = options[0]
    optional = len(options) < len(args)
    if typing.get_origin(kind) is tuple:
        convert: Callable[[Any], Any] = tuple
    elif kind is datetime:
        convert = _utc
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        convert = kind
    else:
        return None
    if optional:
        return lambda value: None if value is None else convert(value)
    return convert


def _utc(value: datetime) -> datetime:
    # Sessions run in UTC, so this is only a guard against a server set otherwise.
    return value if value.tzinfo is UTC else value.astimezone(UTC)


def user(row: Row) -> User:
    return from_row(row, User)


def friendship(row: Row) -> Friendship:
    return from_row(row, Friendship)


def chat(row: Row) -> Chat:
    return from_row(row, Chat)


def chat_member(row: Row) -> ChatMember:
    return from_row(row, ChatMember)


def message(row: Row) -> Message:
    return from_row(row, Message)


def attachment(row: Row) -> Attachment:
    return from_row(row, Attachment)


def pin(row: Row) -> Pin:
    return from_row(row, Pin)


def sticker(row: Row) -> Sticker:
    return from_row(row, Sticker)


def session(row: Row) -> Session:
    return from_row(row, Session)


def block(row: Row) -> Block:
    return from_row(row, Block)


def export(row: Row) -> Export:
    return from_row(row, Export)


def event(row: Row) -> Event:
    return from_row(row, Event)
