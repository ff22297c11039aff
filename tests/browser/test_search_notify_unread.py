"""Finding messages and being told of them, in the browser: search over every chat and in
one chat, jumping to what was found (on a desktop and on a phone); notifications on a
hidden tab after the permission was asked for by a button; a muted chat's grey count left
out of the total, in two tabs; the unread total live on /friends; the 404 page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import PHONE, Account, cyrillic_tag, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]

# A stand-in for the browser's Notification that records what the page shows, with a
# permission that starts undecided and is granted when asked (the context grants it too),
# and a switch for the tab's visibility, which a headless browser never changes itself.
FAKE_NOTIFICATIONS = """
(() => {
  const shown = [];
  window.__shown = shown;
  window.__asked = 0;
  let permission = "default";
  class FakeNotification {
    constructor(title, options = {}) {
      this.title = title;
      this.body = options.body || "";
      this.tag = options.tag || "";
      this.onclick = null;
      shown.push(this);
    }
    static get permission() { return permission; }
    static async requestPermission() { window.__asked += 1; permission = "granted"; return permission; }
    close() { this.closed = true; }
  }
  window.Notification = FakeNotification;
  let visibility = "visible";
  const property = (name, get) => Object.defineProperty(Document.prototype, name, { get, configurable: 1 });
  property("visibilityState", () => visibility);
  property("hidden", () => visibility === "hidden");
  window.__setVisibility = (value) => {
    visibility = value;
    document.dispatchEvent(new Event("visibilitychange"));
  };
})();
"""


def friends_with_chat(a: Account, b: Account) -> int:
    a.befriend(b)
    return a.open_chat(b)


def chat_item(page: Any, name: str) -> Any:
    return page.locator(".chat-item").filter(has_text=name)


def notified(page: Any) -> list[dict[str, str]]:
    return list(page.evaluate("window.__shown.map((n) => ({ title: n.title, body: n.body }))"))


def wait_for_notifications(page: Any, count: int) -> None:
    page.wait_for_function("n => window.__shown.length >= n", arg=count)


def test_search_every_chat_and_jump_to_the_message(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    tag = cyrillic_tag()
    anna, boris, vera = account("Анна", "Лебедева"), account("Борис", "Орлов"), account("Вера", "Ким")
    with_boris, with_vera = friends_with_chat(anna, boris), friends_with_chat(anna, vera)
    target = boris.send(with_boris, f"Встречаемся у фонтана {tag}, ёлка справа 🎄")
    for i in range(120):
        boris.send(with_boris, f"Болтовня номер {i}")
    vera.send(with_vera, f"Фонтан {tag} уже не работает")
    page = new_page(anna)
    page.goto("/")
    field = page.get_by_role("searchbox", name="Поиск сообщений")
    field.fill(f"фонт {tag}")
    results = page.locator(".found-item")
    expect(results).to_have_count(2)
    expect(page.locator("[data-chat-list]")).to_be_hidden()
    # newest first; the sender or chat, the date, the matches marked in text nodes
    expect(results.nth(0).locator(".found-who")).to_have_text("Вера Ким")
    expect(results.nth(1).locator(".found-who")).to_have_text("Борис Орлов")
    marks = results.nth(1).locator("mark")
    expect(marks).to_have_text([f"фонтана {tag}"])  # neighbouring matches join
    expect(results.nth(1).locator(".found-snippet")).to_have_text(
        f"Встречаемся у фонтана {tag}, ёлка справа 🎄"
    )
    assert results.nth(1).locator(".found-time").get_attribute("datetime")
    # the keyboard: down from the field to the second result, Enter opens it there
    field.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(results.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    found = page.locator(f'.history .message[data-message-id="{target["id"]}"]')
    expect(found).to_be_in_viewport()
    expect(found).to_have_class(re.compile("highlighted"))
    assert f"chat={with_boris}" in page.url
    shown = page.locator(".history .message").evaluate_all(
        "els => els.map((e) => Number(e.dataset.messageId))"
    )
    assert shown == sorted(shown) and shown[0] == target["id"], "the history around it, in order"
    screenshot(page, "search-found")
    # Escape empties the field and the list comes back
    field.press("Escape")
    expect(page.locator("[data-chat-list]")).to_be_visible()
    expect(results).to_have_count(0)

    # In the chat: only its messages; "more" pages on with `next`
    page.get_by_role("button", name="Поиск в этом чате").click()
    in_chat = page.get_by_role("searchbox", name="Поиск в этом чате")
    expect(in_chat).to_be_focused()
    in_chat.fill("болтовня")
    in_chat.press("Enter")
    expect(page.locator(".chat-main .found-item")).to_have_count(20)
    page.locator(".chat-main .found-more").click()
    expect(page.locator(".chat-main .found-item")).to_have_count(40)
    in_chat.fill(tag)
    in_chat.press("Enter")
    expect(page.locator(".chat-main .found-item")).to_have_count(1)
    page.locator(".chat-main .found-item").click()
    expect(found).to_be_in_viewport()
    expect(page.locator(".chat-main .found")).to_be_hidden()

    # On a phone the results take the list's place, and the chat opens over them
    phone = new_page(anna, viewport=PHONE)
    phone.goto("/")
    phone.get_by_role("searchbox", name="Поиск сообщений").fill(f"ёлка {tag}")
    expect(phone.locator(".found-item")).to_have_count(1)
    screenshot(phone, "search-results")
    phone.locator(".found-item").click()
    expect(phone.locator(f'.history .message[data-message-id="{target["id"]}"]')).to_be_in_viewport()


def test_a_notification_on_a_hidden_tab(
    browser: Any, new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, vera = account("Анна", "Лебедева"), account("Борис", "Орлов"), account("Вера", "Ким")
    with_boris, with_vera = friends_with_chat(anna, boris), friends_with_chat(anna, vera)
    page = new_page(anna)
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(FAKE_NOTIFICATIONS)
    page.goto("/")
    expect(chat_item(page, "Борис Орлов")).to_be_visible()
    assert page.evaluate("window.__asked") == 0, "never asked on load"
    button = page.get_by_role("button", name="Включить уведомления")
    button.click()
    expect(button).to_be_hidden()
    assert page.evaluate("window.__asked") == 1

    # the tab in front with the list: nothing; hidden: the sender, the text
    boris.send(with_boris, "Ты тут?")
    expect(chat_item(page, "Борис Орлов").locator(".unread-badge")).to_have_text("1")
    assert notified(page) == []
    page.evaluate("window.__setVisibility('hidden')")
    boris.send(with_boris, "Привет из другого окна")
    wait_for_notifications(page, 1)
    assert notified(page) == [{"title": "Борис Орлов", "body": "Привет из другого окна"}]
    # in front with another chat open: a notification too; a click opens the chat
    page.evaluate("window.__setVisibility('visible')")
    chat_item(page, "Вера Ким").click()
    boris.send(with_boris, "Ещё одно")
    wait_for_notifications(page, 2)
    page.evaluate("window.__shown[1].onclick()")
    expect(page.locator(".chat-title")).to_have_text("Борис Орлов")
    assert f"chat={with_boris}" in page.url
    vera.send(with_vera, "Пока ты у Бориса")
    wait_for_notifications(page, 3)
    assert notified(page)[2] == {"title": "Вера Ким", "body": "Пока ты у Бориса"}

    # a sticker is named, not shown
    sticker = boris.call("GET", "/api/v1/stickers")["packs"][0]["stickers"][0]["id"]
    page.evaluate("window.__setVisibility('hidden')")
    boris.call("POST", f"/api/v1/chats/{with_boris}/messages", json={"sticker_id": sticker})
    wait_for_notifications(page, 4)
    assert notified(page)[3] == {"title": "Борис Орлов", "body": "Стикер"}
    page.evaluate("window.__setVisibility('visible')")

    # without the text, as the profile's switch says
    profile = new_page(anna)
    profile.goto("/profile")
    preview = profile.get_by_role("switch", name="Показывать текст сообщения в уведомлениях")
    expect(preview).to_be_checked()
    preview.uncheck()
    # the chats tab hears of it (settings.updated) before the next message
    page.wait_for_function(
        "() => fetch('/api/v1/settings').then(r => r.json()).then(d => d.settings.notify_preview === false)"
    )
    expect(preview).not_to_be_checked()
    page.evaluate("window.__setVisibility('hidden')")
    vera.send(with_vera, "Секрет")
    wait_for_notifications(page, 5)
    assert notified(page)[4] == {"title": "Вера Ким", "body": "Новое сообщение"}

    # muted: never, unless a mention (no mentions in a direct chat): nothing
    anna.call("PUT", f"/api/v1/chats/{with_vera}/mute", json={"until": "forever"})
    expect(chat_item(page, "Вера Ким").locator(".chat-item-muted")).to_be_visible()
    vera.send(with_vera, "Тишина")
    expect(chat_item(page, "Вера Ким").locator(".chat-item-preview")).to_have_text("Тишина")
    assert len(notified(page)) == 5

    # a muted group: a mention of us still notifies (the setting is on), nothing else does
    group = boris.call("POST", "/api/v1/chats", json={"title": "Дача", "member_ids": [anna.user_id]})["chat"][
        "id"
    ]
    anna.call("PUT", f"/api/v1/chats/{group}/mute", json={"until": "forever"})
    expect(chat_item(page, "Дача").locator(".chat-item-muted")).to_be_visible()
    boris.send(group, "Кто едет?")
    expect(chat_item(page, "Дача").locator(".chat-item-preview")).to_have_text("Борис: Кто едет?")
    assert len(notified(page)) == 5
    boris.call(
        "POST", f"/api/v1/chats/{group}/messages", json={"text": "Анна, ты?", "mentions": [anna.user_id]}
    )
    wait_for_notifications(page, 6)
    assert notified(page)[5] == {"title": "Дача · вас упомянули", "body": "Борис Орлов: Новое сообщение"}


def test_messages_of_someone_blocked_never_notify(
    browser: Any, new_page: Callable[..., Any], account: MakeAccount
) -> None:
    """In a group both stay members (issue 14): Борис, blocked, still writes there, and
    Анна's hidden tab is told of Вера's message only."""
    anna, boris, vera = account("Анна", "Белова"), account("Борис", "Шилов"), account("Вера", "Ник")
    anna.befriend(boris)
    anna.befriend(vera)
    body = {"title": "Дом", "member_ids": [boris.user_id, vera.user_id]}
    group = anna.call("POST", "/api/v1/chats", json=body)["chat"]["id"]
    page = new_page(anna)
    page.context.grant_permissions(["notifications"])
    page.context.add_init_script(FAKE_NOTIFICATIONS)
    anna.call("PUT", f"/api/v1/blocks/{boris.user_id}")
    page.goto("/")
    expect(chat_item(page, "Дом")).to_be_visible()
    page.get_by_role("button", name="Включить уведомления").click()
    page.evaluate("window.__setVisibility('hidden')")
    boris.send(group, "От заблокированного")
    vera.send(group, "От Веры")
    wait_for_notifications(page, 1)
    expect(chat_item(page, "Дом").locator(".unread-badge")).to_have_text("2")
    assert notified(page) == [{"title": "Дом", "body": "Вера Ник: От Веры"}]


def test_a_muted_chat_is_grey_and_out_of_the_total_in_every_tab(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, vera = account("Анна", "Лебедева"), account("Борис", "Орлов"), account("Вера", "Ким")
    with_boris, with_vera = friends_with_chat(anna, boris), friends_with_chat(anna, vera)
    for text in ("раз", "два", "три"):
        boris.send(with_boris, text)
    for text in ("один", "два"):
        vera.send(with_vera, text)
    page, other_tab, friends_tab = new_page(anna), new_page(anna), new_page(anna)
    friends_tab.goto("/friends")
    other_tab.goto("/")
    page.goto("/")
    expect(page).to_have_title("(5) Мессенджер")
    expect(friends_tab).to_have_title("(5) Друзья · Мессенджер")
    nav_badge = page.locator("[data-unread-total]")
    expect(nav_badge).to_have_text("5")

    chat_item(page, "Борис Орлов").click()  # reads Борис's three
    expect(page).to_have_title("(2) Мессенджер")
    page.get_by_role("button", name="Действия с чатом").click()
    page.get_by_role("menuitem", name="Без звука на 8 часов").click()
    expect(page.locator(".toast-note")).to_have_text("Чат без звука")
    # the other tab hears of it (chat.muted)
    expect(chat_item(other_tab, "Борис Орлов").get_by_role("img", name="Без звука")).to_be_visible()
    chat_item(page, "Вера Ким").click()  # reads Вера's two
    expect(page).to_have_title("Мессенджер")

    boris.send(with_boris, "четыре")
    boris.send(with_boris, "пять")
    badge = chat_item(page, "Борис Орлов").locator(".unread-badge")
    expect(badge).to_have_text("2")
    expect(badge).to_have_class(re.compile("is-muted"))
    colour = badge.evaluate("el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(107, 114, 128)", colour
    expect(badge).to_have_attribute("aria-label", "2 непрочитанных, без звука")
    expect(page).to_have_title("Мессенджер")
    expect(nav_badge).to_be_hidden()
    expect(chat_item(other_tab, "Борис Орлов").locator(".unread-badge")).to_have_text("2")
    expect(other_tab).to_have_title("Мессенджер")
    expect(friends_tab).to_have_title("Друзья · Мессенджер")
    screenshot(page, "muted-chat")

    # unmuting brings the count back into the total, in every tab
    chat_item(page, "Борис Орлов").click()
    page.get_by_role("button", name="Действия с чатом").click()
    page.get_by_role("menuitem", name="Включить звук").click()
    expect(page.locator(".toast-note")).to_have_text("Звук включён")
    assert anna.call("GET", f"/api/v1/chats/{with_boris}")["chat"]["muted_until"] is None
    expect(chat_item(other_tab, "Борис Орлов").get_by_role("img", name="Без звука")).to_have_count(0)
    chat_item(page, "Вера Ким").click()
    boris.send(with_boris, "шесть")
    expect(page).to_have_title("(1) Мессенджер")
    expect(friends_tab).to_have_title("(1) Друзья · Мессенджер")


def test_the_unread_total_on_friends_is_live(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris = account("Анна", "Лебедева"), account("Борис", "Орлов")
    chat = friends_with_chat(anna, boris)
    page = new_page(anna)
    page.goto("/friends")
    total = page.locator("[data-unread-total]")
    expect(total).to_be_hidden()
    expect(page).to_have_title("Друзья · Мессенджер")
    for n, text in enumerate(("раз", "два", "три"), start=1):
        last = boris.send(chat, text)
        expect(total).to_have_text(str(n))
    expect(page).to_have_title("(3) Друзья · Мессенджер")
    anna.call("POST", f"/api/v1/chats/{chat}/read", json={"message_id": last["id"]})
    expect(total).to_be_hidden()
    expect(page).to_have_title("Друзья · Мессенджер")
    boris.send(chat, "и на профиле")
    expect(page.locator("[data-unread-total]")).to_have_text("1")
    expect(page).to_have_title(re.compile(r"^\(1\) "))


@pytest.mark.parametrize("unread", [12, 80])
def test_opening_a_chat_starts_at_the_first_unread(
    new_page: Callable[..., Any], account: MakeAccount, unread: int
) -> None:
    """A few unread: the latest page holds them; more than a page: the page around the
    read mark comes instead. Either way the line, the first unread under it, and the
    button down with the count of those below."""
    anna, boris = account("Анна", "Лебедева"), account("Борис", "Орлов")
    chat = friends_with_chat(anna, boris)
    for i in range(40):
        read = anna.send(chat, f"Прочитанное {i}")
    firsts = [boris.send(chat, f"Новое {i}") for i in range(unread)]
    page = new_page(anna, viewport={"width": 1280, "height": 600})
    page.goto(f"/?chat={chat}")
    divider = page.locator(".unread-divider")
    expect(divider).to_have_text("Новые сообщения")
    expect(divider).to_be_in_viewport()
    first = page.locator(f'.history .message[data-message-id="{firsts[0]["id"]}"]')
    expect(first).to_be_in_viewport()
    assert page.locator(f'.history .message[data-message-id="{read["id"]}"]').count() == 1
    button = page.locator(".new-below")
    expect(button).to_be_visible()
    count = button.locator(".new-below-count")
    expect(count).to_be_visible()
    below = int(count.inner_text())
    assert 0 < below <= unread, below
    button.click()
    last = page.locator(f'.history .message[data-message-id="{firsts[-1]["id"]}"]')
    expect(last).to_be_in_viewport()
    expect(button).to_be_hidden()
    expect(page).to_have_title("Мессенджер")


def test_back_online_the_stream_reconnects_at_once(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris = account("Анна", "Лебедева"), account("Борис", "Орлов")
    chat = friends_with_chat(anna, boris)
    page = new_page(anna)
    page.goto(f"/?chat={chat}")
    expect(page.get_by_label("Сообщение", exact=True)).to_be_visible()
    banner = page.locator(".connection-banner")
    page.context.set_offline(True)
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Нет связи с сервером, переподключаемся…")
    boris.send(chat, "Пока тебя не было")
    page.context.set_offline(False)  # the browser's "online" ends the wait
    expect(banner).to_be_hidden()
    expect(page.locator(".history .message-text", has_text="Пока тебя не было")).to_be_visible()


def test_the_offline_banner_leaves_the_composer_free(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris = account("Анна", "Лебедева"), account("Борис", "Орлов")
    chat = friends_with_chat(anna, boris)
    for viewport in ({"width": 1280, "height": 800}, PHONE):
        page = new_page(anna, viewport=viewport)
        page.goto(f"/?chat={chat}")
        composer = page.get_by_label("Сообщение", exact=True)
        expect(composer).to_be_visible()
        page.evaluate("document.querySelector('.connection-banner').hidden = false")
        banner = page.locator(".connection-banner").bounding_box()
        form = page.locator(".composer").bounding_box() or composer.bounding_box()
        assert banner and form
        assert banner["y"] + banner["height"] <= form["y"], (banner, form)


def test_an_unknown_page_in_the_readers_language(new_page: Callable[..., Any], account: MakeAccount) -> None:
    visitor = new_page()
    answer = visitor.goto("/no-such-page")
    assert answer is not None and answer.status == 404
    expect(visitor.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    visitor.get_by_role("link", name="На главную").click()
    expect(visitor).to_have_url(re.compile(r"/login"))
    english = new_page(account("Анна", "Лебедева"), locale="en-US")
    english.goto("/chats/42")
    expect(english.get_by_role("heading", name="Page not found")).to_be_visible()
    screenshot(english, "not-found")
    english.get_by_role("link", name="Go to the chats").click()
    expect(english.locator("[data-chat-list]")).to_be_attached()
    api = english.request.get("/api/v1/no-such-thing")
    assert api.status == 404 and api.json()["error"]["code"] == "not_found"
