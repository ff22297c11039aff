"""Argon2PasswordHasher: argon2id with OWASP parameters; verify never raises."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hashing_argon2 import Argon2PasswordHasher
from messenger_core.ports import PasswordHasher


@pytest.fixture(scope="module")
def default_hash() -> str:
    return Argon2PasswordHasher().hash("correct horse")


@pytest.fixture
def fast() -> Argon2PasswordHasher:
    return Argon2PasswordHasher.fast_for_tests()


def test_default_is_argon2id_with_owasp_parameters(default_hash: str) -> None:
    assert default_hash.startswith("$argon2id$v=19$")
    assert default_hash.split("$")[3] == "m=19456,t=2,p=1"


def test_default_verifies(default_hash: str) -> None:
    hasher: PasswordHasher = Argon2PasswordHasher()  # checked by mypy
    assert hasher.verify(default_hash, "correct horse")
    assert not hasher.verify(default_hash, "correct horse ")
    assert not hasher.needs_rehash(default_hash)


def test_fast_for_tests_is_still_argon2id(fast: Argon2PasswordHasher) -> None:
    password_hash = fast.hash("pw")
    assert password_hash.startswith("$argon2id$")
    assert fast.verify(password_hash, "pw")


def test_salted(fast: Argon2PasswordHasher) -> None:
    assert fast.hash("same") != fast.hash("same")


@settings(max_examples=50, deadline=None)
@given(password=st.text(), other=st.text())
def test_verify_matches_only_the_password(password: str, other: str) -> None:
    hasher = Argon2PasswordHasher.fast_for_tests()
    password_hash = hasher.hash(password)
    assert hasher.verify(password_hash, password)
    assert hasher.verify(password_hash, other) == (other == password)


def test_lone_surrogate_password_hashes_and_verifies(fast: Argon2PasswordHasher) -> None:
    # json.loads('"\\ud800"') gives such a string; it must not become a 500.
    password_hash = fast.hash("a\ud800b")
    assert fast.verify(password_hash, "a\ud800b")
    assert not fast.verify(password_hash, "ab")


@pytest.mark.parametrize(
    "bad_hash",
    [
        "",
        "not a hash",
        "$argon2id$",
        "$argon2id$v=19$m=8,t=1,p=1$c2FsdA$",
        "$2b$12$abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzab",
        "$argon2id$v=19$m=8,t=1,p=1$ÿÿÿ$ÿÿÿ",
    ],
)
def test_invalid_hash_verifies_false(fast: Argon2PasswordHasher, bad_hash: str) -> None:
    assert fast.verify(bad_hash, "pw") is False
    assert fast.needs_rehash(bad_hash) is True


def test_needs_rehash_when_parameters_differ(fast: Argon2PasswordHasher, default_hash: str) -> None:
    assert fast.needs_rehash(default_hash)
    assert Argon2PasswordHasher().needs_rehash(fast.hash("pw"))
    assert Argon2PasswordHasher(time_cost=3).needs_rehash(default_hash)
    assert not fast.needs_rehash(fast.hash("pw"))


def test_old_hash_still_verifies_after_parameters_change(default_hash: str) -> None:
    """The parameters live in the hash, so raising them does not lock anyone out."""
    assert Argon2PasswordHasher.fast_for_tests().verify(default_hash, "correct horse")


def test_a_pool_of_threads_does_every_hash_and_no_more_at_once() -> None:
    import threading
    from concurrent.futures import ThreadPoolExecutor

    pooled = Argon2PasswordHasher(memory_cost=8, time_cost=1, parallelism=1, threads=2)
    seen: set[str] = set()

    class Spy:  # records which threads do the hashing
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def hash(self, password: bytes) -> str:
            seen.add(threading.current_thread().name)
            return str(self.inner.hash(password))

        def verify(self, password_hash: str, password: bytes) -> bool:
            seen.add(threading.current_thread().name)
            return bool(self.inner.verify(password_hash, password))

    pooled._argon2 = Spy(pooled._argon2)  # type: ignore[assignment]
    with ThreadPoolExecutor(8) as callers:  # eight request threads sign in at once
        hashes = list(callers.map(lambda n: pooled.hash(f"pw{n}"), range(32)))
    assert all(pooled.verify(h, f"pw{n}") for n, h in enumerate(hashes))
    assert not pooled.verify(hashes[0], "wrong")
    assert seen and len(seen) <= 2 and all(name.startswith("argon2") for name in seen)


def test_a_pool_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="threads"):
        Argon2PasswordHasher(threads=0)


def test_each_pool_thread_runs_thread_start_once_before_it_hashes() -> None:
    import threading

    started: list[str] = []
    pooled = Argon2PasswordHasher(
        memory_cost=8,
        time_cost=1,
        parallelism=1,
        threads=1,
        thread_start=lambda: started.append(threading.current_thread().name),
    )
    assert started == []  # threads start on first use
    hashes = [pooled.hash(f"pw{n}") for n in range(3)]
    assert pooled.verify(hashes[2], "pw2")
    assert len(started) == 1 and started[0].startswith("argon2")
