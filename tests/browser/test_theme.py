"""The colour theme: the system's by default and live, a choice on the profile page that
applies at once and is remembered, no flash of the wrong theme, and text that keeps WCAG AA
contrast on every page in both themes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import DESKTOP, PDF_BYTES, PHONE, Account, png_bytes, screenshot, screenshot_both
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]

# Runs before any of the page's scripts: notes data-bs-theme when the stylesheet's <link> is
# parsed, at the first animation frame (which comes before the first paint) and at
# DOMContentLoaded. Mutation records reach the observer before the parser runs the next
# script, so a theme script placed after the <link> would be caught here with no theme yet.
SEEN_THEME = """
(() => {
  const seen = (window.__themeSeen = {});
  const theme = () => document.documentElement?.dataset.bsTheme ?? "(none)";
  new MutationObserver((records) => {
    for (const record of records) {
      for (const node of record.addedNodes) {
        if (node.nodeName === "LINK" && node.rel === "stylesheet" && !("stylesheet" in seen)) {
          seen.stylesheet = theme();
        }
      }
    }
  }).observe(document, { childList: true, subtree: true });
  requestAnimationFrame(() => (seen.firstFrame = theme()));
  document.addEventListener("DOMContentLoaded", () => (seen.domContentLoaded = theme()));
})();
"""

# Every visible piece of text (text nodes, form values, placeholders) against the colour
# actually behind it: translucent backgrounds composited up to the first opaque one, and
# the opacity of the element and its ancestors applied to the text.
LOW_CONTRAST = """
() => {
  const parse = (value) => {
    const m = /rgba?\\(([^)]+)\\)/.exec(value);
    if (!m) return null;
    const [r, g, b, a = 1] = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r, g, b, a };
  };
  const over = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  const channel = (c) => ((c /= 255) <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const ratio = (x, y) => {
    const [hi, lo] = [luminance(x), luminance(y)].sort((p, q) => q - p);
    return (hi + 0.05) / (lo + 0.05);
  };
  const hex = (c) => "#" + [c.r, c.g, c.b].map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");

  function background(el) {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const colour = parse(getComputedStyle(e).backgroundColor);
      if (colour && colour.a > 0) {
        layers.push(colour);
        if (colour.a >= 1) break;
      }
    }
    return layers.reverse().reduce((below, layer) => over(layer, below), { r: 255, g: 255, b: 255, a: 1 });
  }

  function opacity(el) {
    let value = 1;
    for (let e = el; e; e = e.parentElement) value *= Number(getComputedStyle(e).opacity);
    return value;
  }

  const checked = new Set();
  const failures = [];
  function check(el, colourValue, sample) {
    const rect = el.getBoundingClientRect();
    if (rect.width <= 1 || rect.height <= 1) return; // visually hidden
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return;
    if (el.closest(":disabled")) return; // inactive controls are exempt
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    const bg = background(el);
    const text = parse(colourValue);
    const fg = over({ ...text, a: text.a * opacity(el) }, bg);
    const value = ratio(fg, bg);
    const need = large ? 3 : 4.5;
    if (value < need) {
      const name = el.tagName.toLowerCase() + (el.className && typeof el.className === "string"
        ? "." + el.className.trim().split(/\\s+/).join(".") : "");
      const found = `${hex(fg)} on ${hex(bg)} = ${value.toFixed(2)} < ${need}`;
      failures.push(`${name} "${sample.slice(0, 40)}": ${found}`);
    }
  }

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || checked.has(el) || el.closest("script, style, option")) continue;
    checked.add(el);
    check(el, getComputedStyle(el).color, node.textContent.trim());
  }
  const fields = "input:not([type=file], [type=radio], [type=checkbox], [type=hidden]), textarea";
  for (const el of document.querySelectorAll(fields)) {
    if (el.value) check(el, getComputedStyle(el).color, el.value);
    else if (el.placeholder) check(el, getComputedStyle(el, "::placeholder").color, el.placeholder);
  }
  return failures;
}
"""


def themed_page(new_page: Callable[..., Any], account: Account | None, scheme: str, **kwargs: Any) -> Any:
    page = new_page(account, **kwargs)
    page.emulate_media(color_scheme=scheme)
    page.add_init_script(script=SEEN_THEME)
    return page


def seen_theme(page: Any) -> dict[str, str]:
    """data-bs-theme at the stylesheet's <link>, the first frame and DOMContentLoaded."""
    page.wait_for_function(
        "() => window.__themeSeen && 'firstFrame' in __themeSeen && 'domContentLoaded' in __themeSeen"
    )
    return dict(page.evaluate("() => window.__themeSeen"))


