"""How the workers of one server share out the connections of the socket they all listen on.

Every worker waits on the same listening socket, and the kernel gives a new connection to
whichever of them calls ``accept`` first. A burst of connections opened at once (a load
generator's, a proxy's pool of keep-alive connections, a browser's) can all land on one
worker: measured with ``wrk -c8`` and two workers, now and then every connection went to
one of them, which then served half as much as the two together (its request threads take
the GIL in turns), while the other sat idle; and keep-alive connections stay where they
landed.

So each worker says, in memory they share, how many connections it holds, and takes a new
one only while it holds no more than ``SLACK`` more than the least loaded live worker: the
others are then the ones woken to take it. Any worker left out of the comparison (not yet
started, dead, or its loop silent for ``STALE`` seconds) never holds the rest back, and the
least loaded worker always accepts, so a connection is never left waiting for all of them.
"""

from __future__ import annotations

import mmap
import time
from typing import Any

SLACK = 1  # connections a worker may hold past the least loaded one and still accept
# A worker's loop says its count at least once a second (waitress wakes every
# asyncore_loop_timeout, 1 s, when nothing happens); one silent for longer is passed over.
STALE = 3.0


class ConnectionShares:
    """Each worker's count of open connections and when it last said it, in an anonymous
    shared mapping the supervisor makes before it forks the workers. A worker writes only
    its own row; the supervisor clears a dead worker's row."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._memory = mmap.mmap(-1, workers * 2 * 8)
        self._rows = memoryview(self._memory).cast("d")  # (connections, said at) per worker

    def may_accept(self, worker: int, connections: int, now: float) -> bool:
        """Say that ``worker`` holds ``connections`` now (a ``time.monotonic()`` moment:
        the clock every process shares), and whether it should take another."""
        rows = self._rows
        rows[2 * worker] = connections
        rows[2 * worker + 1] = now
        others = [
            rows[2 * i]
            for i in range(self.workers)
            if i != worker and rows[2 * i + 1] > 0 and now - rows[2 * i + 1] < STALE
        ]
        return not others or connections <= min(others) + SLACK

    def clear(self, worker: int) -> None:
        """Leave a worker out of the comparison (it is gone) until it speaks again."""
        self._rows[2 * worker] = 0
        self._rows[2 * worker + 1] = 0


def balance(server: Any, shares: ConnectionShares, worker: int) -> None:
    """Make waitress's ``server`` accept only while ``shares`` says so.

    Waitress's loop asks its listening dispatcher ``readable()`` before every wait (the
    dispatcher's own hook, where waitress applies its connection limit); this worker's
    count is its open channels, ``server.active_channels``."""
    readable = server.readable

    def readable_when_fair() -> bool:
        # waitress's own check first: it also closes idle channels and keeps its limit.
        if not readable():
            return False
        return shares.may_accept(worker, len(server.active_channels), time.monotonic())

    server.readable = readable_when_fair
