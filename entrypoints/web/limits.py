"""Abuse limits: sliding-window counters per key (an account, an address, a user).

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

from messenger_core import Throttled, Unauthorized

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


@attrs.define
class RateLimits:
    """The app's limits, built from settings."""

    enabled: bool
    login_account: SlidingWindow
    login_address: SlidingWindow
    registration: SlidingWindow
    search: SlidingWindow

    @classmethod
    def from_settings(cls, settings: Settings, clock: Callable[[], float] = time.monotonic) -> RateLimits:
        return cls(
            enabled=settings.RATE_LIMITS_ENABLED,
            login_account=SlidingWindow(settings.LOGIN_FAILURES_PER_ACCOUNT, 15 * 60, clock),
            login_address=SlidingWindow(settings.LOGIN_FAILURES_PER_ADDRESS, 15 * 60, clock),
            registration=SlidingWindow(settings.REGISTRATIONS_PER_ADDRESS, 3600, clock),
            search=SlidingWindow(settings.SEARCHES_PER_MINUTE, 60, clock),
        )

    def guard_password_check(self, email: str, address: str | None, check: Callable[[], T]) -> T:
        """Run a password check (login, confirmation) under the sign-in limits: failures
        count against the account and the client address; a success clears the account."""
        account, where = email.strip().casefold(), address or "unknown"
        self.before_login(account, where)
        try:
            result = check()
        except Unauthorized:
            self.login_failed(account, where)
            raise
        self.login_succeeded(account)
        return result

    def before_login(self, account: str, address: str) -> None:
        if self.enabled:
            self.login_account.check(account)
            self.login_address.check(address)

    def login_failed(self, account: str, address: str) -> None:
        if self.enabled:
            self.login_account.record(account)
            self.login_address.record(address)

    def login_succeeded(self, account: str) -> None:
        self.login_account.reset(account)

    def registration_attempt(self, address: str) -> None:
        if self.enabled:
            self.registration.hit(address)

    def search_attempt(self, user_id: int) -> None:
        if self.enabled:
            self.search.hit(str(user_id))
