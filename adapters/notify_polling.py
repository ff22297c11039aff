"""EventNotifier for several server processes sharing one database.

``notify`` wakes this process's waiters at once, as the threading notifier does. Events
written by *other* processes are noticed by one background thread that asks for the
greatest event id every ``interval`` seconds, and only while someone here waits; with
nobody waiting it sleeps on a condition and polls nothing.

When that id has changed and ``users_with_events(after, upto)`` is given, only the users
who got events in that range are woken (their versions are bumped). Without it the poll
cannot tell whose stream grew, so every waiter is woken to re-read its own events and wait
again if there were none (a spurious wake-up costs one read). This is done with an *epoch*
counted into every user's version:
``version(user) = own notifications + epoch``. A growth seen after a waiter took its
version — even before it started waiting — changes the version, so an event committed
between the waiter's read and its wait is not lost. The id remembered across an idle
spell may be stale; that only makes the first poll after it wake waiters spuriously,
never miss one.
"""

from __future__ import annotations

import logging
import threading
from array import array
from collections.abc import Callable, Iterable

VERSION_SLOTS = 1 << 16  # as the threading notifier: a fixed table, users in slot id % size

log = logging.getLogger(__name__)


class _Waiters:
    __slots__ = ("condition", "count")

    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.count = 0


class PollingEventNotifier:
    """Wakes local waiters on ``notify`` and on a change of ``latest_event_id()``.

    ``latest_event_id`` must be a cheap read of the greatest event id ever given; it is
    called once here, for the baseline, then only from the poller thread. ``interval`` is
    the delay between polls, in seconds.
    """

    def __init__(
        self,
        latest_event_id: Callable[[], int],
        interval: float,
        users_with_events: Callable[[int, int], Iterable[int]] | None = None,
    ) -> None:
        if interval <= 0:
            raise ValueError("interval must be positive")
        self._latest_event_id = latest_event_id
        self._users_with_events = users_with_events
        self.interval = interval
        self._lock = threading.Lock()
        self._versions = array("Q", bytes(8 * VERSION_SLOTS))
        self._waiters: dict[int, _Waiters] = {}
        self._waiting = 0
        self._epoch = 0
        self._last_seen = latest_event_id()  # the baseline: events before this need no wake-up
        self._someone_waits = threading.Condition(self._lock)
        self._poller: threading.Thread | None = None
        self._closed = False
        self._stop = threading.Event()

    def version(self, user_id: int) -> int:
        """A number that changes whenever ``notify`` names the user or another process
        writes an event (0 before either)."""
        with self._lock:
            return self._version(user_id)

    def notify(self, user_ids: Iterable[int]) -> None:
        """Bump each user's version and wake whoever waits on it, without waiting for a poll."""
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
            if self._version(user_id) != seen_version:
                return True
            if timeout <= 0:
                return False
            waiters = self._waiters.get(user_id)
            if waiters is None:
                waiters = self._waiters[user_id] = _Waiters(self._lock)
            waiters.count += 1
            self._waiting += 1
            if self._waiting == 1:
                self._start_polling()
            try:
                return waiters.condition.wait_for(lambda: self._version(user_id) != seen_version, timeout)
            finally:
                self._waiting -= 1
                waiters.count -= 1
                if waiters.count == 0:
                    del self._waiters[user_id]

    def close(self) -> None:
        """Stop the poller thread; later waits only time out or see local notifications."""
        with self._lock:
            self._closed = True
            self._stop.set()
            self._someone_waits.notify_all()
            poller = self._poller
        if poller is not None and poller is not threading.current_thread():
            poller.join()

    # --- under the lock ---------------------------------------------------------------

    def _version(self, user_id: int) -> int:
        return self._versions[user_id % VERSION_SLOTS] + self._epoch

    def _wake(self, affected: set[int] | None) -> None:
        """Wake the users who got events, or everyone when that is unknown."""
        if affected is None:
            self._epoch += 1
            targets: Iterable[_Waiters] = list(self._waiters.values())
        else:
            for user_id in affected:
                self._versions[user_id % VERSION_SLOTS] += 1
            targets = [self._waiters[u] for u in affected if u in self._waiters]
        for waiters in targets:
            waiters.condition.notify_all()

    def _start_polling(self) -> None:
        if self._closed:
            return
        if self._poller is None:
            self._poller = threading.Thread(target=self._poll, name="event-poller", daemon=True)
            self._poller.start()
        else:
            self._someone_waits.notify()

    # --- the poller thread ------------------------------------------------------------

    def _poll(self) -> None:
        while True:
            with self._lock:
                while self._waiting == 0 and not self._closed:
                    self._someone_waits.wait()
                if self._closed:
                    return
            try:
                # Outside the lock: these read the database. Only this thread changes
                # _last_seen, so reading it here is safe.
                latest = self._latest_event_id()
                affected = None
                if latest != self._last_seen and self._users_with_events is not None:
                    affected = set(self._users_with_events(self._last_seen, latest))
            except Exception:
                log.exception("polling for events failed; trying again in %gs", self.interval)
            else:
                with self._lock:
                    if latest != self._last_seen:
                        self._last_seen = latest
                        self._wake(affected)
            self._stop.wait(self.interval)
