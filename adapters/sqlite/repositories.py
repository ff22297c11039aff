"""SQLite implementations of the repository ports.

Each repository wraps the unit of work's connection and never commits. Every listing
is a keyset query on an index created in migrations.py. Lists of ids travel as one
JSON parameter (``json_each``), so no query depends on SQLite's variable limit.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import attrs
import orjson

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
    Session,
    SessionEnd,
    Sticker,
    StickerPack,
    User,
)
from messenger_core.normalize import email_key, search_key
from messenger_core.search import Filter

from . import rows, search_index

_TRIGRAM = 3  # the shortest term the user_search index can find
_NO_ID_ABOVE = 2**63 - 1  # SQLite's largest integer


def _id_list(ids: Iterable[int]) -> str:
    return json.dumps([int(i) for i in ids])  # json, not orjson: a client's id may pass 64 bits


def _insert(conn: sqlite3.Connection, table: str, values: dict[str, Any]) -> int:
    """Insert a row and return its rowid. Table and column names come from our code."""
    columns = ", ".join(values)
    marks = ", ".join(f":{name}" for name in values)
    cursor = conn.execute(f"INSERT INTO {table} ({columns}) VALUES ({marks})", values)
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def _update(conn: sqlite3.Connection, table: str, values: dict[str, Any], key: str) -> None:
    assignments = ", ".join(f"{name} = :{name}" for name in values if name != key)
    conn.execute(f"UPDATE {table} SET {assignments} WHERE {key} = :{key}", values)


def _user_conflict(error: sqlite3.IntegrityError) -> Conflict:
    """The Conflict a unique index of users refused (its column is in SQLite's message)."""
    text = str(error)
    if "email_key" in text:
        return Conflict("email_taken")
    return Conflict("username_taken" if "username" in text else "alternative_id_taken")


class SqliteUserRepository:
    """Users with their case-folded search keys kept beside the names."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    @staticmethod
    def _keys(values: dict[str, Any]) -> dict[str, Any]:
        return {
            **values,
            "email_key": email_key(values["email"]),
            "alternative_id_key": search_key(values["alternative_id"]),
            "first_name_key": search_key(values["first_name"]),
            "second_name_key": search_key(values["second_name"]),
            "username_key": search_key(values.get("username") or ""),
        }

    def add(self, new: NewUser) -> User:
        values = self._keys(rows.to_row(new))
        try:
            user_id = _insert(self._conn, "users", values)
        except sqlite3.IntegrityError as error:
            raise _user_conflict(error) from error
        user = self.get(user_id)
        assert user is not None
        return user

    def get(self, user_id: int) -> User | None:
        row = self._conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return rows.user(row) if row else None

    def get_many(self, user_ids: Iterable[int]) -> dict[int, User]:
        wanted = set(user_ids)
        if len(wanted) == 1:  # the common case (a chat's only sender) takes the plain key lookup
            user = self.get(next(iter(wanted)))
            return {} if user is None else {user.id: user}
        found = self._conn.execute(
            "SELECT * FROM users WHERE id IN (SELECT value FROM json_each(?))",
            (_id_list(wanted),),
        )
        return {row["id"]: rows.user(row) for row in found}

    def get_by_alternative_id(self, alternative_id: str) -> User | None:
        row = self._conn.execute("SELECT * FROM users WHERE alternative_id = ?", (alternative_id,)).fetchone()
        return rows.user(row) if row else None

    def get_by_email(self, email: str) -> User | None:
        row = self._conn.execute("SELECT * FROM users WHERE email_key = ?", (email_key(email),)).fetchone()
        return rows.user(row) if row else None

    def get_by_username(self, username: str) -> User | None:
        row = self._conn.execute("SELECT * FROM users WHERE username = ?", (username.lower(),)).fetchone()
        return rows.user(row) if row else None

    def set_last_seen(self, user_id: int, at: datetime) -> None:
        self._conn.execute("UPDATE users SET last_seen = ? WHERE id = ?", (rows.dump_time(at), user_id))

    def update(self, user: User) -> None:
        try:
            _update(self._conn, "users", self._keys(rows.to_row(user)), "id")
        except sqlite3.IntegrityError as error:
            raise _user_conflict(error) from error

    def search(
        self,
        *,
        text: str | None,
        first_name: str | None,
        second_name: str | None,
        start: int,
        limit: int,
    ) -> list[User]:
        # instr() matches the folded criteria literally: no LIKE wildcards to escape.
        # Terms of 3+ characters first narrow the rows through the trigram index
        # (shorter ones have no trigram); instr() then decides, field by field.
        conditions = ["NOT is_deleted"]
        params: list[Any] = []
        terms = (text or "").split()
        indexed = [t for t in (*terms, first_name or "", second_name or "") if len(t) >= _TRIGRAM]
        if indexed:
            conditions.append("id IN (SELECT rowid FROM user_search WHERE user_search MATCH ?)")
            params.append(" AND ".join('"' + t.replace('"', '""') + '"' for t in indexed))
        for term in terms:
            conditions.append(
                "(instr(first_name_key, ?) OR instr(second_name_key, ?) OR instr(alternative_id_key, ?)"
                " OR instr(username_key, ?))"
            )
            params += [term, term, term, term]
        if first_name is not None:
            conditions.append("instr(first_name_key, ?)")
            params.append(first_name)
        if second_name is not None:
            conditions.append("instr(second_name_key, ?)")
            params.append(second_name)
        found = self._conn.execute(
            f"SELECT * FROM users WHERE {' AND '.join(conditions)} ORDER BY id LIMIT ? OFFSET ?",
            (*params, limit, start),
        )
        return [rows.user(row) for row in found]

    def count(self) -> int:
        total: int = self._conn.execute("SELECT count(*) FROM users").fetchone()[0]
        return total


class SqliteFriendshipRepository:
    """One row per unordered pair, found through the generated (low, high) columns."""

    _COLUMNS = "requester_id, addressee_id, status, created_date"
    _PAIR = "user_low = min(:a, :b) AND user_high = max(:a, :b)"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, a: int, b: int) -> Friendship | None:
        row = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM friendships WHERE {self._PAIR}", {"a": a, "b": b}
        ).fetchone()
        return rows.friendship(row) if row else None

    def add(self, friendship: Friendship) -> None:
        try:
            _insert(self._conn, "friendships", rows.to_row(friendship))
        except sqlite3.IntegrityError as error:
            raise Conflict("friendship_exists") from error

    def update(self, friendship: Friendship) -> None:
        values = rows.to_row(friendship)
        self._conn.execute(
            "UPDATE friendships SET requester_id = :requester_id,"
            " addressee_id = :addressee_id, status = :status, created_date = :created_date"
            f" WHERE {self._PAIR}",
            {**values, "a": friendship.requester_id, "b": friendship.addressee_id},
        )

    def remove(self, a: int, b: int) -> bool:
        cursor = self._conn.execute(f"DELETE FROM friendships WHERE {self._PAIR}", {"a": a, "b": b})
        return cursor.rowcount > 0

    def list_for(self, user_id: int) -> list[Friendship]:
        found = self._conn.execute(
            f"SELECT {self._COLUMNS} FROM friendships"
            " WHERE user_low = :u OR user_high = :u ORDER BY created_date, rowid",
            {"u": user_id},
        )
        return [rows.friendship(row) for row in found]


class SqliteChatRepository:
    """Chats, direct and group, with membership in its own table."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, new: NewChat, members: Sequence[NewMember]) -> Chat:
        values = rows.to_row(new) | {"last_activity": rows.dump_time(new.created_date)}
        chat_id = _insert(self._conn, "chats", values)
        first = {m.user_id: m for m in reversed(members)}  # the first entry of a user counts
        for member in first.values():
            _insert(self._conn, "chat_members", rows.new_member_row(chat_id, member))
        chat = self.get(chat_id)
        assert chat is not None
        return chat

    def get(self, chat_id: int) -> Chat | None:
        row = self._conn.execute("SELECT * FROM chats WHERE id = ?", (chat_id,)).fetchone()
        return rows.chat(row) if row else None

    def update(self, chat: Chat) -> None:
        self._conn.execute(
            "UPDATE chats SET title = ?, photo = ?, history_visible = ? WHERE id = ?",
            (chat.title, chat.photo, int(chat.history_visible), chat.id),
        )

    def member_ids(self, chat_id: int) -> list[int]:
        found = self._conn.execute(
            "SELECT user_id FROM chat_members WHERE chat_id = ? ORDER BY user_id", (chat_id,)
        )
        return [row[0] for row in found]

    def member(self, chat_id: int, user_id: int) -> ChatMember | None:
        row = self._conn.execute(
            "SELECT * FROM chat_members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id)
        ).fetchone()
        return rows.chat_member(row) if row else None

    def add_member(self, chat_id: int, member: NewMember) -> None:
        try:
            _insert(self._conn, "chat_members", rows.new_member_row(chat_id, member))
        except sqlite3.IntegrityError as error:
            raise Conflict("already_member") from error

    def remove_member(self, chat_id: int, user_id: int) -> None:
        self._conn.execute("DELETE FROM chat_members WHERE chat_id = ? AND user_id = ?", (chat_id, user_id))

    def set_role(self, chat_id: int, user_id: int, role: MemberRole) -> None:
        self._conn.execute(
            "UPDATE chat_members SET role = ? WHERE chat_id = ? AND user_id = ?",
            (role.value, chat_id, user_id),
        )

    def find_direct(self, a: int, b: int) -> Chat | None:
        row = self._conn.execute(
            "SELECT chats.* FROM chat_members AS mine"
            " JOIN chat_members AS theirs ON theirs.chat_id = mine.chat_id"
            " JOIN chats ON chats.id = mine.chat_id"
            " WHERE mine.user_id = :a AND theirs.user_id = :b AND chats.kind = 'direct'"
            " AND (SELECT count(*) FROM chat_members AS m WHERE m.chat_id = chats.id)"
            "     = CASE WHEN :a = :b THEN 1 ELSE 2 END"
            " ORDER BY chats.id LIMIT 1",
            {"a": a, "b": b},
        ).fetchone()
        return rows.chat(row) if row else None

    def members(self, chat_id: int) -> list[ChatMember]:
        found = self._conn.execute(
            "SELECT * FROM chat_members WHERE chat_id = ? ORDER BY user_id", (chat_id,)
        )
        return [rows.chat_member(row) for row in found]

    def list_for_user(self, user_id: int) -> list[Chat]:
        found = self._conn.execute(
            "SELECT chats.* FROM chat_members JOIN chats ON chats.id = chat_members.chat_id"
            " WHERE chat_members.user_id = ? ORDER BY chats.last_activity DESC, chats.id DESC",
            (user_id,),
        )
        return [rows.chat(row) for row in found]

    def set_last_read(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._conn.execute(
            "UPDATE chat_members SET last_read_message_id = ? WHERE chat_id = ? AND user_id = ?",
            (message_id, chat_id, user_id),
        )

    def set_visible_after(self, chat_id: int, user_id: int, message_id: int) -> None:
        self._conn.execute(
            "UPDATE chat_members SET visible_after_message_id = ? WHERE chat_id = ? AND user_id = ?",
            (message_id, chat_id, user_id),
        )

    def set_muted_until(self, chat_id: int, user_id: int, until: datetime | None) -> None:
        self._conn.execute(
            "UPDATE chat_members SET muted_until = ? WHERE chat_id = ? AND user_id = ?",
            (None if until is None else rows.dump_time(until), chat_id, user_id),
        )

    def touch(self, chat_id: int, *, last_message_id: int | None, at: datetime) -> None:
        self._conn.execute(
            "UPDATE chats SET last_message_id = ?, last_activity = ? WHERE id = ?",
            (last_message_id, rows.dump_time(at), chat_id),
        )

    def remove(self, chat_id: int) -> None:
        # Members, messages and their attachment rows go by ON DELETE CASCADE; the search
        # index is no table a key can cascade to.
        self._conn.execute(
            "DELETE FROM message_search WHERE rowid IN (SELECT id FROM messages WHERE chat_id = ?)",
            (chat_id,),
        )
        self._conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,))


