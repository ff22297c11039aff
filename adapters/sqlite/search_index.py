"""The ``message_search`` full-text index: what it holds for a message, and the query
that reads it. Its words come from ``messenger_core.search``, so that SQLite and every
other adapter find the same messages."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from messenger_core import search
from messenger_core.model import AttachmentKind

from .rows import dump_time

# A query word is a prefix. FTS5 answers a prefix query by first merging the lists of
# every term it starts, the whole of them, before the first row comes out: 76 ms for a
# word in most of a million messages, where the word alone reads 1 ms (bench/search_bench).
# So the words the index holds are kept in ``message_search_words`` as well, and a prefix
# becomes the OR of the words it starts, which FTS5 reads lazily, newest first, as far
# as the page needs. A prefix that starts more words than this keeps FTS5's own prefix
# query (prefix indexes of 2 and 3 characters keep the shortest ones cheap).
EXPANSION_MAX = 64
_LAST_CHAR = "\U0010ffff"  # the largest code point: every word starting with a prefix p sorts below p + it


def index_message(conn: sqlite3.Connection, message_id: int, *, words: bool = True) -> None:
    """Write (or drop) the index row of a message from what the database holds now:
    a live user message is indexed, a tombstone or a system message is not. ``words``
    False leaves the list of words alone (migration step 5 comes before it exists)."""
    conn.execute("DELETE FROM message_search WHERE rowid = ?", (message_id,))
    row = conn.execute(
        "SELECT text FROM messages WHERE id = ? AND kind = 'user' AND NOT is_deleted", (message_id,)
    ).fetchone()
    if row is None:
        return
    files = conn.execute(
        "SELECT name, kind FROM attachments WHERE message_id = ? ORDER BY position, id", (message_id,)
    ).fetchall()
    write(
        conn,
        message_id,
        row[0],
        [name for name, _ in files],
        [AttachmentKind(k) for _, k in files],
        words=words,
    )


def write(
    conn: sqlite3.Connection,
    message_id: int,
    text: str | None,
    names: Sequence[str] = (),
    kinds: Sequence[AttachmentKind] = (),
    *,
    words: bool = True,
) -> None:
    """Add the index row of a new message (no row of it exists yet), and its words to
    the list of words."""
    body = search.keys(text or "")
    file_words = search.name_keys(names)
    conn.execute(
        "INSERT INTO message_search (rowid, body, names, tags) VALUES (?, ?, ?, ?)",
        (message_id, " ".join(body), " ".join(file_words), " ".join(search.tags(text, kinds))),
    )
    if words:
        remember_words(conn, {*body, *file_words})


def remember_words(conn: sqlite3.Connection, words: set[str]) -> None:
    """Add words to the list of words the index holds (a word is never taken off it: one
    no message holds any more only adds a term that finds nothing to a query)."""
    if words:
        # One statement for all of them (executemany would run one per word).
        conn.execute(
            "INSERT OR IGNORE INTO message_search_words (word) SELECT value FROM json_each(?)",
            (json.dumps(sorted(words), ensure_ascii=False),),
        )


def remember_every_word(conn: sqlite3.Connection) -> None:
    """Fill the list of words from the index a database already holds (migration step 6)."""
    conn.execute("CREATE VIRTUAL TABLE temp.message_search_terms USING fts5vocab(main, message_search, col)")
    conn.execute(
        "INSERT OR IGNORE INTO message_search_words (word)"
        " SELECT term FROM temp.message_search_terms WHERE col IN ('body', 'names')"
    )
    conn.execute("DROP TABLE temp.message_search_terms")


def index_every_message(conn: sqlite3.Connection) -> None:
    """Fill the index for the messages a database already holds (migration step 5)."""
    live = conn.execute(
        "SELECT id FROM messages WHERE kind = 'user' AND NOT is_deleted ORDER BY id"
    ).fetchall()
    for (message_id,) in live:
        index_message(conn, message_id, words=False)


def words_starting(conn: sqlite3.Connection, prefix: str) -> list[str] | None:
    """The words of the index that start with the prefix, or None when there are more
    than EXPANSION_MAX of them."""
    found = conn.execute(
        "SELECT word FROM message_search_words WHERE word >= ? AND word < ? ORDER BY word LIMIT ?",
        (prefix, prefix + _LAST_CHAR, EXPANSION_MAX + 1),
    ).fetchall()
    return None if len(found) > EXPANSION_MAX else [word for (word,) in found]


def prefix_expression(prefix: str, words: list[str] | None) -> str:
    if words is None:
        return f'{{body names}} : "{prefix}"*'
    # The prefix itself is one of the terms: whatever the list holds, a message holding
    # exactly that word is found (and a word nobody wrote finds nothing, cheaply).
    terms = dict.fromkeys([prefix, *words])
    return "{body names} : (" + " OR ".join(f'"{w}"' for w in terms) + ")"


def match_expression(
    query: search.Query, has: str | None, expansions: dict[str, list[str] | None] | None = None
) -> str | None:
    """The FTS5 query for a parsed query and a tag: each prefix (as the words it starts,
    where ``expansions`` lists them) and phrase within the text or the names, the tag
    within the tags. Keys hold only word characters, so quoting them is safe. None when
    there is nothing to match (every message)."""
    known = expansions or {}
    parts = [prefix_expression(p, known.get(p)) for p in query.prefixes]
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
    expansions = {p: words_starting(conn, p) for p in wanted.query.prefixes}
    match = match_expression(wanted.query, wanted.has, expansions)
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
