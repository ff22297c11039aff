"""Around the conversation: the browser's Back closes a chat (phone and desktop), drafts
survive switching chats and reloading, a pasted image goes into the upload tray, links
are links (and javascript: is not), the "new messages" button and line, and the view
that stays at the bottom while the last message's picture loads."""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import Account, png_bytes, screenshot
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]
PHONE_390 = {"width": 390, "height": 844}


def message(page: Any, text: str) -> Any:
    return page.locator(".history .message").filter(has=page.locator(".message-text", has_text=text))


def chat_item(page: Any, title: str) -> Any:
    return page.locator(".chat-item", has_text=title)


def composer(page: Any) -> Any:
    return page.get_by_label("Сообщение", exact=True)


def three_friends(account: MakeAccount) -> tuple[Account, Account, Account, int, int]:
    anna, boris, vera = account("Анна", "Лебедева"), account("Борис", "Орлов"), account("Вера", "Зайцева")
    anna.befriend(boris)
    anna.befriend(vera)
    with_boris, with_vera = anna.open_chat(boris), anna.open_chat(vera)
    boris.send(with_boris, "Привет от Бориса")
    vera.send(with_vera, "Привет от Веры")
    return anna, boris, vera, with_boris, with_vera


def at_bottom(page: Any) -> None:
    page.wait_for_function(
        "() => { const s = document.querySelector('.history-scroller');"
        " return s.scrollHeight - s.scrollTop - s.clientHeight < 4; }"
    )


