"""EventNotifier for the worker processes of one server: waiters of this process sleep on
conditions, as in the threading notifier, and every notification also goes down a pipe to
each sibling worker, whose reader thread wakes its own waiters at once.

The server's supervisor makes one pipe per worker before it forks them, and keeps every
end open, so a pipe outlives a worker that dies and its replacement reads on from it.
A worker reads its own pipe (``inbox``) and writes to its siblings' (``siblings``, whose
write ends are non-blocking). A notification is the users' ids, 8 bytes each, written
at most 512 at a time: a pipe write of up to 4,096 bytes is atomic, so a reader never
sees half an id, however many workers write at once.

A pipe holds 64 KiB (8,192 ids). When a sibling's is full (it has stopped reading), the
ids are not written; instead the sibling is marked behind, and the next notification
first writes it a wake-everyone, so none of its waiters misses an event for long: each
waiter rereads its own events when woken, and waits are bounded by their timeouts in
any case. Ids left in a pipe by a worker that died only wake its replacement's waiters
for nothing. Versions are counters in a fixed table, as in the threading notifier.
"""

from __future__ import annotations

import errno
import logging
import os
import threading
from array import array
from collections.abc import Callable, Iterable, Sequence

log = logging.getLogger(__name__)

VERSION_SLOTS = 1 << 16  # users in slot id % size: memory stays fixed (see notify_threading)
IDS_PER_WRITE = 512  # 4,096 bytes: PIPE_BUF, the most a pipe writes atomically
EVERYONE = (1 << 64) - 1  # an id no user has: wake every waiter
STOP = (1 << 64) - 2  # an id no user has: the reader thread ends (close)
RELAY = (1 << 64) - 3  # an id no user has: a message for the siblings' signals follows
RELAY_MAX = 4096 - 16  # bytes of one relayed message: with its two words, one atomic pipe write


class _Waiters:
    __slots__ = ("condition", "count")

    def __init__(self, lock: threading.Lock) -> None:
        self.condition = threading.Condition(lock)
        self.count = 0


class WorkerEventNotifier:
    """Wakes this process's waiters on ``notify``, and the siblings' through their pipes."""

    def __init__(self, inbox: int, siblings: Sequence[int]) -> None:
        self._lock = threading.Lock()
        self._versions = array("Q", bytes(8 * VERSION_SLOTS))
        self._waiters: dict[int, _Waiters] = {}
        self._inbox = inbox
        self._siblings = list(siblings)
        self._behind: set[int] = set()  # siblings whose pipe was full: they owe a wake-everyone
        self._send_lock = threading.Lock()
        self.on_relay: Callable[[bytes], None] | None = None  # what this worker does with a relayed message
        self._reader = threading.Thread(target=self._read, name="sibling-wakeups", daemon=True)
        self._reader.start()

    def version(self, user_id: int) -> int:
        """A number that changes whenever ``notify`` names the user, here or in a sibling."""
        with self._lock:
            return self._versions[user_id % VERSION_SLOTS]

    def notify(self, user_ids: Iterable[int]) -> None:
        """Wake whoever waits on these users, in this process and in every sibling."""
        ids = set(user_ids)
        self._wake(ids)
        if ids and self._siblings:
            self._tell_siblings(ids)

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

    def relay(self, message: bytes) -> None:
        """Hand a message of at most RELAY_MAX bytes to every sibling's ``on_relay``
        (ephemeral signals), ahead of any wake-up sent after it. One pipe write each, so
        it arrives whole; dropped for a sibling whose pipe is full (what is relayed lives
        seconds, and its waiters are owed a wake-everyone anyway)."""
        if len(message) > RELAY_MAX:
            raise ValueError(f"a relayed message holds at most {RELAY_MAX} bytes")
        padded = message + b"\0" * (-len(message) % 8)
        data = array("Q", [RELAY, len(message)]).tobytes() + padded
        with self._send_lock:
            for sibling in self._siblings:
                if sibling not in self._behind and not self._write(sibling, data):
                    self._behind.add(sibling)

    def close(self, inbox_writer: int) -> None:
        """End the reader thread, given the write end of this worker's own pipe (for tests
        and orderly ends; a worker's process usually just exits)."""
        os.write(inbox_writer, array("Q", [STOP]).tobytes())
        self._reader.join(10)

    # --- this process ---------------------------------------------------------------

    def _wake(self, ids: Iterable[int]) -> None:
        with self._lock:
            for user_id in ids:
                self._versions[user_id % VERSION_SLOTS] += 1
                waiters = self._waiters.get(user_id)
                if waiters is not None:
                    waiters.condition.notify_all()

    def _wake_everyone(self) -> None:
        with self._lock:
            for user_id, waiters in self._waiters.items():
                self._versions[user_id % VERSION_SLOTS] += 1
                waiters.condition.notify_all()

    def _read(self) -> None:
        buffer = bytearray(64 * 1024)  # a multiple of 8: every read holds whole ids
        while True:
            try:
                size = os.readv(self._inbox, [buffer])
            except InterruptedError:
                continue
            except OSError:
                log.exception("reading wake-ups from sibling workers failed; they will not reach here")
                return
            if size == 0:  # every write end closed: nobody can wake us any more
                return
            words = array("Q", bytes(buffer[:size]))
            ids: list[int] = []
            i = 0
            while i < len(words):
                word = words[i]
                if word == RELAY:  # [RELAY, length, message padded to 8 bytes]
                    length = words[i + 1]
                    start = (i + 2) * 8
                    self._deliver(bytes(buffer[start : start + length]))
                    i += 2 + (length + 7) // 8
                    continue
                ids.append(word)
                i += 1
            if STOP in ids:
                return
            if EVERYONE in ids:
                self._wake_everyone()
            elif ids:
                self._wake(set(ids))

    def _deliver(self, message: bytes) -> None:
        handler = self.on_relay
        if handler is None:
            return
        try:
            handler(message)
        except Exception:
            log.exception("a relayed message from a sibling worker could not be used")

    # --- the siblings ---------------------------------------------------------------

    def _tell_siblings(self, ids: set[int]) -> None:
        chunks = [
            array("Q", batch).tobytes()
            for batch in _batches(sorted(ids), IDS_PER_WRITE)  # sorted: a stable order for tests
        ]
        with self._send_lock:
            for sibling in self._siblings:
                if sibling in self._behind:
                    if not self._write(sibling, array("Q", [EVERYONE]).tobytes()):
                        continue  # still full: it owes the wake-everyone still
                    self._behind.discard(sibling)
                    continue  # everyone is woken: these ids add nothing
                for chunk in chunks:
                    if not self._write(sibling, chunk):
                        self._behind.add(sibling)
                        break

    @staticmethod
    def _write(sibling: int, data: bytes) -> bool:
        """Write to a sibling's pipe without waiting; False when the pipe is full."""
        try:
            os.write(sibling, data)
        except BlockingIOError:
            return False
        except OSError as error:
            if error.errno != errno.EPIPE:  # a pipe nobody reads any more: nobody to wake
                log.warning("could not wake a sibling worker: %s", error)
        return True


def _batches(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
