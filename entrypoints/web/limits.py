"""Abuse limits: token buckets per key (an account, an address, a user), and waiter caps.

Sign-in follows OWASP's advice, throttle rather than lock: failures count per account
*and address* and per address, so somebody hammering an account from elsewhere can slow
down their own guesses but never lock its owner out. Every password check (a success
too) costs a token per account and per address, which bounds the argon2 work any one
client can ask for. Sends, friend requests and upload bytes have buckets per user that
real use never empties.

Every limit "N per period" is a bucket of N that refills at N per period: N at once,
then one every period/N. The buckets live in a ``RateLimitStore``, which the composition
root chooses: the database when several server processes serve, so they count together;
a dict in this process otherwise. RATE_LIMITS_ENABLED turns them all off.

Long-poll places are held, not spent: a ``WaiterCap`` counts what each key holds now. The
worker processes of one server count together in ``SharedPlaces``, memory all of them
map.
"""

from __future__ import annotations

import math
import mmap
import tempfile
import threading
import time
import zlib
from collections.abc import Callable
from typing import Protocol, TypeVar

try:
    import fcntl
except ImportError:  # not on a POSIX system: no workers to share places with
    fcntl = None  # type: ignore[assignment]

import attrs

from messenger_core import Forbidden, Throttled, Unauthorized
from messenger_core.ports import RateLimitStore

from ..config import Settings

T = TypeVar("T")


