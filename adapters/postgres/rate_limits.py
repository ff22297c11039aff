"""RateLimitStore in PostgreSQL: the web edge's token buckets, shared by every process
of the installation (migration step 2, an unlogged table: a throttle's state is not
worth the write-ahead log, and a crash only forgets it, as a restart of one process
forgets a memory store's).

One number per key, the moment its bucket is full again (the generic cell rate
algorithm, as ``messenger_core.normalize`` computes it). A take is one autocommit
statement on a pooled connection: an upsert that moves the key's moment only when the
take fits, under the row's lock, so takes racing from several processes never let more
through than the bucket holds; a refused take reads, in the same statement, the moment
that refused it (the statement's snapshot, before its own write, which did not happen).
"""

from __future__ import annotations

from typing import Any

from messenger_core.normalize import BUCKET_TOLERANCE, bucket_in_seconds, bucket_wait

from .uow import PostgresUnitOfWorkFactory

_TAKE = """
    WITH taken AS (
        INSERT INTO rate_limits AS r (key, full_at) VALUES (%(key)s, %(now)s + %(cost)s)
        ON CONFLICT (key) DO UPDATE SET full_at = greatest(r.full_at, %(now)s) + %(cost)s
        WHERE greatest(r.full_at, %(now)s) + %(cost)s <= %(now)s + %(burst)s + %(tolerance)s
        RETURNING 1
    )
    SELECT EXISTS (SELECT 1 FROM taken) AS taken,
        (SELECT full_at FROM rate_limits WHERE key = %(key)s) AS full_at
"""


class PostgresRateLimitStore:
    """Buckets in the database ``database`` opens (already migrated)."""

    def __init__(self, database: PostgresUnitOfWorkFactory) -> None:
        self._database = database

    def _run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._database.run_autocommit(query, params)

    def take(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        params = {"key": key, "now": now, "cost": cost_s, "burst": burst_s, "tolerance": BUCKET_TOLERANCE}
        row = self._run(_TAKE, params)[0]
        if row["taken"]:
            return 0.0
        full_at = None if row["full_at"] is None else float(row["full_at"])
        return max(bucket_wait(full_at, cost_s, burst_s, now), BUCKET_TOLERANCE)

    def wait_time(self, key: str, cost: float, *, rate: float, burst: float, now: float) -> float:
        cost_s, burst_s = bucket_in_seconds(cost, rate=rate, burst=burst)
        found = self._run("SELECT full_at FROM rate_limits WHERE key = %(key)s", {"key": key})
        return bucket_wait(float(found[0]["full_at"]) if found else None, cost_s, burst_s, now)

    def forget(self, key: str) -> None:
        self._run("DELETE FROM rate_limits WHERE key = %(key)s", {"key": key})

    def prune(self, now: float) -> int:
        gone = self._run(
            "WITH gone AS (DELETE FROM rate_limits WHERE full_at <= %(now)s RETURNING 1)"
            " SELECT count(*) AS n FROM gone",
            {"now": now},
        )
        return int(gone[0]["n"])
