"""Groups in three browsers: Анна makes a group of two friends of hers (Борис and Вера,
who are not friends with each other) through the dialog; messages, a mention, "Прочитано
N", a rename, a hand-over of ownership, a removal and leaving are seen live by everyone.
Then the members panel as a full-screen sheet on a phone, and the group in English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import Account, png_bytes, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]
PHONE_390 = {"width": 390, "height": 844}


def chat_item(page: Any, title: str) -> Any:
    return page.locator(".chat-item", has_text=title)


def message(page: Any, text: str) -> Any:
    return page.locator(".history .message", has_text=text)


def send(page: Any, text: str) -> None:
    composer = page.get_by_label("Сообщение", exact=True)
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def accept_next_dialog(page: Any, expected: str) -> None:
    """Accept the next confirm() the page asks, checking what it asks."""

    def accept(dialog: Any) -> None:
        assert dialog.message == expected
        dialog.accept()

    page.once("dialog", accept)


def open_members(page: Any) -> Any:
    page.locator(".chat-header-button").click()
    panel = page.locator(".members-panel")
    expect(panel).to_be_visible()
    return panel


def member(panel: Any, name: str) -> Any:
    return panel.locator(".member", has_text=name)


def member_action(panel: Any, name: str, action: str) -> None:
    panel.get_by_role("button", name=f"Действия: {name}").click()
    panel.get_by_role("button", name=f"{action}: {name}").click()


def test_a_group_of_three_live_in_three_browsers(
    new_page: Callable[..., Any], account: MakeAccount, tmp_path: Any
) -> None:
    anna, boris, vera = account("Анна", "Лебедева"), account("Борис", "Орлов"), account("Вера", "Зайцева")
    anna.befriend(boris)
    anna.befriend(vera)
    a, b, v = new_page(anna), new_page(boris), new_page(vera)
    for page in (a, b, v):
        page.goto("/")
        expect(page.locator("[data-chats-status]")).to_have_text(re.compile("^Чатов пока нет"))

    # The dialog: nothing filled in says so beside each field, in Russian.
    a.get_by_role("button", name="Новая группа").click()
    dialog = a.get_by_role("dialog", name="Новая группа")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label(boris.name)).to_be_visible()
    dialog.get_by_role("button", name="Создать группу").click()
    expect(dialog.locator("#group-title-error")).to_have_text("Заполните поле")
    expect(dialog.locator("#group-members-error")).to_have_text("Выберите хотя бы одного друга")

    # Friends found by the search, a title, a photo; then the group opens for Анна.
    dialog.get_by_label("Поиск среди друзей").fill("бор")
    expect(dialog.get_by_label(vera.name)).to_have_count(0)
    dialog.get_by_label(boris.name).check()
    dialog.get_by_label("Поиск среди друзей").fill("")
    dialog.get_by_label(vera.name).check()
    expect(dialog.locator(".picker-count")).to_have_text("Выбрано 2 друга")
    dialog.get_by_label("Название группы").fill("Книжный клуб")
    photo = tmp_path / "обложка.png"
    photo.write_bytes(png_bytes((300, 300)))
    dialog.locator("[data-group-photo]").set_input_files(str(photo))
    expect(dialog.locator("#group-members-error")).to_be_empty()
    screenshot(a, "group-dialog")
    dialog.get_by_role("button", name="Создать группу").click()
    expect(dialog).to_be_hidden()
    expect(a.locator(".chat-title")).to_have_text("Книжный клуб")
    expect(a.locator(".chat-subtitle")).to_have_text("3 участника")
    expect(a.locator(".system-message").first).to_have_text("Вы создали группу «Книжный клуб»")
    expect(a.locator(".system-message").last).to_have_text("Вы сменили фото группы")
    expect(a.locator(".chat-header .avatar")).to_have_attribute("src", re.compile(r"/photo\?v=[0-9a-f]"))

    # It appears in the others' lists at once, worded for them.
    for page in (b, v):
        expect(chat_item(page, "Книжный клуб")).to_contain_text("Анна Лебедева сменил(а) фото группы")
    chat_item(b, "Книжный клуб").click()
    expect(b.locator(".system-message").first).to_have_text("Анна Лебедева создал(а) группу «Книжный клуб»")

    # A message reaches both: with its sender's name over it, and in Вера's list.
    send(a, "Всем привет!")
    greeting = message(b, "Всем привет!")
    expect(greeting).to_have_class(re.compile(r"\btheirs\b.*\brun-start\b"))
    expect(greeting.locator(".message-sender")).to_have_text("Анна Лебедева")
    item = chat_item(v, "Книжный клуб")
    expect(item.locator(".chat-item-preview")).to_have_text("Анна: Всем привет!")
    expect(item.locator(".unread-badge")).to_have_text("1")
    send(a, "Обсудим книгу в субботу")
    same_run = message(b, "Обсудим книгу")
    expect(same_run).to_be_visible()
    expect(same_run).not_to_have_class(re.compile(r"\brun-start\b"))
    expect(same_run.locator(".message-sender")).to_be_hidden()

    # Борис mentions Вера with the autocomplete (the keyboard only).
    composer = b.get_by_label("Сообщение", exact=True)
    composer.press_sequentially("@В")
    options = b.locator(".mention-list .mention-option")
    expect(options).to_have_count(1)
    expect(options.first).to_have_text(vera.name)
    composer.press("Escape")
    expect(b.locator(".mention-list")).to_be_hidden()
    composer.press_sequentially("е")
    expect(options.first).to_have_attribute("aria-selected", "true")
    composer.press("Enter")
    expect(composer).to_have_value("@Вера ")
    composer.press_sequentially("приходи тоже")
    composer.press("Enter")
    expect(composer).to_have_value("")
    mention = message(b, "приходи тоже")
    expect(mention.locator(".mention")).to_have_text("@Вера")
    expect(mention.locator(".mention-me")).to_have_count(0)

    # Вера sees "@" in her list before she opens the group, then her name marked.
    expect(item.locator(".mention-badge")).to_be_visible()
    expect(item.locator(".unread-badge")).to_have_text("3")
    screenshot(v, "group-list")
    item.click()
    expect(message(v, "приходи тоже").locator(".mention-me")).to_have_text("@Вера")
    expect(item.locator(".mention-badge")).to_have_count(0)
    expect(message(v, "приходи тоже").locator(".message-sender")).to_have_text("Борис Орлов")
    expect(message(v, "Всем привет!").locator(".message-face img")).to_be_visible()

    # Both have read Анна's greeting: "Прочитано 2", and who.
    read = message(a, "Всем привет!").locator(".read-count")
    expect(read).to_have_text("Прочитано 2")
    read.click()
    readers = a.get_by_role("dialog", name="Прочитали")
    expect(readers.locator(".reader")).to_have_count(2)
    expect(readers).to_contain_text(boris.name)
    expect(readers).to_contain_text(vera.name)
    screenshot(a, "group-chat")
    a.keyboard.press("Escape")
    expect(readers).to_be_hidden()

    # Анна renames the group in its panel; the others see it live.
    panel = open_members(a)
    expect(member(panel, anna.name)).to_contain_text("владелец")
    expect(member(panel, boris.name)).to_contain_text("участник")
    screenshot(a, "group-members")
    panel.get_by_label("Название группы").fill("Клуб любителей книг")
    panel.get_by_role("button", name="Сохранить").click()
    expect(a.locator(".chat-title")).to_have_text("Клуб любителей книг")
    for page in (b, v):
        expect(page.locator(".chat-title")).to_have_text("Клуб любителей книг")
        expect(chat_item(page, "Клуб любителей книг")).to_be_visible()
        expect(page.locator(".system-message").last).to_have_text(
            "Анна Лебедева переименовал(а) группу в «Клуб любителей книг»"
        )

    # The group passes to Борис: every window shows the new roles.
    accept_next_dialog(a, f"Передать группу пользователю {boris.name}? Вы станете администратором.")
    member_action(panel, boris.name, "Передать владение")
    panels = {page: open_members(page) for page in (b, v)}
    panels[a] = panel
    for page, shown in panels.items():
        expect(member(shown, boris.name).locator(".member-role")).to_have_text("владелец")
        expect(member(shown, anna.name).locator(".member-role")).to_have_text("администратор")
        expect(member(shown, vera.name).locator(".member-role")).to_have_text("участник")
        expect(page.locator(".system-message", has_text="Новый владелец группы")).to_be_visible()
    expect(b.locator(".system-message", has_text="Новый владелец группы").last).to_have_text(
        "Новый владелец группы: вы"
    )
    # What each may do follows: Вера has no actions, Анна (now an admin) no roles to give.
    expect(panels[v].get_by_role("button", name=re.compile("^Действия"))).to_have_count(0)
    expect(panels[v].get_by_role("button", name="Добавить участников")).to_be_hidden()
    panels[a].get_by_role("button", name=f"Действия: {vera.name}").click()
    expect(panels[a].get_by_role("button", name=f"Передать владение: {vera.name}")).to_have_count(0)
    expect(panels[a].get_by_role("button", name="Удалить группу")).to_be_hidden()
    expect(panels[b].get_by_role("button", name="Удалить группу")).to_be_visible()

    # Анна, an admin, removes Вера: her window drops the group at once.
    accept_next_dialog(a, f"Удалить {vera.name} из группы?")
    panels[a].get_by_role("button", name=f"Удалить из группы: {vera.name}").click()
    expect(v.locator("[data-chat-empty]")).to_contain_text("Вас удалили из группы")
    expect(chat_item(v, "Клуб любителей книг")).to_have_count(0)
    expect(v.locator(".members-panel")).to_have_count(0)
    for page in (a, b):
        expect(page.locator(".chat-subtitle")).to_have_text("2 участника")
        expect(member(panels[page], vera.name)).to_have_count(0)
    expect(b.locator(".system-message").last).to_have_text(f"Анна Лебедева удалил(а) из группы: {vera.name}")

    # Анна leaves; Борис stays, alone.
    accept_next_dialog(a, "Покинуть группу «Клуб любителей книг»?")
    panels[a].get_by_role("button", name="Покинуть группу").click()
    expect(a.locator("[data-chat-empty]")).to_contain_text("Вы покинули группу")
    expect(chat_item(a, "Клуб любителей книг")).to_have_count(0)
    expect(b.locator(".chat-subtitle")).to_have_text("1 участник")
    expect(b.locator(".system-message").last).to_have_text("Анна Лебедева покинул(а) группу")
    expect(member(panels[b], anna.name)).to_have_count(0)


def test_the_members_sheet_on_a_phone(new_page: Callable[..., Any], account: MakeAccount) -> None:
    owner, friend, other = account("Ольга", "Миронова"), account("Пётр", "Ильин"), account("Нина", "Титова")
    owner.befriend(friend)
    owner.befriend(other)
    body = {"title": "Соседи", "member_ids": [friend.user_id, other.user_id]}
    chat_id = owner.call("POST", "/api/v1/chats", json=body)["chat"]["id"]
    friend.send(chat_id, "Добрый вечер, соседи!")
    page = new_page(owner, viewport=PHONE_390)
    page.goto(f"/?chat={chat_id}")
    expect(page.locator(".chat-subtitle")).to_have_text("3 участника")
    expect(message(page, "Добрый вечер").locator(".message-sender")).to_have_text(friend.name)
    screenshot(page, "group-chat")

    panel = open_members(page)
    box = panel.bounding_box()
    assert box == {"x": 0, "y": 0, "width": PHONE_390["width"], "height": PHONE_390["height"]}
    expect(panel.locator(".member")).to_have_count(3)
    panel.get_by_role("button", name=f"Действия: {friend.name}").click()
    expect(panel.get_by_role("button", name=f"Сделать администратором: {friend.name}")).to_be_visible()
    screenshot(page, "group-members")
    panel.get_by_role("button", name=f"Сделать администратором: {friend.name}").click()
    expect(member(panel, friend.name).locator(".member-role")).to_have_text("администратор")
    panel.get_by_role("button", name="Закрыть").click()
    expect(panel).to_have_count(0)
    expect(page.locator(".chat-header-button")).to_be_focused()

    # The new-group dialog fills the phone's screen.
    page.get_by_role("button", name="К списку чатов").click()
    expect(chat_item(page, "Соседи").locator(".chat-item-preview")).to_have_text(
        f"Новый администратор: {friend.name}"
    )
    screenshot(page, "group-list")
    page.get_by_role("button", name="Новая группа").click()
    dialog = page.get_by_role("dialog", name="Новая группа")
    expect(dialog.get_by_label(friend.name)).to_be_visible()
    assert dialog.bounding_box()["width"] == PHONE_390["width"]
    screenshot(page, "group-dialog")
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()


def test_a_group_in_english(new_page: Callable[..., Any], account: MakeAccount) -> None:
    owner, friend = account("Kate", "Moss"), account("Liam", "Hart")
    owner.befriend(friend)
    body = {"title": "Reading club", "member_ids": [friend.user_id]}
    chat_id = owner.call("POST", "/api/v1/chats", json=body)["chat"]["id"]
    owner.send(chat_id, "Hello")
    page = new_page(friend, locale="en-US")
    page.goto(f"/?chat={chat_id}")
    expect(page.locator(".chat-subtitle")).to_have_text("2 members")
    expect(page.locator(".system-message").first).to_have_text("Kate Moss created the group “Reading club”")
    expect(chat_item(page, "Reading club").locator(".chat-item-preview")).to_have_text("Kate: Hello")
    page.get_by_label("Message", exact=True).fill("Hi")
    page.get_by_label("Message", exact=True).press("Enter")
    mine = message(page, "Hi")
    expect(mine.locator(".read-mark")).to_have_text("sent")
    # Kate reads it (through the API): the count comes live.
    read_up_to = {"message_id": int(mine.get_attribute("data-message-id"))}
    owner.call("POST", f"/api/v1/chats/{chat_id}/read", json=read_up_to)
    expect(mine.locator(".read-count")).to_have_text("Read by 1")
