"""PostgreSQL implementations of the repository ports.

Each repository works on the unit of work's ``Session`` (its connection and what it
is allowed to do) and never commits. Every listing is a keyset query on an index made
in migrations.py.

Writing units run at READ COMMITTED, and the reads a use case decides on take locks
that keep the domain's rules when units run side by side (docs/postgres.md explains
the choice): a friendship pair and a direct-chat pair take transaction-level advisory
locks before they are looked up, so two requests (or two first messages) of one pair
queue and the second finds what the first made; reading a chat or a message in a
writing unit locks the chat's row, so every change inside one chat (sends, edits,
membership, roles) runs one at a time and sees the last; an upload being attached is
locked, and the orphan sweep skips locked uploads. Locks are taken in that order (pair,
chat, upload, event counter) so units never wait on each other in a circle.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

import attrs
import psycopg
from psycopg import sql

from messenger_core.errors import Conflict
from messenger_core.limits import REACTION_USERS_SHOWN
from messenger_core.model import (
    Attachment,
    Block,
    Chat,
    ChatMember,
    Event,
    EventType,
    Export,
    Friendship,
    MemberRole,
    Message,
    MessageKind,
    MessageVersion,
    NewAttachment,
    NewChat,
    NewMember,
    NewMessage,
    NewSession,
    NewUser,
    Pin,
    Reaction,
    ReactionSummary,
    SessionEnd,
    Sticker,
    StickerPack,
    User,
)
from messenger_core.model import Session as SignIn
from messenger_core.normalize import email_key, search_key, search_text
from messenger_core.search import Filter

from . import rows, search_index

_TRIGRAM = 3  # the shortest term a trigram index can narrow
# Advisory lock namespaces (the first key of the two-key form).
FRIENDSHIP_PAIR_LOCK = 1
DIRECT_PAIR_LOCK = 2


class ReadOnlyUnitError(RuntimeError):
    """A write in a read-only unit of work: the caller's bug, not the user's."""


class Session:
    """What one unit of work's repositories share: the connection of the open
    transaction, whether the unit may write, and whom its events must wake."""

    def __init__(self, read_only: bool) -> None:
        self.read_only = read_only
        self.conn: psycopg.Connection[dict[str, Any]] | None = None
        self.woken_users: set[int] = set()
        self.woken_chats: set[int] = set()

    def execute(self, query: Any, params: Any = None) -> psycopg.Cursor[dict[str, Any]]:
        assert self.conn is not None, "the unit of work is not open"
        return self.conn.execute(query, params)

    def write(self, query: Any, params: Any = None) -> psycopg.Cursor[dict[str, Any]]:
        self.check_writable()
        return self.execute(query, params)

    def check_writable(self) -> None:
        if self.read_only:
            raise ReadOnlyUnitError("this unit of work is read-only: it cannot write")

    def one(self, query: Any, params: Any = None) -> dict[str, Any] | None:
        return self.execute(query, params).fetchone()

    def lock_pair(self, namespace: int, a: int, b: int) -> None:
        """In a writing unit, queue behind any other unit deciding about this pair."""
        if not self.read_only:
            low, high = min(a, b), max(a, b)
            self.execute("SELECT pg_advisory_xact_lock(%s, %s)", (namespace, _pair_key(low, high)))

    def lock_chat(self, chat_id: int) -> None:
        if not self.read_only:
            self.execute("SELECT 1 FROM chats WHERE id = %s FOR NO KEY UPDATE", (chat_id,))

    def savepoint(self) -> AbstractContextManager[psycopg.Transaction]:
        """A nested transaction: a refused write inside it leaves the unit usable."""
        assert self.conn is not None
        return self.conn.transaction()


def _pair_key(low: int, high: int) -> int:
    """A 32-bit key for an unordered pair (a collision only makes two pairs share a queue)."""
    digest = hashlib.blake2b(f"{low}:{high}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def _insert(session: Session, table: str, values: dict[str, Any], returning: str = "id") -> Any:
    query = sql.SQL("INSERT INTO {} ({}) VALUES ({}) RETURNING {}").format(
        sql.Identifier(table),
        sql.SQL(", ").join(map(sql.Identifier, values)),
        sql.SQL(", ").join(map(sql.Placeholder, values)),
        sql.Identifier(returning),
    )
    row = session.write(query, values).fetchone()
    assert row is not None
    return row[returning]


def _like(term: str) -> str:
    """A LIKE pattern matching ``term`` anywhere, its wildcards taken literally."""
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


_UNIQUE_USER_COLUMNS = {
    "users_email_key_unique": "email_taken",
    "users_alternative_id_unique": "alternative_id_taken",
    "users_username_unique": "username_taken",
}


class PostgresUserRepository:
    """Users with their folded search keys and indexed search text kept beside the names."""

    def __init__(self, session: Session) -> None:
        self._s = session

    @staticmethod
    def _keys(values: dict[str, Any]) -> dict[str, Any]:
        return {
            **values,
            "email_key": email_key(values["email"]),
            "alternative_id_key": search_key(values["alternative_id"]),
            "first_name_key": search_key(values["first_name"]),
            "second_name_key": search_key(values["second_name"]),
            "username_key": search_key(values.get("username") or ""),
            "search_text": search_text(
                values["first_name"], values["second_name"], values["alternative_id"], values.get("username")
            ),
        }

    def _check_free(self, values: dict[str, Any], own_id: int | None) -> None:
        """Conflict when another user has the email, the public id or the username;
        asked first, so a refused add uses up no id (the unique indexes still decide a race)."""
        found = self._s.execute(
            "SELECT email_key = %(email_key)s AS email, alternative_id = %(alternative_id)s AS public"
            " FROM users WHERE (email_key = %(email_key)s OR alternative_id = %(alternative_id)s"
            " OR username = %(username)s) AND id IS DISTINCT FROM %(own)s",
            {"username": None, **values, "own": own_id},
        ).fetchall()
        if any(row["email"] for row in found):
            raise Conflict("email_taken")
        if any(row["public"] for row in found):
            raise Conflict("alternative_id_taken")
        if found:
            raise Conflict("username_taken")

    def _guarded(self, query: Any, values: dict[str, Any]) -> psycopg.Cursor[dict[str, Any]]:
        try:
            with self._s.savepoint():
                cursor = self._s.write(query, values)
        except psycopg.errors.UniqueViolation as error:
            constraint = error.diag.constraint_name or ""
            raise Conflict(_UNIQUE_USER_COLUMNS.get(constraint, "email_taken")) from error
        return cursor

    def add(self, new: NewUser) -> User:
        self._s.check_writable()
        values = self._keys(rows.to_row(new))
        self._check_free(values, None)
        query = sql.SQL("INSERT INTO users ({}) VALUES ({}) RETURNING *").format(
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(map(sql.Placeholder, values)),
        )
        row = self._guarded(query, values).fetchone()
        assert row is not None
        return rows.user(row)

    def get(self, user_id: int) -> User | None:
        row = self._s.one("SELECT * FROM users WHERE id = %s", (user_id,))
        return rows.user(row) if row else None

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        wanted = list(set(user_ids))
        if not wanted:
            return {}
        found = self._s.execute("SELECT * FROM users WHERE id = ANY(%s)", (wanted,))
        return {row["id"]: rows.user(row) for row in found}

    def get_by_alternative_id(self, alternative_id: str) -> User | None:
        row = self._s.one("SELECT * FROM users WHERE alternative_id = %s", (alternative_id,))
        return rows.user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self._s.one("SELECT * FROM users WHERE email_key = %s", (email_key(email),))
        return rows.user(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        row = self._s.one("SELECT * FROM users WHERE username = %s", (username.lower(),))
        return rows.user(row) if row else None

    def set_last_seen(self, user_id: int, at: datetime) -> None:
        self._s.write("UPDATE users SET last_seen = %s WHERE id = %s", (rows.time(at), user_id))

    def update(self, user: User) -> None:
        self._s.check_writable()
        values = self._keys(rows.to_row(user))
        self._check_free(values, user.id)
        query = sql.SQL("UPDATE users SET {} WHERE id = %(id)s").format(
            sql.SQL(", ").join(
                sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
                for name in values
                if name != "id"
            )
        )
        self._guarded(query, values)

    def search(
        self,
        *,
        text: str | None,
        first_name: str | None,
        second_name: str | None,
        start: int,
        limit: int,
    ) -> list[User]:
        # Terms of 3+ characters narrow the rows through the trigram index on
        # search_text (a LIKE the index answers); strpos() then decides, field by field,
        # matching the folded criteria literally.
        conditions: list[str] = ["NOT is_deleted"]
        params: list[Any] = []
        terms = (text or "").split()
        for term in (*terms, first_name or "", second_name or ""):
            if len(term) >= _TRIGRAM:
                conditions.append("search_text LIKE %s")
                params.append(_like(term))
        for term in terms:
            conditions.append(
                "(strpos(first_name_key, %s) > 0 OR strpos(second_name_key, %s) > 0"
                " OR strpos(alternative_id_key, %s) > 0 OR strpos(username_key, %s) > 0)"
            )
            params += [term, term, term, term]
        if first_name is not None:
            conditions.append("strpos(first_name_key, %s) > 0")
            params.append(first_name)
        if second_name is not None:
            conditions.append("strpos(second_name_key, %s) > 0")
            params.append(second_name)
        found = self._s.execute(
            f"SELECT * FROM users WHERE {' AND '.join(conditions)} ORDER BY id LIMIT %s OFFSET %s",
            (*params, limit, start),
        )
        return [rows.user(row) for row in found]

    def count(self) -> int:
        row = self._s.one("SELECT count(*) AS n FROM users")
        return int(row["n"]) if row else 0


class PostgresFriendshipRepository:
    """One row per unordered pair, found through the generated (low, high) columns."""

    _COLUMNS = "requester_id, addressee_id, status, created_date"
    _PAIR = "user_low = least(%(a)s, %(b)s) AND user_high = greatest(%(a)s, %(b)s)"

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, a: int, b: int) -> Friendship | None:
        self._s.lock_pair(FRIENDSHIP_PAIR_LOCK, a, b)
        row = self._s.one(f"SELECT {self._COLUMNS} FROM friendships WHERE {self._PAIR}", {"a": a, "b": b})
        return rows.friendship(row) if row else None

    def add(self, friendship: Friendship) -> None:
        self._s.check_writable()
        pair = {"a": friendship.requester_id, "b": friendship.addressee_id}
        self._s.lock_pair(FRIENDSHIP_PAIR_LOCK, pair["a"], pair["b"])
        if self._s.one(f"SELECT 1 FROM friendships WHERE {self._PAIR}", pair):
            raise Conflict("friendship_exists")
        self._s.write(
            "INSERT INTO friendships (requester_id, addressee_id, status, created_date)"
            " VALUES (%(requester_id)s, %(addressee_id)s, %(status)s, %(created_date)s)",
            rows.to_row(friendship),
        )

    def update(self, friendship: Friendship) -> None:
        values = rows.to_row(friendship)
        self._s.write(
            "UPDATE friendships SET requester_id = %(requester_id)s, addressee_id = %(addressee_id)s,"
            f" status = %(status)s, created_date = %(created_date)s WHERE {self._PAIR}",
            {**values, "a": friendship.requester_id, "b": friendship.addressee_id},
        )

    def remove(self, a: int, b: int) -> bool:
        cursor = self._s.write(f"DELETE FROM friendships WHERE {self._PAIR}", {"a": a, "b": b})
        return cursor.rowcount > 0

    def list_for(self, user_id: int) -> list[Friendship]:
        found = self._s.execute(
            f"SELECT {self._COLUMNS} FROM friendships"
            " WHERE user_low = %(u)s OR user_high = %(u)s ORDER BY created_date, id",
            {"u": user_id},
        )
        return [rows.friendship(row) for row in found]


class PostgresChatRepository:
    """Chats, direct and group, with membership in its own table."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewChat, members: Sequence[NewMember]) -> Chat:
        values = rows.to_row(new) | {"last_activity": rows.time(new.created_date)}
        row = self._s.write(
            sql.SQL("INSERT INTO chats ({}) VALUES ({}) RETURNING *").format(
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(map(sql.Placeholder, values)),
            ),
            values,
        ).fetchone()
        assert row is not None
        chat = rows.chat(row)
        first = {m.user_id: m for m in reversed(members)}  # the first entry of a user counts
        if first:
            assert self._s.conn is not None
            with self._s.conn.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO chat_members (chat_id, user_id, role, joined_date, joined_event_id,"
                    " visible_after_message_id) VALUES (%(chat_id)s, %(user_id)s, %(role)s,"
                    " %(joined_date)s, %(joined_event_id)s, %(visible_after_message_id)s)",
                    [{"chat_id": chat.id, **rows.to_row(m)} for m in first.values()],
                )
        return chat

    def get(self, chat_id: int) -> Chat | None:
        lock = "" if self._s.read_only else " FOR NO KEY UPDATE"
        row = self._s.one(f"SELECT * FROM chats WHERE id = %s{lock}", (chat_id,))
        return rows.chat(row) if row else None

    def update(self, chat: Chat) -> None:
        self._s.write(
            "UPDATE chats SET title = %s, photo = %s, history_visible = %s WHERE id = %s",
            (chat.title, chat.photo, chat.history_visible, chat.id),
        )

    def find_direct(self, a: int, b: int) -> Chat | None:
        self._s.lock_pair(DIRECT_PAIR_LOCK, a, b)
        row = self._s.one(
            "SELECT chats.* FROM chat_members AS mine"
            " JOIN chat_members AS theirs ON theirs.chat_id = mine.chat_id"
            " JOIN chats ON chats.id = mine.chat_id"
            " WHERE mine.user_id = %(a)s AND theirs.user_id = %(b)s AND chats.kind = 'direct'"
            " AND (SELECT count(*) FROM chat_members AS m WHERE m.chat_id = chats.id)"
            "     = CASE WHEN %(a)s = %(b)s THEN 1 ELSE 2 END"
            " ORDER BY chats.id LIMIT 1",
            {"a": a, "b": b},
        )
        return rows.chat(row) if row else None

    def members(self, chat_id: int) -> list[ChatMember]:
        found = self._s.execute("SELECT * FROM chat_members WHERE chat_id = %s ORDER BY user_id", (chat_id,))
        return [rows.chat_member(row) for row in found]

    def member_ids(self, chat_id: int) -> list[int]:
        found = self._s.execute(
            "SELECT user_id FROM chat_members WHERE chat_id = %s ORDER BY user_id", (chat_id,)
        )
        return [row["user_id"] for row in found]

    def member(self, chat_id: int, user_id: int) -> ChatMember | None:
        row = self._s.one(
            "SELECT * FROM chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, user_id)
        )
        return rows.chat_member(row) if row else None

    def add_member(self, chat_id: int, member: NewMember) -> None:
        self._s.check_writable()
        if self.member(chat_id, member.user_id) is not None:
            raise Conflict("already_member")
        self._s.write(
            "INSERT INTO chat_members (chat_id, user_id, role, joined_date, joined_event_id,"
            " visible_after_message_id) VALUES (%(chat_id)s, %(user_id)s, %(role)s, %(joined_date)s,"
            " %(joined_event_id)s, %(visible_after_message_id)s)",
            {"chat_id": chat_id, **rows.to_row(member)},
        )

    def remove_member(self, chat_id: int, user_id: int) -> None:
        self._s.write("DELETE FROM chat_members WHERE chat_id = %s AND user_id = %s", (chat_id, user_id))

    def set_role(self, chat_id: int, user_id: int, role: MemberRole) -> None:
        self._s.write(
            "UPDATE chat_members SET role = %s WHERE chat_id = %s AND user_id = %s",
            (role.value, chat_id, user_id),
        )

    def list_for_user(self, user_id: int) -> list[Chat]:
        found = self._s.execute(
            "SELECT chats.* FROM chat_members JOIN chats ON chats.id = chat_members.chat_id"
            " WHERE chat_members.user_id = %s ORDER BY chats.last_activity DESC, chats.id DESC",
            (user_id,),
        )
        return [rows.chat(row) for row in found]

    def set_last_read(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._s.write(
            "UPDATE chat_members SET last_read_message_id = %s WHERE chat_id = %s AND user_id = %s",
            (message_id, chat_id, user_id),
        )

    def set_visible_after(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._s.write(
            "UPDATE chat_members SET visible_after_message_id = %s WHERE chat_id = %s AND user_id = %s",
            (message_id, chat_id, user_id),
        )

    def set_muted_until(self, chat_id: int, user_id: int, until: datetime | None) -> None:
        self._s.write(
            "UPDATE chat_members SET muted_until = %s WHERE chat_id = %s AND user_id = %s",
            (None if until is None else rows.time(until), chat_id, user_id),
        )

    def touch(self, chat_id: int, *, last_message_id: int | None, at: datetime) -> None:
        self._s.write(
            "UPDATE chats SET last_message_id = %s, last_activity = %s WHERE id = %s",
            (last_message_id, rows.time(at), chat_id),
        )

    def remove(self, chat_id: int) -> None:
        # Members, messages and their attachment rows go by ON DELETE CASCADE.
        self._s.write("DELETE FROM chats WHERE id = %s", (chat_id,))


class PostgresMessageRepository:
    """Messages, paged by id on the (chat_id, id) index."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewMessage) -> Message:
        # Built from what was written (a send is the hottest write): no read-back.
        values = rows.to_message_row(new)
        if new.kind is MessageKind.USER:
            # Its search row in the same statement (its files come with attach or add_copies).
            message_id = self._insert_indexed(values, new.text)
        else:
            message_id = _insert(self._s, "messages", values)
        if new.mentions:
            self._write_mentions(message_id, new.chat_id, new.mentions)
        return Message(id=message_id, **attrs.asdict(new, recurse=False))

    def _insert_indexed(self, values: dict[str, Any], text: str | None) -> int:
        doc, tags = search_index.row_values(text)
        query = sql.SQL(
            "WITH m AS (INSERT INTO messages ({}) VALUES ({}) RETURNING id, chat_id)"
            " INSERT INTO message_search (message_id, chat_id, doc, tags)"
            " SELECT id, chat_id, %(search_doc)s, %(search_tags)s FROM m RETURNING message_id"
        ).format(
            sql.SQL(", ").join(map(sql.Identifier, values)),
            sql.SQL(", ").join(map(sql.Placeholder, values)),
        )
        row = self._s.write(query, {**values, "search_doc": doc, "search_tags": tags}).fetchone()
        assert row is not None
        return int(row["message_id"])

    def get(self, message_id: int) -> Message | None:
        if not self._s.read_only:
            # Whoever changes a message holds its chat: lock the chat first, then read
            # the message as the last unit to change it left it.
            self._s.execute(
                "SELECT 1 FROM chats WHERE id = (SELECT chat_id FROM messages WHERE id = %s)"
                " FOR NO KEY UPDATE",
                (message_id,),
            )
        row = self._s.one("SELECT * FROM messages WHERE id = %s", (message_id,))
        return rows.message(row) if row else None

    def update(self, message: Message) -> None:
        values = rows.to_message_row(message)
        self._s.write(
            sql.SQL("UPDATE messages SET {} WHERE id = %(id)s").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
                    for name in values
                    if name != "id"
                )
            ),
            values,
        )
        self._s.write("DELETE FROM message_mentions WHERE message_id = %s", (message.id,))
        if message.mentions:
            self._write_mentions(message.id, message.chat_id, message.mentions)
        self._reindex(message.id)

    def _reindex(self, message_id: int) -> None:
        assert self._s.conn is not None
        search_index.index_message(self._s.conn, message_id)

    def search(self, user_id: int, wanted: Filter, limit: int) -> list[Message]:
        query, params = search_index.search_query(user_id, wanted, limit)
        return [rows.message(row) for row in self._s.execute(query, params)]

    def _write_mentions(self, message_id: int, chat_id: int, mentions: Sequence[int]) -> None:
        self._s.write(
            "INSERT INTO message_mentions (user_id, chat_id, message_id)"
            " SELECT DISTINCT unnest(%s::bigint[]), %s, %s ON CONFLICT DO NOTHING",
            (list(mentions), chat_id, message_id),
        )

    def get_many(self, message_ids: Iterable[int]) -> dict[int, Message]:
        wanted = list(set(message_ids))
        if not wanted:
            return {}
        found = self._s.execute("SELECT * FROM messages WHERE id = ANY(%s)", (wanted,))
        return {row["id"]: rows.message(row) for row in found}

    # Leaving out what a user hid: a probe of hidden_messages' primary key per row.
    _NOT_HIDDEN = (
        " AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
        " WHERE h.user_id = %(viewer)s AND h.message_id = messages.id)"
    )

    def _page(self, where: str, order: str, params: dict[str, Any], hidden_for: int | None) -> list[Message]:
        hidden = "" if hidden_for is None else self._NOT_HIDDEN
        found = self._s.execute(
            f"SELECT * FROM messages WHERE chat_id = %(chat)s AND {where}{hidden}"
            f" ORDER BY id {order} LIMIT %(limit)s",
            {**params, "viewer": hidden_for},
        )
        return [rows.message(row) for row in found]

    def page_before(
        self, chat_id: int, before_id: int | None, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        params = {"chat": chat_id, "bound": before_id, "limit": limit}
        where = "true" if before_id is None else "id < %(bound)s"
        return self._page(where, "DESC", params, hidden_for)

    def page_after(
        self, chat_id: int, after_id: int, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        return self._page(
            "id > %(bound)s", "", {"chat": chat_id, "bound": after_id, "limit": limit}, hidden_for
        )

    def page_since(
        self, chat_id: int, since: datetime, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        params = {"chat": chat_id, "since": rows.time(since), "limit": limit}
        return self._page("sending_date > %(since)s", "", params, hidden_for)

    def count_unread(self, chat_id: int, user_id: int, after_id: int) -> int:
        row = self._s.one(
            "SELECT count(*) AS n FROM messages WHERE chat_id = %(chat)s AND id > %(after)s"
            " AND sender_id <> %(viewer)s AND NOT is_deleted AND kind = 'user'" + self._NOT_HIDDEN,
            {"chat": chat_id, "after": after_id, "viewer": user_id},
        )
        return int(row["n"]) if row else 0

    def count_unread_mentions(self, chat_id: int, user_id: int, after_id: int) -> int:
        # A tombstone's mentions are gone from message_mentions (update rewrites them).
        row = self._s.one(
            "SELECT count(*) AS n FROM message_mentions AS m"
            " WHERE user_id = %(viewer)s AND chat_id = %(chat)s AND message_id > %(after)s"
            " AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "   WHERE h.user_id = %(viewer)s AND h.message_id = m.message_id)",
            {"chat": chat_id, "after": after_id, "viewer": user_id},
        )
        return int(row["n"]) if row else 0

    def hide(self, user_id: int, message_id: int) -> None:
        self._s.write(
            "INSERT INTO hidden_messages (user_id, chat_id, message_id)"
            " SELECT %s, chat_id, id FROM messages WHERE id = %s ON CONFLICT DO NOTHING",
            (user_id, message_id),
        )

    def hidden_among(self, user_id: int, message_ids: Iterable[int]) -> set[int]:
        wanted = list(set(message_ids))
        if not wanted:
            return set()
        found = self._s.execute(
            "SELECT message_id FROM hidden_messages WHERE user_id = %s AND message_id = ANY(%s)",
            (user_id, wanted),
        )
        return {row["message_id"] for row in found}

    def add_version(self, message_id: int, version: MessageVersion) -> None:
        self._s.write(
            "INSERT INTO message_versions (message_id, text, written_date) VALUES (%s, %s, %s)",
            (message_id, version.text, rows.time(version.written_date)),
        )

    def versions(self, message_id: int) -> list[MessageVersion]:
        found = self._s.execute(
            "SELECT text, written_date FROM message_versions WHERE message_id = %s ORDER BY id", (message_id,)
        )
        return [MessageVersion(text=row["text"], written_date=row["written_date"]) for row in found]

    def remove_versions(self, message_id: int) -> None:
        self._s.write("DELETE FROM message_versions WHERE message_id = %s", (message_id,))

    def sent_by(self, user_id: int, after_id: int, limit: int) -> list[Message]:
        found = self._s.execute(
            "SELECT * FROM messages WHERE sender_id = %s AND id > %s ORDER BY id LIMIT %s",
            (user_id, after_id, limit),
        )
        return [rows.message(row) for row in found]


class PostgresAttachmentRepository:
    """Uploaded files' metadata; unbound rows are orphans until a message takes them."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewAttachment) -> Attachment:
        values = rows.to_row(new)
        row = self._s.write(
            sql.SQL("INSERT INTO attachments ({}) VALUES ({}) RETURNING *").format(
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(map(sql.Placeholder, values)),
            ),
            values,
        ).fetchone()
        assert row is not None
        return rows.attachment(row)

    def get(self, attachment_id: int) -> Attachment | None:
        # In a writing unit the upload is locked: two sends cannot both take it, and
        # the orphan sweep passes it by.
        lock = "" if self._s.read_only else " FOR NO KEY UPDATE"
        row = self._s.one(f"SELECT * FROM attachments WHERE id = %s{lock}", (attachment_id,))
        return rows.attachment(row) if row else None

    def attach(self, attachment_ids: Sequence[int], message_id: int) -> None:
        self._s.write(
            "UPDATE attachments SET message_id = %s, position = given.position - 1"
            " FROM unnest(%s::bigint[]) WITH ORDINALITY AS given (id, position)"
            " WHERE attachments.id = given.id",
            (message_id, list(attachment_ids)),
        )
        self._reindex(message_id)  # the names and kinds of its files

    def _reindex(self, message_id: int) -> None:
        assert self._s.conn is not None
        search_index.index_message(self._s.conn, message_id)

    def for_messages(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        wanted = list(set(message_ids))
        if not wanted:
            return {}
        found = self._s.execute(
            "SELECT * FROM attachments WHERE message_id = ANY(%s) ORDER BY message_id, position, id",
            (wanted,),
        )
        by_message: dict[int, list[Attachment]] = {}
        for row in found:
            by_message.setdefault(row["message_id"], []).append(rows.attachment(row))
        return by_message

    def for_chat(self, chat_id: int) -> list[Attachment]:
        found = self._s.execute(
            "SELECT attachments.* FROM messages JOIN attachments ON attachments.message_id = messages.id"
            " WHERE messages.chat_id = %s ORDER BY attachments.id",
            (chat_id,),
        )
        return [rows.attachment(row) for row in found]

    def detach_all(self, message_id: int) -> list[Attachment]:
        found = self._s.write("DELETE FROM attachments WHERE message_id = %s RETURNING *", (message_id,))
        return sorted((rows.attachment(row) for row in found), key=lambda a: (a.position, a.id))

    def uploaded_by(self, user_id: int, after_id: int, limit: int) -> list[Attachment]:
        found = self._s.execute(
            "SELECT * FROM attachments WHERE uploader_id = %s AND id > %s ORDER BY id LIMIT %s",
            (user_id, after_id, limit),
        )
        return [rows.attachment(row) for row in found]

    def add_copies(
        self, sources: Sequence[Attachment], message_id: int, uploader_id: int
    ) -> list[Attachment]:
        copies = []
        for position, source in enumerate(sources):
            copy = attrs.evolve(source, message_id=message_id, position=position, uploader_id=uploader_id)
            values = rows.to_row(copy)
            del values["id"]
            copies.append(attrs.evolve(copy, id=_insert(self._s, "attachments", values)))
        self._reindex(message_id)
        return copies

    def keys_in_use(self, keys: Iterable[str]) -> set[str]:
        wanted = list(set(keys))
        if not wanted:
            return set()
        found = self._s.execute(
            "SELECT k FROM unnest(%s::text[]) AS k"
            " WHERE EXISTS (SELECT 1 FROM attachments WHERE storage_key = k)"
            " OR EXISTS (SELECT 1 FROM attachments WHERE thumbnail_key = k)",
            (wanted,),
        )
        return {row["k"] for row in found}

    def orphans_before(self, before: datetime, limit: int) -> list[Attachment]:
        # A writing unit (the sweep) locks what it will remove and skips uploads that a
        # send holds; re-checked after the lock, an upload attached meanwhile is no orphan.
        lock = "" if self._s.read_only else " FOR UPDATE SKIP LOCKED"
        found = self._s.execute(
            "SELECT * FROM attachments WHERE message_id IS NULL AND created_date < %s"
            f" ORDER BY id LIMIT %s{lock}",
            (rows.time(before), limit),
        )
        return [rows.attachment(row) for row in found]

    def unsent_bytes(self, uploader_id: int) -> int:
        # Unsent rows are few (they expire): the partial index attachments_orphans holds only them.
        row = self._s.one(
            "SELECT coalesce(sum(size), 0) AS n FROM attachments"
            " WHERE message_id IS NULL AND uploader_id = %s",
            (uploader_id,),
        )
        return int(row["n"]) if row else 0

    def remove(self, attachment_id: int) -> None:
        self._s.write("DELETE FROM attachments WHERE id = %s", (attachment_id,))


class PostgresReactionRepository:
    """Reactions, one row per (message, emoji, user); the id orders them by time.

    Every change also rewrites the message's ``reaction_summary`` (each emoji with its
    count and first reactors, in the order the emoji came), in one statement, so that a
    page reads a column per message and one probe for the reader's own reactions.
    Reacting reads the message first (``visible_message``), which in a writing unit
    locks its chat: two reactions to one message are summarised one after the other."""

    _SUMMARISE = (
        "UPDATE messages SET reaction_summary = ("
        "   SELECT json_agg(json_build_array(emoji, n, users) ORDER BY first) FROM ("
        "     SELECT emoji, count(*) AS n, (array_agg(user_id ORDER BY id))[1:%(shown)s] AS users,"
        "       min(id) AS first FROM reactions WHERE message_id = %(message)s GROUP BY emoji) AS s)"
        " WHERE id = %(message)s"
    )

    def __init__(self, session: Session) -> None:
        self._s = session

    def _summarise(self, message_id: int) -> None:
        self._s.write(self._SUMMARISE, {"message": message_id, "shown": REACTION_USERS_SHOWN})

    def add(self, reaction: Reaction) -> bool:
        cursor = self._s.write(
            "INSERT INTO reactions (message_id, user_id, emoji, created_date) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (reaction.message_id, reaction.user_id, reaction.emoji, rows.time(reaction.created_date)),
        )
        if cursor.rowcount:
            self._summarise(reaction.message_id)
        return cursor.rowcount > 0

    def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        cursor = self._s.write(
            "DELETE FROM reactions WHERE message_id = %s AND emoji = %s AND user_id = %s",
            (message_id, emoji, user_id),
        )
        if cursor.rowcount:
            self._summarise(message_id)
        return cursor.rowcount > 0

    def emojis(self, message_id: int) -> set[str]:
        found = self._s.execute("SELECT DISTINCT emoji FROM reactions WHERE message_id = %s", (message_id,))
        return {row["emoji"] for row in found}

    def summaries(self, message_ids: Iterable[int], viewer_id: int) -> dict[int, list[ReactionSummary]]:
        wanted = list(set(message_ids))
        if not wanted:
            return {}
        found = self._s.execute(
            "SELECT id, reaction_summary, ARRAY(SELECT emoji FROM reactions"
            "   WHERE user_id = %s AND message_id = messages.id) AS mine"
            " FROM messages WHERE id = ANY(%s) AND reaction_summary IS NOT NULL",
            (viewer_id, wanted),
        )
        by_message = {}
        for row in found:
            mine = set(row["mine"])
            by_message[row["id"]] = [
                ReactionSummary(emoji=emoji, count=count, user_ids=tuple(users), me=emoji in mine)
                for emoji, count, users in row["reaction_summary"]
            ]
        return by_message

    def remove_all(self, message_id: int) -> None:
        self._s.write("DELETE FROM reactions WHERE message_id = %s", (message_id,))
        self._s.write("UPDATE messages SET reaction_summary = NULL WHERE id = %s", (message_id,))


class PostgresPinRepository:
    """Pinned messages, one row per (chat, message)."""

    _ORDER = "ORDER BY pinned_date DESC, message_id DESC"

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, pin: Pin) -> bool:
        cursor = self._s.write(
            "INSERT INTO pins (chat_id, message_id, pinned_by, pinned_date) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (pin.chat_id, pin.message_id, pin.pinned_by, rows.time(pin.pinned_date)),
        )
        return cursor.rowcount > 0

    def remove(self, chat_id: int, message_id: int) -> bool:
        cursor = self._s.write(
            "DELETE FROM pins WHERE chat_id = %s AND message_id = %s", (chat_id, message_id)
        )
        return cursor.rowcount > 0

    def list_for_chat(self, chat_id: int) -> list[Pin]:
        found = self._s.execute(f"SELECT * FROM pins WHERE chat_id = %s {self._ORDER}", (chat_id,))
        return [rows.pin(row) for row in found]

    def latest_for(self, chat_id: int, user_id: int, after_message_id: int) -> Pin | None:
        row = self._s.one(
            "SELECT * FROM pins WHERE chat_id = %(chat)s AND message_id > %(after)s"
            " AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "   WHERE h.user_id = %(viewer)s AND h.message_id = pins.message_id)"
            f" {self._ORDER} LIMIT 1",
            {"chat": chat_id, "after": after_message_id, "viewer": user_id},
        )
        return rows.pin(row) if row else None


class PostgresStickerRepository:
    """Sticker packs, each sticker keeping its position in the pack."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add_pack(self, title: str, images: Sequence[tuple[str, str]]) -> StickerPack:
        pack_id = _insert(self._s, "sticker_packs", {"title": title})
        stickers = []
        for position, (key, mime) in enumerate(images):
            values = {"pack_id": pack_id, "position": position, "image_key": key, "mime": mime}
            stickers.append(Sticker(id=_insert(self._s, "stickers", values), **values))
        return StickerPack(id=pack_id, title=title, stickers=tuple(stickers))

    def list_packs(self) -> list[StickerPack]:
        by_pack: dict[int, list[Sticker]] = {}
        for row in self._s.execute("SELECT * FROM stickers ORDER BY pack_id, position, id"):
            by_pack.setdefault(row["pack_id"], []).append(rows.sticker(row))
        return [
            StickerPack(id=row["id"], title=row["title"], stickers=tuple(by_pack.get(row["id"], ())))
            for row in self._s.execute("SELECT id, title FROM sticker_packs ORDER BY id")
        ]

    def get_sticker(self, sticker_id: int) -> Sticker | None:
        row = self._s.one("SELECT * FROM stickers WHERE id = %s", (sticker_id,))
        return rows.sticker(row) if row else None

    def get_stickers(self, sticker_ids: Iterable[int]) -> dict[int, Sticker]:
        wanted = list(set(sticker_ids))
        if not wanted:
            return {}
        found = self._s.execute("SELECT * FROM stickers WHERE id = ANY(%s)", (wanted,))
        return {row["id"]: rows.sticker(row) for row in found}


class PostgresEventRepository:
    """Users' and chats' events sharing one id sequence, the clients' cursor, taken from
    the ``event_counter`` row (see migrations.py: ids become visible in order). A
    chat's event is one row, read by each member through chat_members."""

    _APPEND = (
        "WITH next AS (UPDATE event_counter SET last_id = last_id + 1 RETURNING last_id)"
        " INSERT INTO events (id, user_id, chat_id, message_id, type, data, created_date)"
        " SELECT last_id, %s, %s, %s, %s, %s, %s FROM next RETURNING id"
    )

    def __init__(self, session: Session) -> None:
        self._s = session

    def _append(
        self,
        user_id: int | None,
        chat_id: int | None,
        type: EventType,
        data: dict[str, Any],
        at: datetime,
        message_id: int | None = None,
    ) -> Event:
        created = rows.time(at)
        row = self._s.write(
            self._APPEND, (user_id, chat_id, message_id, type.value, rows.json_value(data), created)
        ).fetchone()
        assert row is not None
        return Event(
            id=row["id"],
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            type=type,
            data=data,
            created_date=created,
        )

    def append(self, user_id: int, type: EventType, data: dict[str, Any], at: datetime) -> Event:
        event = self._append(user_id, None, type, data, at)
        self._s.woken_users.add(user_id)
        return event

    def append_to_chat(
        self,
        chat_id: int,
        type: EventType,
        data: dict[str, Any],
        at: datetime,
        *,
        message_id: int | None = None,
    ) -> Event:
        event = self._append(None, chat_id, type, data, at, message_id)
        self._s.woken_chats.add(chat_id)
        return event

    def after(self, user_id: int, cursor: int, limit: int) -> list[Event]:
        # The user's own events, and each of their chats' events written after they
        # joined it: each branch seeks its index (events_user, events_chat) from the cursor.
        found = self._s.execute(
            "(SELECT * FROM events WHERE user_id = %(user)s AND id > %(cursor)s ORDER BY id LIMIT %(limit)s)"
            " UNION ALL"
            " (SELECT events.* FROM chat_members JOIN events ON events.chat_id = chat_members.chat_id"
            "   AND events.id > greatest(%(cursor)s, chat_members.joined_event_id)"
            "   WHERE chat_members.user_id = %(user)s"
            "   AND (events.message_id IS NULL OR (events.message_id > chat_members.visible_after_message_id"
            "     AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "       WHERE h.user_id = %(user)s AND h.message_id = events.message_id)))"
            "   ORDER BY events.id LIMIT %(limit)s)"
            " ORDER BY id LIMIT %(limit)s",
            {"user": user_id, "cursor": cursor, "limit": limit},
        )
        return [rows.event(row) for row in found]

    def latest_id(self) -> int:
        row = self._s.one("SELECT last_id FROM event_counter")
        return int(row["last_id"]) if row else 0

    def latest_of_chat(self, chat_id: int) -> int:
        # The end of the chat's part of events_chat (chat events only carry chat_id).
        row = self._s.one("SELECT max(id) AS id FROM events WHERE chat_id = %s", (chat_id,))
        return int(row["id"] or 0) if row else 0

    def oldest_retained_id(self) -> int:
        row = self._s.one(
            "SELECT coalesce((SELECT min(id) FROM events) - 1, (SELECT last_id FROM event_counter)) AS oldest"
        )
        return int(row["oldest"]) if row else 0

    def prune_before(self, before: datetime) -> int:
        cursor = self._s.write("DELETE FROM events WHERE created_date < %s", (rows.time(before),))
        return cursor.rowcount


