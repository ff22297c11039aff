"""Two people in two browsers: register, find each other, befriend, chat live both ways."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import PASSWORD, cyrillic_tag, screenshot, screenshot_both, unique
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def register(page: Any, first: str, second: str, email: str) -> None:
    page.goto("/register")
    page.get_by_label("Имя", exact=True).fill(first)
    page.get_by_label("Фамилия").fill(second)
    page.get_by_label("Электронная почта").fill(email)
    page.get_by_label("Пароль", exact=True).fill(PASSWORD)
    page.get_by_label("Пароль ещё раз").fill(PASSWORD)
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page).to_have_url(re.compile(r"/$"))


def chat_item(page: Any, name: str) -> Any:
    return page.locator(".chat-item", has_text=name)


def message(page: Any, text: str) -> Any:
    return page.locator(".history .message", has_text=text)


def test_register_befriend_and_chat_live(new_page: Callable[..., Any]) -> None:
    tag = cyrillic_tag()
    alena_name, dima_name = ("Алёна", f"Ёлкина{tag}"), ("Дмитрий", f"Соколов{tag}")
    alena, dima = new_page(), new_page()

    register(alena, *alena_name, f"alena{unique()}@example.org")
    screenshot_both(alena, "chats-empty")
    register(dima, *dima_name, f"dima{unique()}@example.org")

    # Алёна finds Дмитрий by his Cyrillic second name (typed in lower case) and adds him.
    alena.get_by_role("link", name=re.compile("Друзья")).click()
    alena.get_by_label("Поиск по имени, фамилии или ID").fill(dima_name[1].lower()[:-1])
    result = alena.locator('[data-list="search"] .person', has_text=" ".join(dima_name))
    expect(result).to_have_count(1)
    result.get_by_role("button", name=re.compile("^Добавить")).click()
    outgoing = alena.locator('[data-list="outgoing"] .person', has_text=" ".join(dima_name))
    expect(outgoing).to_be_visible()
    expect(result.get_by_text("Заявка отправлена")).to_be_visible()

    # Дмитрий sees the request arrive without reloading, and accepts it.
    dima.goto("/friends")
    incoming = dima.locator('[data-list="incoming"] .person', has_text=" ".join(alena_name))
    expect(incoming).to_be_visible()
    expect(dima.locator("[data-incoming-count]")).to_have_text("1")
    screenshot_both(dima, "friends-request")
    incoming.get_by_role("button", name=re.compile("^Принять")).click()
    expect(dima.locator('[data-list="friends"] .person', has_text=" ".join(alena_name))).to_be_visible()

    # Алёна's page moves him to her friends live; "write" opens the chat.
    friend = alena.locator('[data-list="friends"] .person', has_text=" ".join(dima_name))
    expect(friend).to_be_visible()
    expect(outgoing).to_have_count(0)
    screenshot_both(alena, "friends")
    friend.get_by_role("link", name=re.compile("^Написать")).click()
    expect(alena).to_have_url(re.compile(r"/\?chat=\d+$"))
    expect(alena.locator(".chat-title")).to_have_text(" ".join(dima_name))

    dima.goto("/")
    composer = alena.get_by_label("Сообщение", exact=True)
    composer.fill("Привет, Дима!")
    composer.press("Enter")
    expect(message(alena, "Привет, Дима!")).to_have_class(re.compile(r"\bown\b"))

    # The message appears in Дмитрий's list live, with an unread count and the tab title.
    item = chat_item(dima, " ".join(alena_name))
    expect(item).to_contain_text("Привет, Дима!")
    expect(item.locator(".unread-badge")).to_have_text("1")
    expect(dima).to_have_title(re.compile(r"^\(1\) "))
    item.click()
    expect(message(dima, "Привет, Дима!")).to_have_class(re.compile(r"\btheirs\b"))
    expect(item.locator(".unread-badge")).to_have_count(0)
    expect(dima).not_to_have_title(re.compile(r"^\("))
    # Opening the chat marked it read: Алёна sees "прочитано" without reloading.
    expect(message(alena, "Привет, Дима!").locator(".read-mark")).to_contain_text("прочитано")

    # Shift+Enter breaks the line, Enter sends.
    reply = dima.get_by_label("Сообщение", exact=True)
    reply.type("Привет!")
    reply.press("Shift+Enter")
    reply.type("Как дела?")
    reply.press("Enter")
    expect(reply).to_have_value("")
    received = message(alena, "Как дела?")
    expect(received.locator(".message-text")).to_have_text("Привет!\nКак дела?")
    expect(received).to_have_class(re.compile(r"\btheirs\b"))

    # An edit shows in place, with "изменено", in both browsers.
    message_id = message(alena, "Привет, Дима!").get_attribute("data-message-id")
    own = alena.locator(f'.history .message[data-message-id="{message_id}"]')
    own.hover()
    own.get_by_role("button", name="Изменить сообщение").click()
    editor = own.get_by_label("Текст сообщения")
    editor.fill("Привет, Дмитрий!")
    editor.press("Enter")
    for page in (alena, dima):
        edited = message(page, "Привет, Дмитрий!")
        expect(edited).to_be_visible()
        expect(edited.locator(".message-edited")).to_have_text("изменено")
    expect(message(dima, "Привет, Дима!")).to_have_count(0)

    # A delete asks first, then leaves "Сообщение удалено" in both browsers.
    alena.get_by_label("Сообщение", exact=True).fill("Это сообщение будет удалено")
    alena.get_by_label("Сообщение", exact=True).press("Enter")
    expect(message(dima, "Это сообщение будет удалено")).to_be_visible()
    doomed = message(alena, "Это сообщение будет удалено")
    dialogs: list[str] = []

    def confirm(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.accept()

    alena.once("dialog", confirm)
    doomed.hover()
    doomed.get_by_role("button", name="Удалить сообщение").click()
    assert dialogs == ["Удалить это сообщение для всех?"]
    for page in (alena, dima):
        expect(message(page, "Это сообщение будет удалено")).to_have_count(0)
        expect(page.locator(".history .message.deleted").last).to_contain_text("Сообщение удалено")
    expect(chat_item(dima, " ".join(alena_name))).to_contain_text("Сообщение удалено")

    screenshot_both(alena, "chat-open")
    alena.set_viewport_size({"width": 375, "height": 740})
    alena.get_by_role("button", name="К списку чатов").click()
    expect(chat_item(alena, " ".join(dima_name))).to_be_visible()
    screenshot(alena, "chats-list")
