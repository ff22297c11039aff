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
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from typing import TypeVar

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


_FAILED_CHECKS = (Unauthorized, Forbidden)  # a wrong password, or a wrong current password


@attrs.define
class RateLimits:
    """The app's limits, built from settings over one store."""

    enabled: bool
    store: RateLimitStore
    login_failures: Bucket  # per account and address
    address_failures: Bucket  # per address, whatever the account
    account_checks: Bucket  # password checks per account
    address_checks: Bucket  # password checks per address
    registration: Bucket
    search: Bucket
    messages: Bucket
    friend_requests: Bucket
    upload_bytes: Bucket

    @classmethod
    def from_settings(
        cls, settings: Settings, store: RateLimitStore, clock: Callable[[], float] = time.time
    ) -> RateLimits:
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
        )

    def guard_password_check(self, email: str, address: str | None, check: Callable[[], T]) -> T:
        """Run a password check (login, confirmation, a current-password check) under the
        sign-in limits: it costs a token of the account and of the address; a failure
        counts against the account from this address and against the address; a
        success clears the account's failures from this address."""
        pair, where = f"{email.strip().casefold()}\n{address or 'unknown'}", address or "unknown"
        if self.enabled:
            self.login_failures.check(pair)
            self.address_failures.check(where)
            self.account_checks.take(email.strip().casefold())
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

    def message_sent(self, user_id: int) -> None:
        if self.enabled:
            self.messages.take(str(user_id))

    def friend_request(self, user_id: int) -> None:
        if self.enabled:
            self.friend_requests.take(str(user_id))

    def upload(self, user_id: int, size: int) -> None:
        if self.enabled:
            self.upload_bytes.take(str(user_id), size)
