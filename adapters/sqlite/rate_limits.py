"""RateLimitStore on the SQLite database: the ``rate_limits`` table (migration step 7),
seen by every server process on the file.

A take is one upsert that moves the key's moment only when the take fits, so racing
takes never let more through than the bucket holds. It waits its turn in the database's
write queue like every writer, on one connection of its own per process with
``synchronous = NORMAL``: a throttle's state is not worth an fsync per request (in WAL
mode a commit is then synced at the next checkpoint; a power cut may forget the last
seconds of counting, never corrupt the file).
"""

from __future__ import annotations

import os
import sqlite3
import threading

from messenger_core.normalize import BUCKET_TOLERANCE, bucket_in_seconds, bucket_wait

from .uow import SqliteUnitOfWorkFactory

# Moves the moment of a known key only when the take fits; a new key's take always fits
# (the cost is capped at the burst).
_TAKE = """
    INSERT INTO rate_limits (key, full_at) VALUES (:key, :now + :cost)
    ON CONFLICT (key) DO UPDATE SET full_at = max(full_at, :now) + :cost
    WHERE max(full_at, :now) + :cost <= :now + :burst + :tolerance
"""


class SqliteRateLimitStore:
    """Buckets in the database of ``database`` (already migrated)."""

    def __init__(self, database: SqliteUnitOfWorkFactory) -> None:
        self._database = database
        self._lock = threading.Lock()  # one statement at a time on the connection
        self._conn: sqlite3.Connection | None = None
        self._pid = 0

    def take(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        values = {"key": key, "now": now, "cost": cost_s, "burst": burst_s, "tolerance": BUCKET_TOLERANCE}
        with self._database.write_queue.turn(), self._lock:
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                taken = conn.execute(_TAKE, values).rowcount == 1
                full_at = None if taken else self._full_at(conn, key)
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        return 0.0 if taken else max(bucket_wait(full_at, cost_s, burst_s, now), BUCKET_TOLERANCE)

    def wait_time(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        with self._lock:
            full_at = self._full_at(self._connection(), key)
        return bucket_wait(full_at, cost_s, burst_s, now)

    def forget(self, key: str) -> None:
        self._write("DELETE FROM rate_limits WHERE key = ?", (key,))

    def prune(self, now: float) -> int:
        return self._write("DELETE FROM rate_limits WHERE full_at <= ?", (now,))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def _write(self, sql: str, values: tuple[object, ...]) -> int:
        with self._database.write_queue.turn(), self._lock:
            # One statement: autocommit makes it its own transaction.
            return self._connection().execute(sql, values).rowcount

    @staticmethod
    def _full_at(conn: sqlite3.Connection, key: str) -> float | None:
        row = conn.execute("SELECT full_at FROM rate_limits WHERE key = ?", (key,)).fetchone()
        return None if row is None else float(row[0])

    def _connection(self) -> sqlite3.Connection:
        # Under self._lock. A forked child opens its own: SQLite connections must not
        # cross a fork.
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self._database.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("PRAGMA cache_size = -64")  # one small table
            self._conn, self._pid = conn, os.getpid()
        return self._conn
