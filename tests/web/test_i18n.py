"""The translation catalogues: every text and every error code in both languages."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from entrypoints.web.errors import every_code
from entrypoints.web.i18n import LANGUAGES, catalogue, choose_language
from messenger_core import Invalid, NotFound
from messenger_core.errors import FieldError, field

PLACEHOLDER = re.compile(r"\{(\w+)\}")


def test_both_languages_have_every_page_and_script_text() -> None:
    ru, en = catalogue("ru"), catalogue("en")
    assert ru.page.keys() == en.page.keys()
    assert ru.script.keys() == en.script.keys()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_code_has_a_translation(lang: str) -> None:
    texts = catalogue(lang)
    missing = [key for key, _ in every_code() if key not in texts.errors]
    assert not missing, f"{lang}.toml has no [errors] text for {missing}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_translations_name_the_placeholders_of_the_english(lang: str) -> None:
    """A translation may not invent a parameter the error never carries."""
    texts = catalogue(lang)
    for key, english in every_code():
        assert set(PLACEHOLDER.findall(texts.errors[key])) <= set(PLACEHOLDER.findall(english)), key


def test_catalogues_hold_no_stray_error_keys() -> None:
    known = {key for key, _ in every_code()}
    for lang in LANGUAGES:
        assert set(catalogue(lang).errors) <= known, lang


def test_errors_read_in_the_readers_language() -> None:
    ru, en = catalogue("ru"), catalogue("en")
    assert ru.field_error(field("too_long", max=64)) == "Не больше 64 символов"
    assert en.field_error(field("too_long", max=64)) == "At most 64 characters"
    assert ru.field_error(field("not_an_image")).startswith("Это не изображение")
    assert ru.error(NotFound("user")) == "Нет пользователя с таким ID"
    assert en.error(NotFound("user")) == "No user with this id"
    assert ru.error(Invalid({"x": field("required")})) == "Проверьте поля формы."
    # A missing parameter shows as its placeholder rather than failing the page.
    assert ru.field_error(FieldError("too_long", {}, "At most ? characters")) == "Не больше {max} символов"


def test_the_language_comes_from_accept_language() -> None:
    choose: Callable[[str | None], str] = choose_language
    assert choose("ru-RU") == "ru"
    assert choose("en-GB,en;q=0.9") == "en"
    assert choose("de") == "ru"
    assert choose(None) == "ru"
