"""The pages, in-process: who is sent where, the login and registration forms, the
refresh and logout redirects, languages, escaping and the pages' script policy."""

from __future__ import annotations

import json
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from falcon import testing

from adapters.testing import ManualClock
from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web import pages
from entrypoints.web.app import create_app
from messenger_core.limits import MESSAGE_MAX

PASSWORD = "correct horse battery"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
SAME_ORIGIN = FORM | {"Sec-Fetch-Site": "same-origin", "Origin": "null"}
COOKIES = ("access_token_cookie", "refresh_token_cookie", "csrf_token")


class Site:
    """The app over a memory Messenger with a manual clock, and a cookie jar."""

    def __init__(self, tmp_path: Path) -> None:
        self.clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
        settings = Settings(
            SECRET_KEY="x" * 40, DATABASE_PATH=str(tmp_path / "db"), UPLOAD_FOLDER=str(tmp_path)
        )
        self.client = testing.TestClient(
            create_app(build_messenger(settings, memory=True, clock=self.clock), settings)
        )
        self.jar: dict[str, str] = {}
        self.emails = 0

    def get(self, path: str, **kwargs: Any) -> testing.Result:
        result = self.client.simulate_get(path, cookies=self.jar, **kwargs)
        self.keep(result)
        return result

    def post_form(
        self, path: str, data: dict[str, str], headers: dict[str, str] | None = None
    ) -> testing.Result:
        result = self.client.simulate_post(
            path, body=urlencode(data), headers=headers or SAME_ORIGIN, cookies=self.jar
        )
        self.keep(result)
        return result

    def keep(self, result: testing.Result) -> None:
        for name, cookie in result.cookies.items():
            if cookie.max_age == 0 or not cookie.value:
                self.jar.pop(name, None)
            else:
                self.jar[name] = cookie.value

    def register(self, first: str = "Анна", second: str = "Смирнова", email: str | None = None) -> str:
        self.emails += 1
        email = email or f"user{self.emails}@example.org"
        result = self.post_form(
            "/register",
            {
                "first_name": first,
                "second_name": second,
                "email": email,
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        assert result.status_code == 303, result.text
        return email


@pytest.fixture
def site(tmp_path: Path) -> Site:
    return Site(tmp_path)


def cleared(result: testing.Result) -> set[str]:
    """Names of cookies the answer deletes."""
    return {name for name, cookie in result.cookies.items() if cookie.max_age == 0 or not cookie.value}


# --- protected pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/", "/login"),
        ("/index", "/login?next=%2Findex"),
        ("/friends", "/login?next=%2Ffriends"),
        ("/profile?tab=1", "/login?next=%2Fprofile%3Ftab%3D1"),
    ],
)
def test_anonymous_visitors_go_to_login(site: Site, path: str, location: str) -> None:
    result = site.get(path)
    assert result.status_code == 303
    assert result.headers["Location"] == location


def test_logged_in_user_sees_the_pages(site: Site) -> None:
    site.register()
    for path in ("/", "/index", "/friends", "/profile"):
        result = site.get(path)
        assert result.status_code == 200, path
        assert result.headers["Content-Type"].startswith("text/html")
        assert 'data-user-id="' in result.text


def test_an_unknown_page_is_a_page_in_the_readers_language(site: Site) -> None:
    russian = site.get("/no/such/page")
    assert russian.status_code == 404
    assert russian.headers["Content-Type"].startswith("text/html")
    assert "Страница не найдена" in russian.text and 'href="/" data-home-link>На главную' in russian.text
    english = site.get("/nowhere", headers={"Accept-Language": "en"})
    assert english.status_code == 404 and "Page not found" in english.text
    site.register()
    signed_in = site.get("/nowhere")
    assert 'data-user-id="' in signed_in.text and ">К чатам</a>" in signed_in.text


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/api/v1/nowhere"), ("GET", "/static/nowhere.js"), ("POST", "/nowhere")]
)
def test_the_api_files_and_changes_keep_their_json_404(site: Site, method: str, path: str) -> None:
    result = site.client.simulate_request(method, path)
    assert result.status_code == 404
    assert result.headers["Content-Type"].startswith("application/json")
    assert result.json["error"]["code"] == "not_found"


