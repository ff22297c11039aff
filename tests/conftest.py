"""Shared fixtures: a Messenger on the memory adapter with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import settings as hypothesis_settings

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.jobs import InlineJobs
from adapters.memory import MemoryBlobStore, MemoryTokenCodec, MemoryUnitOfWorkFactory
from adapters.testing import ManualClock, SeededRandom
from entrypoints import bootstrap
from entrypoints.config import Settings
from messenger_core import Messenger, MessengerSettings
from messenger_core.ports import UnitOfWorkFactory

# No test asserts a duration, hypothesis's per-example deadline included: on a loaded
# machine one example of a fast test can take 600 ms (a test's own @settings still wins).
hypothesis_settings.register_profile("messenger", deadline=None)
hypothesis_settings.load_profile("messenger")

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FAST_HASHER = Argon2PasswordHasher.fast_for_tests()


def build_messenger(
    uow: UnitOfWorkFactory,
    clock: ManualClock,
    seed: int = 1,
    settings: MessengerSettings | None = None,
    hasher: Argon2PasswordHasher = FAST_HASHER,
    blobs: MemoryBlobStore | None = None,
) -> Messenger:
    """The composition root's Messenger with the parts property tests want: a manual
    clock, a seeded random source, the cheap token codec and blob store (its files
    stamped by the same clock)."""
    return bootstrap.build_messenger(
        Settings(),
        uow=uow,
        clock=clock,
        random=SeededRandom(seed),
        hasher=hasher,
        codec=MemoryTokenCodec(),
        blobs=blobs if blobs is not None else MemoryBlobStore(clock),
        jobs=InlineJobs(),
        core=settings or MessengerSettings(),
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def messenger(clock: ManualClock) -> Messenger:
    return build_messenger(MemoryUnitOfWorkFactory(), clock)
