"""PollingEventNotifier: local notifications wake at once; events written by another
process are noticed by polling, and only while someone waits."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.memory import MemoryBlobStore, MemoryTokenCodec
from adapters.notify_polling import PollingEventNotifier
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.system import SystemClock
from adapters.testing import SeededRandom
from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from messenger_core import Messenger
from messenger_core.model import Actor, EventType
from messenger_core.ports import EventNotifier

INTERVAL = 0.02


class FakeEventTable:
    """Stands in for the database another process writes to; counts the polls."""

    def __init__(self) -> None:
        self.latest = 0
        self.calls = 0
        self.failures = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.failures:
            self.failures -= 1
            raise OSError("database is gone for a moment")
        return self.latest


@pytest.fixture
def table() -> FakeEventTable:
    return FakeEventTable()


@pytest.fixture
def notifier(table: FakeEventTable) -> Iterator[PollingEventNotifier]:
    made = PollingEventNotifier(table, interval=INTERVAL)
    yield made
    made.close()


class Waiter(threading.Thread):
    def __init__(self, notifier: PollingEventNotifier, user_id: int, timeout: float) -> None:
        super().__init__(daemon=True)
        self.notifier, self.user_id, self.timeout = notifier, user_id, timeout
        self.seen = notifier.version(user_id)
        self.result: bool | None = None
        self.elapsed = 0.0

    def run(self) -> None:
        started = time.monotonic()
        self.result = self.notifier.wait(self.user_id, self.seen, self.timeout)
        self.elapsed = time.monotonic() - started


def until(condition: object, what: str) -> None:
    deadline = time.monotonic() + 30
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, what
        time.sleep(0.001)


def until_waiting(notifier: PollingEventNotifier, count: int = 1) -> None:
    until(lambda: notifier._waiting >= count, "the waiters never started waiting")


def test_is_an_event_notifier(notifier: PollingEventNotifier) -> None:
    port: EventNotifier = notifier  # checked by mypy
    assert port.version(1) == 0


def test_local_notify_wakes_without_waiting_for_a_poll(table: FakeEventTable) -> None:
    slow = PollingEventNotifier(table, interval=30)  # a poll could not explain the wake-up
    try:
        waiter = Waiter(slow, 1, timeout=10)
        waiter.start()
        until_waiting(slow)
        slow.notify([1])
        waiter.join(15)
        assert waiter.result is True  # woken: a timeout (10 s) would have given False
    finally:
        slow.close()


def test_a_write_by_another_process_wakes_every_waiter(
    notifier: PollingEventNotifier, table: FakeEventTable
) -> None:
    waiters = [Waiter(notifier, user, timeout=10) for user in (1, 2, 2)]
    for waiter in waiters:
        waiter.start()
    until_waiting(notifier, 3)
    table.latest += 1  # another process committed an event
    for waiter in waiters:
        waiter.join(15)
        assert waiter.result is True  # woken: a timeout (10 s) would have given False
    assert notifier.version(3) != 0  # the poll cannot tell whose stream grew


def test_no_wake_up_while_the_event_table_stays_the_same(
    notifier: PollingEventNotifier, table: FakeEventTable
) -> None:
    waiter = Waiter(notifier, 1, timeout=0.3)
    waiter.start()
    waiter.join(30)
    assert waiter.result is False
    assert waiter.elapsed >= 0.29


def test_a_write_between_version_and_wait_is_not_lost(
    notifier: PollingEventNotifier, table: FakeEventTable
) -> None:
    keeper = Waiter(notifier, 99, timeout=5)  # keeps the poller polling
    keeper.start()
    until_waiting(notifier)
    seen = notifier.version(1)  # ...the waiter reads its (still empty) stream here...
    table.latest += 1
    # The poll sees the write (and wakes the keeper) before this waiter starts waiting.
    until(lambda: notifier._last_seen == 1, "the poller never saw the write")
    assert notifier.wait(1, seen, timeout=5) is True  # a lost write would time out: False
    keeper.join(15)


def test_polls_only_while_someone_waits(notifier: PollingEventNotifier, table: FakeEventTable) -> None:
    assert table.calls == 1  # the baseline, read once when made
    time.sleep(0.3)
    assert table.calls == 1, "polled while nobody waited"

    waiter = Waiter(notifier, 1, timeout=10)
    waiter.start()
    until(lambda: table.calls >= 3, "the poller never polled")
    # One poll per interval, never a busy loop: fewer if the machine is busy, never more.
    started, before = time.monotonic(), table.calls
    time.sleep(0.3)
    assert table.calls - before <= (time.monotonic() - started) / INTERVAL + 2
    notifier.notify([1])
    waiter.join(15)
    assert waiter.result is True

    # A poll already under way may finish; then the poller waits for a waiter.
    idle_from = table.calls
    time.sleep(0.3)
    assert table.calls - idle_from <= 1, "polled while nobody waited"


def test_one_poller_serves_many_waiters(notifier: PollingEventNotifier, table: FakeEventTable) -> None:
    waiters = [Waiter(notifier, user, timeout=0.3) for user in range(20)]
    started = time.monotonic()
    for waiter in waiters:
        waiter.start()
    for waiter in waiters:
        waiter.join(15)
    # One poll per interval for all of them (20 pollers would make 20 times as many).
    assert table.calls - 1 <= (time.monotonic() - started) / INTERVAL + 2
    assert [t.name for t in threading.enumerate()].count("event-poller") == 1


def test_a_failing_poll_is_logged_and_polling_goes_on(
    notifier: PollingEventNotifier, table: FakeEventTable, caplog: pytest.LogCaptureFixture
) -> None:
    table.failures = 2
    waiter = Waiter(notifier, 1, timeout=10)
    waiter.start()
    until(lambda: table.failures == 0, "the poller gave up")
    table.latest += 1
    waiter.join(15)
    assert waiter.result is True
    assert "polling for events failed" in caplog.text


def test_close_stops_the_poller(table: FakeEventTable) -> None:
    made = PollingEventNotifier(table, interval=INTERVAL)
    made.wait(1, made.version(1), timeout=0.05)
    made.close()
    stopped_at = table.calls
    seen = made.version(1)
    made.notify([1])  # local wake-ups still work
    assert made.wait(1, seen, timeout=1) is True
    assert made.wait(1, made.version(1), timeout=0.1) is False
    assert table.calls == stopped_at


def test_rejects_a_non_positive_interval(table: FakeEventTable) -> None:
    with pytest.raises(ValueError):
        PollingEventNotifier(table, interval=0)


# --- two "processes" on one SQLite file ------------------------------------------------


def test_with_users_known_only_they_are_woken(table: FakeEventTable) -> None:
    ranges: list[tuple[int, int]] = []

    def users_with_events(after: int, upto: int) -> list[int]:
        ranges.append((after, upto))
        return [1]

    targeted = PollingEventNotifier(table, interval=INTERVAL, users_with_events=users_with_events)
    try:
        one, two = Waiter(targeted, 1, timeout=10), Waiter(targeted, 2, timeout=0.5)
        one.start()
        two.start()
        until_waiting(targeted, 2)
        table.latest = 3  # another process wrote events for user 1 only
        one.join(15)
        two.join(15)
        assert one.result is True  # woken: a timeout (10 s) would have given False
        assert two.result is False  # not woken: it timed out
        assert ranges == [(0, 3)]
    finally:
        targeted.close()


def messenger_on(path: Path, seed: int) -> tuple[Messenger, PollingEventNotifier, SqliteUnitOfWorkFactory]:
    """A Messenger as one server process builds it, with its own connections and notifier."""
    uow = SqliteUnitOfWorkFactory(path)
    uow.migrate()
    notifier = PollingEventNotifier(
        uow.latest_event_id, interval=INTERVAL, users_with_events=uow.users_with_events
    )
    messenger = build_messenger(
        Settings(),
        uow=uow,
        random=SeededRandom(seed),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        codec=MemoryTokenCodec(),
        blobs=MemoryBlobStore(),
        notifier=notifier,
    )
    return messenger, notifier, uow


def test_a_message_sent_through_one_process_wakes_a_waiter_in_the_other(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    created = SqliteUnitOfWorkFactory(path)
    created.migrate()
    created.close()
    first, first_notifier, first_uow = messenger_on(path, 1)
    second, second_notifier, second_uow = messenger_on(path, 2)
    try:
        alice_view = first.register(
            first_name="Alice", second_name="A", email="a@example.com", password="pw pw pw"
        )
        bob_view = first.register(
            first_name="Bob", second_name="B", email="b@example.com", password="pw pw pw"
        )
        alice, bob = Actor(alice_view.id, alice_view.user_id), Actor(bob_view.id, bob_view.user_id)
        first.send_friend_request(alice, bob.alternative_id)
        first.accept_friend_request(bob, alice.alternative_id)
        cursor = second.events(bob).cursor

        result: dict[str, object] = {}

        def wait_in_the_second() -> None:
            result["batch"] = second.events(bob, since=cursor, timeout=10)

        waiter = threading.Thread(target=wait_in_the_second, daemon=True)
        waiter.start()
        until_waiting(second_notifier)
        first.send_message(alice, receiver_id=bob.alternative_id, text="across processes")
        waiter.join(15)
        batch = result["batch"]  # woken: a timeout (10 s) would have brought no event
        assert [e.type for e in batch.events] == [EventType.MESSAGE_NEW]  # type: ignore[attr-defined]
    finally:
        for notifier in (first_notifier, second_notifier):
            notifier.close()
        first_uow.close()
        second_uow.close()


def test_latest_event_id_reads_without_waiting_for_a_writer(tmp_path: Path) -> None:
    uow = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    uow.migrate()
    other = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    other.migrate()
    try:
        assert uow.latest_event_id() == 0
        other.connection().execute("PRAGMA foreign_keys = OFF")  # an event with no user row
        writer = other()
        with writer:  # another connection holds the write lock, as a long send would
            writer.events.append(1, EventType.USER_UPDATED, {}, SystemClock().now())
            # Not committed yet; waiting for this writer (same thread) would end in
            # "database is locked" after the busy timeout, not in an answer.
            assert uow.latest_event_id() == 0
            writer.commit()
        assert uow.latest_event_id() == 1
        assert not uow.connection().in_transaction  # no transaction left open on the reader
    finally:
        uow.close()
        other.close()