def test_back_closes_the_chat_on_a_phone(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, vera, with_boris, _ = three_friends(account)
    page = new_page(anna, viewport=PHONE_390, touch=True)
    page.goto("/")
    chat_item(page, boris.name).click()
    expect(page.locator(".chat-view")).to_be_visible()
    expect(page.locator(".chat-list")).to_be_hidden()
    expect(page).to_have_url(re.compile(rf"/\?chat={with_boris}$"))
    page.go_back()
    expect(page.locator(".chat-view")).to_have_count(0)
    expect(chat_item(page, boris.name)).to_be_visible()
    expect(page).to_have_url(re.compile(r"/$"))
    page.go_forward()
    expect(page.locator(".chat-title")).to_have_text(boris.name)

    # A chat's own address: Back still goes to the list, not away from the page; so does ←.
    page.goto(f"/?chat={with_boris}")
    expect(page.locator(".chat-title")).to_have_text(boris.name)
    page.go_back()
    expect(chat_item(page, vera.name)).to_be_visible()
    expect(page.locator(".chat-view")).to_have_count(0)
    chat_item(page, vera.name).click()
    page.get_by_role("button", name="К списку чатов").click()
    expect(chat_item(page, vera.name)).to_be_visible()
    expect(chat_item(page, vera.name)).to_be_focused()


def test_back_and_forward_between_chats_on_a_desktop(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, vera, _, _ = three_friends(account)
    page = new_page(anna)
    page.goto("/")
    chat_item(page, boris.name).click()
    expect(page.locator(".chat-title")).to_have_text(boris.name)
    chat_item(page, vera.name).click()
    expect(page.locator(".chat-title")).to_have_text(vera.name)
    page.go_back()
    expect(page.locator(".chat-title")).to_have_text(boris.name)
    expect(chat_item(page, boris.name)).to_have_class(re.compile(r"\bactive\b"))
    page.go_back()
    expect(page.locator(".chat-view")).to_have_count(0)
    expect(page.locator("[data-chat-empty]")).to_be_visible()
    expect(page.locator(".chat-item.active")).to_have_count(0)
    page.go_forward()
    expect(page.locator(".chat-title")).to_have_text(boris.name)


def test_drafts_survive_switching_chats_and_reloading(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, vera, with_boris, with_vera = three_friends(account)
    page = new_page(anna)
    page.goto(f"/?chat={with_boris}")
    expect(message(page, "Привет от Бориса")).to_be_visible()
    message(page, "Привет от Бориса").locator(".bubble").click(button="right")
    page.get_by_role("menuitem", name="Ответить").click()
    composer(page).fill("Черновик для Бориса")

    chat_item(page, vera.name).click()
    expect(page.locator(".chat-title")).to_have_text(vera.name)
    expect(composer(page)).to_have_value("")
    expect(page.locator(".reply-bar")).to_be_hidden()
    composer(page).fill("А это Вере")
    chat_item(page, boris.name).click()
    expect(composer(page)).to_have_value("Черновик для Бориса")
    expect(page.locator(".reply-bar-text")).to_have_text("Привет от Бориса")

    page.reload()
    expect(composer(page)).to_have_value("Черновик для Бориса")
    expect(page.locator(".reply-bar")).to_be_visible()
    composer(page).press("Enter")
    expect(message(page, "Черновик для Бориса").locator(".quote-text")).to_have_text("Привет от Бориса")
    page.reload()
    expect(message(page, "Черновик для Бориса")).to_be_visible()
    expect(composer(page)).to_have_value("")
    expect(page.locator(".reply-bar")).to_be_hidden()
    page.goto(f"/?chat={with_vera}")
    expect(composer(page)).to_have_value("А это Вере")


def test_a_pasted_image_goes_into_the_tray(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, _, with_boris, _ = three_friends(account)
    page = new_page(anna)
    page.goto(f"/?chat={with_boris}")
    expect(message(page, "Привет от Бориса")).to_be_visible()
    composer(page).focus()
    page.evaluate(
        """(data) => {
          const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
          const transfer = new DataTransfer();
          transfer.items.add(new File([bytes], "image.png", { type: "image/png" }));
          const init = { clipboardData: transfer, bubbles: true, cancelable: true };
          document.activeElement.dispatchEvent(new ClipboardEvent("paste", init));
        }""",
        base64.b64encode(png_bytes((120, 80))).decode(),
    )
    item = page.locator(".upload-item")
    expect(item).to_have_count(1)
    expect(item.locator(".upload-name")).to_have_text("image.png")
    expect(item).to_have_class(re.compile(r"\bdone\b"))
    composer(page).fill("Скриншот")
    composer(page).press("Enter")
    expect(message(page, "Скриншот").locator(".attachment-photo img")).to_be_visible()
    expect(page.locator(".upload-item")).to_have_count(0)
    assert (
        boris.call("GET", f"/api/v1/chats/{with_boris}/messages")["messages"][-1]["attachments"][0]["kind"]
        == "photo"
    )


LINK_CASES = [
    ("см. https://example.org/a?b=1, и всё", [("https://example.org/a?b=1", "https://example.org/a?b=1")]),
    (
        "(https://ru.wikipedia.org/wiki/Чай_(напиток))",
        [("https://ru.wikipedia.org/wiki/Чай_(напиток)", None)],
    ),
    ("www.example.com.", [("www.example.com", "https://www.example.com/")]),
    ("mailto:anna@example.org!", [("mailto:anna@example.org", "mailto:anna@example.org")]),
    ("javascript:alert(1)", []),
    ("JAVASCRIPT://example.org/%0aalert(1)", []),
    ("data:text/html,<b>x</b>", []),
    ("https://bank.example@evil.example/", []),
    ("http://localhost:8000/x", [("http://localhost:8000/x", "http://localhost:8000/x")]),
    ("https://nodot/", []),
    ("xhttps://example.org", []),
    ("http://", []),
    (
        "два: http://a.ru и https://b.ru/?q=«x»",
        [("http://a.ru", "http://a.ru/"), ("https://b.ru/?q=«x", None)],
    ),
    ("«https://example.org/путь»", [("https://example.org/путь", None)]),
]


def test_a_conservative_link_finder(new_page: Callable[..., Any], account: MakeAccount) -> None:
    page = new_page(account("Лев", "Ссылкин"))
    page.goto("/")
    found = page.evaluate(
        """async (cases) => {
          const { findLinks } = await import("/static/js/chat/links.js");
          return cases.map((text) => findLinks(text).filter((p) => p.href).map((p) => [p.text, p.href]));
        }""",
        [text for text, _ in LINK_CASES],
    )
    for (text, expected), got in zip(LINK_CASES, found, strict=True):
        assert [shown for shown, _ in got] == [shown for shown, _ in expected], text
        for (_, href), (_, wanted) in zip(got, expected, strict=True):
            assert re.match(r"^(https?|mailto):", href), (text, href)
            if wanted:
                assert href == wanted, (text, href)


def test_links_in_messages_are_safe_anchors(new_page: Callable[..., Any], account: MakeAccount) -> None:
    owner, friend = account("Ника", "Ссылкина"), account("Олег", "Юрлов")
    owner.befriend(friend)
    group = owner.call("POST", "/api/v1/chats", json={"title": "Ссылки", "member_ids": [friend.user_id]})[
        "chat"
    ]["id"]
    text = "@Ника глянь https://example.org/docs?x=1 и javascript:alert(1), пиши на mailto:olga@example.org"
    friend.call("POST", f"/api/v1/chats/{group}/messages", json={"text": text, "mentions": [owner.user_id]})
    page = new_page(owner)
    page.goto(f"/?chat={group}")
    bubble = message(page, "глянь")
    links = bubble.locator("a.message-link")
    expect(links).to_have_count(2)
    expect(links).to_have_text(["https://example.org/docs?x=1", "mailto:olga@example.org"])
    for i in range(2):
        expect(links.nth(i)).to_have_attribute("rel", "noopener noreferrer nofollow")
        expect(links.nth(i)).to_have_attribute("target", "_blank")
    expect(links.first).to_have_attribute("href", "https://example.org/docs?x=1")
    expect(bubble.locator(".mention-me")).to_have_text("@Ника")
    expect(bubble.locator(".message-text")).to_have_text(text)
    expect(bubble.locator('a[href^="javascript"]')).to_have_count(0)


def test_new_messages_button_and_line(new_page: Callable[..., Any], account: MakeAccount) -> None:
    anna, boris, _, with_boris, with_vera = three_friends(account)
    for i in range(60):
        boris.send(with_boris, f"Старое {i}")
    page = new_page(anna)
    page.goto(f"/?chat={with_vera}")
    expect(message(page, "Привет от Веры")).to_be_visible()

    # Unread when the chat opens: the line stands before the first of them.
    chat_item(page, boris.name).click()
    line = page.locator(".unread-divider")
    expect(line).to_have_text("Новые сообщения")
    first_unread = page.evaluate(
        "() => { let el = document.querySelector('.unread-divider').nextElementSibling;"
        " while (el && !el.dataset.messageId) el = el.nextElementSibling; return el.textContent; }"
    )
    assert "Старое 10" in first_unread  # the page of 50 began there; none of it was read
    expect(line).to_be_in_viewport()

    # Scrolled up, arrivals are counted on the button; a click goes down to them.
    page.locator(".history-scroller").evaluate("el => el.scrollTop = el.scrollHeight")
    at_bottom(page)
    button = page.get_by_role("button", name="К последним сообщениям")
    expect(button).to_be_hidden()
    page.locator(".history-scroller").evaluate("el => el.scrollTop = 0")
    expect(button).to_be_visible()
    boris.send(with_boris, "Новое раз")
    boris.send(with_boris, "Новое два")
    counted = page.get_by_role("button", name="2 новых сообщения — к последним")
    expect(counted).to_be_visible()
    expect(counted.locator(".new-below-count")).to_have_text("2")
    screenshot(page, "conversation-new-below")
    counted.click()
    expect(message(page, "Новое два")).to_be_in_viewport()
    expect(page.locator(".new-below")).to_be_hidden()


def test_the_view_stays_at_the_bottom_while_a_picture_loads(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    anna, boris, _, with_boris, _ = three_friends(account)
    for i in range(30):
        last = boris.send(with_boris, f"Разговор {i}")
    anna.call("POST", f"/api/v1/chats/{with_boris}/read", json={"message_id": last["id"]})
    page = new_page(anna)
    held: list[Any] = []
    page.route("**/api/v1/attachments/*/thumbnail", lambda route: held.append(route))
    page.goto(f"/?chat={with_boris}")
    expect(message(page, "Разговор 29")).to_be_visible()
    at_bottom(page)

    # A wide photo whose thumbnail turns out tall: the bubble grows as it loads.
    photo = boris.call(
        "POST", "/api/v1/attachments", files={"file": ("вид.png", png_bytes((640, 200)), "image/png")}
    )
    boris.call(
        "POST", f"/api/v1/chats/{with_boris}/messages", json={"attachment_ids": [photo["attachment"]["id"]]}
    )
    image = page.locator(".history .message").last.locator(".attachment-photo img")
    expect(image).to_be_attached()
    page.wait_for_function("() => document.querySelector('.history .message:last-child img') !== null")
    at_bottom(page)
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the thumbnail was asked for"
    before = image.bounding_box()["height"]
    held[0].fulfill(status=200, content_type="image/png", body=png_bytes((200, 400)))
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    assert image.bounding_box()["height"] > before
    at_bottom(page)
