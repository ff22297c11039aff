"""EventNotifier for one process: long-poll waiters sleep on a condition, no polling.

One lock guards every user's version; each user that someone is waiting on gets a
condition of that lock, made on the first wait and dropped with the last waiter, so
``notify`` wakes only the waiters of the users it names.

Versions live in a fixed table of ``VERSION_SLOTS`` counters, a user in slot
``id % VERSION_SLOTS``, so memory stays the same however many users are ever notified (a
dict of every user's version would only grow). Users 65,536 ids apart share a counter: a
notification of one changes the other's version too, which at worst wakes a waiter that
finds nothing new and waits again. A version never misses a notification of its user.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Iterable

VERSION_SLOTS = 1 << 16  # 512 KiB of counters


def version_table() -> array[int]:
    """Counters for ``VERSION_SLOTS`` slots, all 0 (64-bit: they never wrap)."""
    return array("Q", bytes(8 * VERSION_SLOTS))


class _Waiters:
    __slots__ = ("condition", "count")

    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.count = 0


class ThreadingEventNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions = version_table()
        self._waiters: dict[int, _Waiters] = {}

    def version(self, user_id: int) -> int:
        """A number that changes whenever ``notify`` names the user (0 before)."""
        with self._lock:
            return self._versions[user_id % VERSION_SLOTS]

    def notify(self, user_ids: Iterable[int]) -> None:
        """Bump each user's version and wake whoever waits on it."""
        with self._lock:
            for user_id in set(user_ids):
                self._versions[user_id % VERSION_SLOTS] += 1
                waiters = self._waiters.get(user_id)
                if waiters is not None:
                    waiters.condition.notify_all()

    def wait(self, user_id: int, seen_version: int, timeout: float) -> bool:
        """Block until the user's version differs from ``seen_version`` (True) or
        ``timeout`` seconds pass (False). Returns at once if it already differs."""
        with self._lock:
            slot = user_id % VERSION_SLOTS
            if self._versions[slot] != seen_version:
                return True
            if timeout <= 0:
                return False
            waiters = self._waiters.get(user_id)
            if waiters is None:
                waiters = self._waiters[user_id] = _Waiters(self._lock)
            waiters.count += 1
            try:
                return waiters.condition.wait_for(lambda: self._versions[slot] != seen_version, timeout)
            finally:
                waiters.count -= 1
                if waiters.count == 0:
                    del self._waiters[user_id]
