"""Sessions and blocking in the browser: ending the other sessions from the profile signs
another browser out (which says why); blocking from the chat header, the person card and
search results closes the blocked user's composer; the profile's privacy and account
sections in Russian and English."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import Account, screenshot_both
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]
CANNOT_WRITE = "Вы не можете написать этому пользователю"


def accept_dialogs(page: Any) -> None:
    page.on("dialog", lambda dialog: dialog.accept())


def test_ending_the_other_sessions_signs_the_other_browser_out(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    me = account("Алёна", "Сеансова")
    here, elsewhere = new_page(me), new_page(me)
    elsewhere.goto("/")  # the chats page, waiting on its event stream
    expect(elsewhere.get_by_role("heading", name="Чаты", level=2)).to_be_visible()

    here.goto("/profile")
    sessions = here.locator("[data-session-list] .session")
    expect(sessions).to_have_count(3)  # this browser, the other one, the API's sign-in
    current = here.locator('[data-session-list] .session[data-current="true"]')
    expect(current).to_have_count(1)
    expect(current.get_by_text("Этот сеанс")).to_be_visible()
    expect(here.locator("[data-session-list] .session button", has_text="Завершить")).to_have_count(2)
    screenshot_both(here, "profile-sessions")

    # All the others at once: the API's token no longer reads /users/me either.
    assert me.session.get(f"{me.url}/api/v1/users/me", timeout=30).status_code == 200
    here.get_by_role("button", name="Завершить все другие").click()
    expect(here.locator("[data-sessions-status]")).to_have_text("Завершено сеансов: 2")
    expect(sessions).to_have_count(1)
    assert me.session.get(f"{me.url}/api/v1/users/me", timeout=30).status_code == 401

    # The other browser is signed out at once (its waiting poll ends) and told why.
    expect(elsewhere).to_have_url(re.compile(r"/login\?.*ended=ended_elsewhere"))
    expect(elsewhere.get_by_text("Сеанс завершён на другом устройстве")).to_be_visible()
    elsewhere.goto("/profile")
    expect(elsewhere).to_have_url(re.compile(r"/login\?next="))

    # This one goes on.
    here.reload()
    expect(here).to_have_url(re.compile(r"/profile$"))
    expect(here.locator("[data-session-list] .session")).to_have_count(1)


def test_ending_one_session_from_its_row(new_page: Callable[..., Any], account: MakeAccount) -> None:
    me = account("Борис", "Строков")
    here, elsewhere = new_page(me), new_page(me)
    elsewhere.goto("/friends")
    here.goto("/profile")
    rows = here.locator("[data-session-list] .session")
    expect(rows).to_have_count(3)
    # The newest other session is the other browser's (it signed in after the API).
    newest = rows.filter(has=here.locator("button")).last
    newest.get_by_role("button", name=re.compile("^Завершить")).click()
    expect(rows).to_have_count(2)
    # The friends page waits on its event stream too: the ending signs it out by itself.
    expect(elsewhere).to_have_url(re.compile(r"/login\?.*ended=ended_elsewhere"))
    expect(elsewhere.get_by_text("Сеанс завершён на другом устройстве")).to_be_visible()
    assert me.session.get(f"{me.url}/api/v1/users/me", timeout=30).status_code == 200  # the API's lives


def test_blocking_from_the_chat_header_closes_the_blocked_users_composer(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    alena, boris = account("Алёна", "Блокова"), account("Борис", "Заблоков")
    alena.befriend(boris)
    chat = alena.open_chat(boris)
    boris.send(chat, "Привет!")

    mine, theirs = new_page(alena), new_page(boris)
    accept_dialogs(mine)
    theirs.goto(f"/?chat={chat}")
    composer = theirs.get_by_label("Сообщение", exact=True)
    expect(composer).to_be_enabled()

    mine.goto(f"/?chat={chat}")
    header = mine.locator(".chat-header")
    header.get_by_role("button", name="Заблокировать").click()
    expect(header.get_by_role("button", name="Разблокировать")).to_be_visible()

    # Борис's chat stays readable, but he can't write, and is told so in neutral words.
    theirs.reload()
    expect(theirs.locator(".history .message", has_text="Привет!")).to_be_visible()
    composer = theirs.get_by_label("Сообщение", exact=True)
    expect(composer).to_be_disabled()
    expect(composer).to_have_attribute("placeholder", CANNOT_WRITE)
    expect(theirs.locator(".chat-view").get_by_text(CANNOT_WRITE)).to_be_visible()
    screenshot_both(theirs, "chat-blocked")
    # Nor does Алёна see an open composer: a block closes the chat both ways.
    expect(mine.get_by_label("Сообщение", exact=True)).to_be_disabled()

    # The profile lists him; unblocking there lifts the block (the friendship stays ended).
    mine.goto("/profile")
    blocked = mine.locator("[data-blocked-list] .person", has_text=boris.name)
    expect(blocked).to_be_visible()
    screenshot_both(mine, "profile-blocked")
    blocked.get_by_role("button", name=re.compile("^Разблокировать")).click()
    expect(mine.locator("[data-blocked-list] .person", has_text=boris.name)).to_have_count(0)
    assert alena.call("GET", "/api/v1/blocks")["blocks"] == []


def test_blocking_from_the_person_card_and_from_search_results(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    alena, vera = account("Алёна", "Карточкина"), account("Вера", "Найденова")
    vera.call("PATCH", "/api/v1/users/me", json={"username": f"vera_{vera.user_id.lower()}"[:32]})
    username = vera.call("GET", "/api/v1/users/me")["user"]["username"]
    page = new_page(alena)
    accept_dialogs(page)

    page.goto(f"/u/{username}")
    card = page.locator("[data-person]")
    expect(card.get_by_role("button", name="Добавить в друзья")).to_be_visible()
    card.get_by_role("button", name=re.compile("^Заблокировать")).click()
    expect(card.get_by_role("button", name=re.compile("^Разблокировать"))).to_be_visible()
    assert [b["user_id"] for b in alena.call("GET", "/api/v1/blocks")["blocks"]] == [vera.user_id]
    # Вера can't ask to be friends now.
    vera.call("POST", "/api/v1/users_friends", status=403, json={"action": "add", "friend_id": alena.user_id})

    # Search results offer only the unblocking for her; unblocking brings back "Добавить".
    page.goto("/friends")
    page.get_by_label("Поиск по имени, фамилии или ID").fill(username)
    result = page.locator('[data-list="search"] .person', has_text=vera.name)
    expect(result.get_by_role("button", name=re.compile("^Разблокировать"))).to_be_visible()
    expect(result.get_by_role("button", name=re.compile("^Добавить"))).to_have_count(0)
    result.get_by_role("button", name=re.compile("^Разблокировать")).click()
    expect(result.get_by_role("button", name=re.compile("^Добавить"))).to_be_visible()
    result.get_by_role("button", name=re.compile("^Заблокировать")).click()
    expect(result.get_by_role("button", name=re.compile("^Разблокировать"))).to_be_visible()
    assert [b["user_id"] for b in alena.call("GET", "/api/v1/blocks")["blocks"]] == [vera.user_id]


@pytest.mark.parametrize(
    ("locale", "texts"),
    [
        (
            "ru-RU",
            {
                "sessions": "Сеансы",
                "end_others": "Завершить все другие",
                "username": "Имя пользователя",
                "id_vs_username": "ID меняется при каждой смене пароля",
                "privacy": "Конфиденциальность",
                "last_seen": "Кто видит, когда я был(а) в сети",
                "receipts": "Отправлять отметки о прочтении",
                "typing": "Показывать, что я печатаю",
                "forward": "Ссылаться на мой аккаунт, когда мои сообщения пересылают",
                "blocked": "Заблокированные",
                "export": "Подготовить архив",
                "delete": "Удаление аккаунта",
                "warning": "Это нельзя отменить",
                "delete_messages": "Также удалить все мои сообщения",
            },
        ),
        (
            "en-US",
            {
                "sessions": "Sessions",
                "end_others": "End all other sessions",
                "username": "Username",
                "id_vs_username": "Your ID changes with every password",
                "privacy": "Privacy",
                "last_seen": "Who sees when I was last online",
                "receipts": "Send read receipts",
                "typing": "Show that I am typing",
                "forward": "Link to my account when my messages are forwarded",
                "blocked": "Blocked users",
                "export": "Prepare the archive",
                "delete": "Delete the account",
                "warning": "This cannot be undone",
                "delete_messages": "Also delete all my messages",
            },
        ),
    ],
)
def test_the_profile_offers_privacy_and_account_control(
    new_page: Callable[..., Any], account: MakeAccount, locale: str, texts: dict[str, str]
) -> None:
    me = account("Алёна", "Профилева")
    page = new_page(me, locale=locale)
    page.goto("/profile")
    expect(page.locator("[data-session-list] .session")).to_have_count(2)
    for key, text in texts.items():
        expect(page.get_by_text(text, exact=False).first, key).to_be_visible()
    expect(page.get_by_role("button", name=texts["end_others"])).to_be_visible()
    expect(page.get_by_label(texts["last_seen"])).to_be_visible()
    for label in (texts["receipts"], texts["typing"], texts["forward"]):
        expect(page.get_by_label(label, exact=False)).to_be_checked()
    expect(page.get_by_label(texts["delete_messages"], exact=False)).not_to_be_checked()
    expect(page.locator("[data-delete-panel] .alert-warning")).to_contain_text(texts["warning"])

    # A privacy switch is saved as it is flipped.
    page.get_by_label(texts["forward"], exact=False).uncheck()
    expect(page.locator("[data-privacy-status]")).not_to_be_empty()
    assert me.call("GET", "/api/v1/users/me/privacy")["forward_link"] is False
    if locale == "ru-RU":
        screenshot_both(page, "profile-privacy")
