"""Typed domain errors. No HTTP numbers here: the web edge maps each category once."""

from __future__ import annotations

from collections.abc import Mapping


class MessengerError(Exception):
    """Base of every error the core raises on purpose."""

    code = "error"

    def __init__(
        self, message: str, *, code: str | None = None, fields: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})
        if code is not None:
            self.code = code


class NotFound(MessengerError):
    code = "not_found"


class Forbidden(MessengerError):
    code = "forbidden"


class Conflict(MessengerError):
    code = "conflict"


class Invalid(MessengerError):
    """Validation failed; ``fields`` maps a field name to its message."""

    code = "invalid"

    def __init__(self, fields: Mapping[str, str], message: str = "Validation failed") -> None:
        super().__init__(message, fields=fields)


class Unauthorized(MessengerError):
    """Authentication failed; ``reason`` is one of the REASONS."""

    REASONS = (
        "token_missing",
        "token_invalid",
        "token_expired",
        "token_revoked",
        "bad_credentials",
    )

    def __init__(self, reason: str, message: str | None = None) -> None:
        super().__init__(message or reason.replace("_", " ").capitalize(), code=reason)
        self.reason = reason


class TooLarge(MessengerError):
    code = "too_large"


class Gone(MessengerError):
    """A cursor too old or unknown: the client must reload its state."""

    code = "resync"


class Throttled(MessengerError):
    code = "throttled"

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
