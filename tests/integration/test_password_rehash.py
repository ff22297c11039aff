"""Passwords are rehashed on login when the argon2 parameters change."""

from __future__ import annotations

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.memory import MemoryUnitOfWorkFactory
from adapters.testing import ManualClock
from tests.conftest import START, build_messenger


def stored_hash(uow: MemoryUnitOfWorkFactory, email: str) -> str:
    with uow(read_only=True) as unit:
        user = unit.users.get_by_email(email)
        assert user is not None
        return user.password_hash


def test_login_rehashes_with_new_parameters() -> None:
    uow = MemoryUnitOfWorkFactory()
    old = build_messenger(uow, ManualClock(START))
    old.register(first_name="A", second_name="B", email="a@example.com", password="password123")
    before = stored_hash(uow, "a@example.com")

    stronger = Argon2PasswordHasher(memory_cost=16, time_cost=2, parallelism=1)
    new = build_messenger(uow, ManualClock(START), hasher=stronger)  # the same store, upgraded
    new.login(email="a@example.com", password="password123")
    after = stored_hash(uow, "a@example.com")
    assert after != before and "m=16,t=2" in after
    assert not stronger.needs_rehash(after)
    new.login(email="a@example.com", password="password123")  # still the same password
