"""The EventNotifier contract, run over every adapter: conditions in one process
(threading), conditions plus a poll of the event table (polling, on a real SQLite file
that nobody writes to, so any wake-up it gives here comes from ``notify``), and conditions
plus pipes to sibling workers (workers: its own pipe, and a sibling's nobody reads), and
conditions plus a LISTEN on PostgreSQL (postgres, on the run's throwaway cluster, where
nobody sends a NOTIFY here)."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.notify_polling import PollingEventNotifier
from adapters.notify_threading import ThreadingEventNotifier
from adapters.notify_workers import WorkerEventNotifier
from adapters.postgres.notifier import PostgresEventNotifier
from adapters.sqlite import SqliteUnitOfWorkFactory
from messenger_core.ports import EventNotifier

KINDS = ["threading", "polling", "workers", "postgres"]
HOUR = 3600.0  # a wait this long ends in a test only when something wakes it
DEADLINE = 30.0  # how long a test waits for a thread it expects to end


def make_notifier(kind: str, tmp_path: Path) -> tuple[EventNotifier, Callable[[], None]]:
    """A notifier of the kind, and how to put it away."""
    if kind == "threading":
        return ThreadingEventNotifier(), lambda: None
    if kind == "workers":
        inbox, inbox_writer = os.pipe()
        sibling_reader, sibling = os.pipe()
        os.set_blocking(sibling, False)
        workers = WorkerEventNotifier(inbox, [sibling])

        def put_away() -> None:
            workers.close(inbox_writer)
            for descriptor in (inbox, inbox_writer, sibling_reader, sibling):
                os.close(descriptor)

        return workers, put_away
    if kind == "postgres":
        from tests.postgres import cluster

        listening = PostgresEventNotifier(cluster().url())
        return listening, listening.close
    factory = SqliteUnitOfWorkFactory(tmp_path / "events.sqlite3")
    factory.migrate()
    polling = PollingEventNotifier(factory.latest_event_id, interval=0.02)

    def close() -> None:
        polling.close()
        factory.close()

    return polling, close


@pytest.fixture(params=KINDS)
def notifier(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventNotifier]:
    made, put_away = make_notifier(request.param, tmp_path)
    yield made
    put_away()


class Waiter(threading.Thread):
    """Waits in the background from the version the user has now."""

    def __init__(self, notifier: EventNotifier, user_id: int, timeout: float) -> None:
        super().__init__(daemon=True)
        self.notifier, self.user_id, self.timeout = notifier, user_id, timeout
        self.seen = notifier.version(user_id)
        self.result: bool | None = None
        self.elapsed = 0.0

    def run(self) -> None:
        started = time.monotonic()
        self.result = self.notifier.wait(self.user_id, self.seen, self.timeout)
        self.elapsed = time.monotonic() - started


def until_waiting(notifier: EventNotifier, user_id: int, count: int = 1) -> None:
    # Both adapters keep their waiters per user in ``_waiters``: a test-only peek, so the
    # tests never sleep and hope the waiter has started.
    waiters: dict[int, Any] = notifier._waiters  # type: ignore[attr-defined]
    deadline = time.monotonic() + 5
    while user_id not in waiters or waiters[user_id].count < count:
        assert time.monotonic() < deadline, "the waiter never started waiting"
        time.sleep(0.001)


def test_version_changes_only_for_the_named_users(notifier: EventNotifier) -> None:
    before = {user: notifier.version(user) for user in (1, 2, 3)}
    notifier.notify([1, 1, 2])
    assert notifier.version(1) != before[1]
    assert notifier.version(2) != before[2]
    assert notifier.version(3) == before[3]


def test_wait_returns_at_once_when_the_version_already_changed(notifier: EventNotifier) -> None:
    waiter = Waiter(notifier, 1, timeout=HOUR)  # its version is taken now
    notifier.notify([1])
    waiter.start()
    waiter.join(DEADLINE)  # far below its timeout: ends only if the change is seen
    assert waiter.result is True


def test_timeout_is_honoured(notifier: EventNotifier) -> None:
    for timeout in (0.2, 0):
        waiter = Waiter(notifier, 1, timeout=timeout)
        waiter.start()
        waiter.join(DEADLINE)
        assert waiter.result is False  # it came back, unwoken
        assert waiter.elapsed >= timeout - 0.01  # and not before its time


def test_notify_from_another_thread_wakes_the_waiter(notifier: EventNotifier) -> None:
    waiter = Waiter(notifier, 1, timeout=HOUR)
    waiter.start()
    until_waiting(notifier, 1)
    notifier.notify([1])
    waiter.join(DEADLINE)  # far below its timeout: ends only if woken
    assert waiter.result is True


def test_another_users_notify_does_not_wake(notifier: EventNotifier) -> None:
    waiter = Waiter(notifier, 1, timeout=0.5)
    waiter.start()
    until_waiting(notifier, 1)
    notifier.notify([2, 3])
    waiter.join(DEADLINE)
    assert waiter.result is False  # it ran out its time: nobody woke it


def test_every_waiter_of_the_user_wakes(notifier: EventNotifier) -> None:
    waiters = [Waiter(notifier, 7, timeout=HOUR) for _ in range(5)]
    bystander = Waiter(notifier, 8, timeout=HOUR)
    for waiter in [*waiters, bystander]:
        waiter.start()
    until_waiting(notifier, 7, count=5)
    until_waiting(notifier, 8)
    notifier.notify([7])
    for waiter in waiters:
        waiter.join(DEADLINE)
        assert waiter.result is True
    assert bystander.is_alive()
    notifier.notify([8])
    bystander.join(DEADLINE)
    assert bystander.result is True


@pytest.mark.parametrize("kind", KINDS)
@settings(max_examples=50, deadline=None)
@given(batches=st.lists(st.lists(st.integers(1, 5), max_size=4), max_size=8))
def test_versions_change_exactly_for_the_named_users(
    kind: str, batches: list[list[int]], tmp_path_factory: Any
) -> None:
    made, put_away = make_notifier(kind, tmp_path_factory.mktemp(kind))
    try:
        for batch in batches:
            before = {user: made.version(user) for user in range(1, 6)}
            made.notify(batch)
            after = {user: made.version(user) for user in range(1, 6)}
            assert {user for user in before if after[user] != before[user]} == set(batch)
    finally:
        put_away()


def test_memory_stays_bounded_however_many_users_are_notified(notifier: EventNotifier) -> None:
    import tracemalloc

    notifier.notify(range(1, 1000))  # whatever is made on first use
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(1000, 200_000, 1000):
            notifier.notify(range(start, start + 1000))
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1024 * 1024  # a dict of 200,000 versions would hold ~20 MB
    seen = notifier.version(123_456)
    notifier.notify([123_456])
    assert notifier.version(123_456) != seen
