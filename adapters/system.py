"""The real clock and the real source of unpredictable strings."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


class SystemClock:
    """Wall-clock time, timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class SecretsRandom:
    """Strings from the operating system's CSPRNG (for ids, tokens and codes)."""

    def choice_string(self, alphabet: str, length: int) -> str:
        if not alphabet:
            raise ValueError("the alphabet is empty")
        return "".join(secrets.choice(alphabet) for _ in range(length))
