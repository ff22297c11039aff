"""Writers of one process queue for the database instead of polling SQLite's busy handler.

Found by tests/e2e/test_concurrency.py: with the write lock in constant demand, SQLite's
busy handler (sleeps of up to 100 ms between tries) let a writer miss every free moment
for the whole busy_timeout, and the request failed with "database is locked".
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from adapters.sqlite import SqliteUnitOfWorkFactory


def test_a_writer_outwaits_the_busy_timeout_behind_another_writer(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    holding = threading.Event()
    outcome: list[str] = []

    def long_writer() -> None:
        with factory():  # BEGIN IMMEDIATE: SQLite's write lock, for half a second
            holding.set()
            time.sleep(0.5)

    def second_writer() -> None:
        # SQLite alone would give up after 50 ms: the wait must happen outside it.
        factory.connection().execute("PRAGMA busy_timeout = 50")
        holding.wait(5)
        try:
            with factory() as uow:
                uow.commit()
            outcome.append("ok")
        except sqlite3.OperationalError as error:
            outcome.append(str(error))

    threads = [threading.Thread(target=long_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    factory.close()
    assert outcome == ["ok"]


def test_readers_do_not_queue_behind_writers(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    holding, done = threading.Event(), threading.Event()
    read_while_writing: list[bool] = []

    def writer() -> None:
        with factory():
            holding.set()
            # The writer lets go only when the read is done (or after 30 s): a reader
            # that queued behind it would finish only after that.
            read_while_writing.append(done.wait(30))

    def reader() -> None:
        holding.wait(30)
        with factory(read_only=True) as uow:
            uow.events.latest_id()
        done.set()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    factory.close()
    assert read_while_writing == [True]


def test_the_write_lock_is_released_when_a_unit_fails(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    with pytest.raises(RuntimeError), factory():
        raise RuntimeError("the use case failed")
    with factory() as uow:  # would wait WRITE_LOCK_TIMEOUT if the lock had leaked
        uow.commit()
    factory.close()
