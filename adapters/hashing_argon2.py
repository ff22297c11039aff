"""PasswordHasher over argon2-cffi: argon2id with OWASP's current minimum parameters.

A hash takes 19 MiB and tens of milliseconds of one core, by design. With ``threads``
set, every hash and verification runs on that many threads of the hasher's own, whatever
thread asks (the caller waits, without holding the GIL): a burst of sign-ins on many
request threads then uses at most ``threads`` × 19 MiB and ``threads`` cores at once, and
the rest of the server keeps its CPU and its latency.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError

# OWASP Password Storage Cheat Sheet: argon2id, m=19 MiB, t=2, p=1.
MEMORY_COST_KIB = 19 * 1024
TIME_COST = 2
PARALLELISM = 1

T = TypeVar("T")


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
        threads: int | None = None,
        thread_start: Callable[[], object] | None = None,
    ) -> None:
        """``thread_start``, when given, runs first on each of the ``threads``."""
        if threads is not None and threads < 1:
            raise ValueError("threads must be at least 1")
        self._argon2 = _Argon2(
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
            hash_len=hash_len,
            salt_len=salt_len,
            type=Type.ID,
        )
        # Threads start on first use, so a hasher made and dropped (or made before a fork)
        # starts none.
        self._pool = (
            ThreadPoolExecutor(threads, thread_name_prefix="argon2", initializer=thread_start)
            if threads
            else None
        )

    def _run(self, work: Callable[[], T]) -> T:
        if self._pool is None:
            return work()
        return self._pool.submit(work).result()

    @classmethod
    def fast_for_tests(cls) -> Argon2PasswordHasher:
        """Still argon2id, with the smallest costs argon2 allows: for tests only."""
        return cls(memory_cost=8, time_cost=1, parallelism=1)

    def hash(self, password: str) -> str:
        """A fresh-salted argon2id hash of the password."""
        return self._run(lambda: self._argon2.hash(_password_bytes(password)))

    def verify(self, password_hash: str, password: str) -> bool:
        """Whether the password matches; False, never an exception, on a mismatch or
        on a hash argon2 cannot read."""
        return self._run(lambda: self._verify(password_hash, password))

    def _verify(self, password_hash: str, password: str) -> bool:
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
