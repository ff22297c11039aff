"""SQLite storage: every repository port and the unit of work over one database file, and
the rate-limit buckets every server process on it shares."""

from .rate_limits import SqliteRateLimitStore
from .uow import SqliteUnitOfWork, SqliteUnitOfWorkFactory

__all__ = ["SqliteRateLimitStore", "SqliteUnitOfWork", "SqliteUnitOfWorkFactory"]
