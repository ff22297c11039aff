"""WorkerEventNotifier between siblings: a notification in one worker wakes the waiters
of another through its pipe, a full pipe turns into a wake-everyone, and a pipe nobody
reads any more is no error. Two notifiers in one process stand for two workers."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from adapters.notify_workers import WorkerEventNotifier
from entrypoints.bootstrap import WorkerSignals
from messenger_core.model import Signal


class Pair:
    """Two workers' notifiers wired to each other as the supervisor wires them."""

    def __init__(self) -> None:
        self.pipes = [os.pipe(), os.pipe()]  # (read, write) of each worker's inbox
        for _, writer in self.pipes:
            os.set_blocking(writer, False)
        self.a = WorkerEventNotifier(self.pipes[0][0], [self.pipes[1][1]])
        self.b = WorkerEventNotifier(self.pipes[1][0], [self.pipes[0][1]])

    def close(self) -> None:
        for notifier, (_, writer) in zip((self.a, self.b), self.pipes, strict=True):
            os.set_blocking(writer, True)
            notifier.close(writer)
        for reader, writer in self.pipes:
            os.close(reader)
            os.close(writer)


@pytest.fixture
def pair() -> Iterator[Pair]:
    made = Pair()
    yield made
    made.close()


def wait_in_background(
    notifier: WorkerEventNotifier, user_id: int, timeout: float
) -> tuple[threading.Thread, list[bool]]:
    seen = notifier.version(user_id)
    result: list[bool] = []
    thread = threading.Thread(
        target=lambda: result.append(notifier.wait(user_id, seen, timeout)), daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 5
    while user_id not in notifier._waiters:
        assert time.monotonic() < deadline, "the waiter never started"
        time.sleep(0.001)
    return thread, result


def test_a_notification_in_one_worker_wakes_the_waiter_of_another(pair: Pair) -> None:
    thread, result = wait_in_background(pair.b, 7, timeout=30)
    pair.a.notify([7])
    thread.join(10)
    assert result == [True]


def test_siblings_keep_other_users_asleep(pair: Pair) -> None:
    thread, result = wait_in_background(pair.b, 7, timeout=0.5)
    pair.a.notify([8, 9])
    thread.join(10)
    assert result == [False]


def test_a_group_of_thousands_reaches_the_sibling_whole(pair: Pair) -> None:
    members = list(range(1, 3001))  # six atomic writes
    seen = {user: pair.b.version(user) for user in members}
    pair.a.notify(members)
    deadline = time.monotonic() + 10
    while any(pair.b.version(user) == seen[user] for user in members):
        assert time.monotonic() < deadline, "some members were never told"
        time.sleep(0.005)


def test_a_full_pipe_owes_its_reader_a_wake_everyone() -> None:
    inbox, inbox_writer = os.pipe()
    stuck_reader, stuck = os.pipe()  # a sibling that has stopped reading
    os.set_blocking(stuck, False)
    notifier = WorkerEventNotifier(inbox, [stuck])
    try:
        start = 0
        while stuck not in notifier._behind:  # until the pipe takes no more
            notifier.notify(range(start + 1, start + 501))
            start += 500
            assert start < 1_000_000, "the pipe never filled"
        drained = b""
        os.set_blocking(stuck_reader, False)
        while True:  # the sibling catches up
            try:
                drained += os.read(stuck_reader, 65536)
            except BlockingIOError:
                break
        assert len(drained) % 8 == 0  # only whole ids were ever written
        notifier.notify([42])
        owed = os.read(stuck_reader, 65536)
        assert owed == (2**64 - 1).to_bytes(8, "little")  # wake everyone, nothing else needed
        assert notifier._behind == set()
        notifier.notify([43])
        assert os.read(stuck_reader, 65536) == (43).to_bytes(8, "little")
    finally:
        notifier.close(inbox_writer)
        for descriptor in (inbox, inbox_writer, stuck_reader, stuck):
            os.close(descriptor)


def test_a_wake_everyone_wakes_every_waiter(pair: Pair) -> None:
    waiting = [wait_in_background(pair.b, user, timeout=30) for user in (1, 2, 3)]
    os.write(pair.pipes[1][1], (2**64 - 1).to_bytes(8, "little"))
    for thread, result in waiting:
        thread.join(10)
        assert result == [True]


def test_a_sibling_whose_pipe_has_no_reader_left_is_skipped() -> None:
    inbox, inbox_writer = os.pipe()
    gone_reader, gone = os.pipe()
    os.close(gone_reader)  # EPIPE from now on
    notifier = WorkerEventNotifier(inbox, [gone])
    try:
        seen = notifier.version(5)
        notifier.notify([5])
        assert notifier.version(5) != seen  # this process's waiters still get it
    finally:
        notifier.close(inbox_writer)
        for descriptor in (inbox, inbox_writer, gone):
            os.close(descriptor)


def until(condition: Callable[[], object], what: str) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.005)


def test_a_relayed_message_reaches_the_sibling_before_the_wake_up_after_it(pair: Pair) -> None:
    got: list[bytes] = []
    woken_with: list[list[bytes]] = []
    pair.b.on_relay = got.append
    thread, result = wait_in_background(pair.b, 7, timeout=10)
    pair.a.relay(b"typing in chat 3")
    pair.a.notify([7])
    thread.join(10)
    woken_with.append(list(got))
    assert result == [True]
    assert woken_with == [[b"typing in chat 3"]]
    with pytest.raises(ValueError):
        pair.a.relay(b"x" * 5000)


def test_typing_and_presence_reach_a_long_poll_on_another_worker(pair: Pair) -> None:
    """What issue 14 needs of several workers: a signal published in one is read in the
    other under one numbering, and a user polling in one is online in the other."""
    a, b = WorkerSignals(pair.a), WorkerSignals(pair.b)
    now = datetime.now(UTC)
    _, cursor = b.after(2, None, now)  # what a client starting on worker b holds
    signal = Signal(type="chat.typing", data={"chat_id": 3}, expires=now + timedelta(seconds=6))
    a.publish([1, 2], signal)
    until(lambda: b.after(2, cursor, now)[0] == [signal], "the signal never reached worker b")
    _, next_cursor = b.after(2, cursor, now)
    assert a.after(2, next_cursor, now) == ([], next_cursor), "one numbering on both workers"
    assert a.after(2, cursor, now)[0] == [signal]
    a.polling(9, now, waiting=True)
    until(lambda: b.online([9], now - timedelta(seconds=60)) == {9}, "the poll mark never reached b")
    assert b.online([10], now - timedelta(seconds=60)) == set()