def test_expired_token_goes_through_refresh_and_back(site: Site) -> None:
    site.register()
    site.clock.advance(timedelta(hours=2))
    result = site.get("/friends?q=1")
    assert result.status_code == 303
    assert result.headers["Location"] == "/refresh?next=%2Ffriends%3Fq%3D1"
    old_access = site.jar["access_token_cookie"]
    renewed = site.get("/refresh", params={"next": "/friends?q=1"})
    assert renewed.status_code == 303
    assert renewed.headers["Location"] == "/friends?q=1"
    assert site.jar["access_token_cookie"] != old_access
    assert site.get("/friends?q=1").status_code == 200


def test_missing_access_cookie_with_refresh_cookie_goes_to_refresh(site: Site) -> None:
    site.register()
    del site.jar["access_token_cookie"]
    result = site.get("/profile")
    assert result.headers["Location"] == "/refresh?next=%2Fprofile"


def test_invalid_token_clears_cookies_and_goes_to_login(site: Site) -> None:
    site.register()
    site.jar["access_token_cookie"] = "not-a-token"
    result = site.get("/friends")
    assert result.status_code == 303
    assert result.headers["Location"] == "/login?next=%2Ffriends"
    assert cleared(result) == set(COOKIES)


# --- login -----------------------------------------------------------------------------


def test_login_form_sets_cookies_and_goes_to_next(site: Site) -> None:
    email = site.register()
    site.jar.clear()
    page = site.get("/login", params={"next": "/friends"})
    assert 'name="next" value="/friends"' in page.text
    result = site.post_form("/login", {"email": email, "password": PASSWORD, "next": "/friends"})
    assert result.status_code == 303
    assert result.headers["Location"] == "/friends"
    assert set(result.cookies) == set(COOKIES)
    assert result.cookies["access_token_cookie"].http_only
    assert not result.cookies["csrf_token"].http_only
    assert site.get("/friends").status_code == 200


@pytest.mark.parametrize("target", ["https://elsewhere", "//evil.com", "/\\evil.com", "javascript:alert(1)"])
def test_login_never_redirects_off_site(site: Site, target: str) -> None:
    email = site.register()
    result = site.post_form("/login", {"email": email, "password": PASSWORD, "next": target})
    assert result.headers["Location"] == "/"


def test_wrong_password_is_told_on_the_page(site: Site) -> None:
    email = site.register()
    site.jar.clear()
    result = site.post_form("/login", {"email": email, "password": "wrong", "next": "/friends"})
    assert result.status_code == 401
    assert "Неверная почта или пароль." in result.text
    assert f'value="{email}"' in result.text
    assert 'href="/register' in result.text
    assert not result.cookies


def test_forms_from_other_sites_are_refused(site: Site) -> None:
    email = site.register()
    site.jar.clear()
    for headers in (
        FORM | {"Sec-Fetch-Site": "cross-site"},
        FORM | {"Origin": "https://evil.example"},
        FORM | {"Origin": "null"},
    ):
        result = site.post_form("/login", {"email": email, "password": PASSWORD}, headers=headers)
        assert result.status_code == 403, headers
        assert not result.cookies
    # Without Fetch Metadata, the Origin decides.
    same = site.post_form(
        "/login",
        {"email": email, "password": PASSWORD},
        headers=FORM | {"Origin": "http://falconframework.org"},
    )
    assert same.status_code == 303


# --- registration ----------------------------------------------------------------------


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="invalid-feedback" id="f-{name}-error">(.*?)</div>', html, re.S)
    assert found, name
    return found.group(1).strip()


