"""EphemeralSignals in one process: typing signals and who is polling, in memory.

Nothing here is stored or shared between processes; a server of several processes would
back the same port by something they share (the port is narrow for that: publish,
read after a cursor, a throttle gate, and polling marks). Times come from the caller, so
a manual clock drives it in tests.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Iterable
from datetime import datetime, timedelta

from messenger_core.model import Signal

MAX_HELD = 200  # per user: signals live seconds, so more than this is a flood
MAX_KEYS = 100_000  # throttle keys and presence marks kept before old ones are dropped


class InProcessSignals:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sequence = itertools.count(1)
        self._latest = 0
        self._held: dict[int, deque[tuple[int, Signal]]] = {}
        self._claims: dict[str, datetime] = {}
        self._waiting: dict[int, int] = {}
        self._last_poll: dict[int, datetime] = {}

    def publish(self, user_ids: Iterable[int], signal: Signal) -> None:
        with self._lock:
            number = next(self._sequence)
            self._latest = number
            for user_id in set(user_ids):
                held = self._held.setdefault(user_id, deque(maxlen=MAX_HELD))
                held.append((number, signal))

    def after(self, user_id: int, cursor: int | None, now: datetime) -> tuple[list[Signal], int]:
        with self._lock:
            held = self._held.get(user_id)
            if held is not None:
                while held and held[0][1].expires <= now:
                    held.popleft()
                if not held:
                    del self._held[user_id]
            if cursor is None or held is None:
                return [], self._latest
            found = [(n, s) for n, s in held if n > cursor]
            return [s for _, s in found], (found[-1][0] if found else max(cursor, self._latest))

    def claim(self, key: str, now: datetime, interval: float) -> bool:
        with self._lock:
            last = self._claims.get(key)
            if last is not None and now - last < timedelta(seconds=interval):
                return False
            self._claims[key] = now
            if len(self._claims) > MAX_KEYS:
                horizon = now - timedelta(seconds=interval)
                self._claims = {k: t for k, t in self._claims.items() if t > horizon}
            return True

    def polling(self, user_id: int, now: datetime, *, waiting: bool) -> None:
        with self._lock:
            count = self._waiting.get(user_id, 0) + (1 if waiting else -1)
            if count > 0:
                self._waiting[user_id] = count
            else:
                self._waiting.pop(user_id, None)
            self._last_poll[user_id] = now
            if len(self._last_poll) > MAX_KEYS:
                newest = sorted(self._last_poll.items(), key=lambda item: item[1])[-MAX_KEYS // 2 :]
                self._last_poll = dict(newest)

    def online(self, user_ids: Iterable[int], since: datetime) -> set[int]:
        with self._lock:
            return {
                u
                for u in user_ids
                if self._waiting.get(u, 0) > 0 or (u in self._last_poll and self._last_poll[u] >= since)
            }
