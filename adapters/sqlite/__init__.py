"""SQLite storage: every repository port and the unit of work over one database file."""

from .uow import SqliteUnitOfWork, SqliteUnitOfWorkFactory

__all__ = ["SqliteUnitOfWork", "SqliteUnitOfWorkFactory"]
