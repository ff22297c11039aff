"""A new user's pass of the Russian interface: what goes wrong is said in Russian,
beside the field it concerns (the errors come as codes and are translated by the page)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import Account
from playwright.sync_api import expect

from messenger_core.limits import MESSAGE_MAX

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]


def test_a_non_image_avatar_is_refused_beside_the_avatar_field(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    page = new_page(account("Вера", "Новикова"))
    page.goto("/profile")
    page.get_by_role("button", name="Изменить").click()
    page.locator("#f-avatar").set_input_files(
        {"name": "отчёт.png", "mimeType": "image/png", "buffer": b"%PDF-1.7 not a picture"}
    )
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("#f-avatar-error")).to_have_text(
        "Это не изображение: загрузите PNG, JPEG, WebP или GIF"
    )
    expect(page.locator("[data-form-status]")).to_have_text("Проверьте поля формы.")


def test_a_chat_link_to_a_stranger_says_why_in_russian(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    me, stranger = account("Лев", "Орлов"), account("Нина", "Белова")
    page = new_page(me)
    page.goto(f"/?chat_with={stranger.user_id}")
    expect(page.locator("[data-chat-empty]")).to_contain_text("Начать чат можно только с другом")


def test_an_over_long_message_is_counted_and_held_back(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    me, friend = account("Олег", "Соколов"), account("Ирина", "Попова")
    me.befriend(friend)
    chat_id = me.open_chat(friend)
    page = new_page(me)
    page.goto(f"/?chat={chat_id}")
    composer = page.locator("#composer-text")
    composer.fill("я" * (MESSAGE_MAX + 5))  # as a paste would: nothing is cut
    counter = page.locator("#composer-counter")
    expect(counter).to_have_text(f"{MESSAGE_MAX + 5} / {MESSAGE_MAX}")
    expect(page.locator(".composer-error")).to_have_text(f"Не больше {MESSAGE_MAX} символов")
    assert len(composer.input_value()) == MESSAGE_MAX + 5
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator(".composer-error")).to_have_text(f"Не больше {MESSAGE_MAX} символов")
    assert me.call("GET", f"/api/v1/chats/{chat_id}/messages")["messages"] == []
    composer.fill("я" * MESSAGE_MAX)
    expect(page.locator(".composer-error")).to_have_text("")
    page.get_by_role("button", name="Отправить").click()
    expect(page.locator(".history .message")).to_have_count(1)
