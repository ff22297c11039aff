"""Abuse limits: sliding windows and token buckets per key (an account, an address, a user).

Sign-in follows OWASP's advice, throttle rather than lock: failures count per account
*and address* and per address, so somebody hammering an account from elsewhere can slow
down their own guesses but never lock its owner out. Every password check (a success
too) costs a token per account and per address, which bounds the argon2 work any one
client can ask for. Sends, friend requests and upload bytes have buckets per user that
real use never empties.

In-process state: each server process counts for itself, which is what a single-process
deployment needs; the limits are settings, and RATE_LIMITS_ENABLED turns them all off.
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
    login_failures: SlidingWindow  # per account and address
    address_failures: SlidingWindow  # per address, whatever the account
    account_checks: TokenBucket  # password checks per account
    address_checks: TokenBucket  # password checks per address
    registration: SlidingWindow
    search: SlidingWindow
    messages: TokenBucket
    friend_requests: TokenBucket
    upload_bytes: TokenBucket

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float] = time.monotonic) -> RateLimits:
        per_minute = settings.PASSWORD_CHECKS_PER_MINUTE
        return cls(
            enabled=settings.RATE_LIMITS_ENABLED,
            login_failures=SlidingWindow(settings.LOGIN_FAILURES_PER_ACCOUNT, 15 * 60, clock),
            address_failures=SlidingWindow(settings.LOGIN_FAILURES_PER_ADDRESS, 15 * 60, clock),
            account_checks=TokenBucket(per_minute / 60, per_minute, clock),
            address_checks=TokenBucket(2 * per_minute / 60, 2 * per_minute, clock),
            registration=SlidingWindow(settings.REGISTRATIONS_PER_ADDRESS, 3600, clock),
            search=SlidingWindow(settings.SEARCHES_PER_MINUTE, 60, clock),
            messages=TokenBucket(settings.MESSAGES_PER_MINUTE / 60, settings.MESSAGES_PER_MINUTE, clock),
            friend_requests=TokenBucket(
                settings.FRIEND_REQUESTS_PER_HOUR / 3600, settings.FRIEND_REQUESTS_PER_HOUR, clock
            ),
            upload_bytes=TokenBucket(
                settings.UPLOAD_BYTES_PER_HOUR / 3600, settings.UPLOAD_BYTES_PER_HOUR, clock
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