def test_register_shows_errors_beside_fields(site: Site) -> None:
    result = site.post_form(
        "/register",
        {
            "first_name": " ",
            "second_name": "Иванов",
            "email": "not-an-email",
            "password": "short",
            "password_again": "short",
        },
    )
    assert result.status_code == 422
    assert field_error(result.text, "first_name") == "Заполните поле"
    assert field_error(result.text, "email") == "Неверный адрес почты"
    assert field_error(result.text, "password") == "Не меньше 8 символов"
    assert field_error(result.text, "second_name") == ""
    assert 'value="Иванов"' in result.text
    assert 'aria-invalid="true"' in result.text
    assert not result.cookies


def test_register_checks_the_repeated_password_and_taken_emails(site: Site) -> None:
    mismatch = site.post_form(
        "/register",
        {
            "first_name": "А",
            "second_name": "Б",
            "email": "a@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD + "!",
        },
    )
    assert mismatch.status_code == 422
    assert field_error(mismatch.text, "password_again") == "Пароли не совпадают"
    site.register(email="taken@example.org")
    site.jar.clear()
    taken = site.post_form(
        "/register",
        {
            "first_name": "А",
            "second_name": "Б",
            "email": "TAKEN@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert taken.status_code == 409
    assert field_error(taken.text, "email") == "Этот адрес уже зарегистрирован"


def test_register_logs_in_and_follows_next(site: Site) -> None:
    result = site.post_form(
        "/register",
        {
            "first_name": "Анна",
            "second_name": "Смирнова",
            "email": "anna@example.org",
            "password": PASSWORD,
            "password_again": PASSWORD,
            "next": "/friends",
        },
    )
    assert result.status_code == 303
    assert result.headers["Location"] == "/friends"
    assert set(result.cookies) == set(COOKIES)


# --- refresh and logout ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "location"),
    [
        ("https://elsewhere", "/"),
        ("//evil.com", "/"),
        ("/\\evil.com", "/"),
        ("/\t/evil.com", "/"),
        ("", "/"),
        ("friends", "/"),
        ("/friends?x=1#top", "/friends?x=1#top"),
        ("/profile", "/profile"),
    ],
)
def test_refresh_goes_to_local_next_only(site: Site, target: str, location: str) -> None:
    site.register()
    result = site.get("/refresh", params={"next": target})
    assert result.status_code == 303
    assert result.headers["Location"] == location
    assert "access_token_cookie" in result.cookies


def test_refresh_without_a_valid_refresh_cookie_goes_to_login(site: Site) -> None:
    assert site.get("/refresh", params={"next": "/friends"}).headers["Location"] == "/login?next=%2Ffriends"
    site.jar["refresh_token_cookie"] = "forged"
    result = site.get("/refresh")
    assert result.headers["Location"] == "/login"
    assert "refresh_token_cookie" in cleared(result)


def test_logout_clears_cookies(site: Site) -> None:
    site.register()
    result = site.get("/logout")
    assert result.status_code == 303
    assert result.headers["Location"] == "/login"
    assert cleared(result) == set(COOKIES)
    assert site.get("/").headers["Location"] == "/login"


# --- what pages show -------------------------------------------------------------------


def test_pages_escape_user_text(site: Site) -> None:
    hostile = "<script>alert(1)</script>"
    site.register(first=hostile, second='"><img src=x onerror=alert(2)>')
    for path in ("/profile", "/", "/friends"):
        html = site.get(path).text
        assert "<script>alert" not in html, path
        assert "<img src=x" not in html, path
    profile = site.get("/profile").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in profile
    login = site.post_form("/login", {"email": '"><script>x()</script>', "password": "x"}).text
    assert "<script>x()" not in login
    assert "&#34;&gt;&lt;script&gt;" in login


def test_pages_have_no_inline_scripts_styles_or_handlers(site: Site) -> None:
    site.register()
    for path in ("/login", "/register", "/", "/friends", "/profile", "/docs/v1/api_docs"):
        result = site.get(path)
        html = result.text
        assert "script-src 'self'" in result.headers["Content-Security-Policy"]
        for tag in re.findall(r"<script\b[^>]*>", html):
            # Scripts come from files; the one inline block is data the browser never runs.
            is_data = tag == '<script type="application/json" id="page-data">'
            assert is_data or re.search(r'\bsrc="/static/', tag), (path, tag)
        assert not re.search(r"\sstyle=", html), path
        assert not re.search(r"\son[a-z]+=", html), path


def test_every_form_control_has_a_label(site: Site) -> None:
    site.register()
    for path in ("/login", "/register", "/profile", "/friends"):
        html = site.get(path).text
        labelled = set(re.findall(r'<label[^>]*for="([^"]+)"', html))
        for control in re.findall(r"<(?:input|textarea|select)\b[^>]*>", html):
            if 'type="hidden"' in control:
                continue
            found = re.search(r'id="([^"]+)"', control)
            assert (found and found.group(1) in labelled) or "aria-label=" in control, (path, control)


@pytest.mark.parametrize(
    ("header", "language", "text"),
    [
        (None, "ru", "Вход"),
        ("en-US,en;q=0.9", "en", "Log in"),
        ("de-DE, en;q=0.5, ru;q=0.9", "ru", "Вход"),
        ("fr, en;q=0.8", "en", "Log in"),
        ("en;q=0, ru", "ru", "Вход"),
    ],
)
def test_language_follows_accept_language(site: Site, header: str | None, language: str, text: str) -> None:
    headers = {"Accept-Language": header} if header else {}
    html = site.get("/login", headers=headers).text
    assert f'<html lang="{language}">' in html
    assert f'<h1 id="login-title">{text}</h1>' in html


def test_api_docs_page(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "API_DOCS", tmp_path / "missing.md")
    assert "Документация API пока не написана." in site.get("/docs/v1/api_docs").text

    docs = tmp_path / "api_docs.md"
    docs.write_text(
        "# Messenger API\n\n<script>alert(1)</script>\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n[x](javascript:alert(1))\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(pages, "API_DOCS", docs)
    html = site.get("/docs/v1/api_docs").text
    assert '<h1 id="messenger-api">Messenger API</h1>' in html
    assert "<table>" in html
    assert "<script>alert(1)</script>" not in html
    assert 'href="javascript:' not in html
    docs.write_text("# Changed\n", encoding="utf-8")
    os.utime(docs, (1, 1))  # a different mtime: the cache must notice
    assert '<h1 id="changed">Changed</h1>' in site.get("/docs/v1/api_docs").text


def test_static_files_are_served(site: Site) -> None:
    for path in (
        "/static/css/app.css",
        "/static/js/chat.js",
        "/static/js/chat/state.js",
        "/static/img/icon.svg",
    ):
        result = site.get(path)
        assert result.status_code == 200, path
        assert result.headers["Cache-Control"] == "no-cache", path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "/"),
        ("/a/b?c=d", "/a/b?c=d"),
        ("//x", "/"),
        ("/\\x", "/"),
        ("/a\\b", "/"),
        ("/a\nb", "/"),
        ("http://x/", "/"),
        ("x", "/"),
    ],
)
def test_safe_next(value: str | None, expected: str) -> None:
    assert pages.safe_next(value) == expected


