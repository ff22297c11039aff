"""Use cases run again, from the start, when the storage answers storage_busy (two units
that waited on each other, a serialization failure), but never more than ATTEMPTS
times, never on another error, and never when handed uploads, whose chunks may be gone."""

from __future__ import annotations

from typing import Any

import pytest

from adapters.memory import MemoryUnitOfWorkFactory
from adapters.testing import ManualClock
from messenger_core import Unavailable
from messenger_core.ports import UnitOfWork
from messenger_core.services import Upload
from messenger_core.services.retry import ATTEMPTS
from tests.conftest import START, build_messenger


class BusyFirst:
    """A unit-of-work factory whose first ``busy`` writing units fail on entering."""

    def __init__(self, busy: int, code: str = "storage_busy") -> None:
        self.inner = MemoryUnitOfWorkFactory()
        self.busy, self.code, self.refused = busy, code, 0

    def __call__(self, *, read_only: bool = False) -> UnitOfWork:
        unit = self.inner(read_only=read_only)
        if read_only or self.refused >= self.busy:
            return unit
        self.refused += 1
        return _Refusing(self.code)  # type: ignore[return-value]


class _Refusing:
    def __init__(self, code: str) -> None:
        self.code = code

    def __enter__(self) -> Any:
        raise Unavailable(self.code)

    def __exit__(self, *exc: object) -> None:
        return None


def register(messenger: Any) -> Any:
    return messenger.register(first_name="Alena", second_name="S", email="a@example.org", password="x" * 12)


def test_a_busy_storage_is_tried_again_until_it_takes_the_change() -> None:
    factory = BusyFirst(ATTEMPTS - 1)
    view = register(build_messenger(factory, ManualClock(START)))  # type: ignore[arg-type]
    assert view.first_name == "Alena" and factory.refused == ATTEMPTS - 1


def test_after_the_last_attempt_the_user_hears_busy() -> None:
    factory = BusyFirst(ATTEMPTS)
    with pytest.raises(Unavailable) as caught:
        register(build_messenger(factory, ManualClock(START)))  # type: ignore[arg-type]
    assert caught.value.code == "storage_busy" and factory.refused == ATTEMPTS


def test_other_storage_errors_are_not_retried() -> None:
    factory = BusyFirst(1, code="storage_full")
    with pytest.raises(Unavailable):
        register(build_messenger(factory, ManualClock(START)))  # type: ignore[arg-type]
    assert factory.refused == 1


def test_a_use_case_handed_an_upload_is_not_repeated() -> None:
    factory = BusyFirst(0)
    messenger = build_messenger(factory, ManualClock(START))  # type: ignore[arg-type]
    register(messenger)
    actor = messenger.authenticate(messenger.login(email="a@example.org", password="x" * 12).access_token)
    factory.busy = factory.refused + 1
    read: list[int] = []

    def chunks() -> Any:
        read.append(1)
        yield b"hello"

    with pytest.raises(Unavailable):
        messenger.upload_attachment(actor, Upload(name="a.txt", chunks=chunks()))
    assert len(read) == 1
