"""Argon2PasswordHasher: argon2id with OWASP parameters; verify never raises. The
server's hasher runs a bounded number of hashes at once."""

from __future__ import annotations

import threading
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.hashing_argon2 import Argon2PasswordHasher, BoundedPasswordHasher
from entrypoints.bootstrap import password_hasher
from entrypoints.config import Settings
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


class HeldHasher:
    """A hasher whose every call waits until the test lets it go, counting who is inside."""

    def __init__(self) -> None:
        self.inside = 0
        self.most_inside = 0
        self.release = threading.Event()
        self._lock = threading.Lock()

    def _enter(self) -> None:
        with self._lock:
            self.inside += 1
            self.most_inside = max(self.most_inside, self.inside)
        self.release.wait(30)
        with self._lock:
            self.inside -= 1

    def hash(self, password: str) -> str:
        self._enter()
        return f"held${password}"

    def verify(self, password_hash: str, password: str) -> bool:
        self._enter()
        return password_hash == f"held${password}"

    def needs_rehash(self, password_hash: str) -> bool:
        return False


def test_at_most_the_bound_hash_at_once_and_the_rest_wait_their_turn() -> None:
    held = HeldHasher()
    bounded: PasswordHasher = BoundedPasswordHasher(held, at_once=2)
    results: list[object] = []
    calls = [lambda: bounded.hash("a"), lambda: bounded.verify("held$b", "b"), lambda: bounded.hash("c")] * 2
    threads = [threading.Thread(target=lambda call=call: results.append(call())) for call in calls]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 30
    while held.inside < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert held.inside == 2  # two are hashing; four wait for a slot
    assert not bounded.needs_rehash("held$a")  # reading parameters needs no slot
    held.release.set()
    for thread in threads:
        thread.join(30)
    assert held.most_inside == 2
    assert sorted(map(str, results)) == sorted(["held$a", "True", "held$c"] * 2)


def test_the_servers_hasher_is_bounded_by_the_setting() -> None:
    hasher = password_hasher(Settings(PASSWORD_HASHES_AT_ONCE=3))
    assert isinstance(hasher, BoundedPasswordHasher)
    assert hasher.verify(hasher.hash("correct horse"), "correct horse")
    with pytest.raises(ValueError):
        BoundedPasswordHasher(Argon2PasswordHasher.fast_for_tests(), at_once=0)