class PostgresStoredFileRepository:
    """Which blob keys rows name. Each column holding keys has an index (migrations 3
    and 6), so asking costs a lookup per key and column, whatever the size of the tables."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def referenced(self, keys: Sequence[str]) -> set[str]:
        wanted = list(set(keys))
        if not wanted:
            return set()
        found = self._s.execute(
            "SELECT k FROM unnest(%s::text[]) AS k WHERE"
            " EXISTS (SELECT 1 FROM attachments WHERE storage_key = k)"
            " OR EXISTS (SELECT 1 FROM attachments WHERE thumbnail_key = k)"
            " OR EXISTS (SELECT 1 FROM users WHERE avatar = k)"
            " OR EXISTS (SELECT 1 FROM chats WHERE photo = k)"
            " OR EXISTS (SELECT 1 FROM stickers WHERE image_key = k)"
            " OR EXISTS (SELECT 1 FROM exports WHERE blob_key = k)",
            (wanted,),
        )
        return {row["k"] for row in found}


class PostgresSessionRepository:
    """Signed-in devices; ended ones stay, with their reason, until pruned."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, new: NewSession) -> SignIn:
        values = rows.to_row(new) | {"last_used_date": rows.time(new.created_date)}
        session_id = _insert(self._s, "sessions", values)
        return SignIn(id=session_id, last_used_date=new.created_date, **attrs.asdict(new, recurse=False))

    def get(self, session_id: int) -> SignIn | None:
        row = self._s.one("SELECT * FROM sessions WHERE id = %s", (session_id,))
        return rows.session(row) if row else None

    def update(self, session: SignIn) -> None:
        values = rows.to_row(session)
        self._s.write(
            sql.SQL("UPDATE sessions SET {} WHERE id = %(id)s").format(
                sql.SQL(", ").join(
                    sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name))
                    for name in values
                    if name != "id"
                )
            ),
            values,
        )

    def active_for(self, user_id: int) -> list[SignIn]:
        found = self._s.execute(
            "SELECT * FROM sessions WHERE user_id = %s AND ended_date IS NULL ORDER BY id", (user_id,)
        )
        return [rows.session(row) for row in found]

    def end_all(
        self, user_id: int, reason: SessionEnd, at: datetime, *, keep: int | None = None
    ) -> list[int]:
        found = self._s.write(
            "UPDATE sessions SET ended_date = %s, end_reason = %s"
            " WHERE user_id = %s AND ended_date IS NULL AND id IS DISTINCT FROM %s RETURNING id",
            (rows.time(at), reason.value, user_id, keep),
        ).fetchall()
        return sorted(row["id"] for row in found)

    def prune_ended_before(self, before: datetime) -> int:
        cursor = self._s.write("DELETE FROM sessions WHERE ended_date < %s", (rows.time(before),))
        return cursor.rowcount

    def remove_all_for(self, user_id: int) -> None:
        self._s.write("DELETE FROM sessions WHERE user_id = %s", (user_id,))


