"""The interface's texts: one catalogue per language (``ru.toml``, ``en.toml``).

A catalogue has three tables: ``page`` (texts of the templates), ``script`` (texts of
the page scripts, which get them embedded in the page) and ``errors`` (keyed by error
code, for pages and scripts alike). English errors not in ``en.toml`` read as the
core's own English message, so every language covers every code (a test checks it).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

from messenger_core.errors import FieldError, MessengerError

from ..errors import every_code

LANGUAGES = ("ru", "en")
DEFAULT_LANGUAGE = "ru"
HERE = Path(__file__).parent


@attrs.frozen
class Catalogue:
    lang: str
    page: Mapping[str, str]
    script: Mapping[str, str]
    errors: Mapping[str, str]

    def text(self, key: str, **params: Any) -> str:
        """A page text, its placeholders filled."""
        return self.page[key].format(**params)

    def error(self, error: MessengerError) -> str:
        return self._error(error.key, error.params)

    def field_error(self, error: FieldError) -> str:
        return self._error(error.code, error.params)

    def for_scripts(self) -> dict[str, Any]:
        """What a page embeds for its scripts (static/js/i18n.js reads it)."""
        return {"lang": self.lang, "texts": dict(self.script), "errors": dict(self.errors)}

    def _error(self, key: str, params: Mapping[str, Any]) -> str:
        return self.errors[key].format_map(_Lenient(params))


class _Lenient(dict[str, Any]):
    """Format parameters where a missing one stays visible as ``{name}``, never a crash."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@functools.cache
def catalogue(lang: str) -> Catalogue:
    """The catalogue of a supported language (read once)."""
    if lang not in LANGUAGES:
        lang = DEFAULT_LANGUAGE
    raw = tomllib.loads((HERE / f"{lang}.toml").read_text(encoding="utf-8"))
    errors = dict(raw.get("errors", {}))
    if lang == "en":
        errors = {key: errors.get(key, english) for key, english in every_code()}
    return Catalogue(lang=lang, page=raw["page"], script=raw["script"], errors=errors)


def choose_language(header: str | None) -> str:
    """The supported language the browser prefers most (Russian when it names none)."""
    best, best_q = DEFAULT_LANGUAGE, -1.0
    for position, item in enumerate((header or "").split(",")):
        tag, _, rest = item.strip().partition(";")
        q = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        # Earlier entries win ties: subtract a little per position.
        score = q - position * 1e-6
        if primary in LANGUAGES and q > 0 and score > best_q:
            best, best_q = primary, score
    return best