def test_logout_from_another_site_asks_first(site: Site) -> None:
    site.register()
    lured = site.get("/logout", headers={"Sec-Fetch-Site": "cross-site"})
    assert lured.status_code == 200 and 'action="/logout"' in lured.text
    assert "access_token_cookie" in site.jar  # still signed in
    forged = site.post_form("/logout", {}, headers={"Sec-Fetch-Site": "cross-site"})
    assert forged.status_code == 403 and "access_token_cookie" in site.jar
    ours = site.get("/logout", headers={"Sec-Fetch-Site": "same-origin"})
    assert ours.status_code == 303 and ours.headers["Location"] == "/login"
    assert "access_token_cookie" not in site.jar


def test_a_token_in_the_url_is_not_carried_into_next(site: Site) -> None:
    result = site.get("/friends?jwt=secret.token.value&tab=incoming")
    assert result.status_code == 303
    assert "secret.token.value" not in result.headers["Location"]
    assert "tab%3Dincoming" in result.headers["Location"]


def test_the_confirm_page_confirms_only_when_the_button_is_pressed(site: Site) -> None:
    email = site.register()
    token = site.client.simulate_post("/api/v1/tokens", json={"email": email, "password": PASSWORD}).json[
        "token"
    ]
    shown = site.get(f"/confirm?token={token}")
    assert shown.status_code == 200 and 'action="/confirm"' in shown.text
    me = site.get("/api/v1/users/me").json["user"]
    assert me["is_confirmed"] is False  # opening the link changes nothing
    done = site.post_form("/confirm", {"token": token})
    assert done.status_code == 200 and "подтверждён" in done.text
    assert site.get("/api/v1/users/me").json["user"]["is_confirmed"] is True
    stale = site.post_form("/confirm", {"token": "garbage"})
    assert stale.status_code == 401 and "Ссылка неверна или устарела" in stale.text