class PostgresBlockRepository:
    """Blocks, one row per direction, found from either side through two indexes."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def add(self, block: Block) -> bool:
        cursor = self._s.write(
            "INSERT INTO blocks (blocker_id, blocked_id, created_date) VALUES (%s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            (block.blocker_id, block.blocked_id, rows.time(block.created_date)),
        )
        return cursor.rowcount > 0

    def remove(self, blocker_id: int, blocked_id: int) -> bool:
        cursor = self._s.write(
            "DELETE FROM blocks WHERE blocker_id = %s AND blocked_id = %s", (blocker_id, blocked_id)
        )
        return cursor.rowcount > 0

    def exists(self, blocker_id: int, blocked_id: int) -> bool:
        row = self._s.one(
            "SELECT 1 AS found FROM blocks WHERE blocker_id = %s AND blocked_id = %s",
            (blocker_id, blocked_id),
        )
        return row is not None

    def between(self, first_id: int, second_id: int) -> bool:
        row = self._s.one(
            "SELECT 1 AS found FROM blocks WHERE (blocker_id = %s AND blocked_id = %s)"
            " OR (blocker_id = %s AND blocked_id = %s)",
            (first_id, second_id, second_id, first_id),
        )
        return row is not None

    def list_by(self, blocker_id: int) -> list[Block]:
        found = self._s.execute(
            "SELECT * FROM blocks WHERE blocker_id = %s ORDER BY created_date, blocked_id", (blocker_id,)
        )
        return [rows.block(row) for row in found]

    def involving(self, user_id: int) -> list[Block]:
        found = self._s.execute(
            "SELECT * FROM blocks WHERE blocker_id = %(u)s"
            " UNION ALL SELECT * FROM blocks WHERE blocked_id = %(u)s",
            {"u": user_id},
        )
        return [rows.block(row) for row in found]

    def remove_all_for(self, user_id: int) -> None:
        self._s.write("DELETE FROM blocks WHERE blocker_id = %(u)s OR blocked_id = %(u)s", {"u": user_id})


class PostgresExportRepository:
    """The latest data export of each user."""

    def __init__(self, session: Session) -> None:
        self._s = session

    def get(self, user_id: int) -> Export | None:
        row = self._s.one("SELECT * FROM exports WHERE user_id = %s", (user_id,))
        return rows.export(row) if row else None

    def put(self, export: Export) -> None:
        values = rows.to_row(export)
        self._s.write(
            sql.SQL("INSERT INTO exports ({}) VALUES ({}) ON CONFLICT (user_id) DO UPDATE SET {}").format(
                sql.SQL(", ").join(map(sql.Identifier, values)),
                sql.SQL(", ").join(map(sql.Placeholder, values)),
                sql.SQL(", ").join(
                    sql.SQL("{0} = EXCLUDED.{0}").format(sql.Identifier(name))
                    for name in values
                    if name != "user_id"
                ),
            ),
            values,
        )

    def remove(self, user_id: int) -> None:
        self._s.write("DELETE FROM exports WHERE user_id = %s", (user_id,))

    def pending(self) -> list[Export]:
        found = self._s.execute(
            "SELECT * FROM exports WHERE state = 'pending' ORDER BY created_date, user_id"
        )
        return [rows.export(row) for row in found]

    def ready_before(self, before: datetime) -> list[Export]:
        found = self._s.execute(
            "SELECT * FROM exports WHERE state = 'ready' AND ready_date < %s ORDER BY ready_date, user_id",
            (rows.time(before),),
        )
        return [rows.export(row) for row in found]
