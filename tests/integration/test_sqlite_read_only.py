"""SQLite's read-only units: one WAL snapshot from the first read, and ``query_only`` on
the thread's connection for exactly the unit's duration (the contract is in
tests/contract/test_read_only_units.py)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlite import SqliteUnitOfWorkFactory
from messenger_core.model import NewUser
from messenger_core.ports import UnitOfWork

WAIT = 10.0


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[SqliteUnitOfWorkFactory]:
    made = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    made.migrate()
    yield made
    made.close()


def add_user(uow: UnitOfWork, name: str) -> None:
    uow.users.add(
        NewUser(
            alternative_id=name,
            email=f"{name}@example.org",
            password_hash="x",
            first_name=name,
            second_name="Test",
            created_date=datetime(2026, 1, 1, tzinfo=UTC),
        )
    )


def query_only(conn: sqlite3.Connection) -> int:
    flag: int = conn.execute("PRAGMA query_only").fetchone()[0]
    return flag


def commit_on_another_thread(factory: SqliteUnitOfWorkFactory, name: str) -> None:
    def write() -> None:
        with factory() as uow:
            add_user(uow, name)
            uow.commit()

    thread = threading.Thread(target=write)
    thread.start()
    thread.join(WAIT)
    assert not thread.is_alive()


def test_a_read_only_unit_reads_one_snapshot_from_its_first_read(factory: SqliteUnitOfWorkFactory) -> None:
    with factory(read_only=True) as uow:
        commit_on_another_thread(factory, "before_first_read")  # BEGIN is deferred
        assert uow.users.count() == 1
        commit_on_another_thread(factory, "during")
        assert uow.users.count() == 1  # still the snapshot of the first read
        assert uow.users.get_by_alternative_id("during") is None
        uow.commit()  # ends the snapshot; the next read takes a new one
        assert uow.users.count() == 2


def test_read_only_units_use_the_threads_query_only_connection(factory: SqliteUnitOfWorkFactory) -> None:
    reader, writer = factory.connection(read_only=True), factory.connection()
    assert reader is not writer
    assert (query_only(reader), query_only(writer)) == (1, 0)
    with factory(read_only=True) as uow:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            add_user(uow, "refused")
        uow.rollback()  # a new transaction on the same connection, still read-only
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            add_user(uow, "refused")
    with factory() as uow:  # the writer's connection never had the flag
        add_user(uow, "written")
        uow.commit()
    assert factory.connection(read_only=True) is reader
    assert (query_only(reader), query_only(writer)) == (1, 0)
    with factory(read_only=True) as uow:
        assert uow.users.count() == 1


def test_every_connection_is_closed_and_reopened(factory: SqliteUnitOfWorkFactory) -> None:
    reader = factory.connection(read_only=True)
    factory.close()
    with pytest.raises(sqlite3.ProgrammingError):
        reader.execute("SELECT 1")
    with factory(read_only=True) as uow:
        assert uow.users.count() == 0
    assert query_only(factory.connection(read_only=True)) == 1


def test_a_unit_of_either_kind_refuses_one_inside(factory: SqliteUnitOfWorkFactory) -> None:
    """The kinds use different connections, so SQLite would allow it: the unit refuses."""
    with factory() as uow:
        with pytest.raises(RuntimeError, match="already open"):
            factory(read_only=True).__enter__()
        add_user(uow, "written")
        uow.commit()
    with factory(read_only=True) as uow:
        with pytest.raises(RuntimeError, match="already open"):
            factory().__enter__()
        assert uow.users.count() == 1
    with factory() as uow:  # neither refusal left the thread marked
        assert uow.users.count() == 1


def test_a_refused_write_leaving_the_unit_is_no_storage_error(factory: SqliteUnitOfWorkFactory) -> None:
    """SQLITE_READONLY from a broken file means Unavailable; from query_only it is the
    caller's bug and leaves the unit as it is."""
    with pytest.raises(sqlite3.OperationalError, match="readonly"), factory(read_only=True) as uow:
        add_user(uow, "refused")
    with factory() as uow:
        assert uow.users.count() == 0
