"""Copy an installation's SQLite database into PostgreSQL: ``messenger migrate-to-postgres``.

Every table, in an order that keeps foreign keys satisfied, in batches of keyset pages
(``COPY`` per batch), each batch committed together with a note of how far the table
has come, so a run that fails is simply run again and goes on where it stopped. A
target that holds data from elsewhere is refused unless ``force``, which empties it
first. At the end the counts and a checksum of every table are compared, row by row
in key order over the values as the model reads them, and the id sequences are moved
past the copied ids (the event counter to the greatest id the source ever gave, which
pruning never lowers).

The SQLite side is read with the standard library in one read transaction (one
snapshot), from a file opened read-only; it must be at the schema this code knows
(``messenger init-db`` brings an older one up to date first).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import psycopg
from psycopg import sql

from . import migrations
from .search_index import index_every_message

SQLITE_VERSION = 11  # the SQLite schema version (PRAGMA user_version) this copy reads
# Not copied: message_search and its words (rebuilt from the messages) and rate_limits (a
# throttle's state: every key starts with a full bucket).
BATCH = 5000
PROGRESS_TABLE = "sqlite_import_progress"


@attrs.frozen
class Table:
    name: str
    key: tuple[str, ...]  # keyset order, unique
    columns: tuple[str, ...]  # copied as they are named in both
    times: tuple[str, ...] = ()
    flags: tuple[str, ...] = ()
    json: tuple[str, ...] = ()
    source_key: tuple[str, ...] | None = None  # where the SQLite key differs (rowid)
    identity: bool = True  # an id sequence to move past the copied ids


TABLES: tuple[Table, ...] = (
    Table(
        "users",
        ("id",),
        (
            "id",
            "alternative_id",
            "alternative_id_key",
            "email",
            "email_key",
            "password_hash",
            "first_name",
            "second_name",
            "first_name_key",
            "second_name_key",
            "phone_number",
            "age",
            "city",
            "additional_inf",
            "avatar",
            "created_date",
            "is_confirmed",
            "notify_preview",
            "notify_muted_mentions",
            "username",
            "username_key",
            "last_seen",
            "last_seen_visibility",
            "read_receipts",
            "typing_indicator",
            "forward_link",
            "is_deleted",
        ),
        times=("created_date", "last_seen"),
        flags=(
            "is_confirmed",
            "notify_preview",
            "notify_muted_mentions",
            "read_receipts",
            "typing_indicator",
            "forward_link",
            "is_deleted",
        ),
    ),
    Table("sticker_packs", ("id",), ("id", "title")),
    Table("stickers", ("id",), ("id", "pack_id", "position", "image_key", "mime")),
    Table(
        "chats",
        ("id",),
        (
            "id",
            "kind",
            "created_date",
            "last_activity",
            "last_message_id",
            "title",
            "photo",
            "creator_id",
            "history_visible",
        ),
        times=("created_date", "last_activity"),
        flags=("history_visible",),
    ),
    Table(
        "chat_members",
        ("chat_id", "user_id"),
        (
            "chat_id",
            "user_id",
            "last_read_message_id",
            "role",
            "joined_date",
            "joined_event_id",
            "visible_after_message_id",
            "muted_until",
        ),
        times=("joined_date", "muted_until"),
        identity=False,
    ),
    Table(
        "messages",
        ("id",),
        (
            "id",
            "chat_id",
            "sender_id",
            "text",
            "sticker_id",
            "sending_date",
            "edited_date",
            "is_deleted",
            "kind",
            "system",
            "mentions",
            "deleted_by",
            "reply_to",
            "forwarded_from",
            "reaction_summary",
        ),
        times=("sending_date", "edited_date"),
        flags=("is_deleted",),
        json=("system", "mentions", "reply_to", "forwarded_from", "reaction_summary"),
    ),
    Table(
        "message_versions",
        ("id",),
        ("id", "message_id", "text", "written_date"),
        times=("written_date",),
    ),
    Table(
        "hidden_messages",
        ("user_id", "message_id"),
        ("user_id", "chat_id", "message_id"),
        identity=False,
    ),
    Table(
        "pins",
        ("chat_id", "message_id"),
        ("chat_id", "message_id", "pinned_by", "pinned_date"),
        times=("pinned_date",),
        identity=False,
    ),
    Table(
        "message_mentions",
        ("user_id", "chat_id", "message_id"),
        ("user_id", "chat_id", "message_id"),
        identity=False,
    ),
    Table(
        "attachments",
        ("id",),
        (
            "id",
            "uploader_id",
            "kind",
            "name",
            "size",
            "mime",
            "storage_key",
            "created_date",
            "message_id",
            "position",
            "width",
            "height",
            "thumbnail_key",
        ),
        times=("created_date",),
    ),
    Table(
        "reactions",
        ("id",),
        ("id", "message_id", "user_id", "emoji", "created_date"),
        times=("created_date",),
    ),
    # SQLite orders friendships by rowid; it becomes the target's id, which orders them there.
    Table(
        "friendships",
        ("id",),
        ("id", "requester_id", "addressee_id", "status", "created_date"),
        times=("created_date",),
        source_key=("rowid",),
    ),
    Table(
        "events",
        ("id",),
        ("id", "user_id", "chat_id", "message_id", "type", "data", "created_date"),
        times=("created_date",),
        json=("data",),
        identity=False,
    ),
    Table(
        "sessions",
        ("id",),
        (
            "id",
            "user_id",
            "device",
            "ip",
            "created_date",
            "last_used_date",
            "generation",
            "rotated_date",
            "ended_date",
            "end_reason",
        ),
        times=("created_date", "last_used_date", "rotated_date", "ended_date"),
    ),
    Table(
        "blocks",
        ("blocker_id", "blocked_id"),
        ("blocker_id", "blocked_id", "created_date"),
        times=("created_date",),
        identity=False,
    ),
    Table(
        "exports",
        ("user_id",),
        ("user_id", "state", "created_date", "blob_key", "size", "ready_date"),
        times=("created_date", "ready_date"),
        identity=False,
    ),
)


class CopyError(Exception):
    """The copy cannot go on; the message says why in one line."""


@attrs.frozen
class TableReport:
    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def agrees(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


Progress = Callable[[str, int, int], None]  # table, rows copied so far, rows in all


def copy_sqlite_to_postgres(
    source: Path,
    target_url: str,
    *,
    force: bool = False,
    batch: int = BATCH,
    progress: Progress | None = None,
) -> list[TableReport]:
    """Copy the database at ``source`` into ``target_url``; return the per-table checks.
    Raises CopyError for a target with other data (without ``force``), a source at
    another schema version, or checks that disagree."""
    if not source.is_file():
        raise CopyError(f"{source} is no SQLite database file")
    reader = sqlite3.connect(f"file:{source}?mode=ro", uri=True, isolation_level=None)
    reader.row_factory = sqlite3.Row
    try:
        version = reader.execute("PRAGMA user_version").fetchone()[0]
        if version != SQLITE_VERSION:
            raise CopyError(
                f"{source} is at schema version {version}, this copy reads version {SQLITE_VERSION}:"
                " run `messenger init-db` on it with this version of the messenger first"
            )
        reader.execute("BEGIN")  # one snapshot for the whole copy
        migrations.migrate(target_url)
        with psycopg.connect(target_url, autocommit=True) as target:
            _claim(target, str(source.resolve()), force)
            for table in TABLES:
                _copy_table(reader, target, table, batch, progress)
            _move_sequences(reader, target)
            if progress:
                progress("message_search", 0, 1)
            with target.transaction():  # rebuilt, not copied: its words are the core's
                target.execute("DELETE FROM message_search")
                index_every_message(target)
            if progress:
                progress("message_search", 1, 1)
            reports = [_check(reader, target, table) for table in TABLES]
            if all(report.agrees for report in reports):
                target.execute(f"DROP TABLE {PROGRESS_TABLE}")
    finally:
        reader.close()
    return reports


# --- the target's state -----------------------------------------------------------------


def _claim(target: psycopg.Connection[Any], source: str, force: bool) -> None:
    """Start, or go on with, a copy of ``source``; refuse a target with other data."""
    target.execute(
        f"CREATE TABLE IF NOT EXISTS {PROGRESS_TABLE} ("
        " table_name text PRIMARY KEY, source text NOT NULL, last_key json, rows bigint NOT NULL DEFAULT 0)"
    )
    sources = {row[0] for row in target.execute(f"SELECT DISTINCT source FROM {PROGRESS_TABLE}")}
    resuming = sources == {source}
    holds_data = any(
        _scalar(target, sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(t.name)))
        for t in TABLES
    )
    if resuming:
        return
    if holds_data or sources:
        if not force:
            raise CopyError(
                "the target database already holds data (not from an unfinished copy of this file):"
                " use --force to empty it first"
            )
        names = ", ".join(t.name for t in TABLES)
        target.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        target.execute("UPDATE event_counter SET last_id = 0")
        target.execute(f"DELETE FROM {PROGRESS_TABLE}")
    with target.transaction():
        for table in TABLES:
            target.execute(
                f"INSERT INTO {PROGRESS_TABLE} (table_name, source) VALUES (%s, %s)",
                (table.name, source),
            )


def _scalar(target: psycopg.Connection[Any], query: sql.Composed) -> Any:
    row = target.execute(query).fetchone()
    assert row is not None
    return row[0]


# --- copying ----------------------------------------------------------------------------


def _copy_table(
    reader: sqlite3.Connection,
    target: psycopg.Connection[Any],
    table: Table,
    batch: int,
    progress: Progress | None,
) -> None:
    row = target.execute(
        f"SELECT last_key, rows FROM {PROGRESS_TABLE} WHERE table_name = %s",
        (table.name,),
    ).fetchone()
    last_key, copied = (row[0], int(row[1])) if row else (None, 0)
    total = reader.execute(f"SELECT count(*) FROM {table.name}").fetchone()[0]
    if progress:
        progress(table.name, copied, total)
    # Users also get their indexed text: the folded keys, one per line (normalize.search_text).
    written = (*table.columns, "search_text") if table.name == "users" else table.columns
    columns = sql.SQL(", ").join(map(sql.Identifier, written))
    while True:
        rows = _page(reader, table, last_key, batch)
        if not rows:
            break
        with target.transaction(), target.cursor() as cursor:
            with cursor.copy(
                sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table.name), columns)
            ) as copy:
                for values in rows:
                    copy.write_row(_to_target(table, values))
            last_key = [rows[-1][k] for k in (table.source_key or table.key)]
            copied += len(rows)
            cursor.execute(
                f"UPDATE {PROGRESS_TABLE} SET last_key = %s, rows = %s WHERE table_name = %s",
                (json.dumps(last_key), copied, table.name),
            )
        if progress:
            progress(table.name, copied, total)


def _page(
    reader: sqlite3.Connection, table: Table, after: Sequence[Any] | None, limit: int
) -> list[sqlite3.Row]:
    key = table.source_key or table.key
    select = ", ".join(["rowid AS id" if c == "id" and table.source_key else c for c in table.columns])
    if table.source_key:
        select += ", rowid"
    order = ", ".join(key)
    where = ""
    params: list[Any] = []
    if after is not None:
        where = f"WHERE ({order}) > ({', '.join('?' for _ in key)})"
        params = list(after)
    return reader.execute(
        f"SELECT {select} FROM {table.name} {where} ORDER BY {order} LIMIT ?", (*params, limit)
    ).fetchall()


def _to_target(table: Table, row: sqlite3.Row) -> list[Any]:
    values = []
    for column in table.columns:
        value = row[column]
        if column == "mentions":
            value = "{" + ",".join(str(int(i)) for i in json.loads(value)) + "}"
        elif column in table.flags:
            value = None if value is None else bool(value)
        values.append(value)
    if table.name == "users":
        keys = ("first_name_key", "second_name_key", "alternative_id_key", "username_key")
        values.append("\n".join(row[key] for key in keys))  # normalize.search_text
    return values


def _move_sequences(reader: sqlite3.Connection, target: psycopg.Connection[Any]) -> None:
    """Ids go on after the greatest the source ever gave (AUTOINCREMENT never reuses one)."""
    given = {row["name"]: int(row["seq"]) for row in reader.execute("SELECT name, seq FROM sqlite_sequence")}
    with target.transaction():
        for table in TABLES:
            if not table.identity:
                continue
            greatest = _scalar(
                target, sql.SQL("SELECT coalesce(max(id), 0) FROM {}").format(sql.Identifier(table.name))
            )
            upto = max(int(greatest), given.get(table.name, 0))
            target.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), %s, %s)",
                (table.name, max(upto, 1), upto > 0),
            )
        target.execute("UPDATE event_counter SET last_id = greatest(last_id, %s)", (given.get("events", 0),))


# --- checking -----------------------------------------------------------------------------


def _check(reader: sqlite3.Connection, target: psycopg.Connection[Any], table: Table) -> TableReport:
    source_rows, source_sum = _checksum(_source_rows(reader, table), table)
    target_rows, target_sum = _checksum(_target_rows(target, table), table)
    return TableReport(table.name, source_rows, target_rows, source_sum, target_sum)


def _source_rows(reader: sqlite3.Connection, table: Table) -> Iterator[dict[str, Any]]:
    last: Sequence[Any] | None = None
    while rows := _page(reader, table, last, BATCH):
        for row in rows:
            values = {c: row[c] for c in table.columns}
            for column in table.json:
                values[column] = None if values[column] is None else json.loads(values[column])
            yield values
        last = [rows[-1][k] for k in (table.source_key or table.key)]


def _target_rows(target: psycopg.Connection[Any], table: Table) -> Iterator[dict[str, Any]]:
    columns = sql.SQL(", ").join(map(sql.Identifier, table.columns))
    order = sql.SQL(", ").join(map(sql.Identifier, table.key))
    query = sql.SQL("SELECT {} FROM {} ORDER BY {}").format(columns, sql.Identifier(table.name), order)
    with target.cursor() as cursor:
        for row in cursor.stream(query):
            values = dict(zip(table.columns, row, strict=True))
            if "mentions" in values:
                values["mentions"] = list(values["mentions"])
            yield values


def _checksum(rows: Iterator[dict[str, Any]], table: Table) -> tuple[int, str]:
    """How many rows, and a SHA-256 over each row's values as the model reads them."""
    digest = hashlib.sha256()
    count = 0
    for values in rows:
        canonical = []
        for column in table.columns:
            value = values[column]
            if column in table.times and value is not None:
                moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
                value = moment.astimezone(UTC).isoformat(timespec="microseconds")
            elif column in table.flags and value is not None:
                value = bool(value)
            canonical.append(value)
        digest.update(json.dumps(canonical, ensure_ascii=False, sort_keys=True, default=str).encode())
        digest.update(b"\n")
        count += 1
    return count, digest.hexdigest()