class SqliteMessageRepository:
    """Messages, paged by id on the (chat_id, id) index."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, new: NewMessage) -> Message:
        # Built from what was written (a send is the hottest write): no read-back.
        message_id = _insert(self._conn, "messages", rows.to_message_row(new))
        if new.mentions:
            self._write_mentions(message_id, new.chat_id, new.mentions)
        if new.kind is MessageKind.USER:  # its files come with attach (or add_copies)
            search_index.write(self._conn, message_id, new.text)
        return Message(id=message_id, **attrs.asdict(new, recurse=False))

    def get(self, message_id: int) -> Message | None:
        row = self._conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return rows.message(row) if row else None

    def update(self, message: Message) -> None:
        _update(self._conn, "messages", rows.to_message_row(message), "id")
        self._conn.execute("DELETE FROM message_mentions WHERE message_id = ?", (message.id,))
        if message.mentions:
            self._write_mentions(message.id, message.chat_id, message.mentions)
        search_index.index_message(self._conn, message.id)

    def _write_mentions(self, message_id: int, chat_id: int, mentions: Sequence[int]) -> None:
        self._conn.executemany(
            "INSERT OR IGNORE INTO message_mentions (user_id, chat_id, message_id) VALUES (?, ?, ?)",
            [(user_id, chat_id, message_id) for user_id in mentions],
        )

    def get_many(self, message_ids: Iterable[int]) -> dict[int, Message]:
        found = self._conn.execute(
            "SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))", (_id_list(message_ids),)
        )
        return {row["id"]: rows.message(row) for row in found}

    # Leaving out what a user hid: a probe of hidden_messages' primary key per row.
    _NOT_HIDDEN = (
        " AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
        " WHERE h.user_id = :viewer AND h.message_id = messages.id)"
    )

    def _page(self, where: str, order: str, params: dict[str, Any], hidden_for: int | None) -> list[Message]:
        hidden = "" if hidden_for is None else self._NOT_HIDDEN
        found = self._conn.execute(
            f"SELECT * FROM messages WHERE chat_id = :chat AND {where}{hidden}"
            f" ORDER BY id {order} LIMIT :limit",
            {**params, "viewer": hidden_for},
        )
        return rows.messages(found)

    def page_before(
        self, chat_id: int, before_id: int | None, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        # An explicit upper bound (not "? IS NULL OR id < ?") lets the planner seek the
        # (chat_id, id) index straight to the page instead of scanning down to it.
        bound = _NO_ID_ABOVE if before_id is None else before_id
        return self._page(
            "id < :bound", "DESC", {"chat": chat_id, "bound": bound, "limit": limit}, hidden_for
        )

    def page_after(
        self, chat_id: int, after_id: int, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        return self._page("id > :bound", "", {"chat": chat_id, "bound": after_id, "limit": limit}, hidden_for)

    def page_since(
        self, chat_id: int, since: datetime, limit: int, *, hidden_for: int | None = None
    ) -> list[Message]:
        params = {"chat": chat_id, "since": rows.dump_time(since), "limit": limit}
        return self._page("sending_date > :since", "", params, hidden_for)

    def count_unread(self, chat_id: int, user_id: int, after_id: int) -> int:
        unread: int = self._conn.execute(
            "SELECT count(*) FROM messages WHERE chat_id = :chat AND id > :after"
            " AND sender_id <> :viewer AND NOT is_deleted AND kind = 'user'" + self._NOT_HIDDEN,
            {"chat": chat_id, "after": after_id, "viewer": user_id},
        ).fetchone()[0]
        return unread

    def count_unread_mentions(self, chat_id: int, user_id: int, after_id: int) -> int:
        # A tombstone's mentions are gone from message_mentions (update rewrites them).
        found: int = self._conn.execute(
            "SELECT count(*) FROM message_mentions AS m WHERE user_id = :viewer AND chat_id = :chat"
            " AND message_id > :after AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "   WHERE h.user_id = :viewer AND h.message_id = m.message_id)",
            {"chat": chat_id, "after": after_id, "viewer": user_id},
        ).fetchone()[0]
        return found

    def sent_by(self, user_id: int, after_id: int, limit: int) -> list[Message]:
        found = self._conn.execute(
            "SELECT * FROM messages WHERE sender_id = ? AND id > ? ORDER BY id LIMIT ?",
            (user_id, after_id, limit),
        )
        return [rows.message(row) for row in found]

    def search(self, user_id: int, wanted: Filter, limit: int) -> list[Message]:
        return [
            rows.message(row)
            for row in search_index.search_messages(self._conn, user_id, wanted, limit, _NO_ID_ABOVE)
        ]

    def hide(self, user_id: int, message_id: int) -> None:
        self._conn.execute(
            "INSERT OR IGNORE INTO hidden_messages (user_id, chat_id, message_id)"
            " SELECT ?, chat_id, id FROM messages WHERE id = ?",
            (user_id, message_id),
        )

    def hidden_among(self, user_id: int, message_ids: Iterable[int]) -> set[int]:
        found = self._conn.execute(
            "SELECT message_id FROM hidden_messages WHERE user_id = ?"
            " AND message_id IN (SELECT value FROM json_each(?))",
            (user_id, _id_list(message_ids)),
        )
        return {row[0] for row in found}

    def add_version(self, message_id: int, version: MessageVersion) -> None:
        self._conn.execute(
            "INSERT INTO message_versions (message_id, text, written_date) VALUES (?, ?, ?)",
            (message_id, version.text, rows.dump_time(version.written_date)),
        )

    def versions(self, message_id: int) -> list[MessageVersion]:
        found = self._conn.execute(
            "SELECT text, written_date FROM message_versions WHERE message_id = ? ORDER BY id", (message_id,)
        )
        return [MessageVersion(text=row[0], written_date=rows.load_time(row[1])) for row in found]

    def remove_versions(self, message_id: int) -> None:
        self._conn.execute("DELETE FROM message_versions WHERE message_id = ?", (message_id,))


class SqliteAttachmentRepository:
    """Uploaded files' metadata; unbound rows are orphans until a message takes them."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, new: NewAttachment) -> Attachment:
        attachment_id = _insert(self._conn, "attachments", rows.to_row(new))
        attachment = self.get(attachment_id)
        assert attachment is not None
        return attachment

    def get(self, attachment_id: int) -> Attachment | None:
        row = self._conn.execute("SELECT * FROM attachments WHERE id = ?", (attachment_id,)).fetchone()
        return rows.attachment(row) if row else None

    def attach(self, attachment_ids: Sequence[int], message_id: int) -> None:
        self._conn.executemany(
            "UPDATE attachments SET message_id = ?, position = ? WHERE id = ?",
            [(message_id, position, i) for position, i in enumerate(attachment_ids)],
        )
        search_index.index_message(self._conn, message_id)  # the names and kinds of its files

    def for_messages(self, message_ids: Iterable[int]) -> dict[int, list[Attachment]]:
        found = self._conn.execute(
            "SELECT * FROM attachments"
            " WHERE message_id IN (SELECT value FROM json_each(?))"
            " ORDER BY message_id, position, id",
            (_id_list(message_ids),),
        )
        by_message: dict[int, list[Attachment]] = {}
        for row in found:
            by_message.setdefault(row["message_id"], []).append(rows.attachment(row))
        return by_message

    def for_chat(self, chat_id: int) -> list[Attachment]:
        found = self._conn.execute(
            "SELECT attachments.* FROM messages"
            " JOIN attachments ON attachments.message_id = messages.id"
            " WHERE messages.chat_id = ? ORDER BY attachments.id",
            (chat_id,),
        )
        return [rows.attachment(row) for row in found]

    def detach_all(self, message_id: int) -> list[Attachment]:
        found = self._conn.execute(
            "DELETE FROM attachments WHERE message_id = ? RETURNING *", (message_id,)
        ).fetchall()
        return sorted((rows.attachment(row) for row in found), key=lambda a: (a.position, a.id))

    def uploaded_by(self, user_id: int, after_id: int, limit: int) -> list[Attachment]:
        found = self._conn.execute(
            "SELECT * FROM attachments WHERE uploader_id = ? AND id > ? ORDER BY id LIMIT ?",
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
            copies.append(attrs.evolve(copy, id=_insert(self._conn, "attachments", values)))
        search_index.index_message(self._conn, message_id)
        return copies

    def keys_in_use(self, keys: Iterable[str]) -> set[str]:
        found = self._conn.execute(
            "SELECT value FROM json_each(?) AS k"
            " WHERE EXISTS (SELECT 1 FROM attachments WHERE storage_key = k.value)"
            " OR EXISTS (SELECT 1 FROM attachments WHERE thumbnail_key = k.value)",
            (json.dumps(list(keys)),),
        )
        return {row[0] for row in found}

    def orphans_before(self, before: datetime, limit: int) -> list[Attachment]:
        found = self._conn.execute(
            "SELECT * FROM attachments WHERE message_id IS NULL AND created_date < ? ORDER BY id LIMIT ?",
            (rows.dump_time(before), limit),
        )
        return [rows.attachment(row) for row in found]

    def unsent_bytes(self, uploader_id: int) -> int:
        # Unsent rows are few (they expire), and the index on message_id finds them.
        row = self._conn.execute(
            "SELECT coalesce(sum(size), 0) FROM attachments WHERE message_id IS NULL AND uploader_id = ?",
            (uploader_id,),
        ).fetchone()
        return int(row[0])

    def remove(self, attachment_id: int) -> None:
        self._conn.execute("DELETE FROM attachments WHERE id = ?", (attachment_id,))


class SqliteReactionRepository:
    """Reactions, one row per (message, emoji, user); the rowid orders them by time.

    Every change also rewrites the message's ``reaction_summary`` (each emoji with its
    count and first reactors, in the order the emoji came), so that reading a page costs
    a column per message and one probe for the reader's own reactions, however many
    people reacted."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, reaction: Reaction) -> bool:
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO reactions (message_id, user_id, emoji, created_date) VALUES (?, ?, ?, ?)",
            (reaction.message_id, reaction.user_id, reaction.emoji, rows.dump_time(reaction.created_date)),
        )
        if cursor.rowcount:
            self._summarise(reaction.message_id)
        return cursor.rowcount > 0

    def remove(self, message_id: int, user_id: int, emoji: str) -> bool:
        cursor = self._conn.execute(
            "DELETE FROM reactions WHERE message_id = ? AND emoji = ? AND user_id = ?",
            (message_id, emoji, user_id),
        )
        if cursor.rowcount:
            self._summarise(message_id)
        return cursor.rowcount > 0

    def _summarise(self, message_id: int) -> None:
        by_emoji: dict[str, list[int]] = {}
        found = self._conn.execute(
            "SELECT emoji, user_id FROM reactions WHERE message_id = ? ORDER BY id", (message_id,)
        )
        for emoji, user_id in found:
            by_emoji.setdefault(emoji, []).append(user_id)
        summary = [[e, len(users), users[:REACTION_USERS_SHOWN]] for e, users in by_emoji.items()]
        self._conn.execute(
            "UPDATE messages SET reaction_summary = ? WHERE id = ?",
            (json.dumps(summary, ensure_ascii=False) if summary else None, message_id),
        )

    def emojis(self, message_id: int) -> set[str]:
        found = self._conn.execute("SELECT DISTINCT emoji FROM reactions WHERE message_id = ?", (message_id,))
        return {row[0] for row in found}

    def summaries(self, message_ids: Iterable[int], viewer_id: int) -> dict[int, list[ReactionSummary]]:
        # One query: each message's summary, with the viewer's own emoji on it (a probe
        # of reactions_user), for the messages that have reactions at all.
        found = self._conn.execute(
            "SELECT id, reaction_summary, (SELECT group_concat(emoji, char(31)) FROM reactions"
            "   WHERE user_id = ? AND message_id = messages.id)"
            " FROM messages WHERE id IN (SELECT value FROM json_each(?)) AND reaction_summary IS NOT NULL",
            (viewer_id, _id_list(message_ids)),
        )
        by_message = {}
        for message_id, summary, own in found:
            mine = own.split("\x1f") if own else ()
            by_message[message_id] = [
                ReactionSummary(emoji=emoji, count=count, user_ids=tuple(users), me=emoji in mine)
                for emoji, count, users in orjson.loads(summary)
            ]
        return by_message

    def remove_all(self, message_id: int) -> None:
        self._conn.execute("DELETE FROM reactions WHERE message_id = ?", (message_id,))
        self._conn.execute("UPDATE messages SET reaction_summary = NULL WHERE id = ?", (message_id,))


class SqlitePinRepository:
    """Pinned messages, one row per (chat, message)."""

    _ORDER = "ORDER BY pinned_date DESC, message_id DESC"

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, pin: Pin) -> bool:
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO pins (chat_id, message_id, pinned_by, pinned_date) VALUES (?, ?, ?, ?)",
            (pin.chat_id, pin.message_id, pin.pinned_by, rows.dump_time(pin.pinned_date)),
        )
        return cursor.rowcount > 0

    def remove(self, chat_id: int, message_id: int) -> bool:
        cursor = self._conn.execute(
            "DELETE FROM pins WHERE chat_id = ? AND message_id = ?", (chat_id, message_id)
        )
        return cursor.rowcount > 0

    def list_for_chat(self, chat_id: int) -> list[Pin]:
        found = self._conn.execute(f"SELECT * FROM pins WHERE chat_id = ? {self._ORDER}", (chat_id,))
        return [rows.pin(row) for row in found]

    def latest_for(self, chat_id: int, user_id: int, after_message_id: int) -> Pin | None:
        row = self._conn.execute(
            "SELECT * FROM pins WHERE chat_id = :chat AND message_id > :after"
            " AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "   WHERE h.user_id = :viewer AND h.message_id = pins.message_id)"
            f" {self._ORDER} LIMIT 1",
            {"chat": chat_id, "after": after_message_id, "viewer": user_id},
        ).fetchone()
        return rows.pin(row) if row else None


class SqliteStickerRepository:
    """Sticker packs, each sticker keeping its position in the pack."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add_pack(self, title: str, images: Sequence[tuple[str, str]]) -> StickerPack:
        pack_id = _insert(self._conn, "sticker_packs", {"title": title})
        stickers = tuple(
            Sticker(
                id=_insert(
                    self._conn,
                    "stickers",
                    {"pack_id": pack_id, "position": position, "image_key": key, "mime": mime},
                ),
                pack_id=pack_id,
                position=position,
                image_key=key,
                mime=mime,
            )
            for position, (key, mime) in enumerate(images)
        )
        return StickerPack(id=pack_id, title=title, stickers=stickers)

    def list_packs(self) -> list[StickerPack]:
        by_pack: dict[int, list[Sticker]] = {}
        for row in self._conn.execute("SELECT * FROM stickers ORDER BY pack_id, position, id"):
            by_pack.setdefault(row["pack_id"], []).append(rows.sticker(row))
        return [
            StickerPack(id=row["id"], title=row["title"], stickers=tuple(by_pack.get(row["id"], ())))
            for row in self._conn.execute("SELECT id, title FROM sticker_packs ORDER BY id")
        ]

    def get_sticker(self, sticker_id: int) -> Sticker | None:
        row = self._conn.execute("SELECT * FROM stickers WHERE id = ?", (sticker_id,)).fetchone()
        return rows.sticker(row) if row else None

    def get_stickers(self, sticker_ids: Iterable[int]) -> dict[int, Sticker]:
        found = self._conn.execute(
            "SELECT * FROM stickers WHERE id IN (SELECT value FROM json_each(?))", (_id_list(sticker_ids),)
        )
        return {row["id"]: rows.sticker(row) for row in found}


class SqliteEventRepository:
    """Users' and chats' events sharing one id sequence, the clients' cursor. A chat's
    event is one row, read by each member through chat_members."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def append(self, user_id: int, type: EventType, data: dict[str, Any], at: datetime) -> Event:
        created = rows.dump_time(at)
        values = {
            "user_id": user_id,
            "type": type.value,
            "data": rows.dump_json(data),
            "created_date": created,
        }
        event_id = _insert(self._conn, "events", values)
        return Event(id=event_id, user_id=user_id, type=type, data=data, created_date=rows.load_time(created))

    def append_to_chat(
        self,
        chat_id: int,
        type: EventType,
        data: dict[str, Any],
        at: datetime,
        *,
        message_id: int | None = None,
    ) -> Event:
        created = rows.dump_time(at)
        values = {
            "chat_id": chat_id,
            "message_id": message_id,
            "type": type.value,
            "data": rows.dump_json(data),
            "created_date": created,
        }
        event_id = _insert(self._conn, "events", values)
        return Event(
            id=event_id,
            user_id=None,
            chat_id=chat_id,
            message_id=message_id,
            type=type,
            data=data,
            created_date=rows.load_time(created),
        )

    def after(self, user_id: int, cursor: int, limit: int) -> list[Event]:
        # The user's own events, and each of their chats' events written after they
        # joined it: each branch seeks its index (events_user, events_chat) from the
        # cursor. A chat's event about a message the user may not see (hidden, or in
        # the part of the chat before theirs) is left out.
        found = self._conn.execute(
            "SELECT * FROM (SELECT * FROM events"
            "   WHERE user_id = :user AND id > :cursor ORDER BY id LIMIT :limit)"
            " UNION ALL"
            " SELECT * FROM (SELECT events.* FROM chat_members JOIN events"
            "   ON events.chat_id = chat_members.chat_id"
            "   AND events.id > max(:cursor, chat_members.joined_event_id)"
            "   WHERE chat_members.user_id = :user"
            "   AND (events.message_id IS NULL OR (events.message_id > chat_members.visible_after_message_id"
            "     AND NOT EXISTS (SELECT 1 FROM hidden_messages AS h"
            "       WHERE h.user_id = :user AND h.message_id = events.message_id)))"
            "   ORDER BY events.id LIMIT :limit)"
            " ORDER BY id LIMIT :limit",
            {"user": user_id, "cursor": cursor, "limit": limit},
        )
        return [rows.event(row) for row in found]

    def latest_id(self) -> int:
        # sqlite_sequence keeps the greatest id AUTOINCREMENT gave, pruned or not.
        row = self._conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone()
        return int(row[0]) if row else 0

    def latest_of_chat(self, chat_id: int) -> int:
        # A seek to the end of the chat's part of events_chat (chat events only carry chat_id).
        row = self._conn.execute("SELECT max(id) FROM events WHERE chat_id = ?", (chat_id,)).fetchone()
        return int(row[0] or 0)

    def oldest_retained_id(self) -> int:
        oldest = self._conn.execute("SELECT min(id) FROM events").fetchone()[0]
        return self.latest_id() if oldest is None else int(oldest) - 1

    def prune_before(self, before: datetime) -> int:
        cursor = self._conn.execute("DELETE FROM events WHERE created_date < ?", (rows.dump_time(before),))
        return cursor.rowcount


class SqliteStoredFileRepository:
    """Which blob keys rows name. Each column holding keys has an index (migration 4),
    so asking costs a lookup per key and column, whatever the size of the tables."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def referenced(self, keys: Sequence[str]) -> set[str]:
        found = self._conn.execute(
            "SELECT value FROM json_each(?) WHERE"
            " EXISTS (SELECT 1 FROM attachments WHERE storage_key = value)"
            " OR EXISTS (SELECT 1 FROM attachments WHERE thumbnail_key = value)"
            " OR EXISTS (SELECT 1 FROM users WHERE avatar = value)"
            " OR EXISTS (SELECT 1 FROM chats WHERE photo = value)"
            " OR EXISTS (SELECT 1 FROM stickers WHERE image_key = value)"
            " OR EXISTS (SELECT 1 FROM exports WHERE blob_key = value)",
            (json.dumps(list(keys)),),
        )
        return {row[0] for row in found}


class SqliteSessionRepository:
    """Signed-in devices; ended ones stay, with their reason, until pruned."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, new: NewSession) -> Session:
        values = rows.to_row(new) | {"last_used_date": rows.dump_time(new.created_date)}
        session_id = _insert(self._conn, "sessions", values)
        return Session(id=session_id, last_used_date=new.created_date, **attrs.asdict(new, recurse=False))

    def get(self, session_id: int) -> Session | None:
        row = self._conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return rows.session(row) if row else None

    def update(self, session: Session) -> None:
        _update(self._conn, "sessions", rows.to_row(session), "id")

    def active_for(self, user_id: int) -> list[Session]:
        found = self._conn.execute(
            "SELECT * FROM sessions WHERE user_id = ? AND ended_date IS NULL ORDER BY id", (user_id,)
        )
        return [rows.session(row) for row in found]

    def end_all(
        self, user_id: int, reason: SessionEnd, at: datetime, *, keep: int | None = None
    ) -> list[int]:
        found = self._conn.execute(
            "UPDATE sessions SET ended_date = ?, end_reason = ?"
            " WHERE user_id = ? AND ended_date IS NULL AND id IS NOT ? RETURNING id",
            (rows.dump_time(at), reason.value, user_id, keep),
        ).fetchall()
        return sorted(row[0] for row in found)

    def prune_ended_before(self, before: datetime) -> int:
        cursor = self._conn.execute("DELETE FROM sessions WHERE ended_date < ?", (rows.dump_time(before),))
        return cursor.rowcount

    def remove_all_for(self, user_id: int) -> None:
        self._conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))


class SqliteBlockRepository:
    """Blocks, one row per direction, found from either side through two indexes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def add(self, block: Block) -> bool:
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO blocks (blocker_id, blocked_id, created_date) VALUES (?, ?, ?)",
            (block.blocker_id, block.blocked_id, rows.dump_time(block.created_date)),
        )
        return cursor.rowcount > 0

    def remove(self, blocker_id: int, blocked_id: int) -> bool:
        cursor = self._conn.execute(
            "DELETE FROM blocks WHERE blocker_id = ? AND blocked_id = ?", (blocker_id, blocked_id)
        )
        return cursor.rowcount > 0

    def exists(self, blocker_id: int, blocked_id: int) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM blocks WHERE blocker_id = ? AND blocked_id = ?", (blocker_id, blocked_id)
        ).fetchone()
        return row is not None

    def between(self, first_id: int, second_id: int) -> bool:
        # Two probes of the primary key in one statement ("MULTI-INDEX OR"; a row value
        # IN (VALUES …) would scan the table instead).
        row = self._conn.execute(
            "SELECT 1 FROM blocks WHERE (blocker_id = ? AND blocked_id = ?)"
            " OR (blocker_id = ? AND blocked_id = ?)",
            (first_id, second_id, second_id, first_id),
        ).fetchone()
        return row is not None

    def list_by(self, blocker_id: int) -> list[Block]:
        found = self._conn.execute(
            "SELECT * FROM blocks WHERE blocker_id = ? ORDER BY created_date, blocked_id", (blocker_id,)
        )
        return [rows.block(row) for row in found]

    def involving(self, user_id: int) -> list[Block]:
        found = self._conn.execute(
            "SELECT * FROM blocks WHERE blocker_id = :u UNION ALL SELECT * FROM blocks WHERE blocked_id = :u",
            {"u": user_id},
        )
        return [rows.block(row) for row in found]

    def remove_all_for(self, user_id: int) -> None:
        self._conn.execute("DELETE FROM blocks WHERE blocker_id = :u OR blocked_id = :u", {"u": user_id})


class SqliteExportRepository:
    """The latest data export of each user."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def get(self, user_id: int) -> Export | None:
        row = self._conn.execute("SELECT * FROM exports WHERE user_id = ?", (user_id,)).fetchone()
        return rows.export(row) if row else None

    def put(self, export: Export) -> None:
        values = rows.to_row(export)
        columns = ", ".join(values)
        marks = ", ".join(f":{name}" for name in values)
        self._conn.execute(f"INSERT OR REPLACE INTO exports ({columns}) VALUES ({marks})", values)

    def remove(self, user_id: int) -> None:
        self._conn.execute("DELETE FROM exports WHERE user_id = ?", (user_id,))

    def pending(self) -> list[Export]:
        found = self._conn.execute(
            "SELECT * FROM exports WHERE state = 'pending' ORDER BY created_date, user_id"
        )
        return [rows.export(row) for row in found]

    def ready_before(self, before: datetime) -> list[Export]:
        found = self._conn.execute(
            "SELECT * FROM exports WHERE state = 'ready' AND ready_date < ? ORDER BY ready_date, user_id",
            (rows.dump_time(before),),
        )
        return [rows.export(row) for row in found]
