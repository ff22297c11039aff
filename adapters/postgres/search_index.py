"""The ``message_search`` table: what it holds for a message, and the query that reads it.

A live user message has one row: ``doc``, the keys of its text and of its files' names
as ``messenger_core.search`` makes them, each list joined by single spaces and framed by
spaces, the two lists apart (`` k1 k2 | n1 n2 ``); and ``tags``, what it holds. Keys
are runs of word characters (no space, ``|``, ``%``, ``_`` or backslash), so

* a prefix ``p`` starts some word exactly when the doc holds `` p``, and
* a phrase ``a b`` runs within the text or within the names exactly when it holds
  `` a b `` (a run cannot cross the ``|``),

which is ``search.matches`` to the letter: PostgreSQL finds what the memory adapter
finds. Both are LIKE patterns, which the trigram index (pg_trgm) on ``doc`` answers, the
row rechecked against the pattern; a prefix shorter than a trigram reads the index
whole, and a query of no words reads the chat's messages newest first. The core's
tokenizer decides the words, so rows are written from Python, in the writing unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import psycopg
from psycopg.rows import tuple_row

from messenger_core import search
from messenger_core.model import AttachmentKind

from . import rows


def doc(text: str | None, names: Iterable[str] = ()) -> str:
    body = search.indexed(text)
    files = " ".join(search.name_keys(names))
    return f" {body} | {files} "


def row_values(
    text: str | None, names: Sequence[str] = (), kinds: Sequence[AttachmentKind] = ()
) -> tuple[str, list[str]]:
    """The (doc, tags) of a live user message."""
    return doc(text, names), search.tags(text, kinds)


def index_message(conn: psycopg.Connection[Any], message_id: int) -> None:
    """Write (or drop) the row of a message from what the database holds now: a live
    user message is indexed, a tombstone or a system message is not."""
    cursor = conn.cursor(row_factory=tuple_row)
    found = cursor.execute(
        "SELECT chat_id, text FROM messages WHERE id = %s AND kind = 'user' AND NOT is_deleted",
        (message_id,),
    ).fetchone()
    if found is None:
        cursor.execute("DELETE FROM message_search WHERE message_id = %s", (message_id,))
        return
    chat_id, text = found
    files = cursor.execute(
        "SELECT name, kind FROM attachments WHERE message_id = %s ORDER BY position, id", (message_id,)
    ).fetchall()
    body, tags = row_values(text, [name for name, _ in files], [AttachmentKind(k) for _, k in files])
    cursor.execute(
        "INSERT INTO message_search (message_id, chat_id, doc, tags) VALUES (%s, %s, %s, %s)"
        " ON CONFLICT (message_id) DO UPDATE SET doc = excluded.doc, tags = excluded.tags",
        (message_id, chat_id, body, tags),
    )


def index_every_message(conn: psycopg.Connection[Any], batch: int = 2000) -> None:
    """Fill the table for the messages a database already holds (migration step 4, and
    after a copy from SQLite): keyset pages, each message's files with it."""
    cursor = conn.cursor(row_factory=tuple_row)
    last = 0
    while True:
        page = cursor.execute(
            "SELECT id, chat_id, text FROM messages WHERE kind = 'user' AND NOT is_deleted AND id > %s"
            " ORDER BY id LIMIT %s",
            (last, batch),
        ).fetchall()
        if not page:
            return
        ids = [row[0] for row in page]
        files: dict[int, list[tuple[str, str]]] = {}
        for message_id, name, kind in cursor.execute(
            "SELECT message_id, name, kind FROM attachments WHERE message_id = ANY(%s)"
            " ORDER BY message_id, position, id",
            (ids,),
        ):
            files.setdefault(message_id, []).append((name, kind))
        values = []
        for message_id, chat_id, text in page:
            held = files.get(message_id, [])
            body, tags = row_values(text, [n for n, _ in held], [AttachmentKind(k) for _, k in held])
            values.append((message_id, chat_id, body, tags))
        cursor.executemany(
            "INSERT INTO message_search (message_id, chat_id, doc, tags) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT (message_id) DO UPDATE SET doc = excluded.doc, tags = excluded.tags",
            values,
        )
        last = ids[-1]


def _escaped(term: str) -> str:
    # Keys hold none of LIKE's special characters; escaping keeps that a guarantee.
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def patterns(query: search.Query) -> list[str]:
    """The LIKE patterns of a parsed query, every one required of ``doc``."""
    found = [f"% {_escaped(p)}%" for p in query.prefixes]
    found += [f"% {_escaped(' '.join(phrase))} %" for phrase in query.phrases]
    return found


def search_query(user_id: int, wanted: search.Filter, limit: int) -> tuple[str, dict[str, Any]]:
    """The SELECT of the messages the user may read that match, newest first. The
    reader's rights are part of the query: their membership, their part of the chat and
    what they hid are joined in, so nothing else is ever read out."""
    where = [
        "m.id > cm.visible_after_message_id",
        "NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
        " WHERE h.user_id = %(viewer)s AND h.message_id = m.id)",
    ]
    params: dict[str, Any] = {"viewer": user_id, "limit": limit}
    if wanted.before_id is not None:
        where.append("s.message_id < %(before)s")
        params["before"] = wanted.before_id
    for i, pattern in enumerate(patterns(wanted.query)):
        where.append(f"s.doc LIKE %(p{i})s")
        params[f"p{i}"] = pattern
    if wanted.has is not None:
        where.append("%(has)s = ANY(s.tags)")
        params["has"] = wanted.has
    if wanted.chat_id is not None:
        where.append("s.chat_id = %(chat)s")
        params["chat"] = wanted.chat_id
    if wanted.sender_id is not None:
        where.append("m.sender_id = %(sender)s")
        params["sender"] = wanted.sender_id
    if wanted.sent_before is not None:
        where.append("m.sending_date < %(sent_before)s")
        params["sent_before"] = rows.time(wanted.sent_before)
    if wanted.sent_after is not None:
        where.append("m.sending_date > %(sent_after)s")
        params["sent_after"] = rows.time(wanted.sent_after)
    query = (
        "SELECT m.* FROM message_search AS s"
        " JOIN chat_members AS cm ON cm.chat_id = s.chat_id AND cm.user_id = %(viewer)s"
        " JOIN messages AS m ON m.id = s.message_id"
        f" WHERE {' AND '.join(where)} ORDER BY s.message_id DESC LIMIT %(limit)s"
    )
    return query, params