class Bucket:
    """One kind of limit: ``limit`` per ``period`` seconds for each key, kept in the store
    under ``name`` (so kinds never share a bucket)."""

    def __init__(
        self,
        store: RateLimitStore,
        name: str,
        limit: float,
        period: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.name = name
        self.rate = limit / period
        self.burst = limit
        self._clock = clock

    def take(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` from the key's bucket, or raise Throttled saying when it will be
        there. A cost above the whole bucket counts as the bucket (one huge upload is the
        size limit's business)."""
        self._refuse_after(
            self.store.take(self._key(key), cost, rate=self.rate, burst=self.burst, now=self._clock())
        )

    def check(self, key: str) -> None:
        """Raise Throttled when the key's bucket is empty; take nothing."""
        self._refuse_after(
            self.store.wait_time(self._key(key), 1, rate=self.rate, burst=self.burst, now=self._clock())
        )

    def record(self, key: str) -> None:
        """Count one event (a failure) whether or not the bucket had room for it."""
        self.store.take(self._key(key), 1, rate=self.rate, burst=self.burst, now=self._clock())

    def reset(self, key: str) -> None:
        self.store.forget(self._key(key))

    def _key(self, key: str) -> str:
        return f"{self.name}:{key}"

    @staticmethod
    def _refuse_after(wait: float) -> None:
        if wait > 0:
            raise Throttled(retry_after=max(1, math.ceil(wait)))


class WaiterCap:
    """At most ``limit`` held at once per key (long-polls of one user, of one address)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def acquire(self, key: str) -> bool:
        with self._lock:
            if self._held.get(key, 0) >= self.limit:
                return False
            self._held[key] = self._held.get(key, 0) + 1
            return True

    def release(self, key: str) -> None:
        with self._lock:
            left = self._held.get(key, 0) - 1
            if left > 0:
                self._held[key] = left
            else:
                self._held.pop(key, None)


class Places(Protocol):
    """Places held per key, up to a limit: the long-polls waiting for one user or address."""

    def acquire(self, key: str) -> bool:
        """Hold one of the key's places; False (holding nothing) when all are held."""

    def release(self, key: str) -> None:
        """Give back a place the key holds."""


class SharedPlaces:
    """Long-poll places held by every worker process of one server, in memory they share.

    The supervisor makes this before it forks the workers: an anonymous shared mapping of
    one row of counters per worker and kind of key, and a lock file every worker
    inherits. A key is counted in slot ``crc32(key) % SLOTS`` of its kind: two keys in one
    slot share its count, which can only make a poll answer "busy" early (the client
    polls again), never let a key hold more than its limit. Each worker writes only its
    own row, so a worker that dies leaves its row to be zeroed (``clear``) before its
    replacement starts. Taking a place adds up the rows under a POSIX record lock, which
    belongs to the process holding it and ends with it, even under ``kill -9``.
    """

    SLOTS = 8192
    KINDS = ("user", "address")

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._memory = mmap.mmap(-1, workers * len(self.KINDS) * self.SLOTS * 4)
        self._counts = memoryview(self._memory).cast("I")
        self._lock_file = tempfile.TemporaryFile()  # noqa: SIM115 - open for the server's life
        self._threads = threading.Lock()
        self.row = 0  # this process's worker (set in each worker after the fork)

    def places(self, kind: str, limit: int) -> Places:
        return _SharedCap(self, self.KINDS.index(kind), limit)

    def clear(self, worker: int) -> None:
        """Forget every place a worker held (it is gone)."""
        width = len(self.KINDS) * self.SLOTS
        self._counts[worker * width : (worker + 1) * width] = memoryview(bytes(width * 4)).cast("I")

    def held(self, kind: int, key: str) -> int:
        """Places held under the key's slot, by every worker."""
        slot = self._slot(kind, key)
        width = len(self.KINDS) * self.SLOTS
        return sum(self._counts[worker * width + slot] for worker in range(self.workers))

    def acquire(self, kind: int, key: str, limit: int) -> bool:
        mine = self.row * len(self.KINDS) * self.SLOTS + self._slot(kind, key)
        with self._threads:
            if fcntl is not None:
                fcntl.lockf(self._lock_file, fcntl.LOCK_EX)
            try:
                if self.held(kind, key) >= limit:
                    return False
                self._counts[mine] += 1
                return True
            finally:
                if fcntl is not None:
                    fcntl.lockf(self._lock_file, fcntl.LOCK_UN)

    def release(self, kind: int, key: str) -> None:
        # Only this worker writes its row, so giving back needs no other process.
        mine = self.row * len(self.KINDS) * self.SLOTS + self._slot(kind, key)
        with self._threads:
            if self._counts[mine] > 0:
                self._counts[mine] -= 1

    def _slot(self, kind: int, key: str) -> int:
        return kind * self.SLOTS + zlib.crc32(key.encode("utf-8", "surrogatepass")) % self.SLOTS


class _SharedCap:
    def __init__(self, table: SharedPlaces, kind: int, limit: int) -> None:
        self.table, self.kind, self.limit = table, kind, limit

    def acquire(self, key: str) -> bool:
        return self.table.acquire(self.kind, key, self.limit)

    def release(self, key: str) -> None:
        self.table.release(self.kind, key)


_FAILED_CHECKS = (Unauthorized, Forbidden)  # a wrong password, or a wrong current password


@attrs.define
class RateLimits:
    """The app's limits, built from settings over one store."""

    enabled: bool
    store: RateLimitStore
    login_failures: Bucket  # per account and address
    address_failures: Bucket  # per address, whatever the account
    account_checks: Bucket  # password checks per account and address
    address_checks: Bucket  # password checks per address
    registration: Bucket
    search: Bucket
    messages: Bucket
    friend_requests: Bucket
    upload_bytes: Bucket
    long_polls_per_user: Places  # held, not spent: always on
    long_polls_per_address: Places

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        store: RateLimitStore,
        places: SharedPlaces | None = None,
        clock: Callable[[], float] = time.time,
    ) -> RateLimits:
        """The limits of the settings, counted in ``store``; long-poll places in
        ``places`` when several workers serve, else in this process."""

        def bucket(name: str, limit: float, period: float) -> Bucket:
            return Bucket(store, name, limit, period, clock)

        per_minute = settings.PASSWORD_CHECKS_PER_MINUTE
        return cls(
            enabled=settings.RATE_LIMITS_ENABLED,
            store=store,
            login_failures=bucket("login_failures", settings.LOGIN_FAILURES_PER_ACCOUNT, 15 * 60),
            address_failures=bucket("address_failures", settings.LOGIN_FAILURES_PER_ADDRESS, 15 * 60),
            account_checks=bucket("account_checks", per_minute, 60),
            address_checks=bucket("address_checks", 2 * per_minute, 60),
            registration=bucket("registrations", settings.REGISTRATIONS_PER_ADDRESS, 3600),
            search=bucket("searches", settings.SEARCHES_PER_MINUTE, 60),
            messages=bucket("messages", settings.MESSAGES_PER_MINUTE, 60),
            friend_requests=bucket("friend_requests", settings.FRIEND_REQUESTS_PER_HOUR, 3600),
            upload_bytes=bucket("upload_bytes", settings.UPLOAD_BYTES_PER_HOUR, 3600),
            long_polls_per_user=(
                places.places("user", settings.LONG_POLLS_PER_USER)
                if places
                else WaiterCap(settings.LONG_POLLS_PER_USER)
            ),
            long_polls_per_address=(
                places.places("address", settings.LONG_POLLS_PER_ADDRESS)
                if places
                else WaiterCap(settings.LONG_POLLS_PER_ADDRESS)
            ),
        )

    def guard_password_check(self, email: str, address: str | None, check: Callable[[], T]) -> T:
        """Run a password check (login, confirmation, a current-password check) under the
        sign-in limits: it costs a token of the account from this address and of the
        address; a failure counts against the account from this address and against the
        address; a success clears the account's failures from this address. Nothing is
        counted against the account from every address, so no one elsewhere can spend
        the owner's allowance (guessing from many addresses meets each one's limits)."""
        pair, where = f"{email.strip().casefold()}\n{address or 'unknown'}", address or "unknown"
        if self.enabled:
            self.login_failures.check(pair)
            self.address_failures.check(where)
            self.account_checks.take(pair)
            self.address_checks.take(where)
        try:
            result = check()
        except _FAILED_CHECKS:
            if self.enabled:
                self.login_failures.record(pair)
                self.address_failures.record(where)
            raise
        if self.enabled:
            self.login_failures.reset(pair)
        return result

    def registration_attempt(self, address: str) -> None:
        if self.enabled:
            self.registration.take(address)

    def search_attempt(self, user_id: int) -> None:
        if self.enabled:
            self.search.take(str(user_id))

    def message_sent(self, user_id: int, count: int = 1) -> None:
        """A send (a forward to n chats counts n; a reaction counts one)."""
        if self.enabled:
            self.messages.take(str(user_id), cost=count)

    def friend_request(self, user_id: int) -> None:
        if self.enabled:
            self.friend_requests.take(str(user_id))

    def upload(self, user_id: int, size: int) -> None:
        if self.enabled:
            self.upload_bytes.take(str(user_id), size)
