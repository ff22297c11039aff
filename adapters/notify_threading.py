"""EventNotifier for one process: long-poll waiters sleep on a condition, no polling.

One lock guards every user's version; each user that someone is waiting on gets a
condition of that lock, made on the first wait and dropped with the last waiter, so
``notify`` wakes only the waiters of the users it names.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable


class _Waiters:
    __slots__ = ("condition", "count")

    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.count = 0


class ThreadingEventNotifier:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._versions: dict[int, int] = {}
        self._waiters: dict[int, _Waiters] = {}

    def version(self, user_id: int) -> int:
        """A number that changes whenever ``notify`` names the user (0 before)."""
        with self._lock:
            return self._versions.get(user_id, 0)

    def notify(self, user_ids: Iterable[int]) -> None:
        """Bump each user's version and wake whoever waits on it."""
        with self._lock:
            for user_id in set(user_ids):
                self._versions[user_id] = self._versions.get(user_id, 0) + 1
                waiters = self._waiters.get(user_id)
                if waiters is not None:
                    waiters.condition.notify_all()

    def wait(self, user_id: int, seen_version: int, timeout: float) -> bool:
        """Block until the user's version differs from ``seen_version`` (True) or
        ``timeout`` seconds pass (False). Returns at once if it already differs."""
        with self._lock:
            if self._versions.get(user_id, 0) != seen_version:
                return True
            if timeout <= 0:
                return False
            waiters = self._waiters.get(user_id)
            if waiters is None:
                waiters = self._waiters[user_id] = _Waiters(self._lock)
            waiters.count += 1
            try:
                return waiters.condition.wait_for(
                    lambda: self._versions.get(user_id, 0) != seen_version, timeout
                )
            finally:
                waiters.count -= 1
                if waiters.count == 0:
                    del self._waiters[user_id]
