"""PostgreSQL storage: every repository port and the unit of work over psycopg 3 and a
``psycopg_pool`` pool, and an EventNotifier over LISTEN/NOTIFY."""

from .uow import PostgresUnitOfWork, PostgresUnitOfWorkFactory, postgres_problem

__all__ = ["PostgresUnitOfWork", "PostgresUnitOfWorkFactory", "postgres_problem"]
