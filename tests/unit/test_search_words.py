"""``search.words`` reads text with a regular expression for speed; these tests hold it
to the definition: a word is a maximal run of characters whose Unicode category is a
letter, a number or a mark."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from messenger_core import search
from messenger_core.normalize import search_key


def by_definition(text: str) -> list[tuple[int, int, str]]:
    found, start = [], None
    for i, char in enumerate(text + " "):
        word = i < len(text) and unicodedata.category(char)[0] in "LNM"
        if word and start is None:
            start = i
        elif not word and start is not None:
            found.append((start, i, search_key(text[start:i])))
            start = None
    return found


def test_the_expression_reads_every_code_point_as_the_definition_does() -> None:
    run, other = re.compile(r"[^\W_]"), re.compile(r"\S")
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        word = unicodedata.category(char)[0] in "LNM"
        if run.match(char):
            assert word, f"U+{code:04X} is read as part of a run but is no word character"
        if word:
            assert other.match(char), f"U+{code:04X} is a word character read as a space"


@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_words_are_the_runs_the_definition_finds(text: str) -> None:
    assert search.words(text) == by_definition(text)


def test_marks_join_a_word_and_punctuation_splits_it() -> None:
    decomposed = "и\u0306од"  # "йод" with a combining breve
    assert [k for _, _, k in search.words(f"{decomposed}, snake_case ёж2")] == [
        search_key(decomposed),
        "snake",
        "case",
        "еж2",
    ]
