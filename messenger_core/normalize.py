"""Pure helpers every adapter reuses so that all of them agree on folding and trimming."""

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
    return "".join(c for c in folded if not unicodedata.category(c).startswith("C"))


def email_key(email: str) -> str:
    """The form in which two emails are the same address (case-insensitive)."""
    return email.strip().casefold()


def clean_text(text: str) -> str:
    """Trim surrounding white space and normalise line endings."""
    return text.replace("\r\n", "\n").replace("\r", "\n").strip()


def clean_name(name: str) -> str:
    """Trim and collapse inner white space of a person's name."""
    return " ".join(name.split())
