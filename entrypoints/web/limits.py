"""Abuse limits: sliding windows and token buckets per key (an account, an address, a user).

Sign-in follows OWASP's advice, throttle rather than lock: failures count per account
*and address* and per address, so somebody hammering an account from elsewhere can slow
down their own guesses but never lock its owner out. Every password check (a success
too) costs a token per account and per address, which bounds the argon2 work any one
client can ask for. Sends, friend requests and upload bytes have buckets per user that
real use never empties.

Where the counts live: in this process by default, which is what a single-process
deployment needs; or, given a ``RateLimitStore`` (the PostgreSQL database when several
processes serve one installation), in that shared store, so that a client cannot
multiply its allowance by the number of processes. The limits are settings, and
RATE_LIMITS_ENABLED turns them all off.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TypeVar

import attrs

from messenger_core import Forbidden, Throttled, Unauthorized
from messenger_core.ports import RateLimitStore

from ..config import Settings

T = TypeVar("T")
MAX_KEYS = 100_000  # past this, idle keys are dropped so the table cannot grow without end


class SlidingWindow:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str) -> None:
        """Raise Throttled when the key has used up its window."""
        with self._lock:
            now = self._clock()
            events = self._fresh(key, now)
            if len(events) >= self.limit:
                retry_after = math.ceil(events[0] + self.window - now)
                raise Throttled(retry_after=max(1, retry_after))

    def record(self, key: str) -> None:
        with self._lock:
            now = self._clock()
            self._fresh(key, now).append(now)
            if len(self._events) > MAX_KEYS:
                self._drop_idle(now)

    def hit(self, key: str) -> None:
        """Check, then count this event."""
        self.check(key)
        self.record(key)

    def reset(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)

    def _fresh(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        return events

    def _drop_idle(self, now: float) -> None:
        for key in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
            del self._events[key]


class TokenBucket:
    """Up to ``burst`` at once per key, refilled at ``rate`` per second: short bursts
    pass, a sustained flood is held to the rate."""

    def __init__(self, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key → (tokens, when counted)
        self._lock = threading.Lock()

    def take(self, key: str, cost: float = 1.0) -> None:
        """Take ``cost`` tokens, or raise Throttled saying when they will be there. A cost
        above the burst is capped at it (one huge upload is the size limit's business)."""
        cost = min(cost, self.burst)
        with self._lock:
            now = self._clock()
            tokens, then = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - then) * self.rate)
            if tokens < cost:
                raise Throttled(retry_after=max(1, math.ceil((cost - tokens) / self.rate)))
            self._buckets[key] = (tokens - cost, now)
            if len(self._buckets) > MAX_KEYS:
                self._drop_full(now)

    def _drop_full(self, now: float) -> None:
        full = [
            k
            for k, (tokens, then) in self._buckets.items()
            if tokens + (now - then) * self.rate >= self.burst
        ]
        for key in full:
            del self._buckets[key]


PRUNE_EVERY = 1000  # shared counts: past this many writes, drop what no limit can still see
PRUNE_AFTER = 24 * 3600.0  # seconds: longer than any window, and than any bucket takes to refill


class _Pruner:
    def __init__(self, store: RateLimitStore) -> None:
        self._store = store
        self._writes = 0
        self._lock = threading.Lock()

    def wrote(self, now: float) -> None:
        with self._lock:
            self._writes += 1
            due = self._writes % PRUNE_EVERY == 0
        if due:
            self._store.prune(now - PRUNE_AFTER)


class SharedSlidingWindow:
    """``SlidingWindow`` counted in a RateLimitStore that every process shares."""

    def __init__(
        self,
        store: RateLimitStore,
        name: str,
        limit: int,
        window: float,
        clock: Callable[[], float] = time.time,
        pruner: _Pruner | None = None,
    ) -> None:
        self.store, self.name, self.limit, self.window = store, name, limit, window
        self._clock = clock
        self._pruner = pruner or _Pruner(store)

    def check(self, key: str) -> None:
        now = self._clock()
        count, oldest = self.store.count_since(self.name, key, now - self.window)
        if count >= self.limit:
            retry_after = math.ceil((oldest if oldest is not None else now) + self.window - now)
            raise Throttled(retry_after=max(1, retry_after))

    def record(self, key: str) -> None:
        now = self._clock()
        self.store.record(self.name, key, now)
        self._pruner.wrote(now)

    def hit(self, key: str) -> None:
        self.check(key)
        self.record(key)

    def reset(self, key: str) -> None:
        self.store.reset(self.name, key)


