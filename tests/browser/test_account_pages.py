"""Login, registration, profile, password change, logout and the token refresh flows."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from browser_kit import PASSWORD, Account, Server, make_account, png_bytes, screenshot_both, unique
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

MakeAccount = Callable[[str, str], Account]


def test_login_register_errors_and_logout(new_page: Callable[..., Any], account: MakeAccount) -> None:
    page = new_page()
    page.goto("/friends")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Ffriends$"))
    screenshot_both(page, "login")

    # Registration errors appear beside their fields.
    page.get_by_role("link", name="Зарегистрируйтесь").click()
    expect(page).to_have_url(re.compile(r"/register\?next=(%2F|/)friends$"))
    page.get_by_label("Имя", exact=True).fill("Мария")
    page.get_by_label("Фамилия").fill("Орлова")
    page.get_by_label("Электронная почта").fill("не-почта")
    page.get_by_label("Пароль", exact=True).fill("short")
    page.get_by_label("Пароль ещё раз").fill("short")
    page.get_by_role("button", name="Зарегистрироваться").click()
    expect(page.locator("#f-email-error")).to_have_text("Неверный адрес почты")
    expect(page.locator("#f-password-error")).to_have_text("Не меньше 8 символов")
    expect(page.get_by_label("Электронная почта")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_label("Имя", exact=True)).to_have_value("Мария")
    screenshot_both(page, "register-errors")

    # A wrong password is told on the page; the right one goes where the visitor was going.
    someone = account("Мария", "Орлова")
    page.goto("/login?next=%2Ffriends")
    page.get_by_label("Электронная почта").fill(someone.email)
    page.get_by_label("Пароль").fill("wrong password")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Неверная почта или пароль.")
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/friends$"))

    page.get_by_role("link", name="Выйти").click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto("/profile")
    expect(page).to_have_url(re.compile(r"/login\?next=%2Fprofile$"))


def test_profile_edit_avatar_and_password_change(
    new_page: Callable[..., Any], account: MakeAccount, tmp_path: Any
) -> None:
    me = account("Екатерина", "Волкова")
    page, elsewhere = new_page(me), new_page(me)
    elsewhere.goto("/friends")
    page.goto("/profile")
    city = page.get_by_label("Город")
    expect(city).to_have_attribute("readonly", "")
    expect(page.locator("[data-user-id-text]")).to_have_text(me.user_id)
    screenshot_both(page, "profile")

    page.get_by_role("button", name="Изменить").click()
    expect(city).not_to_have_attribute("readonly", "")
    city.fill("Казань")
    page.get_by_label("О себе").fill("Люблю <b>чай</b> & кофе")
    page.get_by_label("Телефон").fill("12345")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("#f-phone_number-error")).to_contain_text("международном формате")
    page.get_by_label("Телефон").fill("+7 916 123-45-67")
    avatar = tmp_path / "me.png"
    avatar.write_bytes(png_bytes((300, 200)))
    page.get_by_label("Аватар").set_input_files(str(avatar))
    expect(page.locator("[data-avatar-preview]")).to_have_attribute("src", re.compile(r"^blob:"))
    screenshot_both(page, "profile-editing")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("[data-form-status]")).to_have_text("Сохранено")
    expect(city).to_have_attribute("readonly", "")
    expect(page.locator("[data-avatar-preview]")).to_have_attribute(
        "src", re.compile(r"/avatar\?v=(?!default)")
    )

    page.reload()
    expect(page.get_by_label("Город")).to_have_value("Казань")
    expect(page.get_by_label("О себе")).to_have_value("Люблю <b>чай</b> & кофе")
    expect(page.get_by_label("Телефон")).to_have_value("+79161234567")

    # The ID can be copied.
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.get_by_role("button", name="Скопировать ID").click()
    expect(page.locator("[data-copy-status]")).to_have_text("Скопировано")
    assert page.evaluate("navigator.clipboard.readText()") == me.user_id

    # A wrong current password is shown beside its field.
    new_password = "совсем-новый-пароль"
    page.get_by_role("button", name="Изменить").click()
    page.get_by_label("Новый пароль", exact=True).fill(new_password)
    page.get_by_label("Новый пароль ещё раз").fill(new_password + "!")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("#f-password_again-error")).to_have_text("Пароли не совпадают")
    page.get_by_label("Новый пароль ещё раз").fill(new_password)
    page.get_by_label("Текущий пароль").fill("not my password")
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("#f-old_password-error")).to_have_text("Неверный текущий пароль")

    # The right one: this session stays logged in, with a new ID.
    page.get_by_label("Текущий пароль").fill(PASSWORD)
    page.get_by_role("button", name="Сохранить", exact=True).click()
    expect(page.locator("[data-form-status]")).to_have_text("Сохранено")
    expect(page.locator("[data-user-id-text]")).not_to_have_text(me.user_id)
    page.reload()
    expect(page).to_have_url(re.compile(r"/profile$"))
    expect(page.get_by_label("Город")).to_have_value("Казань")

    # The other session is logged out: at once if its event stream tells it (the profile
    # change is an event), else on its next action.
    if "/friends" in elsewhere.url:
        elsewhere.reload()
    expect(elsewhere).to_have_url(re.compile(r"/login\?next="))
    elsewhere.get_by_label("Электронная почта").fill(me.email)
    elsewhere.get_by_label("Пароль").fill(new_password)
    elsewhere.get_by_role("button", name="Войти").click()
    expect(elsewhere).to_have_url(re.compile(r"/friends$"))


def test_english_interface(new_page: Callable[..., Any], account: MakeAccount) -> None:
    page = new_page(locale="en-US")
    page.goto("/login")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    me = account("Alice", "Johnson")
    page.get_by_label("Email").fill(me.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Chats", level=2)).to_be_visible()
    expect(page.locator("[data-chats-status]")).to_have_text("No chats yet. Add friends and write to them.")


def test_docs_page(new_page: Callable[..., Any]) -> None:
    page = new_page()
    page.goto("/docs/v1/api_docs")
    expect(page.locator("article.docs h1").first).to_be_visible()
    screenshot_both(page, "api-docs")


@pytest.mark.parametrize("signed_in", [False, True])
def test_the_api_link_is_there_on_a_phone(
    new_page: Callable[..., Any], account: MakeAccount, signed_in: bool
) -> None:
    page = new_page(
        account("Ника", "Телефонова") if signed_in else None,
        viewport={"width": 360, "height": 740},
        touch=True,
    )
    page.goto("/" if signed_in else "/login")
    link = page.locator("header").get_by_role("link", name="API")
    expect(link).to_be_visible()
    box = link.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360  # on the screen, not cut off
    link.click()
    expect(page).to_have_url(re.compile(r"/docs/v1/api_docs$"))


def test_expired_access_token_is_renewed(new_page: Callable[..., Any], short_token_server: Server) -> None:
    """Access tokens live 2 s here: pages go through /refresh, scripts renew in place."""
    url = short_token_server.url
    me = make_account(url, "Ирина", f"Короткова{unique()}")
    page = new_page(base_url=url)
    renewals: list[str] = []
    page.on("request", lambda r: renewals.append(r.url) if "refresh" in r.url else None)

    page.goto("/login")
    page.get_by_label("Электронная почта").fill(me.email)
    page.get_by_label("Пароль").fill(PASSWORD)
    page.get_by_role("button", name="Войти").click()
    expect(page).to_have_url(re.compile(r"/$"))

    # A page load with an expired token goes through /refresh and lands where it was going.
    page.wait_for_timeout(2500)
    page.goto("/friends?x=1")
    expect(page).to_have_url(re.compile(r"/friends\?x=1$"))
    assert any("/refresh?next=%2Ffriends%3Fx%3D1" in u for u in renewals), renewals

    # A script call with an expired token renews it in the background: no page load.
    page.evaluate("window.stillHere = true")
    renewals.clear()
    page.wait_for_timeout(2500)
    page.get_by_label("Поиск по имени, фамилии или ID").fill("Короткова")
    expect(page.locator('[data-list="search"] .person')).to_have_count(1)
    assert page.evaluate("window.stillHere") is True
    assert any(u.endswith("/api/v1/refresh") for u in renewals), renewals
