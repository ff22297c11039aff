"""Rows ↔ model records, through this module's private cattrs converter.

The model classes carry no serialization config; every storage detail lives here:
times are fixed-width ISO-8601 UTC text with microseconds (so text order is time
order and they round-trip exactly), enums are their values, bools are 0/1 and event
data is JSON text.
"""

from __future__ import annotations

import enum
import functools
import json
import sqlite3
import types
import typing
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import attrs
import cattrs
import orjson

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

_converter = cattrs.Converter()


def dump_time(value: datetime) -> str:
    """The stored form of an aware time, e.g. ``2024-05-01T12:00:00.000000+00:00``."""
    if value.utcoffset() is None:
        # Guessing the zone of a naive time would silently shift it.
        raise ValueError(f"naive datetime {value!r}: times must be timezone-aware")
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def load_time(text: str) -> datetime:
    """The aware UTC time a ``dump_time`` text stands for."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)


def dump_json(data: dict[str, Any]) -> str:
    """Event data as compact JSON; anything JSON cannot hold fails here, not on read."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


_converter.register_unstructure_hook(datetime, dump_time)
_converter.register_structure_hook(datetime, lambda value, _: load_time(value))
_converter.register_unstructure_hook(bool, int)
_converter.register_structure_hook(bool, lambda value, _: bool(value))


def to_row(record: Any) -> dict[str, Any]:
    """Column values of a record (datetimes as text, enums as values, bools as 0/1)."""
    row: dict[str, Any] = _converter.unstructure(record)
    return row


def from_row(row: sqlite3.Row, cls: type[T]) -> T:
    """The record of class ``cls`` a row holds; extra columns (search keys) are ignored."""
    return _reader_of(cls, tuple(row.keys()))(row)


def from_cursor(cursor: sqlite3.Cursor, cls: type[T]) -> list[T]:
    """The records every row of a query holds, each read by position."""
    read = _reader_of(cls, tuple(column[0] for column in cursor.description or ()))
    return [read(row) for row in cursor]


# Reading is the hot path (a history page builds 50 messages per request, every request
# reads its user and session), so each class gets, per list of columns, a reader made
# once from its attrs fields: one call of the class with each field taken by position
# and converted, as attrs' own __init__ is made. Against a dict of the fields built per
# row it costs a third less for a user, an eighth less for a message (whose frozen
# __init__ is most of its cost); cattrs' generated structure functions, which still
# write every record (to_row), go through a hook per field and cost about 3x.
_Loader = tuple[str, Callable[[Any], Any] | None, bool]  # field, conversion, whether None passes
_LOADERS: dict[type, tuple[_Loader, ...]] = {}


def _loaders(cls: type) -> tuple[_Loader, ...]:
    found = _LOADERS.get(cls)
    if found is None:
        hints = typing.get_type_hints(cls)
        found = _LOADERS[cls] = tuple((f.name, *_loader(hints[f.name])) for f in attrs.fields(cls))
    return found


def _reader_of(cls: type[T], columns: tuple[str, ...]) -> Callable[[Sequence[Any]], T]:
    return _reader(typing.cast(type, cls), columns)


@functools.lru_cache(maxsize=256)  # a class and the columns of one query: a few dozen in all
def _reader(cls: type, columns: tuple[str, ...]) -> Callable[[Sequence[Any]], Any]:
    position: dict[str, int] = {}
    for i, column in enumerate(columns):
        position.setdefault(column, i)
    namespace: dict[str, Any] = {"cls": cls}
    arguments = []
    for name, load, optional in _loaders(cls):
        value = f"row[{position[name]}]"
        if load is not None:
            namespace[f"load_{name}"] = load
            # An optional field's None is tested inline: a wrapper would be a call per row.
            value = (
                f"None if {value} is None else load_{name}({value})" if optional else f"load_{name}({value})"
            )
        arguments.append(f"{name}={value}")
    # Field names are identifiers and positions are numbers: nothing else enters the code.
    exec(f"def read(row):\n    return cls({', '.join(arguments)})\n", namespace)
    read: Callable[[Sequence[Any]], Any] = namespace["read"]
    return read


def _loader(hint: Any) -> tuple[Callable[[Any], Any] | None, bool]:
    """How to turn a column into a field of this type (None: as it is), and whether the
    field may be None."""
    is_union = typing.get_origin(hint) in (typing.Union, types.UnionType)
    args = typing.get_args(hint) if is_union else (hint,)
    options = [t for t in args if t is not type(None)]
    kind = options[0]
    optional = len(options) < len(args)
    if kind is datetime:
        convert: Callable[[Any], Any] = load_time
    elif typing.get_origin(kind) is tuple:
        convert = _load_id_tuple
    elif typing.get_origin(kind) is dict:
        convert = orjson.loads
    elif kind is bool:
        convert = bool
    elif isinstance(kind, type) and issubclass(kind, enum.Enum):
        # A dict lookup: calling the enum class costs several times as much per row.
        convert = {member.value: member for member in kind}.__getitem__
    else:
        return None, optional
    return convert, optional


def _load_id_tuple(text: str) -> tuple[int, ...]:
    return () if text == "[]" else tuple(orjson.loads(text))


def to_message_row(record: Any) -> dict[str, Any]:
    """A message's (or new message's) columns: its system action, quote, forward source
    and mentions as JSON."""
    row = to_row(record)
    for name in ("system", "reply_to", "forwarded_from"):
        value = getattr(record, name)
        row[name] = None if value is None else dump_json(value)
    row["mentions"] = json.dumps(list(record.mentions))
    return row


def user(row: sqlite3.Row) -> User:
    return from_row(row, User)


def friendship(row: sqlite3.Row) -> Friendship:
    return from_row(row, Friendship)


def chat(row: sqlite3.Row) -> Chat:
    return from_row(row, Chat)


def chat_member(row: sqlite3.Row) -> ChatMember:
    return from_row(row, ChatMember)


def message(row: sqlite3.Row) -> Message:
    return from_row(row, Message)


def messages(cursor: sqlite3.Cursor) -> list[Message]:
    return from_cursor(cursor, Message)


def attachment(row: sqlite3.Row) -> Attachment:
    return from_row(row, Attachment)


def pin(row: sqlite3.Row) -> Pin:
    return from_row(row, Pin)


def sticker(row: sqlite3.Row) -> Sticker:
    return from_row(row, Sticker)


def session(row: sqlite3.Row) -> Session:
    return from_row(row, Session)


def block(row: sqlite3.Row) -> Block:
    return from_row(row, Block)


def export(row: sqlite3.Row) -> Export:
    return from_row(row, Export)


def event(row: sqlite3.Row) -> Event:
    return _converter.structure({**dict(row), "data": json.loads(row["data"])}, Event)


def new_member_row(chat_id: int, member: Any) -> dict[str, Any]:
    return {"chat_id": chat_id, **to_row(member)}
