"""PasswordHasher over argon2-cffi: argon2id with OWASP's current minimum parameters."""

from __future__ import annotations

import threading

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

from messenger_core.ports import PasswordHasher

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1


def _password_bytes(password: str) -> bytes:
    # A JSON body may carry a lone surrogate ("\ud800"); strict UTF-8 would raise on
    # it. surrogatepass is identical to strict UTF-8 for every well-formed string.
    return password.encode("utf-8", "surrogatepass")


class Argon2PasswordHasher:
    """Self-describing ``$argon2id$…`` hashes; the parameters live in each hash."""

    def __init__(
        self,
        *,
        memory_cost: int = MEMORY_COST_KIB,
        time_cost: int = TIME_COST,
        parallelism: int = PARALLELISM,
        hash_len: int = 32,
        salt_len: int = 16,
    ) -> None:
        self._argon2 = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=Type.ID,
        )

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """Still argon2id, with the smallest costs argon2 allows: for tests only."""
        return cls(memory_cost=8, time_cost=1, parallelism=1)

    def hash(self, password: str) -> str:
        """A fresh-salted argon2id hash of the password."""
        return self._argon2.hash(_password_bytes(password))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; False, never an exception, on a mismatch or
        on a hash argon2 cannot read."""
        try:
            return self._argon2.verify(password_hash, _password_bytes(password))
        except (VerificationError, InvalidHashError, ValueError):
            # ValueError covers a hash with non-ASCII characters.
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones
        (True too for a hash argon2 cannot read)."""
        try:
            return self._argon2.check_needs_rehash(password_hash)
        except (InvalidHashError, ValueError):
            return True


class BoundedPasswordHasher:
    """Another hasher with at most ``at_once`` hashes or checks running together.

    An argon2id hash takes one core for about a tenth of a second, and every sign-in,
    registration and password change costs one, correct passwords included: 16 threads
    of valid sign-ins took both cores and raised other users' p50 from 3.7 to 39 ms.
    Past ``at_once`` a caller waits for a slot here, so the other requests keep a core."""

    def __init__(self, inner: PasswordHasher, at_once: int) -> None:
        if at_once < 1:
            raise ValueError("at_once must be at least 1")
        self._inner = inner
        self._slots = threading.BoundedSemaphore(at_once)

    def hash(self, password: str) -> str:
        with self._slots:
            return self._inner.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        with self._slots:
            return self._inner.verify(password_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        return self._inner.needs_rehash(password_hash)  # reads the parameters: no hashing
