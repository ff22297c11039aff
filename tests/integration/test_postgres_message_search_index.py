"""PostgreSQL's migration step 4 fills the message search table from the messages
already there, as SQLite's step 5 does."""

from __future__ import annotations

import time
from typing import Any

import psycopg

from adapters.postgres import PostgresUnitOfWorkFactory, migrations
from messenger_core import search
from tests.postgres import cluster

INDEX_STEP = 4


def test_step_four_indexes_what_a_database_already_holds() -> None:
    url = cluster().create_database(f"old_{time.monotonic_ns()}")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY,"
            " applied_date timestamptz NOT NULL DEFAULT now())"
        )
        for version, step in enumerate(migrations.STEPS[: INDEX_STEP - 1], 1):
            for statement in step:
                assert isinstance(statement, str)
                conn.execute(statement)  # type: ignore[arg-type]  # the schema's own text
            conn.execute("INSERT INTO schema_migrations (version) VALUES (%s)", (version,))
        _fill(conn)
    assert migrations.migrate(url) == migrations.LATEST_VERSION
    factory = PostgresUnitOfWorkFactory(url, pool_size=1)
    try:
        with factory(read_only=True) as uow:
            for q, expected in (
                ("елка", ["Ёлка в парке"]),
                ("море", ["Ёлка в парке"]),
                ('"в парке"', ["Ёлка в парке"]),
                ("удалено", []),
                ("систем", []),
            ):
                found = uow.messages.search(1, search.Filter(query=search.parse(q)), 10)
                assert [m.text for m in found] == expected, q
            photos = uow.messages.search(1, search.Filter(query=search.Query(), has="photo"), 10)
            assert [m.id for m in photos] == [1]
    finally:
        factory.close()


def _fill(conn: psycopg.Connection[Any]) -> None:
    conn.execute(
        "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash, first_name,"
        " second_name, first_name_key, second_name_key, search_text, created_date)"
        " VALUES ('u1', 'u1', 'a@x.org', 'a@x.org', 'h', 'A', 'B', 'a', 'b', 'a', now())"
    )
    conn.execute("INSERT INTO chats (created_date, last_activity) VALUES (now(), now())")
    conn.execute("INSERT INTO chat_members (chat_id, user_id, joined_date) VALUES (1, 1, now())")
    for text, deleted, kind in (
        ("Ёлка в парке", False, "user"),
        ("удалено", True, "user"),
        ("системное", False, "system"),
    ):
        conn.execute(
            "INSERT INTO messages (chat_id, sender_id, text, sending_date, is_deleted, kind)"
            " VALUES (1, 1, %s, now(), %s, %s)",
            (text, deleted, kind),
        )
    conn.execute(
        "INSERT INTO attachments (uploader_id, kind, name, size, mime, storage_key, created_date, message_id)"
        " VALUES (1, 'photo', 'Море летом.jpg', 1, 'image/jpeg', 'k', now(), 1)"
    )
