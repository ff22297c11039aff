"""The chat page: paging back through history, stickers, attachments, hostile text."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import PDF_BYTES, Account, expect_image_loaded, png_bytes, screenshot, screenshot_both
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]


def friends_with_chat(account: MakeAccount) -> tuple[Account, Account, int]:
    me, friend = account("Ольга", "Кузнецова"), account("Пётр", "Васильев")
    me.befriend(friend)
    return me, friend, me.open_chat(friend)


def open_chat(page: Any, chat_id: int) -> None:
    page.goto(f"/?chat={chat_id}")
    expect(page.locator(".chat-view")).to_be_visible()


def test_paging_back_through_200_messages(new_page: Callable[..., Any], account: MakeAccount) -> None:
    me, friend, chat_id = friends_with_chat(account)
    for i in range(1, 201):
        (me if i % 3 else friend).send(chat_id, f"Сообщение {i}")
    page = new_page(me)
    open_chat(page, chat_id)
    history = page.locator(".history .message")
    expect(history.last).to_contain_text("Сообщение 200")
    expect(history).to_have_count(50)

    scroller = page.locator(".history-scroller")
    for _ in range(40):
        if page.locator(".history .message", has_text=re.compile(r"^Сообщение 1\D")).count():
            break
        scroller.evaluate("el => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')); }")
        page.wait_for_timeout(150)
    expect(history).to_have_count(200)
    expect(page.locator(".history-top")).to_have_text("Это начало переписки")

    ids = [int(i) for i in history.evaluate_all("els => els.map(e => e.dataset.messageId)")]
    texts = page.locator(".history .message-text").all_inner_texts()
    assert ids == sorted(set(ids)), "history must be in order with no duplicates"
    assert texts == [f"Сообщение {i}" for i in range(1, 201)], "no gaps, no repeats"


def test_sticker_photo_and_pdf(new_page: Callable[..., Any], account: MakeAccount, tmp_path: Any) -> None:
    me, friend, chat_id = friends_with_chat(account)
    page, other = new_page(me), new_page(friend)
    open_chat(page, chat_id)
    open_chat(other, chat_id)

    # A sticker from the picker shows large, without bubble text, on both sides.
    picker = page.get_by_role("button", name="Стикеры")
    picker.click()
    expect(picker).to_have_attribute("aria-expanded", "true")
    choices = page.locator(".sticker-choice")
    expect(choices.first).to_be_visible()
    screenshot(page, "sticker-picker")
    choices.first.click()
    for p in (page, other):
        sticker = p.locator(".history .message.sticker-message img.sticker").last
        expect(sticker).to_be_visible()
        expect_image_loaded(sticker)
        expect(p.locator(".history .message.sticker-message .message-text")).to_have_count(0)

    # A photo and a PDF, chosen with the file picker: progress, then one message.
    photo, pdf = tmp_path / "закат.png", tmp_path / "отчёт 2026.pdf"
    photo.write_bytes(png_bytes())
    pdf.write_bytes(PDF_BYTES)
    page.get_by_role("button", name="Прикрепить файлы").click()
    page.locator("[data-file-input]").set_input_files([str(photo), str(pdf)])
    tray = page.locator(".upload-item")
    expect(tray).to_have_count(2)
    expect(page.locator(".upload-item.done")).to_have_count(2)
    expect(page.get_by_role("button", name="Убрать файл закат.png")).to_be_visible()
    page.get_by_label("Сообщение", exact=True).fill("Фото и отчёт")
    page.get_by_role("button", name="Отправить").click()
    expect(tray).to_have_count(0)

    for p in (page, other):
        sent = p.locator(".history .message", has_text="Фото и отчёт")
        thumb = sent.locator(".attachment-photo img")
        expect(thumb).to_be_visible()
        expect(thumb).to_have_attribute("src", re.compile(r"/thumbnail$"))
        expect_image_loaded(thumb)
        link = sent.locator("a.attachment-file")
        expect(link).to_contain_text("отчёт 2026.pdf")
        expect(link).to_contain_text(re.compile(r"\d+ Б"))
        href = link.get_attribute("href")
        answer = p.request.get(href)
        assert answer.status == 200
        assert answer.headers["content-disposition"].startswith("attachment")
        assert answer.body() == PDF_BYTES

    # The thumbnail opens the full-size photo.
    page.locator(".history .attachment-photo").last.click()
    full = page.locator("[data-lightbox-image]")
    expect(page.locator("[data-lightbox]")).to_be_visible()
    expect(full).to_have_attribute("src", re.compile(r"/api/v1/attachments/\d+$"))
    expect_image_loaded(full)
    assert full.evaluate("img => img.naturalWidth") == 640
    screenshot(page, "photo-full")
    page.keyboard.press("Escape")
    expect(page.locator("[data-lightbox]")).to_be_hidden()
    screenshot_both(page, "chat-media")

    # Drag and drop onto the chat adds a file to the tray; it can be removed before sending.
    page.locator(".chat-view").evaluate(
        """el => {
            const data = new DataTransfer();
            data.items.add(new File(["hello"], "заметка.txt", { type: "text/plain" }));
            for (const type of ["dragenter", "dragover", "drop"]) {
                const init = { dataTransfer: data, bubbles: true, cancelable: true };
                el.dispatchEvent(new DragEvent(type, init));
            }
        }"""
    )
    dropped = page.locator(".upload-item", has_text="заметка.txt")
    expect(dropped).to_be_visible()
    page.get_by_role("button", name="Убрать файл заметка.txt").click()
    expect(dropped).to_have_count(0)


@pytest.mark.parametrize(
    ("status", "error", "shown"),
    [
        (
            413,
            {"code": "unsent_uploads_full", "params": {"max": 209715200}},
            "Неотправленные файлы могут занимать не больше 209715200 байт",
        ),
        (503, {"code": "storage_full"}, "Хранилище сервера заполнено"),
        (413, {"code": "too_large", "params": {"max": 16}}, "Файл слишком большой"),
    ],
)
def test_a_refused_upload_says_why(
    new_page: Callable[..., Any], account: MakeAccount, status: int, error: dict[str, Any], shown: str
) -> None:
    me, _, chat_id = friends_with_chat(account)
    page = new_page(me)
    open_chat(page, chat_id)
    body = {"error": {"message": "refused in English"} | error}
    page.route("**/api/v1/attachments", lambda route: route.fulfill(status=status, json=body))
    picture = {"name": "снимок.png", "mimeType": "image/png", "buffer": png_bytes((40, 40))}
    page.locator("[data-file-input]").set_input_files(files=[picture])
    expect(page.locator(".upload-item.failed .upload-note")).to_contain_text(shown)


def test_hostile_message_is_shown_as_text(new_page: Callable[..., Any], account: MakeAccount) -> None:
    me, friend, chat_id = friends_with_chat(account)
    page, other = new_page(me), new_page(friend)
    dialogs: list[str] = []
    for p in (page, other):
        p.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_chat(other, chat_id)
    # Keyboard only: focus the chat in the list, Enter opens it with the composer focused.
    page.goto("/")
    item = page.locator(".chat-item").first
    item.focus()
    page.keyboard.press("Enter")
    composer = page.get_by_label("Сообщение", exact=True)
    expect(composer).to_be_focused()
    hostile = "<img src=x onerror=alert(1)>"
    page.keyboard.type(hostile)
    page.keyboard.press("Enter")
    for p in (page, other):
        shown = p.locator(".history .message-text").last
        expect(shown).to_have_text(hostile)
        expect(p.locator(".history img[src='x']")).to_have_count(0)
    # The chat list's preview is text too, and a reload renders it the same way.
    expect(other.locator(".chat-item-preview").first).to_have_text(hostile)
    other.reload()
    expect(other.locator(".history .message-text").last).to_have_text(hostile)
    # Text that would reorder its neighbours or drive a terminal: overrides and escapes are
    # gone, and the text sets its own direction (dir="auto"), so an Arabic or Hebrew line
    # cannot flip the page around it.
    me.send(chat_id, "abc\u202edlrow\x1b[31m red \u05e9\u05dc\u05d5\u05dd")
    shown = other.locator(".history .message-text").last
    expect(shown).to_have_text("abcdlrow[31m red \u05e9\u05dc\u05d5\u05dd")
    expect(shown).to_have_attribute("dir", "auto")
    expect(other.locator(".chat-item-preview").first).to_have_attribute("dir", "auto")
    other.wait_for_timeout(300)
    assert dialogs == []


def test_lost_connection_and_resync(new_page: Callable[..., Any], account: MakeAccount) -> None:
    """A failed poll shows a notice and retries; a 410 makes the page reload its state."""
    me, friend, chat_id = friends_with_chat(account)
    page = new_page(me)
    polls: list[str] = []

    def events(route: Any) -> None:
        polls.append(route.request.url)
        if len(polls) == 1:
            route.abort()  # the network drops
        elif len(polls) == 2:
            # Events were lost meanwhile: the server no longer knows the cursor.
            friend.send(chat_id, "Пока вас не было")
            route.fulfill(status=410, json={"error": {"code": "resync", "message": "Reload"}})
        else:
            route.continue_()

    page.route(re.compile(r"/api/v1/events\?since="), events)
    page.goto("/")
    banner = page.locator(".connection-banner")
    expect(banner).to_be_visible()
    expect(banner).to_have_text("Нет связи с сервером, переподключаемся…")
    item = page.locator(".chat-item", has_text=friend.name)
    expect(item).to_contain_text("Пока вас не было")
    expect(item.locator(".unread-badge")).to_have_text("1")
    expect(banner).to_be_hidden()
    # Live again after the resync.
    friend.send(chat_id, "Снова на связи")
    expect(item).to_contain_text("Снова на связи")
    expect(item.locator(".unread-badge")).to_have_text("2")
