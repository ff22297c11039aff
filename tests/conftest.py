"""Shared fixtures: a Messenger on the memory adapter with a manual clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.images_pillow import PillowImageProcessor
from adapters.mail_log import LoggingMailer
from adapters.memory import MemoryBlobStore, MemoryTokenCodec, MemoryUnitOfWorkFactory
from adapters.notify_threading import ThreadingEventNotifier
from adapters.testing import ManualClock, SeededRandom
from messenger_core import Messenger, MessengerSettings
from messenger_core.ports import UnitOfWorkFactory

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
FAST_HASHER = Argon2PasswordHasher.fast_for_tests()


def build_messenger(
    uow: UnitOfWorkFactory,
    clock: ManualClock,
    seed: int = 1,
    settings: MessengerSettings | None = None,
    hasher: Argon2PasswordHasher = FAST_HASHER,
) -> Messenger:
    return Messenger(
        uow=uow,
        clock=clock,
        random=SeededRandom(seed),
        hasher=hasher,
        codec=MemoryTokenCodec(),
        blobs=MemoryBlobStore(),
        images=PillowImageProcessor(),
        notifier=ThreadingEventNotifier(),
        mailer=LoggingMailer(),
        settings=settings,
    )


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def messenger(clock: ManualClock) -> Messenger:
    return build_messenger(MemoryUnitOfWorkFactory(), clock)
