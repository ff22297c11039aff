"""The throwaway PostgreSQL cluster of a test run, and clean databases on it.

One cluster per run (``scripts.throwaway_postgres``), started on first use. Each test
that asks gets a migrated database emptied by ``TRUNCATE … RESTART IDENTITY``, so ids
start at 1 as they do on a fresh SQLite file and in the memory store. Where PostgreSQL
is missing the tests skip with a loud reason, except under CI=true, where they fail.
"""

from __future__ import annotations

import atexit
import os
import threading

import psycopg
import pytest

from adapters.postgres import migrations
from scripts.throwaway_postgres import PostgresMissing, ThrowawayPostgres

TEMPLATE = "messenger_template"
_TABLES = (
    "users, friendships, chats, chat_members, sticker_packs, stickers, messages, message_mentions,"
    " attachments, events, rate_limits, message_versions, reactions, pins,"
    " hidden_messages, message_search, sessions, blocks, exports"
)
_lock = threading.Lock()
_cluster: ThrowawayPostgres | None = None
_databases = 0


def cluster() -> ThrowawayPostgres:
    """The run's cluster, started now if need be; skips (fails under CI) without PostgreSQL."""
    global _cluster
    with _lock:
        if _cluster is None:
            try:
                started = ThrowawayPostgres().start()
            except PostgresMissing as error:
                message = f"!!! POSTGRESQL IS MISSING: the PostgreSQL tests did not run ({error})"
                if os.environ.get("CI") == "true":
                    pytest.fail(message, pytrace=False)
                pytest.skip(message)
            atexit.register(started.stop)
            migrations.migrate(started.create_database(TEMPLATE))
            _cluster = started
        return _cluster


def fresh_database() -> str:
    """A new migrated, empty database of its own (a copy of the template)."""
    global _databases
    running = cluster()
    with _lock:
        _databases += 1
        name = f"test_{os.getpid()}_{_databases}"
    return running.create_database(name, template=TEMPLATE)


def empty(url: str) -> None:
    """Delete every row and restart every id, as a blank database has them."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"TRUNCATE {_TABLES} RESTART IDENTITY CASCADE")  # type: ignore[arg-type]
        conn.execute("UPDATE event_counter SET last_id = 0")