def assert_readable(page: Any, where: str) -> None:
    """Text contrast as the page rests: no hover (the pointer to a corner), no transition running."""
    page.mouse.move(0, 0)
    page.wait_for_function("() => document.getAnimations().every((a) => a.playState !== 'running')")
    failures = page.evaluate(LOW_CONTRAST)
    assert not failures, f"text below WCAG AA on {where}:\n" + "\n".join(failures)


def body_background(page: Any) -> str:
    return str(page.evaluate("() => getComputedStyle(document.body).backgroundColor"))


DARK_BODY, LIGHT_BODY = "rgb(15, 20, 28)", "rgb(243, 245, 249)"


def test_system_theme_is_followed_from_the_first_paint_and_live(new_page: Callable[..., Any]) -> None:
    page = themed_page(new_page, None, "dark")
    page.goto("/login")
    html = page.locator("html")
    assert seen_theme(page) == {"stylesheet": "dark", "firstFrame": "dark", "domContentLoaded": "dark"}
    assert page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == "dark"
    assert body_background(page) == DARK_BODY
    assert page.locator('meta[name="color-scheme"]').get_attribute("content") == "light dark"

    # The system's scheme changes while the page is open: the page follows at once.
    page.emulate_media(color_scheme="light")
    expect(html).to_have_attribute("data-bs-theme", "light")
    page.wait_for_function(f"() => getComputedStyle(document.body).backgroundColor === {LIGHT_BODY!r}")
    assert page.evaluate("() => getComputedStyle(document.documentElement).colorScheme") == "light"
    page.emulate_media(color_scheme="dark")
    expect(html).to_have_attribute("data-bs-theme", "dark")

    # The script is a classic, synchronous one in <head>, before the stylesheet.
    order = page.evaluate(
        """() => {
          const script = document.querySelector('head script[src*="/static/js/theme.js"]');
          const link = document.querySelector('head link[rel="stylesheet"]');
          return {
            before: Boolean(script.compareDocumentPosition(link) & Node.DOCUMENT_POSITION_FOLLOWING),
            blocking: !script.async && !script.defer && script.type === "",
          };
        }"""
    )
    assert order == {"before": True, "blocking": True}


def test_profile_toggle_applies_at_once_and_survives_reload(
    new_page: Callable[..., Any], account: MakeAccount
) -> None:
    me = account("Тамара", "Светлова")
    page = themed_page(new_page, me, "light")
    page.goto("/profile")
    html = page.locator("html")
    picker = page.get_by_role("group", name="Тема")
    system, light, dark = (page.get_by_role("radio", name=n) for n in ("Системная", "Светлая", "Тёмная"))
    expect(picker).to_be_visible()
    expect(system).to_be_checked()
    expect(html).to_have_attribute("data-bs-theme", "light")

    # A click applies the theme at once; the profile form stays read-only, nothing to save.
    picker.get_by_text("Тёмная", exact=True).click()
    expect(dark).to_be_checked()
    expect(html).to_have_attribute("data-bs-theme", "dark")
    page.wait_for_function(f"() => getComputedStyle(document.body).backgroundColor === {DARK_BODY!r}")
    expect(page.locator("[data-profile-form]")).to_have_attribute("data-editing", "false")
    expect(page.get_by_role("button", name="Изменить")).to_be_visible()
    expect(page.get_by_role("button", name="Сохранить", exact=True)).to_be_hidden()
    assert page.evaluate("() => localStorage.getItem('messenger.theme')") == "dark"

    # Remembered: after a reload the page is dark from the first paint, on a light system.
    page.reload()
    assert seen_theme(page) == {"stylesheet": "dark", "firstFrame": "dark", "domContentLoaded": "dark"}
    expect(dark).to_be_checked()

    # The keyboard works as in any radio group.
    dark.press("ArrowLeft")
    expect(light).to_be_checked()
    expect(html).to_have_attribute("data-bs-theme", "light")

    # A chosen theme holds when the system's changes (the listener below runs after theme.js's).
    page.evaluate(
        """() => { window.__schemeChanged = new Promise((resolve) =>
          matchMedia("(prefers-color-scheme: dark)").addEventListener("change",
            () => resolve(document.documentElement.dataset.bsTheme), { once: true })); }"""
    )
    page.emulate_media(color_scheme="dark")
    assert page.evaluate("() => window.__schemeChanged") == "light"

    # Back to the system's: the stored choice goes, the system's (now dark) applies.
    light.press("ArrowLeft")
    expect(system).to_be_checked()
    expect(html).to_have_attribute("data-bs-theme", "dark")
    assert page.evaluate("() => localStorage.getItem('messenger.theme')") is None
    page.reload()
    assert seen_theme(page)["stylesheet"] == "dark"
    expect(system).to_be_checked()


