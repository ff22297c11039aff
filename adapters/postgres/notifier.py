"""EventNotifier across processes and machines, over PostgreSQL's LISTEN/NOTIFY.

The NOTIFY is not sent here: a unit of work that wrote events sends it inside its own
transaction (uow.py), so PostgreSQL delivers it when the transaction commits and never
before, and a rolled-back unit wakes nobody. ``notify`` wakes this process's waiters at
once, as the threading notifier does, and the listener skips the notifications of its
own origin, which the process has already woken.

One listener connection per process: a background thread LISTENs on the channel and
bumps the versions of the users each notification names. When the connection drops,
notifications may have been missed meanwhile, so on reconnecting every waiter is woken
once (an *epoch* counted into every version) to re-read its own events.
"""

from __future__ import annotations

import logging
import threading
from array import array
from collections.abc import Iterable

import psycopg

from .uow import CHANNEL

# Versions in a fixed table of counters, as the threading notifier keeps them (a user in
# slot id % VERSION_SLOTS; users that far apart share one: a wake-up for nothing, never a
# missed one), so memory stays the same however many users are ever notified.
VERSION_SLOTS = 1 << 16

log = logging.getLogger(__name__)

LISTEN_POLL = 0.25  # seconds between checks for close() while no notification comes
RECONNECT_DELAY = 1.0
LISTENER_NAME = "messenger-listener"


class _Waiters:
    __slots__ = ("condition", "count")

    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.count = 0


def parse(payload: str) -> tuple[str, list[int]]:
    """The origin and user ids of a ``origin:id,id,…`` payload."""
    origin, _, ids = payload.partition(":")
    return origin, [int(i) for i in ids.split(",") if i]


class PostgresEventNotifier:
    """Wakes local waiters on ``notify`` and on NOTIFYs from other processes.

    ``origin`` is the one the process's unit-of-work factory writes into its payloads
    (``PostgresUnitOfWorkFactory.origin``)."""

    def __init__(self, url: str, *, origin: str | None = None, channel: str = CHANNEL) -> None:
        self.url = url
        self.origin = origin
        self.channel = channel
        self._lock = threading.Lock()
        self._versions = array("Q", bytes(8 * VERSION_SLOTS))  # 64-bit: they never wrap
        self._waiters: dict[int, _Waiters] = {}
        self._epoch = 0
        self._stop = threading.Event()
        self.listening = threading.Event()  # set while LISTEN is in force
        self._thread = threading.Thread(target=self._listen, name="event-listener", daemon=True)
        self._thread.start()

    def version(self, user_id: int) -> int:
        with self._lock:
            return self._version(user_id)

    def notify(self, user_ids: Iterable[int]) -> None:
        with self._lock:
            self._bump(set(user_ids))

    def wait(self, user_id: int, seen_version: int, timeout: float) -> bool:
        with self._lock:
            if self._version(user_id) != seen_version:
                return True
            if timeout <= 0:
                return False
            waiters = self._waiters.get(user_id)
            if waiters is None:
                waiters = self._waiters[user_id] = _Waiters(self._lock)
            waiters.count += 1
            try:
                return waiters.condition.wait_for(lambda: self._version(user_id) != seen_version, timeout)
            finally:
                waiters.count -= 1
                if waiters.count == 0:
                    del self._waiters[user_id]

    def close(self) -> None:
        """Stop listening; later waits only see this process's own notifications."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    # --- under the lock -------------------------------------------------------------

    def _version(self, user_id: int) -> int:
        return self._versions[user_id % VERSION_SLOTS] + self._epoch

    def _bump(self, user_ids: Iterable[int]) -> None:
        for user_id in user_ids:
            self._versions[user_id % VERSION_SLOTS] += 1
            waiters = self._waiters.get(user_id)
            if waiters is not None:
                waiters.condition.notify_all()

    def _wake_everyone(self) -> None:
        self._epoch += 1
        for waiters in self._waiters.values():
            waiters.condition.notify_all()

    # --- the listener thread --------------------------------------------------------

    def _listen(self) -> None:
        connected_before = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True, application_name=LISTENER_NAME) as conn:
                    conn.execute(f'LISTEN "{self.channel}"')
                    if connected_before:
                        with self._lock:  # what came while we were away is unknown
                            self._wake_everyone()
                    connected_before = True
                    self.listening.set()
                    while not self._stop.is_set():
                        for notification in conn.notifies(timeout=LISTEN_POLL):
                            self._received(notification.payload)
            except psycopg.Error:
                log.warning("listening for events failed; retrying in %gs", RECONNECT_DELAY, exc_info=True)
            finally:
                self.listening.clear()
            self._stop.wait(RECONNECT_DELAY)

    def _received(self, payload: str) -> None:
        try:
            origin, user_ids = parse(payload)
        except ValueError:
            log.warning("ignoring a malformed event notification %r", payload[:100])
            return
        if self.origin is not None and origin == self.origin:
            return  # this process woke its waiters when it committed
        with self._lock:
            self._bump(user_ids)
