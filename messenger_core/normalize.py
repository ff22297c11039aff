"""Pure helpers every adapter reuses so that all of them agree on folding and trimming,
and on the arithmetic of rate-limit buckets."""

from __future__ import annotations

import unicodedata


def search_key(text: str) -> str:
    """The case-folded, NFKC-normalised form used for substring search.

    ``str.casefold`` folds Cyrillic and Latin alike (SQLite's LIKE folds ASCII only),
    and "ё" is folded to "е" because Russian writers use them interchangeably.
    """
    folded = unicodedata.normalize("NFKC", text).casefold().replace("ё", "е")
    # Names hold no control characters, so a query's are noise (and NUL would end
    # SQLite's full-text query string).
    if folded.isprintable():  # no character of a C category (the common case, checked in C)
        return folded
    return "".join(c for c in folded if not unicodedata.category(c).startswith("C"))


def search_text(first_name: str, second_name: str, alternative_id: str, username: str | None = None) -> str:
    """The indexed text of a user: the ``search_key`` of each name, of the public id and
    of the username (empty without one), one per line, exactly what SQLite's
    ``user_search`` trigger joins from the key columns.

    ``search_key`` drops control characters, the newline among them, so no key holds the
    separator, and a search term (which holds no white space) cannot match across two keys.
    """
    keys = (first_name, second_name, alternative_id, username or "")
    return "\n".join(search_key(key) for key in keys)


def email_key(email: str) -> str:
    """The form in which two emails are the same address (case-insensitive)."""
    return email.strip().casefold()


# Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): they
# let a message reorder how the text after it reads ("gpj.exe" shown as "exe.jpg").
# Pages isolate each message's direction themselves (dir="auto"); marks (LRM, RLM) and
# the joiners emoji need stay.
_BIDI_CONTROLS = dict.fromkeys([*range(0x202A, 0x202F), *range(0x2066, 0x206A)])
# C0 and C1 controls but the line break and the tab: NUL, escape sequences, bells.
_CONTROLS = dict.fromkeys(c for c in [*range(0x20), *range(0x7F, 0xA0)] if c not in (0x09, 0x0A))


def clean_text(text: str) -> str:
    """Normalise line endings, drop control characters and bidi overrides, trim."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.translate(_CONTROLS).translate(_BIDI_CONTROLS).strip()


def clean_name(name: str) -> str:
    """Trim and collapse inner white space of a person's name."""
    return " ".join(name.split())


# Seconds of slack in a bucket's comparisons: rates such as 20 a minute are not exact in
# binary, and a bucket must let its whole burst through however the sums round.
BUCKET_TOLERANCE = 1e-6


def bucket_in_seconds(cost: float, *, rate: float, burst: float) -> tuple[float, float]:
    """A take's cost and a bucket's size as seconds of refill at ``rate`` (the cost capped
    at the burst): the units in which ``RateLimitStore`` adapters keep a bucket's moment."""
    return min(cost, burst) / rate, burst / rate


def bucket_wait(full_at: float | None, cost_seconds: float, burst_seconds: float, now: float) -> float:
    """Seconds until a take costing ``cost_seconds`` fits a bucket that is full at
    ``full_at`` (None: full now); 0.0 when it fits at ``now``. Taking it moves the bucket's
    moment to ``max(full_at, now) + cost_seconds``."""
    start = now if full_at is None else max(full_at, now)
    wait = start + cost_seconds - now - burst_seconds
    return 0.0 if wait <= BUCKET_TOLERANCE else wait