def test_a_choice_reaches_the_other_tabs(new_page: Callable[..., Any], account: MakeAccount) -> None:
    me = account("Вера", "Тёмкина")
    here = themed_page(new_page, me, "light")
    there = here.context.new_page()
    new_page.watch.attach(there)  # type: ignore[attr-defined]
    here.goto("/profile")
    there.goto("/profile")
    expect(there.get_by_role("radio", name="Системная")).to_be_checked()

    here.get_by_role("group", name="Тема").get_by_text("Тёмная", exact=True).click()
    expect(there.locator("html")).to_have_attribute("data-bs-theme", "dark")
    expect(there.get_by_role("radio", name="Тёмная")).to_be_checked()


# --- every page, both themes: contrast, and screenshots ------------------------------


def screenshot_scrolled(page: Any, name: str, target: Any) -> None:
    """Like screenshot_both, with ``target`` scrolled into view at each size."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        target.scroll_into_view_if_needed()
        screenshot(page, name)
    page.set_viewport_size(DESKTOP)


def lived_in(account: MakeAccount) -> tuple[Account, int]:
    """Someone with friends, requests both ways, an unread chat and a chat with text,
    a sticker, a photo, a file and a deleted message."""
    me, friend = account("Ольга", "Ночная"), account("Пётр", "Лунный")
    other, asking, asked = account("Инна", "Звёздная"), account("Глеб", "Сумрак"), account("Нина", "Рассвет")
    me.befriend(friend)
    me.befriend(other)
    asking.call("POST", "/api/v1/users_friends", json={"action": "add", "friend_id": me.user_id})
    me.call("POST", "/api/v1/users_friends", json={"action": "add", "friend_id": asked.user_id})

    unread = other.open_chat(me)
    other.send(unread, "Ты видела закат сегодня?")
    other.send(unread, "Совершенно невероятный")

    chat = me.open_chat(friend)
    friend.send(chat, "Привет! Как дела?")
    me.send(chat, "Отлично, а у тебя? Пишу длинное сообщение, чтобы пузырь переносил строки.")
    gone = me.send(chat, "Это сообщение я удалю")
    me.call("DELETE", f"/api/v1/messages/{gone['id']}")
    packs = me.call("GET", "/api/v1/stickers")["packs"]
    me.call("POST", f"/api/v1/chats/{chat}/messages", json={"sticker_id": packs[0]["stickers"][0]["id"]})
    photo = friend.call(
        "POST", "/api/v1/attachments", files={"file": ("закат.png", png_bytes(), "image/png")}
    )
    pdf = me.call("POST", "/api/v1/attachments", files={"file": ("отчёт.pdf", PDF_BYTES, "application/pdf")})
    friend.call(
        "POST",
        f"/api/v1/chats/{chat}/messages",
        json={"text": "Смотри", "attachment_ids": [photo["attachment"]["id"]]},
    )
    me.call(
        "POST",
        f"/api/v1/chats/{chat}/messages",
        json={"text": "Отчёт", "attachment_ids": [pdf["attachment"]["id"]]},
    )
    # The conversation: replies both ways, forwards both ways, reactions, a link, an edit, a pin.
    posted = friend.call("GET", f"/api/v1/chats/{chat}/messages")["messages"]
    greeting, answer = posted[0], posted[1]
    reply = {"text": "Отлично, спасибо", "reply_to_id": answer["id"]}
    friend.call("POST", f"/api/v1/chats/{chat}/messages", json=reply)
    me.call("POST", f"/api/v1/chats/{chat}/messages", json={"text": "Ага", "reply_to_id": greeting["id"]})
    friend.call("POST", f"/api/v1/messages/{answer['id']}/forward", json={"chat_ids": [chat]})
    me.call("POST", f"/api/v1/messages/{greeting['id']}/forward", json={"chat_ids": [chat]})
    me.call("PUT", f"/api/v1/messages/{greeting['id']}/reactions/%F0%9F%91%8D")
    friend.call("PUT", f"/api/v1/messages/{answer['id']}/reactions/%F0%9F%91%8D")
    link = me.send(chat, "Ссылка: https://example.org/путь")
    me.call("PATCH", f"/api/v1/messages/{link['id']}", json={"text": "Вот ссылка: https://example.org/путь"})
    me.call("PUT", f"/api/v1/chats/{chat}/pins/{greeting['id']}")
    return me, chat


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_page_is_readable(new_page: Callable[..., Any], account: MakeAccount, scheme: str) -> None:
    me, chat = lived_in(account)
    page = themed_page(new_page, me, scheme)

    def shoot(name: str, target: Any = None) -> None:
        # Light ones too, to hold beside the dark ones.
        if target is None:
            screenshot_both(page, f"{scheme}-{name}")
        else:
            screenshot_scrolled(page, f"{scheme}-{name}", target)

    page.goto(f"/?chat={chat}")
    expect(page.locator("html")).to_have_attribute("data-bs-theme", scheme)
    expect(page.locator(".history .message")).to_have_count(11)
    expect(page.locator(".pinned-bar")).to_be_visible()
    expect(page.locator(".history .attachment-photo img")).to_be_visible()
    expect(page.locator(".chat-item.has-unread")).to_have_count(1)
    page.wait_for_function("() => [...document.images].every((img) => img.complete)")
    assert_readable(page, f"the chat page ({scheme})")
    shoot("chats")
    page.locator(".history .message", has_text="Отлично, спасибо").locator(".bubble").click(button="right")
    expect(page.locator("dialog.popmenu")).to_be_visible()
    assert_readable(page, f"the message menu ({scheme})")
    shoot("message-menu")
    page.keyboard.press("Escape")
    page.locator(".history .message", has_text="Вот ссылка").locator(".message-edited").click()
    expect(page.locator(".history-dialog .version")).to_have_count(2)
    assert_readable(page, f"the edit history ({scheme})")
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Стикеры").click()
    expect(page.locator(".sticker-choice").first).to_be_visible()
    assert_readable(page, f"the sticker picker ({scheme})")
    page.keyboard.press("Escape")

    # An upload the server refuses: the failed row and its note.
    refuse = {"status": 413, "json": {"error": {"code": "too_large", "message": "Too large"}}}
    page.route("**/api/v1/attachments", lambda route: route.fulfill(**refuse))
    picture = {"name": "большой.png", "mimeType": "image/png", "buffer": png_bytes((40, 40))}
    page.locator("[data-file-input]").set_input_files(files=[picture])
    expect(page.locator(".upload-item.failed .upload-note")).to_have_text("Файл слишком большой")
    assert_readable(page, f"a failed upload ({scheme})")
    page.unroute("**/api/v1/attachments")

    page.goto("/friends")
    expect(page.locator('[data-list="incoming"] .person')).to_have_count(1)
    expect(page.locator('[data-list="outgoing"] .person')).to_have_count(1)
    expect(page.locator('[data-list="friends"] .person')).to_have_count(2)
    page.get_by_label("Поиск по имени, фамилии или ID").fill("Лунный")
    expect(page.locator('[data-list="search"] .person')).not_to_have_count(0)
    assert_readable(page, f"the friends page ({scheme})")
    shoot("friends")

    page.goto("/profile")
    expect(page.get_by_role("group", name="Тема")).to_be_visible()
    assert_readable(page, f"the profile page ({scheme})")
    shoot("profile")
    shoot("profile-theme", page.get_by_role("group", name="Тема"))
    page.get_by_role("button", name="Изменить").click()
    page.get_by_label("Телефон").fill("12345")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("#f-phone_number-error")).to_contain_text("международном формате")
    assert_readable(page, f"the profile form with errors ({scheme})")
    shoot("profile-errors")

    page.goto("/docs/v1/api_docs")
    expect(page.locator(".docs table").first).to_be_visible()
    assert_readable(page, f"the API docs ({scheme})")
    shoot("docs")
    shoot("docs-table", page.locator(".docs table").first)

    page.get_by_role("link", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.get_by_label("Электронная почта").fill(me.email)
    page.get_by_label("Пароль").fill("не тот пароль")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_readable(page, f"the login page ({scheme})")
    shoot("login")
