"""Deterministic Clock and RandomSource for tests and demo data.

They live among the adapters because the core may not import ``random``. Never wire
them into a production server: SeededRandom is predictable by design.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta


class ManualClock:
    """A clock that moves only when told to: ``clock.advance(timedelta(hours=2))``."""

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> None:
        self._now += delta


class SeededRandom:
    """The same strings for the same seed and the same sequence of calls."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)

    def choice_string(self, alphabet: str, length: int) -> str:
        if not alphabet:
            raise ValueError("the alphabet is empty")
        return "".join(self._random.choice(alphabet) for _ in range(length))
