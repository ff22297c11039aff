"""Message search as the domain defines it, the same for every adapter: what a word is,
how a query reads, what matches, and where a match shows in a snippet.

A **word** is a run of letters, digits and the marks that go with them; its key is its
``normalize.search_key`` (case-folded, "ё" as "е"). A message is indexed as the keys of
its text and, separately, of its files' names, and as tags of what it holds (``photo``,
``video``, ``audio``, ``file``, ``link``). A **query** is words, each a prefix that some
word must start with ("прив" finds "Привет"), and "quoted phrases", whose words must
follow each other within the text or within one name. Every part is required. An adapter
with a full-text engine feeds it the keys joined by spaces (``indexed``), so the engine's
words are these words.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import datetime

import attrs

from .limits import SEARCH_WORDS_MAX, SNIPPET_MAX
from .model import AttachmentKind
from .normalize import search_key

LINK_TAG = "link"
TAGS = (*(k.value for k in AttachmentKind), LINK_TAG)
_LINK = re.compile(r"(?i)(?:https?://|mailto:)\S")
_PHRASE = re.compile(r'"([^"]*)"')


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LNM"


# Runs of letters and digits (what ``re`` calls word characters, less "_"), or any other
# single character but a space. A run is all word characters; a single character is
# checked, since marks (which join a word) are not ``re`` word characters. A test checks
# this reading against ``_is_word_char`` over every code point.
_RUN = re.compile(r"[^\W_]+|\S")


def words(text: str) -> list[tuple[int, int, str]]:
    """Each word of the text: (start, end, key), in order."""
    found = []
    start = end = -1
    for run in _RUN.finditer(text):
        s, e = run.span()
        if e - s > 1 or _is_word_char(text[s]):
            if s == end:  # touches the word before it
                end = e
                continue
            if start >= 0:
                found.append((start, end, search_key(text[start:end])))
            start, end = s, e
        elif start >= 0:
            found.append((start, end, search_key(text[start:end])))
            start = end = -1
    if start >= 0:
        found.append((start, end, search_key(text[start:end])))
    return found


def keys(text: str) -> list[str]:
    return [key for _, _, key in words(text)]


def indexed(text: str | None) -> str:
    """The keys of a text joined by spaces: what a full-text engine indexes."""
    return " ".join(keys(text or ""))


def tags(text: str | None, kinds: Iterable[AttachmentKind]) -> list[str]:
    """What a message holds, for the ``has`` filter: its files' kinds and a link."""
    held = {k.value for k in kinds}
    if text and _LINK.search(text):
        held.add(LINK_TAG)
    return [t for t in TAGS if t in held]


@attrs.frozen
class Query:
    """A parsed query: prefixes and phrases (tuples of keys), every one required."""

    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.prefixes or self.phrases)


def parse(text: str) -> Query:
    """The query a search box's text means. Words past SEARCH_WORDS_MAX are ignored; an
    unclosed quote reads as words."""
    phrases = [phrase for m in _PHRASE.finditer(text) if (phrase := tuple(keys(m.group(1))))]
    prefixes = list(dict.fromkeys(keys(_PHRASE.sub(" ", text))))
    budget = SEARCH_WORDS_MAX
    kept: list[tuple[str, ...]] = []
    for phrase in phrases:
        if budget > 0:
            kept.append(phrase[:budget])
            budget -= len(phrase)
    return Query(prefixes=tuple(prefixes[: max(budget, 0)]), phrases=tuple(kept))


@attrs.frozen(kw_only=True)
class Filter:
    """What a search asks for, with the reader it is for: the query (may be empty when
    ``has`` is given), and narrowing by chat, sender, time, what it holds; ``before_id``
    continues a previous page."""

    query: Query
    chat_id: int | None = None
    sender_id: int | None = None
    sent_before: datetime | None = None
    sent_after: datetime | None = None
    has: str | None = None  # one of TAGS
    before_id: int | None = None


def name_keys(names: Iterable[str]) -> list[str]:
    """The keys of a message's file names, one name after another (one field)."""
    return [k for name in names for k in keys(name)]


def matches(query: Query, text_keys: Sequence[str], file_keys: Sequence[str]) -> bool:
    """Whether a message's keys (of its text, and of its files' names) match the query:
    every prefix starts some word of either, every phrase runs within one of them."""
    fields = [text_keys, file_keys]
    every = [*text_keys, *file_keys]
    if not all(any(k.startswith(p) for k in every) for p in query.prefixes):
        return False
    return all(any(_has_run(field, phrase) for field in fields) for phrase in query.phrases)


def _has_run(field: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(tuple(field[i : i + n]) == tuple(phrase) for i in range(len(field) - n + 1))


def highlights(text: str, query: Query) -> list[tuple[int, int]]:
    """Where in ``text`` the query matches: the words a prefix starts and the runs of
    words a phrase is, as (start, end) offsets, in order and not overlapping."""
    found = words(text)
    marked: set[int] = set()
    for i, (_, _, key) in enumerate(found):
        if any(key.startswith(p) for p in query.prefixes):
            marked.add(i)
    for phrase in query.phrases:
        n = len(phrase)
        for i in range(len(found) - n + 1):
            if tuple(k for _, _, k in found[i : i + n]) == phrase:
                marked.update(range(i, i + n))
    spans: list[tuple[int, int]] = []
    for i in sorted(marked):
        start, end, _ = found[i]
        if spans and (i - 1) in marked and _only_space_between(text, spans[-1][1], start):
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
    return spans


def _only_space_between(text: str, end: int, start: int) -> bool:
    return not text[end:start].strip()


def snippet(
    text: str, query: Query, width: int = SNIPPET_MAX, spans: list[tuple[int, int]] | None = None
) -> tuple[str, list[tuple[int, int]]]:
    """At most ``width`` characters of the text around its first match, with the
    highlights inside them (offsets into the snippet); ``spans`` are the text's
    highlights when already known."""
    spans = highlights(text, query) if spans is None else spans
    if len(text) <= width:
        return text, spans
    first = spans[0][0] if spans else 0
    begin = max(0, min(first - width // 4, len(text) - width))
    cut = text[begin : begin + width]
    return cut, [(s - begin, min(e, begin + width) - begin) for s, e in spans if begin <= s < begin + width]
