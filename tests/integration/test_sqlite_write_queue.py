"""Writers queue for the database instead of polling SQLite's busy handler: the threads
of one process on a lock, the processes on a file lock.

Found by tests/e2e/test_concurrency.py: with the write lock in constant demand, SQLite's
busy handler (sleeps of up to 100 ms between tries) let a writer miss every free moment
for the whole busy_timeout, and the request failed with "database is locked". Two server
processes relying on it had send p99s of 1.3–1.9 s.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.sqlite import SqliteUnitOfWorkFactory
from messenger_core.model import NewUser
from scripts.live_server import ROOT


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


WRITER = textwrap.dedent(
    """
    import sys
    from datetime import UTC, datetime
    from adapters.sqlite import SqliteUnitOfWorkFactory
    from messenger_core.model import EventType
    factory = SqliteUnitOfWorkFactory(sys.argv[1])
    # SQLite alone would give up at once: every wait must happen in the queue.
    factory.connection().execute("PRAGMA busy_timeout = 0")
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    for n in range(int(sys.argv[2])):
        with factory() as uow:
            uow.events.append(1, EventType.CHAT_CREATED, {"n": n}, datetime.now(UTC))
            uow.commit()
    print("done", flush=True)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_writers_of_several_processes_take_turns(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    with factory() as uow:  # the events' user
        uow.users.add(
            NewUser(
                alternative_id="queue",
                email="queue@example.com",
                password_hash="x",
                first_name="Q",
                second_name="Ueue",
                created_date=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
        uow.commit()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(factory.path), "300"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for writer in writers:
            assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        results = [writer.communicate(timeout=120) for writer in writers]
    finally:
        for writer in writers:
            writer.kill()
    assert [(w.returncode, out.strip()) for w, (out, _) in zip(writers, results, strict=True)] == [
        (0, "done")
    ] * 3, [err[-2000:] for _, err in results]
    with factory(read_only=True) as uow:
        assert len(uow.events.after(1, 0, 10_000)) == 900
    factory.close()


HOLDER = textwrap.dedent(
    """
    import sys, time
    from adapters.sqlite import SqliteUnitOfWorkFactory
    factory = SqliteUnitOfWorkFactory(sys.argv[1])
    factory.write_queue.acquire()
    print("holding", flush=True)
    time.sleep(600)
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="flock")
def test_a_killed_holder_lets_the_queue_go(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(factory.path)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "holding"
        got: list[bool] = []
        waiter = threading.Thread(target=lambda: got.append(factory.write_queue.acquire()), daemon=True)
        waiter.start()
        waiter.join(0.3)
        assert waiter.is_alive(), "the queue let a second writer in while another process held it"
        holder.send_signal(signal.SIGKILL)
        waiter.join(30)
        assert got == [True]
        factory.write_queue.release()
    finally:
        holder.kill()
        holder.wait()
    factory.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_child_queues_apart_from_its_parent(tmp_path: Path) -> None:
    factory = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    factory.migrate()
    factory.write_queue.acquire()  # the parent opens the lock file and holds it
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the inherited lock must not count as its own
        try:
            os.close(reader)
            factory.write_queue._threads = threading.Lock()  # the parent's thread holds it
            factory.write_queue.acquire()
            os.write(writer, b"got it")
        finally:
            os._exit(0)
    os.close(writer)
    try:
        time.sleep(0.3)
        os.set_blocking(reader, False)
        with pytest.raises(BlockingIOError):
            os.read(reader, 10)  # the child is still waiting
        factory.write_queue.release()
        os.set_blocking(reader, True)
        assert os.read(reader, 10) == b"got it"
    finally:
        os.waitpid(pid, 0)
        os.close(reader)
    factory.close()
