"""RateLimitStore in PostgreSQL: the abuse limits' counters shared by every process.

Each operation is one autocommit statement on a pooled connection, atomic on its own:
a bucket is taken from with one upsert that refills and takes (or refuses) under the
row's lock, so processes taking at once never both spend the last token.
"""

from __future__ import annotations

from typing import Any

from .uow import PostgresUnitOfWorkFactory

_REFILL = "least(%(burst)s, b.tokens + greatest(0, %(now)s - b.at) * %(rate)s)"
_TAKE = f"""
    INSERT INTO rate_limit_buckets AS b (name, key, tokens, at, denied)
    VALUES (%(name)s, %(key)s, %(burst)s - %(cost)s, %(now)s, false)
    ON CONFLICT (name, key) DO UPDATE SET
        tokens = CASE WHEN {_REFILL} >= %(cost)s THEN {_REFILL} - %(cost)s ELSE {_REFILL} END,
        denied = {_REFILL} < %(cost)s,
        at = greatest(b.at, %(now)s)
    RETURNING tokens, denied
"""


class PostgresRateLimitStore:
    def __init__(self, database: PostgresUnitOfWorkFactory) -> None:
        self._database = database

    def _run(self, query: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self._database.run_autocommit(query, params)

    def take(self, name: str, key: str, *, cost: float, rate: float, burst: float, now: float) -> float:
        cost = min(cost, burst)
        params = {"name": name, "key": key, "cost": cost, "rate": rate, "burst": burst, "now": now}
        row = self._run(_TAKE, params)[0]
        if not row["denied"]:
            return 0.0
        return (cost - float(row["tokens"])) / rate

    def count_since(self, name: str, key: str, since: float) -> tuple[int, float | None]:
        row = self._run(
            "SELECT count(*) AS n, min(at) AS oldest FROM rate_limit_events"
            " WHERE name = %(name)s AND key = %(key)s AND at > %(since)s",
            {"name": name, "key": key, "since": since},
        )[0]
        return int(row["n"]), (None if row["oldest"] is None else float(row["oldest"]))

    def record(self, name: str, key: str, at: float) -> None:
        self._run(
            "INSERT INTO rate_limit_events (name, key, at) VALUES (%(name)s, %(key)s, %(at)s)",
            {"name": name, "key": key, "at": at},
        )

    def reset(self, name: str, key: str) -> None:
        self._run(
            "WITH gone AS (DELETE FROM rate_limit_events WHERE name = %(name)s AND key = %(key)s)"
            " DELETE FROM rate_limit_buckets WHERE name = %(name)s AND key = %(key)s",
            {"name": name, "key": key},
        )

    def prune(self, before: float) -> None:
        self._run(
            "WITH gone AS (DELETE FROM rate_limit_events WHERE at < %(before)s)"
            " DELETE FROM rate_limit_buckets WHERE at < %(before)s",
            {"before": before},
        )