def test_the_api_docs_contents_link_to_their_sections(site: Site) -> None:
    html = site.get("/docs/v1/api_docs").text
    anchors = re.findall(r'<a href="#([^"]+)">', html)
    assert len(anchors) >= 10
    for anchor in anchors:
        assert f'id="{anchor}"' in html, anchor
    assert "Справочник API написан на английском" in html  # a Russian reader is told why
    assert "Справочник API" not in site.get("/docs/v1/api_docs", headers={"Accept-Language": "en"}).text


def test_the_sign_in_pages_send_someone_signed_in_straight_on(site: Site) -> None:
    site.register()
    for path in ("/login", "/register"):
        straight = site.get(path)
        assert straight.status_code == 303, path
        assert straight.headers["Location"] == "/", path
        onward = site.get(path, params={"next": "/friends"})
        assert (onward.status_code, onward.headers["Location"]) == (303, "/friends"), path
    site.jar.clear()
    assert site.get("/login").status_code == 200  # signed out: the form again


def test_the_sign_in_forms_mark_their_required_fields(site: Site) -> None:
    login = site.get("/login").text
    assert "novalidate" not in login  # the browser stops an empty sign-in itself
    for path in ("/login", "/register"):  # registration explains each field in the reader's language
        html = site.get(path).text
        assert re.search(r'name="email"[^>]*required', html), path
        # Each required field's label says so where one can see it, in the reader's language.
        marks = re.findall(r'<span class="required-mark" title="([^"]+)" aria-hidden="true">\*</span>', html)
        assert marks and len(marks) == len(re.findall(r"<input[^>]* required", html)), path
        assert set(marks) == {"обязательное поле"}, path
    english = site.get("/login", headers={"Accept-Language": "en"}).text
    assert 'title="required"' in english


def test_the_page_data_carries_the_limits_that_are_settings(tmp_path: Path) -> None:
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db"),
        UPLOAD_FOLDER=str(tmp_path),
        EDIT_WINDOW_HOURS=3,
    )
    client = testing.TestClient(create_app(build_messenger(settings, memory=True), settings))
    html = client.simulate_get("/login").text
    found = re.search(r'<script type="application/json" id="page-data">(.*?)</script>', html, re.S)
    assert found
    limits = json.loads(found.group(1))["limits"]
    assert limits["edit_window_hours"] == 3
    assert limits["max_upload"] == settings.MAX_CONTENT_LENGTH
    assert limits["message_max"] == MESSAGE_MAX
