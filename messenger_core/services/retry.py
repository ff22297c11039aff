"""Running a use case again when the storage was too busy to decide.

A database that lets units of work run side by side may abort one of two units that
waited on each other in a circle (PostgreSQL's deadlock detection), or refuse one it
cannot order with another (a serialization failure); the adapter reports either as
``Unavailable("storage_busy")`` and nothing of the unit stays. The use case can then
simply run again from the start: it reads afresh, decides afresh, and writes events and
wakes waiters only when it commits. Only a use case handed uploads is not repeated,
since their chunks may be a stream already read.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import Unavailable
from .context import Upload

ATTEMPTS = 3
F = TypeVar("F", bound=Callable[..., Any])


def retried_when_busy(use_case: F) -> F:
    """The use case, run up to ATTEMPTS times while the storage answers storage_busy."""

    @functools.wraps(use_case)
    def run(*args: Any, **kwargs: Any) -> Any:
        repeatable = not any(_holds_upload(value) for value in (*args, *kwargs.values()))
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return use_case(*args, **kwargs)
            except Unavailable as error:
                if error.code != "storage_busy" or not repeatable or attempt == ATTEMPTS:
                    raise
        raise AssertionError("unreachable")

    return run  # type: ignore[return-value]


def _holds_upload(value: object) -> bool:
    if isinstance(value, Upload):
        return True
    return isinstance(value, list | tuple) and any(isinstance(item, Upload) for item in value)


def retry_every_use_case(messenger: object) -> None:
    """Wrap each use case bound on the messenger (its public callables)."""
    for name, value in list(vars(messenger).items()):
        if not name.startswith("_") and callable(value):
            setattr(messenger, name, retried_when_busy(value))
