"""The conversation in the browser: replies and the jump to a quoted message 300 messages
back, forwarding to two chats, reactions seen live in the other window, the edit history,
delete for me and clearing a chat (the other side keeps its copy), pins, and the message
menu on a desktop (right click, the keyboard) and on a 390 px touch screen (long press)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import Account, long_press, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]
PHONE_390 = {"width": 390, "height": 844}


def message(page: Any, text: str) -> Any:
    """The message whose own text (not a quote of another's) holds ``text``."""
    return page.locator(".history .message").filter(has=page.locator(".message-text", has_text=text))


def exactly(page: Any, text: str) -> Any:
    """The message whose text is ``text`` (a bubble's whole text also holds its time)."""
    return page.locator(".history .message").filter(
        has=page.locator(".message-text", has_text=re.compile(f"^{re.escape(text)}$"))
    )


def by_id(page: Any, message_id: int) -> Any:
    return page.locator(f'.history .message[data-message-id="{message_id}"]')


def send(page: Any, text: str) -> None:
    composer = page.get_by_label("Сообщение", exact=True)
    composer.fill(text)
    composer.press("Enter")
    expect(composer).to_have_value("")


def menu(page: Any) -> Any:
    return page.locator("dialog.popmenu")


def open_menu(page: Any, text: str) -> Any:
    """Right-click a message's bubble: its menu."""
    message(page, text).locator(".bubble").click(button="right")
    expect(menu(page)).to_be_visible()
    return menu(page)


def choose(page: Any, text: str, item: str) -> None:
    open_menu(page, text).get_by_role("menuitem", name=item, exact=True).click()
    expect(menu(page)).to_have_count(0)


def accept_next_dialog(page: Any, expected: str) -> None:
    def accept(dialog: Any) -> None:
        assert dialog.message == expected
        dialog.accept()

    page.once("dialog", accept)


def friends_with_chat(account: MakeAccount) -> tuple[Account, Account, int]:
    me, friend = account("Анна", "Лебедева"), account("Борис", "Орлов")
    me.befriend(friend)
    return me, friend, me.open_chat(friend)


def test_reply_and_jump_to_a_message_300_back(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    first = anna.send(chat_id, "Самое первое сообщение")
    for i in range(1, 321):
        (boris if i % 2 else anna).send(chat_id, f"Сообщение номер {i}")
    boris.call(
        "POST",
        f"/api/v1/chats/{chat_id}/messages",
        json={"text": "Помню то самое", "reply_to_id": first["id"]},
    )
    a, b = new_page(anna), new_page(boris)
    around: list[str] = []
    a.on("request", lambda request: around.append(request.url) if "around=" in request.url else None)
    for page in (a, b):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Помню то самое")).to_be_visible()

    # The quote names the original's author and its first words; a click goes back 320
    # messages: loaded around it, scrolled to and lit up.
    quote = message(a, "Помню то самое").locator(".message-quote")
    expect(quote.locator(".quote-author")).to_have_text("Вы")
    expect(quote.locator(".quote-text")).to_have_text("Самое первое сообщение")
    expect(by_id(a, first["id"])).to_have_count(0)
    quote.click()
    original = by_id(a, first["id"])
    expect(original).to_be_in_viewport()
    expect(original).to_have_class(re.compile(r"\bhighlighted\b"))
    assert len(around) == 1 and f"around={first['id']}" in around[0]
    expect(a.locator(".history-top")).to_have_text("Это начало переписки")
    screenshot(a, "conversation-jump")

    # From there the history runs on downwards, page after page, to the latest.
    newer = a.get_by_role("button", name="К последним сообщениям")
    expect(newer).to_be_visible()
    scroller = a.locator(".history-scroller")
    for _ in range(30):
        if exactly(a, "Сообщение номер 100").count():
            break
        scroller.evaluate("el => { el.scrollTop = el.scrollHeight; el.dispatchEvent(new Event('scroll')); }")
        a.wait_for_timeout(100)
    expect(exactly(a, "Сообщение номер 100")).to_have_count(1)
    ids = [
        int(i)
        for i in a.locator(".history .message").evaluate_all("els => els.map(e => e.dataset.messageId)")
    ]
    assert ids == sorted(set(ids)), "history must stay in order with no duplicates"
    newer.click()
    expect(message(a, "Помню то самое")).to_be_in_viewport()
    expect(newer).to_be_hidden()

    # Reply from the menu: the bar over the composer, ✕ and Esc let it go.
    choose(a, "Сообщение номер 320", "Ответить")
    bar = a.locator(".reply-bar")
    expect(bar).to_be_visible()
    expect(bar.locator(".reply-bar-author")).to_have_text("В ответ себе")
    expect(bar.locator(".reply-bar-text")).to_have_text("Сообщение номер 320")
    bar.get_by_role("button", name="Отменить ответ").click()
    expect(bar).to_be_hidden()
    choose(a, "Сообщение номер 319", "Ответить")
    expect(bar.locator(".reply-bar-author")).to_have_text(f"В ответ: {boris.name}")
    a.get_by_label("Сообщение", exact=True).press("Escape")
    expect(bar).to_be_hidden()
    choose(a, "Сообщение номер 319", "Ответить")
    expect(a.get_by_label("Сообщение", exact=True)).to_be_focused()
    send(a, "Отвечаю на 319")
    expect(bar).to_be_hidden()
    for page in (a, b):
        reply = message(page, "Отвечаю на 319").locator(".message-quote")
        expect(reply.locator(".quote-text")).to_have_text("Сообщение номер 319")
    expect(message(b, "Отвечаю на 319").locator(".quote-author")).to_have_text("Вы")

    # Deleted for everyone, the original leaves its replies saying so, live.
    accept_next_dialog(b, "Удалить это сообщение для всех?")
    choose(b, "Сообщение номер 319", "Удалить для всех")
    for page in (a, b):
        expect(message(page, "Отвечаю на 319").locator(".message-quote")).to_have_text("Сообщение удалено")


def test_reply_by_long_press_on_a_phone(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    anna.send(chat_id, "Моё сообщение")
    boris.send(chat_id, "Как дела?")
    page = new_page(anna, viewport=PHONE_390, touch=True)
    page.goto(f"/?chat={chat_id}")
    expect(message(page, "Как дела?")).to_be_visible()

    # No buttons beside the messages on a touch screen: the long press is the way.
    mine = message(page, "Моё сообщение")
    expect(mine.locator(".message-actions")).to_be_hidden()
    long_press(page, message(page, "Как дела?").locator(".bubble"), menu(page))
    sheet = menu(page)
    box = sheet.bounding_box()
    assert box["width"] == PHONE_390["width"] and abs(box["y"] + box["height"] - PHONE_390["height"]) < 2
    items = sheet.get_by_role("menuitem")
    # Someone else's message in a direct chat: no edit, no delete for everyone.
    expect(items).to_have_text(["Ответить", "Переслать", "Копировать текст", "Закрепить", "Удалить у себя"])
    screenshot(page, "conversation-menu")
    sheet.get_by_role("menuitem", name="Ответить").click()
    expect(page.locator(".reply-bar-text")).to_have_text("Как дела?")
    send(page, "Отлично!")
    expect(message(page, "Отлично!").locator(".quote-text")).to_have_text("Как дела?")

    # Our own: edit and delete for everyone are there too.
    long_press(page, mine.locator(".bubble"), menu(page))
    expect(menu(page).get_by_role("menuitem")).to_have_text(
        [
            "Ответить",
            "Переслать",
            "Копировать текст",
            "Изменить",
            "Закрепить",
            "Удалить у себя",
            "Удалить для всех",
        ]
    )
    page.keyboard.press("Escape")
    expect(menu(page)).to_have_count(0)

    # A reaction from the sheet's quick row; a long press on its chip names who gave it.
    long_press(page, message(page, "Как дела?").locator(".bubble"), menu(page))
    menu(page).get_by_role("button", name="Реакция ❤️").click()
    chip = message(page, "Как дела?").locator(".reaction-chip")
    expect(chip).to_have_text("❤️1")
    boris.call("PUT", f"/api/v1/messages/{chip_message_id(page, 'Как дела?')}/reactions/%E2%9D%A4")
    expect(chip).to_have_text("❤️2")
    long_press(page, chip, page.locator(".reactors-popover"))
    expect(page.locator(".reactors-popover")).to_contain_text(f"Вы, {boris.name}")
    expect(menu(page)).to_have_count(0)
    screenshot(page, "conversation-reactors")


def chip_message_id(page: Any, text: str) -> int:
    return int(message(page, text).get_attribute("data-message-id"))


def test_forward_to_two_chats(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    vera, gleb = account("Вера", "Зайцева"), account("Глеб", "Котов")
    anna.befriend(vera)
    anna.befriend(gleb)
    vera_chat = anna.open_chat(vera)
    group = anna.call("POST", "/api/v1/chats", json={"title": "Дача", "member_ids": [gleb.user_id]})["chat"][
        "id"
    ]
    boris.send(chat_id, "Встречаемся в субботу у вокзала")
    a, v = new_page(anna), new_page(vera)
    a.goto(f"/?chat={chat_id}")
    v.goto(f"/?chat={vera_chat}")
    expect(message(a, "Встречаемся")).to_be_visible()

    choose(a, "Встречаемся", "Переслать")
    dialog = a.get_by_role("dialog", name="Переслать сообщение")
    expect(dialog).to_be_visible()
    send_button = dialog.get_by_role("button", name="Переслать", exact=True)
    expect(send_button).to_be_disabled()
    dialog.get_by_label("Поиск чатов").fill("вер")
    expect(dialog.locator(".picker-item")).to_have_count(1)
    dialog.get_by_label(vera.name).check()
    dialog.get_by_label("Поиск чатов").fill("")
    dialog.get_by_label("Дача").check()
    expect(dialog.locator(".picker-count")).to_have_text("Выбрано 2 чата")
    screenshot(a, "conversation-forward")
    send_button.click()
    expect(dialog).to_be_hidden()

    # The copies: in the lists, and live in Вера's open chat, naming who wrote it first.
    for title in ("Дача", vera.name):
        expect(a.locator(".chat-item", has_text=title).locator(".chat-item-preview")).to_have_text(
            "Вы: Встречаемся в субботу у вокзала"
        )
    copy = message(v, "Встречаемся")
    expect(copy.locator(".message-forwarded")).to_have_text(f"Переслано от {boris.name}")
    link = copy.get_by_role("link", name=boris.name)
    expect(link).to_have_attribute("href", f"/friends?q={boris.user_id}")
    assert (
        gleb.call("GET", f"/api/v1/chats/{group}/messages")["messages"][-1]["forwarded_from"]["name"]
        == boris.name
    )


def test_reactions_live_in_the_other_window(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    boris.send(chat_id, "Я сдал экзамен!")
    a, b = new_page(anna), new_page(boris)
    for page in (a, b):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Я сдал экзамен!")).to_be_visible()

    # The quick row: Анна's 👍 reaches Борис at once, not as his.
    quick = open_menu(a, "Я сдал экзамен!").locator(".quick-reaction")
    expect(quick).to_have_text(["👍", "❤️", "😂", "😮", "😢", "🙏", "+"])
    quick.first.click()
    chip_a = message(a, "Я сдал").locator(".reaction-chip")
    chip_b = message(b, "Я сдал").locator(".reaction-chip")
    expect(chip_a).to_have_text("👍1")
    expect(chip_a).to_have_attribute("aria-pressed", "true")
    expect(chip_b).to_have_text("👍1")
    expect(chip_b).to_have_attribute("aria-pressed", "false")
    expect(chip_b).to_have_attribute("title", anna.name)

    # Борис joins with a click on the chip; each still knows which is theirs.
    chip_b.click()
    expect(chip_b).to_have_text("👍2")
    expect(chip_b).to_have_attribute("aria-pressed", "true")
    expect(chip_a).to_have_text("👍2")
    expect(chip_a).to_have_attribute("aria-pressed", "true")
    expect(chip_a).to_have_attribute("title", f"Вы, {boris.name}")

    # The full picker: found by name, picked; then Анна takes her 👍 back.
    open_menu(a, "Я сдал").get_by_role("button", name="Другие реакции").click()
    picker = a.get_by_role("dialog", name="Выберите реакцию")
    expect(picker.locator(".emoji-section").first).to_be_visible()
    picker.get_by_label("Поиск эмодзи").fill("ракета")
    expect(picker.locator(".emoji-choice")).to_have_count(1)
    screenshot(a, "conversation-picker")
    picker.locator(".emoji-choice").click()
    expect(picker).to_be_hidden()
    for page in (a, b):
        expect(message(page, "Я сдал").locator(".reaction-chip")).to_have_text(["👍2", "🚀1"])
    chip_a.first.click()
    for page in (a, b):
        expect(message(page, "Я сдал").locator(".reaction-chip")).to_have_text(["👍1", "🚀1"])
    expect(message(a, "Я сдал").locator(".reaction-chip").first).to_have_attribute("aria-pressed", "false")
    expect(message(b, "Я сдал").locator(".reaction-chip").first).to_have_attribute("aria-pressed", "true")
    screenshot(b, "conversation-reactions")


def test_edit_history_and_the_keyboard(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    for i in range(30):
        boris.send(chat_id, f"Заполняем историю {i}")
    a, b = new_page(anna), new_page(boris)
    for page in (a, b):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Заполняем историю 29")).to_be_visible()
    send(a, "Встреча в 5")
    meeting = by_id(a, int(message(a, "Встреча в 5").get_attribute("data-message-id")))

    # ↑ in the empty composer edits the last message, its form in view with its buttons.
    composer = a.get_by_label("Сообщение", exact=True)
    composer.press("ArrowUp")
    editor = meeting.get_by_label("Текст сообщения")
    expect(editor).to_be_focused()
    expect(meeting.get_by_role("button", name="Сохранить")).to_be_in_viewport()
    editor.press("Escape")
    expect(editor).to_have_count(0)
    expect(composer).to_be_focused()
    composer.press("ArrowUp")
    editor.fill("Встреча в 6")
    editor.press("Enter")
    expect(composer).to_be_focused()
    choose(a, "Встреча в 6", "Изменить")
    editor.fill("Встреча в 7, у входа")
    editor.press("Enter")

    # "изменено" opens the history, for Борис too: every text with its date, oldest first.
    edited = message(b, "Встреча в 7").locator(".message-edited")
    expect(edited).to_have_text("изменено")
    edited.click()
    dialog = b.get_by_role("dialog", name="История изменений")
    expect(dialog.locator(".version-text")).to_have_text(
        ["Встреча в 5", "Встреча в 6", "Встреча в 7, у входа"]
    )
    expect(dialog.locator(".version.is-current .version-kind")).to_have_text("сейчас")
    expect(dialog.locator(".version time").first).to_have_attribute("datetime", re.compile(r"^\d{4}-"))
    screenshot(b, "conversation-history")
    b.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # The menu from the keyboard: the "⋯" button, arrows, Esc gives the focus back.
    more = message(b, "Встреча в 7").get_by_role("button", name="Действия с сообщением")
    more.focus()
    more.press("Enter")
    expect(menu(b)).to_be_visible()
    expect(menu(b).get_by_role("menuitem", name="Ответить")).to_be_focused()
    b.keyboard.press("ArrowDown")
    expect(menu(b).get_by_role("menuitem", name="Переслать")).to_be_focused()
    b.keyboard.press("ArrowUp")
    b.keyboard.press("ArrowUp")
    expect(menu(b).get_by_role("menuitem").last).to_be_focused()
    b.keyboard.press("Escape")
    expect(menu(b)).to_have_count(0)
    expect(more).to_be_focused()
    choose(b, "Встреча в 7", "Показать историю изменений")
    expect(dialog.locator(".version")).to_have_count(3)


def test_an_edit_under_way_survives_the_other_reading_it(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    # Found by the flaky-test hunt (issue 11, item 18): the read mark redrew the message
    # and threw its open edit form away when Борис read it while Анна was editing.
    anna, boris, chat_id = friends_with_chat(account)
    a = new_page(anna)
    a.goto(f"/?chat={chat_id}")
    send(a, "Встреча в 5")
    meeting = message(a, "Встреча в 5")
    meeting_id = int(meeting.get_attribute("data-message-id"))
    a.get_by_label("Сообщение", exact=True).press("ArrowUp")
    editor = by_id(a, meeting_id).get_by_label("Текст сообщения")
    expect(editor).to_be_focused()
    editor.fill("Встреча в 6")

    boris.call("POST", f"/api/v1/chats/{chat_id}/read", json={"message_id": meeting_id})
    boris.send(chat_id, "Прочитал")  # events arrive in order: the read mark came first
    expect(message(a, "Прочитал")).to_be_visible()
    expect(editor).to_have_value("Встреча в 6")
    editor.press("Escape")
    expect(by_id(a, meeting_id)).to_contain_text("прочитано")  # the read mark was kept for after


def test_delete_for_me_and_clear_leave_the_other_side_alone(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    boris.send(chat_id, "Первое")
    boris.send(chat_id, "Не для всех")
    boris.send(chat_id, "Третье")
    a, b = new_page(anna), new_page(boris)
    other_tab = a.context.new_page()
    new_page.watch.attach(other_tab)  # type: ignore[attr-defined]
    for page in (a, b, other_tab):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Третье")).to_be_visible()

    accept_next_dialog(a, "Удалить это сообщение только у себя? У собеседников оно останется.")
    choose(a, "Не для всех", "Удалить у себя")
    expect(message(a, "Не для всех")).to_have_count(0)
    expect(message(other_tab, "Не для всех")).to_have_count(0)  # message.hidden
    expect(message(b, "Не для всех")).to_be_visible()
    expect(message(a, "Третье")).to_be_visible()

    # Clearing the chat for Анна: her tabs are empty, Борис keeps it all.
    a.get_by_role("button", name="Действия с чатом").click()
    accept_next_dialog(a, "Очистить историю этого чата у себя? У собеседников она останется.")
    menu(a).get_by_role("menuitem", name="Очистить историю у себя").click()
    for page in (a, other_tab):
        expect(page.locator(".history .message")).to_have_count(0)
        expect(page.locator(".history-empty")).to_have_text("Сообщений пока нет. Напишите первым!")
    expect(b.locator(".history .message")).to_have_count(3)
    send(b, "После очистки")
    expect(message(a, "После очистки")).to_be_visible()
    expect(a.locator(".chat-item").first.locator(".chat-item-preview")).to_have_text("После очистки")


def test_pins_in_the_header(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, chat_id = friends_with_chat(account)
    important = anna.send(chat_id, "Адрес: ул. Ленина, 1")
    for i in range(80):
        last = boris.send(chat_id, f"Болтовня {i}")
    # Анна has read them: a chat with unread messages opens at the first of them.
    anna.call("POST", f"/api/v1/chats/{chat_id}/read", json={"message_id": last["id"]})
    a, b = new_page(anna), new_page(boris)
    for page in (a, b):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Болтовня 79")).to_be_visible()
        expect(page.locator(".pinned-bar")).to_be_hidden()

    choose(a, "Болтовня 79", "Закрепить")
    for page in (a, b):
        expect(page.locator(".pinned-bar .pinned-text")).to_have_text("Болтовня 79")
    # Борис pins the address from the API; his window and Анна's show the latest pin.
    boris.call("PUT", f"/api/v1/chats/{chat_id}/pins/{important['id']}")
    for page in (a, b):
        expect(page.locator(".pinned-bar .pinned-text")).to_have_text("Адрес: ул. Ленина, 1")
    a.locator(".pinned-bar").click()
    expect(by_id(a, important["id"])).to_be_in_viewport()
    expect(by_id(a, important["id"])).to_have_class(re.compile(r"\bhighlighted\b"))
    screenshot(a, "conversation-pinned")
    choose(a, "Адрес", "Открепить")
    for page in (a, b):
        expect(page.locator(".pinned-bar .pinned-text")).to_have_text("Болтовня 79")
    expect(open_menu(b, "Болтовня 79").get_by_role("menuitem", name="Открепить")).to_be_visible()


def test_a_group_follows_roles_and_reads_live(new_page: Callable[..., Any], account: MakeAccount) -> None:
    owner, boris, vera = account("Ольга", "Миронова"), account("Борис", "Ильин"), account("Вера", "Титова")
    owner.befriend(boris)
    owner.befriend(vera)
    body = {"title": "Соседи", "member_ids": [boris.user_id, vera.user_id]}
    chat_id = owner.call("POST", "/api/v1/chats", json=body)["chat"]["id"]
    vera.send(chat_id, "Кто взял мою лестницу?")
    asked = owner.send(chat_id, "Прочитайте, пожалуйста")
    o, b = new_page(owner), new_page(boris)
    for page in (o, b):
        page.goto(f"/?chat={chat_id}")
        expect(message(page, "Прочитайте")).to_be_visible()

    # A member may not delete Вера's message nor pin; made an admin, he may at once.
    items = open_menu(b, "лестницу").get_by_role("menuitem")
    expect(items).to_have_text(["Ответить", "Переслать", "Копировать текст", "Удалить у себя"])
    b.keyboard.press("Escape")
    owner.call("PATCH", f"/api/v1/chats/{chat_id}/members/{boris.user_id}", json={"role": "admin"})
    expect(message(b, "лестницу").locator('[data-action="delete"]')).to_have_count(1)
    items = open_menu(b, "лестницу").get_by_role("menuitem")
    expect(items).to_have_text(
        ["Ответить", "Переслать", "Копировать текст", "Закрепить", "Удалить у себя", "Удалить для всех"]
    )
    b.keyboard.press("Escape")

    # "Прочитано N" stays open and counts as they read.
    count = message(o, "Прочитайте").locator(".read-count")
    expect(count).to_have_text("Прочитано 1")  # Борис, whose window is open
    count.click()
    readers = o.get_by_role("dialog", name="Прочитали")
    expect(readers.locator(".reader")).to_have_count(1)
    vera.call("POST", f"/api/v1/chats/{chat_id}/read", json={"message_id": asked["id"]})
    expect(readers.locator(".reader")).to_have_count(2)
    expect(message(o, "Прочитайте").locator(".read-count")).to_have_text("Прочитано 2")
