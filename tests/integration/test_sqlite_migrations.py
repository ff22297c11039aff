"""The SQLite schema comes only from migrations, and connections are set up alike."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import attrs
import pytest

from adapters.sqlite import SqliteUnitOfWorkFactory, migrations
from messenger_core.errors import Conflict
from messenger_core.model import NewUser
from tests.records import add_chat

# The whole schema of a migrated blank database: table → columns in order.
EXPECTED_TABLES = {
    "users": [
        "id", "alternative_id", "alternative_id_key", "email", "email_key", "password_hash",
        "first_name", "second_name", "first_name_key", "second_name_key", "phone_number",
        "age", "city", "additional_inf", "avatar", "created_date", "is_confirmed",
        "notify_preview", "notify_muted_mentions",
        "username", "username_key", "last_seen", "last_seen_visibility", "read_receipts",
        "typing_indicator", "forward_link", "is_deleted",
    ],
    "friendships": [
        "requester_id", "addressee_id", "status", "created_date", "user_low", "user_high",
    ],
    "chats": [
        "id", "created_date", "last_activity", "last_message_id", "kind", "title", "photo",
        "creator_id", "history_visible",
    ],
    "chat_members": [
        "chat_id", "user_id", "last_read_message_id", "role", "joined_date", "joined_event_id",
        "visible_after_message_id", "muted_until",
    ],
    "sticker_packs": ["id", "title"],
    "stickers": ["id", "pack_id", "position", "image_key", "mime"],
    "messages": [
        "id", "chat_id", "sender_id", "text", "sticker_id", "sending_date", "edited_date",
        "is_deleted", "kind", "system", "mentions", "deleted_by", "reply_to", "forwarded_from",
        "reaction_summary",
    ],
    "message_versions": ["id", "message_id", "text", "written_date"],
    "reactions": ["id", "message_id", "user_id", "emoji", "created_date"],
    "pins": ["chat_id", "message_id", "pinned_by", "pinned_date"],
    "hidden_messages": ["user_id", "chat_id", "message_id"],
    "message_mentions": ["user_id", "chat_id", "message_id"],
    "attachments": [
        "id", "uploader_id", "kind", "name", "size", "mime", "storage_key", "created_date",
        "message_id", "position", "width", "height", "thumbnail_key",
    ],
    "events": ["id", "user_id", "chat_id", "type", "data", "created_date", "message_id"],
    "rate_limits": ["key", "full_at"],
    "sqlite_sequence": ["name", "seq"],
    "sessions": [
        "id", "user_id", "device", "ip", "created_date", "last_used_date", "generation",
        "rotated_date", "ended_date", "end_reason",
    ],
    "blocks": ["blocker_id", "blocked_id", "created_date"],
    "exports": ["user_id", "state", "created_date", "blob_key", "size", "ready_date"],
}  # fmt: skip

# index → (table, columns, unique, partial)
EXPECTED_INDEXES = {
    "sqlite_autoindex_users_1": ("users", ("alternative_id",), True, False),
    "sqlite_autoindex_users_2": ("users", ("email_key",), True, False),
    "friendships_pair": ("friendships", ("user_low", "user_high"), True, False),
    "friendships_user_high": ("friendships", ("user_high",), False, False),
    "chats_last_activity": ("chats", ("last_activity",), False, False),
    "sqlite_autoindex_chat_members_1": ("chat_members", ("chat_id", "user_id"), True, False),
    "chat_members_user": ("chat_members", ("user_id",), False, False),
    "stickers_pack": ("stickers", ("pack_id", "position"), False, False),
    "messages_chat": ("messages", ("chat_id", "id"), False, False),
    "attachments_message": ("attachments", ("message_id", "position"), False, False),
    "attachments_orphans": ("attachments", ("created_date",), False, True),
    "events_user": ("events", ("user_id", "id"), False, True),
    "events_chat": ("events", ("chat_id", "id"), False, True),
    "sqlite_autoindex_message_mentions_1": (
        "message_mentions",
        ("user_id", "chat_id", "message_id"),
        True,
        False,
    ),
    "message_mentions_message": ("message_mentions", ("message_id",), False, False),
    "events_created": ("events", ("created_date",), False, False),
    "users_username": ("users", ("username",), True, True),
    "sessions_user": ("sessions", ("user_id", "id"), False, False),
    "sessions_ended": ("sessions", ("ended_date",), False, True),
    "sqlite_autoindex_blocks_1": ("blocks", ("blocker_id", "blocked_id"), True, False),
    "blocks_blocked": ("blocks", ("blocked_id", "blocker_id"), False, False),
    "messages_sender": ("messages", ("sender_id", "id"), False, False),
    "attachments_uploader": ("attachments", ("uploader_id", "id"), False, False),
    "exports_blob_key": ("exports", ("blob_key",), False, True),
    "message_versions_message": ("message_versions", ("message_id", "id"), False, False),
    "sqlite_autoindex_reactions_1": ("reactions", ("message_id", "emoji", "user_id"), True, False),
    "reactions_user": ("reactions", ("user_id", "message_id"), False, False),
    "sqlite_autoindex_pins_1": ("pins", ("chat_id", "message_id"), True, False),
    "pins_message": ("pins", ("message_id",), False, False),
    "sqlite_autoindex_hidden_messages_1": ("hidden_messages", ("user_id", "message_id"), True, False),
    "hidden_messages_chat": ("hidden_messages", ("user_id", "chat_id", "message_id"), False, False),
    "hidden_messages_message": ("hidden_messages", ("message_id",), False, False),
    "attachments_storage_key": ("attachments", ("storage_key",), False, False),
    "attachments_thumbnail_key": ("attachments", ("thumbnail_key",), False, True),
    "sqlite_autoindex_rate_limits_1": ("rate_limits", ("key",), True, False),
    # Step 9: the other columns holding blob keys, for the sweep of stray files.
    "users_avatar": ("users", ("avatar",), False, True),
    "chats_photo": ("chats", ("photo",), False, True),
    "stickers_image_key": ("stickers", ("image_key",), False, False),
}

# table → {(column, referenced table, referenced column, on delete)}
EXPECTED_FOREIGN_KEYS = {
    "users": set(),
    "friendships": {
        ("requester_id", "users", "id", "NO ACTION"),
        ("addressee_id", "users", "id", "NO ACTION"),
    },
    "chats": {("creator_id", "users", "id", "NO ACTION")},
    "chat_members": {
        ("chat_id", "chats", "id", "CASCADE"),
        ("user_id", "users", "id", "NO ACTION"),
    },
    "sticker_packs": set(),
    "stickers": {("pack_id", "sticker_packs", "id", "CASCADE")},
    "messages": {
        ("chat_id", "chats", "id", "CASCADE"),
        ("sender_id", "users", "id", "NO ACTION"),
        ("sticker_id", "stickers", "id", "NO ACTION"),
        ("deleted_by", "users", "id", "NO ACTION"),
    },
    "message_mentions": {
        ("user_id", "users", "id", "NO ACTION"),
        ("message_id", "messages", "id", "CASCADE"),
    },
    "attachments": {
        ("uploader_id", "users", "id", "NO ACTION"),
        ("message_id", "messages", "id", "CASCADE"),
    },
    "events": {("user_id", "users", "id", "NO ACTION")},
    "message_versions": {("message_id", "messages", "id", "CASCADE")},
    "reactions": {
        ("message_id", "messages", "id", "CASCADE"),
        ("user_id", "users", "id", "NO ACTION"),
    },
    "pins": {
        ("chat_id", "chats", "id", "CASCADE"),
        ("message_id", "messages", "id", "CASCADE"),
        ("pinned_by", "users", "id", "NO ACTION"),
    },
    "hidden_messages": {
        ("user_id", "users", "id", "NO ACTION"),
        ("message_id", "messages", "id", "CASCADE"),
    },
    "rate_limits": set(),
    "sqlite_sequence": set(),
    "sessions": {("user_id", "users", "id", "NO ACTION")},
    "blocks": {("blocker_id", "users", "id", "NO ACTION"), ("blocked_id", "users", "id", "NO ACTION")},
    "exports": {("user_id", "users", "id", "NO ACTION")},
}


# Steps 2 and 5: the full-text indexes of users and of messages (FTS5 and its shadow tables).
SEARCH_TABLES = {
    "user_search": ["keys", "user_search", "rank"],
    "user_search_config": ["k", "v"],
    "user_search_content": ["id", "c0"],
    "user_search_data": ["id", "block"],
    "user_search_docsize": ["id", "sz"],
    "user_search_idx": ["segid", "term", "pgno"],
    # Step 5: the full-text index of messages.
    "message_search": ["body", "names", "tags", "message_search", "rank"],
    "message_search_config": ["k", "v"],
    "message_search_content": ["id", "c0", "c1", "c2"],
    "message_search_data": ["id", "block"],
    "message_search_docsize": ["id", "sz"],
    "message_search_idx": ["segid", "term", "pgno"],
    "message_search_words": ["word"],
}
SEARCH_INDEXES = {
    "sqlite_autoindex_user_search_config_1": ("user_search_config", ("k",), True, False),
    "sqlite_autoindex_user_search_idx_1": ("user_search_idx", ("segid", "term"), True, False),
    "sqlite_autoindex_message_search_config_1": ("message_search_config", ("k",), True, False),
    "sqlite_autoindex_message_search_idx_1": ("message_search_idx", ("segid", "term"), True, False),
    "sqlite_autoindex_message_search_words_1": ("message_search_words", ("word",), True, False),
}
SEARCH_TRIGGERS = [("users_search_delete",), ("users_search_insert",), ("users_search_update",)]


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    """A blank database on a bare autocommit connection, as migrate() expects."""
    connection = sqlite3.connect(tmp_path / "blank.sqlite3", isolation_level=None)
    yield connection
    connection.close()


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[SqliteUnitOfWorkFactory]:
    made = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3")
    made.migrate()
    yield made
    made.close()


def schema(conn: sqlite3.Connection) -> dict[str, Any]:
    tables = [
        name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    ]
    indexes: dict[str, tuple[str, tuple[str, ...], bool, bool]] = {}
    for table in tables:
        for _, name, unique, _origin, partial in conn.execute(f"PRAGMA index_list({table})"):
            columns = tuple(row[2] for row in conn.execute(f"PRAGMA index_info({name})"))
            indexes[name] = (table, columns, bool(unique), bool(partial))
    return {
        "tables": {
            table: [row[1] for row in conn.execute(f"PRAGMA table_xinfo({table})")] for table in tables
        },
        "indexes": indexes,
        "foreign_keys": {
            table: {
                (row[3], row[2], row[4], row[6]) for row in conn.execute(f"PRAGMA foreign_key_list({table})")
            }
            for table in tables
        },
        "views_and_triggers": conn.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('view', 'trigger') ORDER BY name"
        ).fetchall(),
    }


def test_a_migrated_blank_database_has_exactly_the_expected_schema(conn: sqlite3.Connection) -> None:
    assert migrations.schema_version(conn) == 0

    assert migrations.migrate(conn) == migrations.LATEST_VERSION

    assert migrations.schema_version(conn) == migrations.LATEST_VERSION
    assert schema(conn) == {
        "tables": EXPECTED_TABLES | SEARCH_TABLES,
        "indexes": EXPECTED_INDEXES | SEARCH_INDEXES,
        "foreign_keys": EXPECTED_FOREIGN_KEYS | {table: set() for table in SEARCH_TABLES},
        "views_and_triggers": SEARCH_TRIGGERS,
    }


def test_reapplying_migrations_changes_nothing(conn: sqlite3.Connection) -> None:
    migrations.migrate(conn)
    conn.execute("INSERT INTO sticker_packs (title) VALUES ('Cats')")  # data must survive too
    before = (list(conn.iterdump()), conn.total_changes)

    latest = migrations.LATEST_VERSION
    assert migrations.migrate(conn) == latest
    assert migrations.migrate(conn) == latest

    assert (list(conn.iterdump()), conn.total_changes) == before
    assert migrations.schema_version(conn) == latest


def test_a_step_applies_with_its_version_or_not_at_all(
    conn: sqlite3.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrations.migrate(conn)
    broken = (*migrations.STEPS, ("CREATE TABLE half_done (x INTEGER)", "THIS IS NOT SQL"))
    monkeypatch.setattr(migrations, "STEPS", broken)
    monkeypatch.setattr(migrations, "LATEST_VERSION", len(broken))

    with pytest.raises(sqlite3.OperationalError):
        migrations.migrate(conn)

    latest = len(broken) - 1
    assert migrations.schema_version(conn) == latest
    assert "half_done" not in schema(conn)["tables"]
    assert not conn.in_transaction

    fixed = (*migrations.STEPS[:-1], ("CREATE TABLE added_later (x INTEGER)",))
    monkeypatch.setattr(migrations, "STEPS", fixed)
    assert migrations.migrate(conn) == latest + 1
    assert migrations.migrate(conn) == latest + 1
    assert "added_later" in schema(conn)["tables"]


def test_a_database_newer_than_the_code_is_refused(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA user_version = {migrations.LATEST_VERSION + 1}")

    with pytest.raises(RuntimeError, match="newer"):
        migrations.migrate(conn)
    assert not conn.in_transaction


def test_the_factory_creates_the_directory_and_migrate_brings_the_schema_up(tmp_path: Path) -> None:
    path = tmp_path / "user_data" / "nested" / "messenger.sqlite3"
    factory = SqliteUnitOfWorkFactory(path)
    factory.migrate()
    try:
        assert path.exists()
        assert migrations.schema_version(factory.connection()) == migrations.LATEST_VERSION
    finally:
        factory.close()
    # A second factory on the same file finds nothing to do.
    again = SqliteUnitOfWorkFactory(path)
    again.migrate()
    try:
        assert migrations.schema_version(again.connection()) == migrations.LATEST_VERSION
    finally:
        again.close()


@pytest.mark.parametrize(("synchronous", "level"), [("FULL", 2), ("NORMAL", 1)])
def test_connections_set_their_pragmas(tmp_path: Path, synchronous: str, level: int) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3", synchronous=synchronous)
    factory.migrate()
    try:
        conn = factory.connection()
        pragmas = {
            name: conn.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
        assert pragmas == {
            "journal_mode": "wal",
            "synchronous": level,
            "foreign_keys": 1,
            "busy_timeout": 5000,
        }
        assert conn.isolation_level is None
    finally:
        factory.close()


def test_unknown_synchronous_modes_and_memory_databases_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SqliteUnitOfWorkFactory(tmp_path / "x.sqlite3", synchronous="OFF; DROP TABLE users")
    with pytest.raises(ValueError):
        SqliteUnitOfWorkFactory(":memory:")


def test_each_thread_gets_its_own_connection(factory: SqliteUnitOfWorkFactory) -> None:
    mine = factory.connection()
    theirs: list[sqlite3.Connection] = []

    def work() -> None:
        theirs.append(factory.connection())
        theirs.append(factory.connection())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()

    assert factory.connection() is mine
    assert theirs[0] is theirs[1]
    assert theirs[0] is not mine


def test_close_closes_every_connection_and_later_units_reopen(factory: SqliteUnitOfWorkFactory) -> None:
    mine = factory.connection()
    theirs: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: theirs.append(factory.connection()))
    thread.start()
    thread.join()

    factory.close()

    for closed in (mine, theirs[0]):
        with pytest.raises(sqlite3.ProgrammingError):
            closed.execute("SELECT 1")
    with factory() as uow:
        assert uow.users.count() == 0
    assert factory.connection() is not mine


def _new_user(email: str, alternative_id: str) -> NewUser:
    return NewUser(
        alternative_id=alternative_id,
        email=email,
        password_hash="h",
        first_name="Alena",
        second_name="Smith",
        created_date=datetime(2024, 1, 1, tzinfo=UTC),
    )


def test_a_commit_is_visible_from_another_thread(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow:
        user = uow.users.add(_new_user("a@example.org", "a1"))
        uow.commit()
    seen: list[object] = []

    def read() -> None:
        with factory() as uow:
            seen.append(uow.users.get(user.id))

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()

    assert seen == [user]


def test_a_unit_holds_the_write_lock_from_enter(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3")
    factory.migrate()
    other = sqlite3.connect(tmp_path / "messenger.sqlite3", isolation_level=None, timeout=0)
    try:
        with factory(), pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        factory.close()


def test_times_are_stored_as_utc_text_and_read_back_aware(factory: SqliteUnitOfWorkFactory) -> None:
    moscow = timezone(timedelta(hours=3))
    with factory() as uow:
        user = uow.users.add(_new_user("a@example.org", "a1"))
        chat = add_chat(uow, [user.id], datetime(2024, 3, 1, 15, 0, 0, 7, tzinfo=moscow))
        stored = (
            factory.connection()
            .execute("SELECT created_date FROM chats WHERE id = ?", (chat.id,))
            .fetchone()[0]
        )

        assert stored == "2024-03-01T12:00:00.000007+00:00"
        assert chat.created_date.tzinfo is UTC
        assert chat.created_date == datetime(2024, 3, 1, 12, 0, 0, 7, tzinfo=UTC)
        with pytest.raises(ValueError, match="naive"):
            add_chat(uow, [user.id], datetime(2024, 3, 1))


def test_taken_emails_and_alternative_ids_conflict(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow:
        first = uow.users.add(_new_user("Alena@example.org", "a1"))
        second = uow.users.add(_new_user("boris@example.org", "b2"))
        with pytest.raises(Conflict):
            uow.users.add(_new_user("alena@EXAMPLE.org", "c3"))
        with pytest.raises(Conflict):
            uow.users.add(_new_user("clara@example.org", "a1"))
        with pytest.raises(Conflict):
            uow.users.update(attrs.evolve(second, email=first.email.upper()))


def test_foreign_keys_are_enforced(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow, pytest.raises(sqlite3.IntegrityError):
        add_chat(uow, [12345], datetime(2024, 1, 1, tzinfo=UTC))


def test_step_two_indexes_users_that_existed_before_it(tmp_path: Path) -> None:
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("BEGIN")
    for statement in migrations.STEPS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    conn.execute(
        "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash, first_name,"
        " second_name, first_name_key, second_name_key, created_date, is_confirmed)"
        " VALUES ('old_user_1', 'old_user_1', 'o@x.io', 'o@x.io', 'h', 'Алёна', 'Ким', 'алена', 'ким',"
        " '2026-01-01T00:00:00.000000+00:00', 0)"
    )
    conn.execute("COMMIT")
    assert migrations.migrate(conn) == migrations.LATEST_VERSION
    found = conn.execute("SELECT rowid FROM user_search WHERE user_search MATCH '\"але\"'").fetchall()
    assert [row[0] for row in found] == [1]
    conn.execute("UPDATE users SET first_name_key = 'ольга' WHERE id = 1")
    assert (
        conn.execute("SELECT count(*) FROM user_search WHERE user_search MATCH '\"але\"'").fetchone()[0] == 0
    )
    conn.close()


def test_opening_a_database_changes_nothing_until_migrate(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3")
    try:
        assert migrations.schema_version(factory.connection()) == 0
        assert factory.migrate() == migrations.LATEST_VERSION
        assert factory.migrate() == migrations.LATEST_VERSION  # again: nothing to do
    finally:
        factory.close()


def test_step_three_keeps_events_their_cursor_and_direct_chats(tmp_path: Path) -> None:
    """Group chats arrive on a database that has lived: its chats stay direct chats of
    plain members, its events stay readable, and the cursor does not go back even where
    pruning had removed the newest events."""
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    conn.execute("BEGIN")
    for step in migrations.STEPS[:2]:
        for statement in step:
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 2")
    conn.execute(
        "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash, first_name,"
        " second_name, first_name_key, second_name_key, created_date, is_confirmed)"
        " VALUES ('u1', 'u1', 'a@x.io', 'a@x.io', 'h', 'A', 'B', 'a', 'b',"
        " '2026-01-01T00:00:00.000000+00:00', 0)"
    )
    conn.execute("INSERT INTO chats (created_date, last_activity) VALUES ('t', 't')")
    conn.execute("INSERT INTO chat_members (chat_id, user_id) VALUES (1, 1)")
    for i in range(5):
        conn.execute(
            "INSERT INTO events (user_id, type, data, created_date) VALUES (1, 'user.updated', '{}', ?)",
            (f"t{i}",),
        )
    conn.execute("DELETE FROM events WHERE id > 3")  # pruned at the top: the sequence says 5
    conn.execute("COMMIT")

    assert migrations.migrate(conn) == migrations.LATEST_VERSION
    assert conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'events'").fetchone() == (5,)
    assert conn.execute("SELECT id, user_id, chat_id FROM events ORDER BY id").fetchall() == [
        (1, 1, None),
        (2, 1, None),
        (3, 1, None),
    ]
    assert conn.execute("SELECT kind, history_visible FROM chats").fetchall() == [("direct", 1)]
    assert conn.execute("SELECT role, joined_event_id FROM chat_members").fetchall() == [("member", 0)]
    conn.execute("INSERT INTO events (chat_id, type, data, created_date) VALUES (1, 'chat.read', '{}', 't')")
    assert conn.execute("SELECT max(id) FROM events").fetchone() == (6,)
    conn.close()


def test_step_eight_leaves_members_unmuted_and_users_notified(tmp_path: Path) -> None:
    """Notifications arrive on a database that has lived: every membership is unmuted and
    every user keeps both notification settings on."""
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    conn.execute("BEGIN")
    for step in migrations.STEPS[:7]:
        for statement in step:
            statement(conn) if callable(statement) else conn.execute(statement)
    conn.execute("PRAGMA user_version = 7")
    conn.execute(
        "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash, first_name,"
        " second_name, first_name_key, second_name_key, created_date, is_confirmed)"
        " VALUES ('u1', 'u1', 'a@x.io', 'a@x.io', 'h', 'A', 'B', 'a', 'b',"
        " '2026-01-01T00:00:00.000000+00:00', 0)"
    )
    conn.execute("INSERT INTO chats (created_date, last_activity) VALUES ('t', 't')")
    conn.execute("INSERT INTO chat_members (chat_id, user_id) VALUES (1, 1)")
    conn.execute("COMMIT")
    assert migrations.migrate(conn) == migrations.LATEST_VERSION
    assert conn.execute("SELECT muted_until FROM chat_members").fetchall() == [(None,)]
    assert conn.execute("SELECT notify_preview, notify_muted_mentions FROM users").fetchall() == [(1, 1)]
    conn.close()