class SharedTokenBucket:
    """``TokenBucket`` kept in a RateLimitStore that every process shares."""

    def __init__(
        self,
        store: RateLimitStore,
        name: str,
        rate: float,
        burst: float,
        clock: Callable[[], float] = time.time,
        pruner: _Pruner | None = None,
    ) -> None:
        self.store, self.name, self.rate, self.burst = store, name, rate, burst
        self._clock = clock
        self._pruner = pruner or _Pruner(store)

    def take(self, key: str, cost: float = 1.0) -> None:
        now = self._clock()
        wait = self.store.take(
            self.name, key, cost=min(cost, self.burst), rate=self.rate, burst=self.burst, now=now
        )
        self._pruner.wrote(now)
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
    """The app's limits, built from settings."""

    enabled: bool
    login_failures: SlidingWindow | SharedSlidingWindow  # per account and address
    address_failures: SlidingWindow | SharedSlidingWindow  # per address, whatever the account
    account_checks: TokenBucket | SharedTokenBucket  # password checks per account
    address_checks: TokenBucket | SharedTokenBucket  # password checks per address
    registration: SlidingWindow | SharedSlidingWindow
    search: SlidingWindow | SharedSlidingWindow
    messages: TokenBucket | SharedTokenBucket
    friend_requests: TokenBucket | SharedTokenBucket
    upload_bytes: TokenBucket | SharedTokenBucket

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        clock: Callable[[], float] | None = None,
        store: RateLimitStore | None = None,
    ) -> RateLimits:
        """The limits of the settings, counted in this process, or in ``store`` (shared
        by every process: then times are the wall clock's, which all of them share)."""
        if store is None:
            local = clock or time.monotonic

            def window(name: str, limit: int, seconds: float) -> SlidingWindow | SharedSlidingWindow:
                return SlidingWindow(limit, seconds, local)

            def bucket(name: str, rate: float, burst: float) -> TokenBucket | SharedTokenBucket:
                return TokenBucket(rate, burst, local)
        else:
            shared, pruner = clock or time.time, _Pruner(store)

            def window(name: str, limit: int, seconds: float) -> SlidingWindow | SharedSlidingWindow:
                return SharedSlidingWindow(store, name, limit, seconds, shared, pruner)

            def bucket(name: str, rate: float, burst: float) -> TokenBucket | SharedTokenBucket:
                return SharedTokenBucket(store, name, rate, burst, shared, pruner)

        per_minute = settings.PASSWORD_CHECKS_PER_MINUTE
        return cls(
            enabled=settings.RATE_LIMITS_ENABLED,
            login_failures=window("login_failures", settings.LOGIN_FAILURES_PER_ACCOUNT, 15 * 60),
            address_failures=window("address_failures", settings.LOGIN_FAILURES_PER_ADDRESS, 15 * 60),
            account_checks=bucket("account_checks", per_minute / 60, per_minute),
            address_checks=bucket("address_checks", 2 * per_minute / 60, 2 * per_minute),
            registration=window("registration", settings.REGISTRATIONS_PER_ADDRESS, 3600),
            search=window("search", settings.SEARCHES_PER_MINUTE, 60),
            messages=bucket("messages", settings.MESSAGES_PER_MINUTE / 60, settings.MESSAGES_PER_MINUTE),
            friend_requests=bucket(
                "friend_requests", settings.FRIEND_REQUESTS_PER_HOUR / 3600, settings.FRIEND_REQUESTS_PER_HOUR
            ),
            upload_bytes=bucket(
                "upload_bytes", settings.UPLOAD_BYTES_PER_HOUR / 3600, settings.UPLOAD_BYTES_PER_HOUR
            ),
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
        self.login_failures.reset(pair)
        return result

    def registration_attempt(self, address: str) -> None:
        if self.enabled:
            self.registration.hit(address)

    def search_attempt(self, user_id: int) -> None:
        if self.enabled:
            self.search.hit(str(user_id))

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
