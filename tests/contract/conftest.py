"""Every repository port runs the same contract over each adapter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from messenger_core.ports import UnitOfWorkFactory


@pytest.fixture(params=["memory", "sqlite"])
def uow_factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[UnitOfWorkFactory]:
    """A fresh, empty store behind a unit-of-work factory, one per adapter."""
    if request.param == "memory":
        from adapters.memory import MemoryUnitOfWorkFactory

        yield MemoryUnitOfWorkFactory()
    else:
        from adapters.sqlite import SqliteUnitOfWorkFactory

        factory = SqliteUnitOfWorkFactory(tmp_path / "messenger.sqlite3")
        factory.migrate()
        yield factory
        factory.close()
