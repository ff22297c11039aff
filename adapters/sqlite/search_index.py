"""The ``message_search`` full-text index: what it holds for a message, and the query
that reads it. Its words come from ``messenger_core.search``, so that SQLite and every
other adapter find the same messages."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

from messenger_core import search
from messenger_core.model import AttachmentKind

from .rows import dump_time


def index_message(conn: sqlite3.Connection, message_id: int) -> None:
    """Write (or drop) the index row of a message from what the database holds now:
    a live user message is indexed, a tombstone or a system message is not."""
    conn.execute("DELETE FROM message_search WHERE rowid = ?", (message_id,))
    row = conn.execute(
        "SELECT text FROM messages WHERE id = ? AND kind = 'user' AND NOT is_deleted", (message_id,)
    ).fetchone()
    if row is None:
        return
    files = conn.execute(
        "SELECT name, kind FROM attachments WHERE message_id = ? ORDER BY position, id", (message_id,)
    ).fetchall()
    write(conn, message_id, row[0], [name for name, _ in files], [AttachmentKind(k) for _, k in files])


def write(
    conn: sqlite3.Connection,
    message_id: int,
    text: str | None,
    names: Sequence[str] = (),
    kinds: Sequence[AttachmentKind] = (),
) -> None:
    """Add the index row of a new message (no row of it exists yet)."""
    conn.execute(
        "INSERT INTO message_search (rowid, body, names, tags) VALUES (?, ?, ?, ?)",
        (
            message_id,
            search.indexed(text),
            " ".join(search.name_keys(names)),
            " ".join(search.tags(text, kinds)),
        ),
    )


def index_every_message(conn: sqlite3.Connection) -> None:
    """Fill the index for the messages a database already holds (migration step 5)."""
    live = conn.execute(
        "SELECT id FROM messages WHERE kind = 'user' AND NOT is_deleted ORDER BY id"
    ).fetchall()
    for (message_id,) in live:
        index_message(conn, message_id)


def match_expression(query: search.Query, has: str | None) -> str | None:
    """The FTS5 query for a parsed query and a tag: each prefix and phrase within the
    text or the names, the tag within the tags. Keys hold only word characters, so
    quoting them is safe. None when there is nothing to match (every message)."""
    parts = [f'{{body names}} : "{p}"*' for p in query.prefixes]
    parts += ['{body names} : "' + " ".join(phrase) + '"' for phrase in query.phrases]
    if has is not None:
        parts.append(f'tags : "{has}"')
    return " AND ".join(parts) or None


def search_messages(
    conn: sqlite3.Connection, user_id: int, wanted: search.Filter, limit: int, no_id_above: int
) -> list[sqlite3.Row]:
    """Rows of the messages the user may read that match, newest first. The reader's
    rights are part of the query: their membership, their part of the chat and what they
    hid are joined in, so nothing else is ever read out."""
    match = match_expression(wanted.query, wanted.has)
    where = [
        "s.rowid < :before",
        "m.id > cm.visible_after_message_id",
        "NOT EXISTS (SELECT 1 FROM hidden_messages AS h WHERE h.user_id = :viewer AND h.message_id = m.id)",
    ]
    params: dict[str, Any] = {
        "viewer": user_id,
        "before": no_id_above if wanted.before_id is None else wanted.before_id,
        "limit": limit,
    }
    if match is not None:
        where.append("message_search MATCH :match")
        params["match"] = match
    if wanted.chat_id is not None:
        where.append("m.chat_id = :chat")
        params["chat"] = wanted.chat_id
    if wanted.sender_id is not None:
        where.append("m.sender_id = :sender")
        params["sender"] = wanted.sender_id
    if wanted.sent_before is not None:
        where.append("m.sending_date < :sent_before")
        params["sent_before"] = dump_time(wanted.sent_before)
    if wanted.sent_after is not None:
        where.append("m.sending_date > :sent_after")
        params["sent_after"] = dump_time(wanted.sent_after)
    found = conn.execute(
        "SELECT m.* FROM message_search AS s"
        " JOIN messages AS m ON m.id = s.rowid"
        " JOIN chat_members AS cm ON cm.chat_id = m.chat_id AND cm.user_id = :viewer"
        f" WHERE {' AND '.join(where)} ORDER BY s.rowid DESC LIMIT :limit",
        params,
    )
    return found.fetchall()
