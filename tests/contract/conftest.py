"""Every repository port runs the same contract over each adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from messenger_core.ports import UnitOfWorkFactory

ADAPTERS = ["memory", "sqlite", "postgres"]


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """One migrated database on the run's throwaway cluster, emptied for each test."""
    from tests.postgres import fresh_database

    yield fresh_database()


@pytest.fixture(params=ADAPTERS)
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """A fresh, empty store behind a unit-of-work factory, one per adapter."""
    if request.param == "memory":
        from adapters.memory import MemoryUnitOfWorkFactory

        yield MemoryUnitOfWorkFactory()
    elif request.param == "sqlite":
        from adapters.sqlite import SqliteUnitOfWorkFactory

        factory = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3")
        factory.migrate()
        yield factory
        factory.close()
    else:
        from adapters.postgres import PostgresUnitOfWorkFactory
        from tests.postgres import empty

        url = request.getfixturevalue("postgres_database")
        empty(url)
        factory = PostgresUnitOfWorkFactory(url, pool_size=4)
        factory.migrate()
        yield factory
        factory.close()
