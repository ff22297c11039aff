"""Migration step 5 fills the message search index from the messages already there."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from adapters.sqlite import SqliteUnitOfWorkFactory, migrations
from messenger_core import search

INDEX_STEP = 5


def test_step_five_indexes_what_a_database_already_holds(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for statement in (s for step in migrations.STEPS[: INDEX_STEP - 1] for s in step):
        assert isinstance(statement, str)
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {INDEX_STEP - 1}")
    conn.execute(
        "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash, first_name,"
        " second_name, first_name_key, second_name_key, created_date)"
        " VALUES ('u1', 'u1', 'a@x.org', 'a@x.org', 'h', 'A', 'B', 'a', 'b',"
        " '2026-01-01T00:00:00.000000+00:00')"
    )
    conn.execute("INSERT INTO chats (created_date, last_activity) VALUES ('2026-01-01', '2026-01-01')")
    conn.execute("INSERT INTO chat_members (chat_id, user_id) VALUES (1, 1)")
    sent = "2026-01-01T00:00:01.000000+00:00"
    for text, deleted, kind in (
        ("Ёлка в парке", 0, "user"),
        ("удалено", 1, "user"),
        ("системное", 0, "system"),
    ):
        conn.execute(
            "INSERT INTO messages (chat_id, sender_id, text, sending_date, is_deleted, kind)"
            " VALUES (1, 1, ?, ?, ?, ?)",
            (text, sent, deleted, kind),
        )
    conn.execute(
        "INSERT INTO attachments (uploader_id, kind, name, size, mime, storage_key, created_date, message_id)"
        " VALUES (1, 'photo', 'Море летом.jpg', 1, 'image/jpeg', 'k', ?, 1)",
        (sent,),
    )
    assert migrations.migrate(conn) == migrations.LATEST_VERSION
    conn.close()
    factory = SqliteUnitOfWorkFactory(path)
    with factory(read_only=True) as uow:
        for q, expected in (
            ("елка", ["Ёлка в парке"]),
            ("ёл", ["Ёлка в парке"]),  # a prefix: the words step 6 listed
            ("парк", ["Ёлка в парке"]),
            ("лет", ["Ёлка в парке"]),
            ("море", ["Ёлка в парке"]),
            ("удалено", []),
            ("систем", []),
        ):
            found = uow.messages.search(1, search.Filter(query=search.parse(q)), 10)
            assert [m.text for m in found] == expected, q
        assert [
            m.id for m in uow.messages.search(1, search.Filter(query=search.Query(), has="photo"), 10)
        ] == [1]
        words = [w for (w,) in uow._conn.execute("SELECT word FROM message_search_words ORDER BY word")]
        assert words == ["jpg", "в", "елка", "летом", "море", "парке"]
    factory.close()
