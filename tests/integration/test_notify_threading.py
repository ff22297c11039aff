"""ThreadingEventNotifier: waiters sleep until their own user changes."""

from __future__ import annotations

import threading
import time

import pytest

from adapters.notify_threading import ThreadingEventNotifier
from messenger_core.ports import EventNotifier


@pytest.fixture
def notifier() -> ThreadingEventNotifier:
    return ThreadingEventNotifier()


class _Waiter(threading.Thread):
    def __init__(self, notifier: ThreadingEventNotifier, user_id: int, timeout: float) -> None:
        super().__init__(daemon=True)
        self._args_ = (notifier, user_id, notifier.version(user_id), timeout)
        self.result: bool | None = None
        self.elapsed = 0.0

    def run(self) -> None:
        notifier, user_id, seen, timeout = self._args_
        started = time.monotonic()
        self.result = notifier.wait(user_id, seen, timeout)
        self.elapsed = time.monotonic() - started


def _until_waiting(notifier: ThreadingEventNotifier, user_id: int) -> None:
    deadline = time.monotonic() + 5
    while user_id not in notifier._waiters:  # test-only peek, so no sleep-and-hope
        assert time.monotonic() < deadline, "the waiter never started waiting"
        time.sleep(0.001)


def test_version_changes_on_notify(notifier: ThreadingEventNotifier) -> None:
    port: EventNotifier = notifier  # checked by mypy
    before = port.version(1)
    port.notify([1, 1, 2])
    assert port.version(1) != before
    assert port.version(3) == before


def test_notify_from_another_thread_wakes_the_waiter(notifier: ThreadingEventNotifier) -> None:
    waiter = _Waiter(notifier, 1, timeout=10)
    waiter.start()
    _until_waiting(notifier, 1)
    notifier.notify([1])
    waiter.join(2)
    assert not waiter.is_alive()
    assert waiter.result is True
    assert waiter.elapsed < 2
    assert notifier._waiters == {}  # the user's condition left with its last waiter


def test_returns_at_once_when_already_changed(notifier: ThreadingEventNotifier) -> None:
    seen = notifier.version(1)
    notifier.notify([1])
    started = time.monotonic()
    assert notifier.wait(1, seen, timeout=10) is True
    assert time.monotonic() - started < 0.5


def test_timeout_returns_false(notifier: ThreadingEventNotifier) -> None:
    started = time.monotonic()
    assert notifier.wait(1, notifier.version(1), timeout=0.2) is False
    assert 0.19 <= time.monotonic() - started < 2
    assert notifier.wait(1, notifier.version(1), timeout=0) is False


def test_another_users_notify_does_not_wake(notifier: ThreadingEventNotifier) -> None:
    waiter = _Waiter(notifier, 1, timeout=0.5)
    waiter.start()
    _until_waiting(notifier, 1)
    notifier.notify([2, 3])
    waiter.join(5)
    assert waiter.result is False
    assert waiter.elapsed >= 0.45


def test_every_waiter_of_the_user_wakes(notifier: ThreadingEventNotifier) -> None:
    waiters = [_Waiter(notifier, 7, timeout=10) for _ in range(5)]
    bystander = _Waiter(notifier, 8, timeout=10)
    for waiter in [*waiters, bystander]:
        waiter.start()
    deadline = time.monotonic() + 5
    while notifier._waiters.get(7) is None or notifier._waiters[7].count < 5:
        assert time.monotonic() < deadline
        time.sleep(0.001)
    notifier.notify([7])
    for waiter in waiters:
        waiter.join(2)
        assert waiter.result is True
    assert bystander.is_alive()
    notifier.notify([8])
    bystander.join(2)
    assert bystander.result is True
