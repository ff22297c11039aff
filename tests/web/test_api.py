"""The JSON API's contract (issue 3), route by route: the happy path and each error.

Every test runs the real app over a real Messenger on the memory adapter; the few that
need SQLite's limits (64-bit integers) use the SQLite adapter on a temporary file.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messenger_core.limits import SEARCH_WORDS_MAX
from messenger_core.services import Upload
from tests.web.conftest import (
    MAX_UPLOAD,
    PASSWORD,
    Api,
    Person,
    assert_error,
    cookie_header,
    cookies_of,
    disposition_name,
    multipart,
    png_bytes,
)

SHORT_USER = {"user_id", "first_name", "second_name", "avatar", "username", "deleted"}
PRESENCE = {"online", "last_seen"}  # where the privacy rules show it
FULL_USER = SHORT_USER | {
    "email",
    "phone_number",
    "age",
    "city",
    "additional_inf",
    "created_date",
    "is_confirmed",
}
DEADLINE = 20.0  # how long a test waits for what should come at once (polls wait 30 s)

MESSAGE = {
    "id",
    "chat_id",
    "sender_id",
    "text",
    "sticker",
    "attachments",
    "sending_date",
    "edited_date",
    "is_deleted",
    "is_read",
    # group chats
    "kind",
    "system",
    "mentions",
    "read_count",
    "deleted_by",
    # the conversation
    "reply_to",
    "forwarded_from",
    "reactions",
}


# --- generic behaviour ----------------------------------------------------------------


def test_unknown_route_is_a_json_404(api: Api) -> None:
    assert_error(api.get("/api/v1/nothing-here"), 404, "not_found")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("DELETE", "/api/v1/login"),
        ("GET", "/api/v1/logout"),
        ("PUT", "/api/v1/chats"),
        ("POST", "/api/v1/stickers"),
        ("PATCH", "/api/v1/users_friends"),
    ],
)
def test_wrong_method_is_a_json_405(api: Api, method: str, path: str) -> None:
    result = api.request(method, path)
    assert_error(result, 405, "method_not_allowed")
    assert "Allow" in result.headers


def test_ids_past_64_bits_name_nothing(make_api: Callable[..., Api]) -> None:
    api = make_api(wiring="sqlite")
    ivan = api.register()
    huge = 10**20
    for path in (
        f"/api/v1/chats/{huge}",
        f"/api/v1/chats/{huge}/messages",
        f"/api/v1/attachments/{huge}",
        f"/api/v1/stickers/{huge}/image",
    ):
        assert_error(api.get(path, ivan), 404)
    assert_error(api.put(f"/api/v1/messages/{huge}", ivan, json={"text": "x"}), 404)
    assert_error(
        api.post("/api/v1/chats/1/read", ivan, json={"message_id": huge}), 400, fields={"message_id"}
    )
    assert_error(api.get_with_body("/api/v1/chats", {"chat_id": huge}, ivan), 400)
    assert_error(api.post("/api/v1/messages", ivan, json={"chat_id": -(2**70), "text": "x"}), 400)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/users/me", None),
        ("GET", "/api/v1/users", None),
        ("GET", "/api/v1/users_friends", None),
        ("GET", "/api/v1/chats", None),
        ("GET", "/api/v1/messages", None),
        ("GET", "/api/v1/stickers", None),
        ("GET", "/api/v1/events", None),
        ("PATCH", "/api/v1/users/me", {"city": "Тверь"}),
        ("POST", "/api/v1/refresh", None),
    ],
)
def test_every_path_answers_with_and_without_a_trailing_slash(
    api: Api, ivan: Person, method: str, path: str, body: dict[str, Any] | None
) -> None:
    kwargs: dict[str, Any] = {"json": body} if body is not None else {}
    if path == "/api/v1/refresh":
        kwargs = {"json": {"refresh_token": ivan.refresh_token}}
    plain = api.request(method, path, ivan, **kwargs)
    slashed = api.request(method, path + "/", ivan, **kwargs)
    assert plain.status_code == slashed.status_code == 200, (plain.text, slashed.text)
    assert plain.json.keys() == slashed.json.keys()


def test_trailing_slash_on_item_and_nested_routes(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat)
    assert api.get(f"/api/v1/chats/{chat}/", ivan).status_code == 200
    assert api.get(f"/api/v1/chats/{chat}/messages/", ivan).json["messages"][0]["id"] == message["id"]
    assert api.post(f"/api/v1/chats/{chat}/messages/", anna, json={"text": "и тебе"}).status_code == 201
    assert api.put(f"/api/v1/messages/{message['id']}/", ivan, json={"text": "ну"}).status_code == 200
    assert (
        api.post(
            "/api/v1/users/",
            json={
                "first_name": "Пётр",
                "second_name": "Ильин",
                "email": "petr@example.org",
                "password": PASSWORD,
            },
        ).status_code
        == 201
    )
    assert api.get(f"/api/v1/users/{anna.user_id}/", ivan).json["user"]["user_id"] == anna.user_id


def test_malformed_json_is_400(api: Api) -> None:
    result = api.post("/api/v1/users", body="{not json", headers={"Content-Type": "application/json"})
    assert_error(result, 400, "bad_request")


@pytest.mark.parametrize("body", ["[1, 2]", '"text"', "42", "true"])
def test_a_json_body_that_is_not_an_object_is_400(api: Api, body: str) -> None:
    assert_error(api.post("/api/v1/login", body=body, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize(
    "body",
    [
        '{"email": NaN, "password": "x"}',
        '{"email": "a@b.ru", "password": "\\ud800\\udfff\\ud800"}',
        '{"email": "\\udc00@b.ru", "password": "password"}',
        "[" * 20000 + "]" * 20000,
        '{"email": "a@b.ru", "password": "x", "expires_in": ' + "9" * 5000 + "}",
        b'{"email": "\xff\xfe", "password": "x"}',
    ],
    ids=["nan", "lone-surrogates", "surrogate-email", "deep-nesting", "huge-number", "not-utf8"],
)
def test_json_that_python_would_accept_but_the_api_cannot_store_is_400(api: Api, body: str | bytes) -> None:
    assert_error(api.post("/api/v1/login", body=body, headers={"Content-Type": "application/json"}), 400)


def test_a_json_body_over_64_kib_is_413(api: Api, ivan: Person) -> None:
    big = {"text": "я" * 40_000, "chat_id": 1}  # 80 000 bytes of UTF-8
    assert_error(api.post("/api/v1/messages", ivan, json=big), 413, "too_large")
    untyped = api.post("/api/v1/messages", ivan, body=json.dumps(big))
    assert_error(untyped, 413, "too_large")


def test_a_body_of_another_type_is_415_where_it_would_carry_data(api: Api, ivan: Person) -> None:
    result = api.post("/api/v1/users", body="first_name=Иван", headers={"Content-Type": "text/plain"})
    assert_error(result, 415, "unsupported_media_type")
    form = api.post(
        "/api/v1/login",
        body="email=a&password=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert_error(form, 415)
    # A read ignores a body it cannot read and answers from the query string.
    read = api.get("/api/v1/users/me", ivan, body="hello", headers={"Content-Type": "text/plain"})
    assert read.status_code == 200


def test_a_body_without_a_content_type_is_read_as_json(api: Api) -> None:
    body = json.dumps(
        {"first_name": "Олег", "second_name": "Орлов", "email": "oleg@example.org", "password": PASSWORD}
    )
    assert api.post("/api/v1/users", body=body).status_code == 201


def test_api_answers_are_not_cached(api: Api, ivan: Person) -> None:
    assert api.get("/api/v1/users/me", ivan).headers["Cache-Control"] == "no-store"


# --- registration and sign-in ---------------------------------------------------------


def test_register_answers_201_with_the_full_user(api: Api) -> None:
    result = api.post(
        "/api/v1/users",
        json={
            "first_name": "  Иван  ",
            "second_name": "Петров",
            "email": "ivan@example.org",
            "password": PASSWORD,
        },
    )
    assert result.status_code == 201
    user = result.json["user"]
    assert set(user) == FULL_USER
    assert (user["first_name"], user["second_name"], user["email"]) == ("Иван", "Петров", "ivan@example.org")
    assert user["is_confirmed"] is False
    assert user["avatar"].startswith(f"/api/v1/users/{user['user_id']}/avatar")
    assert "password" not in result.text and PASSWORD not in result.text


def test_register_with_a_taken_email_is_409_whatever_its_case(api: Api, ivan: Person) -> None:
    body = {"first_name": "Другой", "second_name": "Иван", "email": ivan.email.upper(), "password": PASSWORD}
    assert_error(api.post("/api/v1/users", json=body), 409, "email_taken", fields={"email"})


def test_register_names_each_invalid_field(api: Api) -> None:
    body = {"first_name": " ", "second_name": "x" * 65, "email": "not-an-email", "password": "short"}
    assert_error(
        api.post("/api/v1/users", json=body),
        422,
        "invalid",
        fields={"first_name", "second_name", "email", "password"},
    )


def test_register_names_missing_and_unknown_fields(api: Api) -> None:
    result = api.post("/api/v1/users", json={"first_name": "Иван", "nickname": "ваня"})
    assert_error(result, 422, fields={"second_name", "email", "password", "nickname"})
    assert result.json["error"]["fields"]["nickname"] == "Unknown field"
    assert result.json["error"]["fields"]["email"] == "Required"


def test_register_with_wrong_types_is_400_naming_the_fields(api: Api) -> None:
    body = {"first_name": 1, "second_name": ["Петров"], "email": None, "password": {"p": 1}}
    assert_error(
        api.post("/api/v1/users", json=body),
        400,
        "bad_request",
        fields={"first_name", "second_name", "email", "password"},
    )


def test_login_answers_tokens_and_sets_cookies(api: Api, ivan: Person) -> None:
    result = api.post("/api/v1/login", json={"email": ivan.email, "password": ivan.password})
    assert result.status_code == 200
    assert set(result.json) == {"access_token", "refresh_token"}
    cookies = cookies_of(result)
    assert cookies["access_token_cookie"] == result.json["access_token"]
    assert cookies["refresh_token_cookie"] == result.json["refresh_token"]
    assert cookies["csrf_token"]
    assert (
        api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {result.json['access_token']}"}).json[
            "user"
        ]["user_id"]
        == ivan.user_id
    )


def test_login_email_is_case_insensitive(api: Api, ivan: Person) -> None:
    assert (
        api.post("/api/v1/login", json={"email": ivan.email.upper(), "password": ivan.password}).status_code
        == 200
    )


def test_login_gives_one_answer_for_a_wrong_email_or_password(api: Api, ivan: Person) -> None:
    wrong_password = api.post("/api/v1/login", json={"email": ivan.email, "password": "wrong password"})
    unknown_email = api.post("/api/v1/login", json={"email": "nobody@example.org", "password": PASSWORD})
    first = assert_error(wrong_password, 401, "bad_credentials")
    second = assert_error(unknown_email, 401, "bad_credentials")
    assert first == second


@pytest.mark.parametrize("expires_in", [0, -5, 31 * 24 * 3600])
def test_login_with_an_expiry_out_of_bounds_is_422(api: Api, ivan: Person, expires_in: int) -> None:
    result = api.post(
        "/api/v1/login", json={"email": ivan.email, "password": ivan.password, "expires_in": expires_in}
    )
    assert_error(result, 422, fields={"expires_in"})


def test_login_field_types_and_presence(api: Api) -> None:
    assert_error(
        api.post("/api/v1/login", json={"email": "a@b.ru", "password": "x", "expires_in": "soon"}),
        400,
        fields={"expires_in"},
    )
    assert_error(api.post("/api/v1/login", json={"email": "a@b.ru"}), 422, fields={"password"})
    assert_error(api.post("/api/v1/login"), 422, fields={"email", "password"})


def test_login_accepts_expires_in(api: Api, ivan: Person) -> None:
    tokens = api.login(ivan.email, ivan.password, expires_in=120)
    claims = json.loads(_b64(tokens["access_token"].split(".")[1]))
    assert claims["exp"] - claims["iat"] == 120


def _b64(part: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


# --- where tokens come from -----------------------------------------------------------


def test_access_token_from_the_bearer_header(api: Api, ivan: Person) -> None:
    assert (
        api.get("/api/v1/users/me", headers={"Authorization": f"bearer {ivan.access_token}"}).json["user"][
            "user_id"
        ]
        == ivan.user_id
    )


def test_access_token_from_a_json_body_even_on_get(api: Api, ivan: Person) -> None:
    result = api.get_with_body("/api/v1/users/me", {"access_token": ivan.access_token})
    assert result.json["user"]["user_id"] == ivan.user_id
    via_jwt = api.get_with_body("/api/v1/users/me", {"jwt": ivan.access_token})
    assert via_jwt.json["user"]["user_id"] == ivan.user_id


def test_access_token_from_the_query(api: Api, ivan: Person) -> None:
    result = api.get("/api/v1/users/me", params={"jwt": ivan.access_token})
    assert result.json["user"]["user_id"] == ivan.user_id


def test_access_token_from_the_cookie(api: Api, ivan: Person) -> None:
    cookies = {"access_token_cookie": ivan.access_token}
    result = api.get("/api/v1/users/me", headers={"Cookie": cookie_header(cookies)})
    assert result.json["user"]["user_id"] == ivan.user_id


def test_a_token_in_the_body_of_a_post_is_not_a_field_of_the_use_case(
    api: Api, ivan: Person, anna: Person
) -> None:
    body = {"access_token": ivan.access_token, "friend_id": anna.user_id, "action": "add"}
    assert api.post("/api/v1/users_friends", json=body).status_code == 200


def test_no_token_is_401_token_missing(api: Api) -> None:
    for path in (
        "/api/v1/users/me",
        "/api/v1/chats",
        "/api/v1/messages",
        "/api/v1/events",
        "/api/v1/stickers",
        "/api/v1/users_friends",
    ):
        assert_error(api.get(path), 401, "token_missing")
    assert_error(api.post("/api/v1/chats", json={"user_id": "x"}), 401, "token_missing")


def test_unauthenticated_requests_are_401_before_their_body_is_judged(api: Api) -> None:
    assert_error(api.post("/api/v1/messages", json={"nonsense": True}), 401, "token_missing")
    assert_error(api.put("/api/v1/messages/1", json={}), 401, "token_missing")
    assert_error(api.post("/api/v1/chats/1/read", json={}), 401, "token_missing")
    assert_error(api.request("DELETE", "/api/v1/users_friends"), 401, "token_missing")


@pytest.mark.parametrize("token", ["garbage", "a.b.c", "Bearer", "eyJhbGciOiJIUzI1NiJ9.e30.AAAA"])
def test_a_malformed_token_is_401_token_invalid(api: Api, token: str) -> None:
    assert_error(
        api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}), 401, "token_invalid"
    )


# --- refresh and logout ---------------------------------------------------------------


def test_refresh_from_the_body_the_query_and_the_cookie(api: Api, ivan: Person) -> None:
    sources: list[dict[str, Any]] = [
        {"json": {"refresh_token": ivan.refresh_token}},
        {"json": {"jwt": ivan.refresh_token}},
        {"params": {"jwt": ivan.refresh_token}},
        {"headers": {"Cookie": cookie_header({"refresh_token_cookie": ivan.refresh_token})}},
    ]
    refresh = ivan.refresh_token
    for source in sources:
        source = json.loads(json.dumps(source).replace(ivan.refresh_token, refresh))
        result = api.post("/api/v1/refresh", **source)
        assert result.status_code == 200, (source, result.text)
        assert set(result.json) == {"access_token", "refresh_token"}
        assert cookies_of(result)["access_token_cookie"] == result.json["access_token"]
        assert cookies_of(result)["refresh_token_cookie"] == result.json["refresh_token"]
        refresh = result.json["refresh_token"]  # each renewal retires the one it was given
        me = api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {result.json['access_token']}"})
        assert me.json["user"]["user_id"] == ivan.user_id


def test_refresh_errors(api: Api, ivan: Person) -> None:
    assert_error(api.post("/api/v1/refresh"), 401, "token_missing")
    assert_error(api.post("/api/v1/refresh", json={"refresh_token": ivan.access_token}), 401, "token_invalid")
    assert_error(
        api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token, "expires_in": 0}),
        422,
        fields={"expires_in"},
    )


def test_refresh_accepts_expires_in(api: Api, ivan: Person) -> None:
    result = api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token, "expires_in": 60})
    claims = json.loads(_b64(result.json["access_token"].split(".")[1]))
    assert claims["exp"] - claims["iat"] == 60


def test_logout_clears_every_cookie(api: Api, ivan: Person) -> None:
    result = api.post("/api/v1/logout")
    assert result.status_code == 200
    assert result.json == {"success": "OK"}
    for name in ("access_token_cookie", "refresh_token_cookie", "csrf_token"):
        cookie = result.cookies[name]
        assert cookie.value == ""
        assert cookie.expires is not None and cookie.expires.timestamp() < time.time()
        assert cookie.path == "/"


# --- CSRF for cookie-authenticated changes --------------------------------------------


@pytest.fixture
def browser_cookies(api: Api, ivan: Person) -> dict[str, str]:
    return cookies_of(api.post("/api/v1/login", json={"email": ivan.email, "password": ivan.password}))


def test_a_cookie_authenticated_change_without_a_csrf_defence_is_403(
    api: Api, browser_cookies: dict[str, str]
) -> None:
    result = api.patch(
        "/api/v1/users/me", json={"city": "Казань"}, headers={"Cookie": cookie_header(browser_cookies)}
    )
    assert_error(result, 403, "csrf_failed")


def test_a_cookie_authenticated_change_from_another_origin_is_403(
    api: Api, browser_cookies: dict[str, str]
) -> None:
    for origin in ("https://evil.example", "null"):
        result = api.patch(
            "/api/v1/users/me",
            json={"city": "Казань"},
            headers={"Cookie": cookie_header(browser_cookies), "Origin": origin},
        )
        assert_error(result, 403, "csrf_failed")


def test_a_cookie_authenticated_change_from_our_origin_passes(
    api: Api, browser_cookies: dict[str, str]
) -> None:
    result = api.patch(
        "/api/v1/users/me",
        json={"city": "Казань"},
        headers={"Cookie": cookie_header(browser_cookies), "Origin": "http://falconframework.org"},
    )
    assert result.status_code == 200, result.text
    assert result.json["user"]["city"] == "Казань"


def test_a_cookie_authenticated_change_echoing_the_csrf_cookie_passes(
    api: Api, browser_cookies: dict[str, str]
) -> None:
    headers = {"Cookie": cookie_header(browser_cookies), "X-CSRF-Token": browser_cookies["csrf_token"]}
    assert api.patch("/api/v1/users/me", json={"city": "Казань"}, headers=headers).status_code == 200
    wrong = {"Cookie": cookie_header(browser_cookies), "X-CSRF-Token": "not-the-cookie"}
    assert_error(api.patch("/api/v1/users/me", json={"city": "Казань"}, headers=wrong), 403, "csrf_failed")


def test_cookie_reads_and_bearer_changes_need_no_csrf_defence(
    api: Api, ivan: Person, browser_cookies: dict[str, str]
) -> None:
    assert api.get("/api/v1/users/me", headers={"Cookie": cookie_header(browser_cookies)}).status_code == 200
    cross_site = {"Origin": "https://evil.example"}
    assert api.patch("/api/v1/users/me", ivan, json={"city": "Казань"}, headers=cross_site).status_code == 200
    body_token = {"city": "Тула", "access_token": ivan.access_token}
    assert api.patch("/api/v1/users/me", json=body_token, headers=cross_site).status_code == 200
    query_token = api.patch(
        "/api/v1/users/me", json={"city": "Орёл"}, params={"jwt": ivan.access_token}, headers=cross_site
    )
    assert query_token.status_code == 200


# --- users ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/users/me", "/api/v1/users/", "/api/v1/users"])
def test_the_current_user_in_full(api: Api, ivan: Person, path: str) -> None:
    user = api.get(path, ivan).json["user"]
    assert set(user) == FULL_USER
    assert (user["user_id"], user["email"]) == (ivan.user_id, ivan.email)


def test_another_user_is_short_and_yourself_is_full(api: Api, ivan: Person, anna: Person) -> None:
    other = api.get(f"/api/v1/users/{anna.user_id}", ivan).json["user"]
    assert set(other) == SHORT_USER | PRESENCE
    assert (other["first_name"], other["second_name"]) == ("Анна", "Сидорова")
    yourself = api.get(f"/api/v1/users/{ivan.user_id}", ivan).json["user"]
    assert set(yourself) == FULL_USER


def test_an_unknown_user_is_404(api: Api, ivan: Person) -> None:
    assert_error(api.get("/api/v1/users/nobody0000000000", ivan), 404, "not_found")


@pytest.fixture
def people(api: Api) -> list[Person]:
    return [
        api.register("Иван", "Петров"),
        api.register("Пётр", "Иванов"),
        api.register("Анна", "Петрова"),
        api.register("John", "Smith"),
    ]


def _names(result: Any) -> list[str]:
    return [f"{u['first_name']} {u['second_name']}" for u in result.json["users"]]


def test_search_is_case_insensitive_in_cyrillic(api: Api, people: list[Person]) -> None:
    me = people[0]
    # "ё" and "е" are one letter to a search, so "ПЕТР" finds Пётр as well as the Петровы.
    found = _names(api.get("/api/v1/users", me, params={"search_request": "ПЕТР"}))
    assert sorted(found) == sorted(["Иван Петров", "Пётр Иванов", "Анна Петрова"])
    assert sorted(_names(api.get("/api/v1/users", me, params={"search_request": "пЁтр"}))) == sorted(found)
    assert _names(api.get("/api/v1/users", me, params={"search_request": "ПЕТРОВА"})) == ["Анна Петрова"]
    assert _names(api.get("/api/v1/users", me, params={"search_request": "smi"})) == ["John Smith"]
    shorts = api.get("/api/v1/users", me, params={"search_request": "smi"}).json["users"]
    assert set(shorts[0]) == SHORT_USER | PRESENCE


@pytest.mark.parametrize("wiring", ["fast", "sqlite"])
def test_a_search_of_a_thousand_words_counts_the_first_ten(make_api: Callable[..., Api], wiring: str) -> None:
    # SQLite refused ~1,000 words with "Expression tree is too large" (a 500).
    api = make_api(wiring=wiring)
    me = api.register("Иван", "Петров")
    words = ["иван"] * SEARCH_WORDS_MAX
    found = api.get("/api/v1/users", me, params={"search_request": " ".join([*words, "nobody"] * 100)})
    assert found.status_code == 200, found.text
    assert _names(found) == ["Иван Петров"]  # the 11th word on ("nobody") is ignored


def test_search_by_first_and_second_name(api: Api, people: list[Person]) -> None:
    me = people[0]
    found = _names(api.get("/api/v1/users", me, params={"first_name": "анна", "second_name": "петр"}))
    assert found == ["Анна Петрова"]
    assert _names(api.get("/api/v1/users", me, params={"second_name": "иванов"})) == ["Пётр Иванов"]


def test_search_parameters_from_a_json_body(api: Api, people: list[Person]) -> None:
    result = api.get_with_body(
        "/api/v1/users", {"search_request": "JOHN", "access_token": people[0].access_token}
    )
    assert _names(result) == ["John Smith"]


def test_search_pages_with_start_and_limit(api: Api, people: list[Person]) -> None:
    me = people[0]
    everyone = _names(
        api.get("/api/v1/users", me, params={"search_request": "", "start": "0", "limit": "20"})
    )
    assert len(everyone) == 4
    first_two = _names(api.get("/api/v1/users", me, params={"start": "0", "limit": "2"}))
    next_two = _names(api.get("/api/v1/users", me, params={"start": "2", "limit": "2"}))
    assert first_two + next_two == everyone


def test_search_bounds(api: Api, ivan: Person) -> None:
    assert_error(
        api.get("/api/v1/users", ivan, params={"search_request": "a", "limit": "21"}), 422, fields={"limit"}
    )
    assert_error(
        api.get("/api/v1/users", ivan, params={"search_request": "a", "limit": "0"}), 422, fields={"limit"}
    )
    assert_error(
        api.get("/api/v1/users", ivan, params={"search_request": "a", "start": "-1"}), 422, fields={"start"}
    )
    assert_error(
        api.get("/api/v1/users", ivan, params={"search_request": "a", "limit": "ten"}), 400, fields={"limit"}
    )
    assert_error(
        api.get("/api/v1/users", ivan, params={"search_request": "a", "sort": "name"}), 422, fields={"sort"}
    )


# --- profile edits --------------------------------------------------------------------


def test_edit_the_profile(api: Api, ivan: Person) -> None:
    changes = {
        "first_name": "Ваня",
        "phone_number": "+7 (916) 123-45-67",
        "age": 33,
        "city": "Москва",
        "additional_inf": "Люблю чай",
    }
    result = api.put("/api/v1/users/me", ivan, json=changes)
    assert result.status_code == 200
    assert result.json["user_id"] == ivan.user_id
    user = result.json["user"]
    assert (user["first_name"], user["phone_number"], user["age"], user["city"], user["additional_inf"]) == (
        "Ваня",
        "+79161234567",
        33,
        "Москва",
        "Люблю чай",
    )
    assert "access_token" not in result.json  # nothing that identifies the account changed
    assert api.get("/api/v1/users/me", ivan).json["user"]["city"] == "Москва"


def test_patch_through_your_own_id_and_clear_fields(api: Api, ivan: Person) -> None:
    api.patch("/api/v1/users/me", ivan, json={"city": "Москва", "age": "40"})
    result = api.patch(f"/api/v1/users/{ivan.user_id}", ivan, json={"city": "", "age": None})
    assert result.status_code == 200
    assert (result.json["user"]["city"], result.json["user"]["age"]) == (None, None)


def test_edit_names_each_invalid_field(api: Api, ivan: Person) -> None:
    result = api.patch("/api/v1/users/me", ivan, json={"age": 500, "phone_number": "12", "city": "x" * 101})
    assert_error(result, 422, fields={"age", "phone_number", "city"})
    assert_error(api.patch("/api/v1/users/me", ivan, json={"age": "old"}), 400, fields={"age"})
    assert_error(api.patch("/api/v1/users/me", ivan, json={"nickname": "ваня"}), 422, fields={"nickname"})


def test_edit_another_users_profile_is_403(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(api.patch(f"/api/v1/users/{anna.user_id}", ivan, json={"city": "Тверь"}), 403)
    assert api.get("/api/v1/users/me", anna).json["user"]["city"] is None


def test_changing_email_or_password_needs_the_current_password(api: Api, ivan: Person) -> None:
    assert_error(
        api.patch("/api/v1/users/me", ivan, json={"password": "new password 1"}), 422, fields={"old_password"}
    )
    wrong = api.patch("/api/v1/users/me", ivan, json={"password": "new password 1", "old_password": "nope"})
    assert_error(wrong, 403, "wrong_password")
    assert api.get("/api/v1/users/me", ivan).status_code == 200  # nothing rotated


def test_changing_to_a_taken_email_is_409(api: Api, ivan: Person, anna: Person) -> None:
    result = api.patch("/api/v1/users/me", ivan, json={"email": anna.email, "old_password": ivan.password})
    assert_error(result, 409, "email_taken")


def test_changing_the_password_rotates_every_token(api: Api, ivan: Person) -> None:
    result = api.put(
        "/api/v1/users/me", ivan, json={"password": "new password 1", "old_password": ivan.password}
    )
    assert result.status_code == 200, result.text
    body = result.json
    assert {"user_id", "user", "access_token", "refresh_token"} <= body.keys()
    assert body["user_id"] != ivan.user_id and body["user"]["user_id"] == body["user_id"]
    cookies = cookies_of(result)
    assert cookies["access_token_cookie"] == body["access_token"]
    assert cookies["refresh_token_cookie"] == body["refresh_token"]

    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")
    assert_error(
        api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token}), 401, "token_revoked"
    )
    new_auth = {"Authorization": f"Bearer {body['access_token']}"}
    assert api.get("/api/v1/users/me", headers=new_auth).json["user"]["user_id"] == body["user_id"]
    assert api.post("/api/v1/refresh", json={"refresh_token": body["refresh_token"]}).status_code == 200
    assert_error(api.post("/api/v1/login", json={"email": ivan.email, "password": ivan.password}), 401)
    assert (
        api.post("/api/v1/login", json={"email": ivan.email, "password": "new password 1"}).status_code == 200
    )


def test_changing_the_email_rotates_tokens_and_unconfirms(api: Api, ivan: Person) -> None:
    result = api.patch(
        "/api/v1/users/me", ivan, json={"email": "new@example.org", "old_password": ivan.password}
    )
    assert result.status_code == 200
    assert result.json["user"]["email"] == "new@example.org"
    assert result.json["user"]["is_confirmed"] is False
    assert "access_token" in result.json
    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")


def test_a_friend_still_finds_you_after_rotation(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.send(ivan, chat, "до смены пароля")
    new_id = api.patch(
        "/api/v1/users/me", ivan, json={"password": "new password 1", "old_password": ivan.password}
    ).json["user_id"]
    friends = api.get("/api/v1/users_friends", anna).json["friends"]
    assert [f["user_id"] for f in friends] == [new_id]
    messages = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"]
    assert messages[0]["sender_id"] == new_id


# --- avatars --------------------------------------------------------------------------


def test_the_default_avatar_is_an_svg_with_initials(api: Api, ivan: Person, anna: Person) -> None:
    result = api.get(f"/api/v1/users/{anna.user_id}/avatar", ivan)
    assert result.status_code == 200
    assert result.headers["Content-Type"].startswith("image/svg+xml")
    assert "АС" in result.text


def test_upload_and_read_an_avatar(api: Api, ivan: Person, anna: Person) -> None:
    before = api.get("/api/v1/users/me", ivan).json["user"]["avatar"]
    result = api.upload(ivan, png_bytes((300, 200)), "я.png", path="/api/v1/users/me/avatar", method="PUT")
    assert result.status_code == 200, result.text
    assert result.json["user"]["avatar"] != before
    image = api.get(f"/api/v1/users/{ivan.user_id}/avatar", anna)
    assert image.status_code == 200
    assert image.headers["Content-Type"] == "image/png"
    assert image.content.startswith(b"\x89PNG")
    assert api.get("/api/v1/users/me/avatar", ivan).content == image.content


def test_post_an_avatar_to_your_own_id(api: Api, ivan: Person) -> None:
    result = api.upload(ivan, png_bytes(), "a.png", path=f"/api/v1/users/{ivan.user_id}/avatar")
    assert result.status_code == 200


def test_avatar_errors(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(
        api.upload(ivan, png_bytes(), "a.png", path=f"/api/v1/users/{anna.user_id}/avatar", method="PUT"), 403
    )
    assert_error(
        api.upload(ivan, b"not an image at all", "a.png", path="/api/v1/users/me/avatar"),
        422,
        fields={"file"},
    )
    assert_error(api.put("/api/v1/users/me/avatar", ivan, json={"file": "x"}), 415)
    assert_error(api.get("/api/v1/users/nobody0000000000/avatar", ivan), 404)
    assert_error(api.upload(ivan, b"x" * (MAX_UPLOAD + 1), "a.png", path="/api/v1/users/me/avatar"), 413)


# --- friends --------------------------------------------------------------------------


def _friend_ids(api: Api, who: Person, kind: str | None = None) -> list[tuple[str, bool]]:
    params = {"type": kind} if kind else None
    result = api.get("/api/v1/users_friends", who, params=params)
    assert result.status_code == 200, result.text
    for friend in result.json["friends"]:
        assert set(friend) == SHORT_USER | {"is_accepted"}
    return [(f["user_id"], f["is_accepted"]) for f in result.json["friends"]]


def test_a_friend_request_and_its_acceptance(api: Api, ivan: Person, anna: Person) -> None:
    sent = api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    assert (sent.status_code, sent.json) == (200, {"success": "OK"})
    assert _friend_ids(api, ivan, "outgoing") == [(anna.user_id, False)]
    assert _friend_ids(api, anna, "incoming") == [(ivan.user_id, False)]
    assert _friend_ids(api, ivan) == [] and _friend_ids(api, anna, "outgoing") == []

    accepted = api.post("/api/v1/users_friends", anna, json={"user_id": ivan.user_id, "action": "accept"})
    assert accepted.status_code == 200
    assert _friend_ids(api, ivan) == [(anna.user_id, True)]
    assert _friend_ids(api, anna, "friends") == [(ivan.user_id, True)]
    assert _friend_ids(api, anna, "incoming") == []


def test_friend_list_parameters_from_a_json_body(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    result = api.get_with_body(
        "/api/v1/users_friends", {"type": "incoming", "access_token": anna.access_token}
    )
    assert [f["user_id"] for f in result.json["friends"]] == [ivan.user_id]


def test_asking_someone_who_asked_you_makes_you_friends(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    assert (
        api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "add"}).status_code
        == 200
    )
    assert _friend_ids(api, ivan) == [(anna.user_id, True)]


def test_friend_request_conflicts(api: Api, ivan: Person, anna: Person) -> None:
    add = {"friend_id": anna.user_id, "action": "add"}
    api.post("/api/v1/users_friends", ivan, json=add)
    assert_error(api.post("/api/v1/users_friends", ivan, json=add), 409, "already_requested")
    api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "accept"})
    assert_error(api.post("/api/v1/users_friends", ivan, json=add), 409, "already_friends")
    assert_error(
        api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "accept"}),
        409,
        "already_friends",
    )


def test_friend_request_errors(api: Api, ivan: Person, anna: Person) -> None:
    def post(body: dict[str, Any]) -> Any:
        return api.post("/api/v1/users_friends", ivan, json=body)

    assert_error(post({"friend_id": "nobody0000000000", "action": "add"}), 404)
    assert_error(post({"friend_id": ivan.user_id, "action": "add"}), 422, fields={"user_id"})
    assert_error(post({"friend_id": anna.user_id, "action": "poke"}), 422, fields={"action"})
    assert_error(post({"action": "add"}), 422, fields={"friend_id"})
    assert_error(post({"friend_id": anna.user_id}), 422, fields={"action"})
    assert_error(post({"friend_id": 5, "action": "add"}), 400, fields={"friend_id"})
    assert_error(post({"friend_id": anna.user_id, "action": "accept"}), 404)  # she never asked
    assert_error(post({"friend_id": anna.user_id, "action": "deny"}), 404)
    assert_error(api.get("/api/v1/users_friends", ivan, params={"type": "enemies"}), 422, fields={"type"})


def test_deny_a_request(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    assert (
        api.post(
            "/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "deny"}
        ).status_code
        == 200
    )
    assert _friend_ids(api, ivan, "outgoing") == [] and _friend_ids(api, anna, "incoming") == []
    # He may ask again.
    assert (
        api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"}).status_code
        == 200
    )


def test_cancel_a_request_with_a_json_body(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    result = api.delete("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id})
    assert (result.status_code, result.json) == (200, {"success": "OK"})
    assert _friend_ids(api, anna, "incoming") == []


def test_remove_a_friend_by_path_or_query(api: Api, ivan: Person, anna: Person) -> None:
    api.befriend(ivan, anna)
    assert api.delete(f"/api/v1/users_friends/{anna.user_id}", ivan).status_code == 200
    assert _friend_ids(api, anna) == []
    api.befriend(ivan, anna)
    assert api.delete("/api/v1/users_friends", anna, params={"friend_id": ivan.user_id}).status_code == 200
    assert _friend_ids(api, ivan) == []


def test_removing_nothing_is_404(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(api.delete(f"/api/v1/users_friends/{anna.user_id}", ivan), 404)
    assert_error(api.delete("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id}), 404)
    assert_error(api.delete("/api/v1/users_friends/nobody0000000000", ivan), 404)
    assert_error(api.delete("/api/v1/users_friends", ivan), 422, fields={"friend_id"})


# --- chats ----------------------------------------------------------------------------


def test_open_a_chat_with_a_friend(api: Api, ivan: Person, anna: Person) -> None:
    api.befriend(ivan, anna)
    created = api.post("/api/v1/chats", ivan, json={"user_id": anna.user_id})
    assert created.status_code == 201
    chat = created.json["chat"]
    assert {"id", "title", "members", "last_message", "unread_count"} <= chat.keys()
    assert chat["title"] == "Анна Сидорова"
    assert {m["user_id"] for m in chat["members"]} == {ivan.user_id, anna.user_id}
    assert (chat["last_message"], chat["unread_count"]) == (None, 0)
    again = api.post("/api/v1/chats", anna, json={"user_id": ivan.user_id})
    assert again.status_code == 200
    assert again.json["chat"]["id"] == chat["id"]
    assert again.json["chat"]["title"] == "Иван Петров"


def test_open_chat_errors(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(api.post("/api/v1/chats", ivan, json={"user_id": anna.user_id}), 403, "not_friends")
    assert_error(api.post("/api/v1/chats", ivan, json={"user_id": "nobody0000000000"}), 404)
    assert_error(api.post("/api/v1/chats", ivan, json={"user_id": ivan.user_id}), 422)
    assert_error(api.post("/api/v1/chats", ivan, json={}), 422, fields={"user_id"})
    assert_error(api.post("/api/v1/chats", ivan, json={"user_id": 1}), 400, fields={"user_id"})


def test_get_a_chat_by_id_by_query_and_by_peer(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    by_path = api.get(f"/api/v1/chats/{chat}", ivan).json["chat"]
    by_query = api.get("/api/v1/chats/", ivan, params={"chat_id": str(chat)}).json["chat"]
    by_peer = api.get("/api/v1/chats", ivan, params={"chat_with": anna.user_id}).json["chat"]
    by_body = api.get_with_body("/api/v1/chats", {"chat_with": anna.user_id, "jwt": ivan.access_token})
    assert by_path == by_query == by_peer == by_body.json["chat"]
    assert by_path["id"] == chat


def test_get_chat_errors(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    assert_error(api.get(f"/api/v1/chats/{chat + 100}", ivan), 404)
    assert_error(api.get("/api/v1/chats", ivan, params={"chat_id": "many"}), 400, fields={"chat_id"})
    assert_error(api.get("/api/v1/chats", ivan, params={"chat_with": "nobody0000000000"}), 404)
    stranger = api.register("Олег", "Орлов")
    assert_error(api.get("/api/v1/chats", ivan, params={"chat_with": stranger.user_id}), 404)


def test_chats_are_listed_latest_activity_first(api: Api, ivan: Person, anna: Person) -> None:
    oleg = api.register("Олег", "Орлов")
    with_anna = api.friends_with_chat(ivan, anna)
    with_oleg = api.friends_with_chat(ivan, oleg)
    api.send(ivan, with_anna, "первое")
    api.send(oleg, with_oleg, "второе")
    chats = api.get("/api/v1/chats", ivan).json["chats"]
    assert [c["id"] for c in chats] == [with_oleg, with_anna]
    assert chats[0]["last_message"]["text"] == "второе"
    assert chats[0]["unread_count"] == 1 and chats[1]["unread_count"] == 0
    api.send(anna, with_anna, "третье")
    assert [c["id"] for c in api.get("/api/v1/chats", ivan).json["chats"]] == [with_anna, with_oleg]


@pytest.mark.parametrize("how", ["path", "query", "peer"])
def test_delete_a_chat_for_both(api: Api, ivan: Person, anna: Person, how: str) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat)
    if how == "path":
        result = api.delete(f"/api/v1/chats/{chat}", anna)
    elif how == "query":
        result = api.delete("/api/v1/chats", anna, params={"chat_id": str(chat)})
    else:
        result = api.delete("/api/v1/chats", anna, params={"chat_with": ivan.user_id})
    assert result.status_code == 200, result.text
    assert api.get("/api/v1/chats", ivan).json["chats"] == []
    assert_error(api.get(f"/api/v1/chats/{chat}", ivan), 404)
    assert_error(api.put(f"/api/v1/messages/{message['id']}", ivan, json={"text": "x"}), 404)
    assert_error(api.delete(f"/api/v1/chats/{chat}", ivan), 404)


def test_delete_chat_needs_a_chat(api: Api, ivan: Person) -> None:
    assert_error(api.delete("/api/v1/chats", ivan), 422, fields={"chat_id"})


# --- messages -------------------------------------------------------------------------


def test_send_to_a_friend_by_receiver_id_starts_the_chat(api: Api, ivan: Person, anna: Person) -> None:
    api.befriend(ivan, anna)
    result = api.post("/api/v1/messages", ivan, json={"receiver_id": anna.user_id, "text": "  Привет!  "})
    assert result.status_code == 201
    message = result.json["message"]
    assert set(message) == MESSAGE
    assert (message["text"], message["sender_id"], message["sticker"], message["attachments"]) == (
        "Привет!",
        ivan.user_id,
        None,
        [],
    )
    assert message["edited_date"] is None and message["is_deleted"] is False and message["is_read"] is False
    assert abs(message["sending_date"] - time.time()) < 60
    chats = api.get("/api/v1/chats", anna).json["chats"]
    assert [c["id"] for c in chats] == [message["chat_id"]]
    assert chats[0]["unread_count"] == 1


def test_send_by_chat_id_in_the_body_or_the_path(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    by_body = api.post("/api/v1/messages", ivan, json={"chat_id": chat, "text": "раз"})
    by_path = api.post(f"/api/v1/chats/{chat}/messages", anna, json={"text": "два"})
    assert by_body.status_code == by_path.status_code == 201
    assert by_body.json["message"]["chat_id"] == by_path.json["message"]["chat_id"] == chat


def test_send_errors(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(
        api.post("/api/v1/messages", ivan, json={"receiver_id": anna.user_id, "text": "hi"}),
        403,
        "not_friends",
    )
    chat = api.friends_with_chat(ivan, anna)

    def send(body: dict[str, Any]) -> Any:
        return api.post("/api/v1/messages", ivan, json={"chat_id": chat} | body)

    assert_error(send({}), 422, fields={"text"})
    assert_error(send({"text": "   "}), 422, fields={"text"})
    assert_error(send({"text": "я" * 4097}), 422, fields={"text"})
    assert send({"text": "я" * 4096}).status_code == 201
    assert_error(send({"text": "x", "sticker_id": 999}), 422, fields={"sticker_id"})
    assert_error(send({"text": "x", "attachment_ids": [999]}), 422, fields={"attachment_ids"})
    assert_error(send({"text": 5}), 400, fields={"text"})
    assert_error(send({"text": "x", "attachment_ids": "nope"}), 400, fields={"attachment_ids"})
    assert_error(send({"text": "x", "mood": "happy"}), 422, fields={"mood"})
    assert_error(api.post("/api/v1/messages", ivan, json={"text": "x"}), 422, fields={"chat_id"})
    assert_error(api.post("/api/v1/messages", ivan, json={"receiver_id": ivan.user_id, "text": "x"}), 422)
    assert_error(
        api.post("/api/v1/messages", ivan, json={"receiver_id": "nobody0000000000", "text": "x"}), 404
    )
    assert_error(api.post(f"/api/v1/chats/{chat + 1}/messages", ivan, json={"text": "x"}), 404)


def test_a_former_friend_reads_the_chat_but_cannot_write_in_it(api: Api, ivan: Person, anna: Person) -> None:
    """The rule changed: sending in a direct chat needs the friendship (it used to stay open)."""
    chat = api.friends_with_chat(ivan, anna)
    api.send(anna, chat, "пока")
    api.delete(f"/api/v1/users_friends/{anna.user_id}", ivan)
    for who, other in ((ivan, anna), (anna, ivan)):
        by_user = api.post("/api/v1/messages", who, json={"receiver_id": other.user_id, "text": "ещё тут?"})
        assert_error(by_user, 403, "no_longer_friends")
        assert_error(
            api.post(f"/api/v1/chats/{chat}/messages", who, json={"text": "эй"}), 403, "no_longer_friends"
        )
        seen = api.get(f"/api/v1/chats/{chat}", who).json["chat"]
        assert (seen["can_send"], seen["cannot_send"]) == (False, "no_longer_friends")
        assert [m["text"] for m in api.get(f"/api/v1/chats/{chat}/messages", who).json["messages"]] == [
            "пока"
        ]
    api.befriend(anna, ivan)
    assert api.get(f"/api/v1/chats/{chat}", ivan).json["chat"]["can_send"] is True
    api.send(ivan, chat, "снова друзья")


def test_latest_message_of_each_chat(api: Api, ivan: Person, anna: Person) -> None:
    oleg = api.register("Олег", "Орлов")
    with_anna = api.friends_with_chat(ivan, anna)
    with_oleg = api.friends_with_chat(ivan, oleg)
    api.send(ivan, with_anna, "раз")
    api.send(anna, with_anna, "два")
    api.send(oleg, with_oleg, "три")
    latest = api.get("/api/v1/messages", ivan).json["messages"]
    assert [(m["text"], m["chat_with"]) for m in latest] == [("три", oleg.user_id), ("два", anna.user_id)]


@pytest.fixture
def history(api: Api, ivan: Person, anna: Person) -> tuple[int, list[dict[str, Any]]]:
    chat = api.friends_with_chat(ivan, anna)
    return chat, [api.send(ivan if i % 2 else anna, chat, f"сообщение {i}") for i in range(7)]


def _texts(result: Any) -> list[str]:
    assert result.status_code == 200, result.text
    return [m["text"] for m in result.json["messages"]]


def test_history_newest_page_oldest_first(
    api: Api, ivan: Person, anna: Person, history: tuple[int, list[dict[str, Any]]]
) -> None:
    chat, sent = history
    everything = [m["text"] for m in sent]
    assert _texts(api.get(f"/api/v1/chats/{chat}/messages", ivan)) == everything
    assert _texts(api.get("/api/v1/messages", ivan, params={"chat_id": str(chat)})) == everything
    assert _texts(api.get("/api/v1/messages", ivan, params={"receiver_id": anna.user_id})) == everything
    assert (
        _texts(api.get("/api/v1/messages", ivan, params={"chat_id": str(chat), "limit": "3"}))
        == everything[-3:]
    )


def test_history_pages_before_and_after(
    api: Api, ivan: Person, history: tuple[int, list[dict[str, Any]]]
) -> None:
    chat, sent = history
    ids = [m["id"] for m in sent]

    def page(**query: int) -> list[str]:
        return _texts(
            api.get(f"/api/v1/chats/{chat}/messages", ivan, params={k: str(v) for k, v in query.items()})
        )

    assert page(before=ids[4], limit=3) == [m["text"] for m in sent[1:4]]
    assert page(after=ids[1], limit=2) == [m["text"] for m in sent[2:4]]
    assert page(before=ids[0]) == []
    assert page(after=ids[-1]) == []
    # Paging backwards from the newest page visits every message exactly once.
    seen: list[str] = []
    before: int | None = None
    while True:
        query: dict[str, Any] = {"limit": 2} | ({"before": before} if before else {})
        chunk = api.get(f"/api/v1/chats/{chat}/messages", ivan, params={k: str(v) for k, v in query.items()})
        messages = chunk.json["messages"]
        if not messages:
            break
        seen = [m["text"] for m in messages] + seen
        before = messages[0]["id"]
    assert seen == [m["text"] for m in sent]


def test_history_since_a_date(api: Api, ivan: Person, history: tuple[int, list[dict[str, Any]]]) -> None:
    chat, sent = history
    newer = _texts(
        api.get(f"/api/v1/chats/{chat}/messages", ivan, params={"date": str(sent[3]["sending_date"])})
    )
    assert newer == [m["text"] for m in sent if m["sending_date"] > sent[3]["sending_date"]]
    assert sent[-1]["text"] in newer and sent[0]["text"] not in newer
    assert (
        _texts(
            api.get_with_body(
                "/api/v1/messages",
                {"chat_id": chat, "date": time.time() + 60, "access_token": ivan.access_token},
            )
        )
        == []
    )


def test_history_errors(
    api: Api, ivan: Person, anna: Person, history: tuple[int, list[dict[str, Any]]]
) -> None:
    chat, _ = history
    path = f"/api/v1/chats/{chat}/messages"
    assert_error(api.get(path, ivan, params={"limit": "101"}), 422, fields={"limit"})
    assert_error(api.get(path, ivan, params={"limit": "0"}), 422, fields={"limit"})
    assert_error(api.get(path, ivan, params={"before": "3", "after": "1"}), 422)
    assert_error(api.get(path, ivan, params={"before": "soon"}), 400, fields={"before"})
    assert_error(api.get(path, ivan, params={"date": "yesterday"}), 400, fields={"date"})
    assert_error(
        api.get_with_body("/api/v1/messages", {"chat_id": chat, "date": 1e300, "jwt": ivan.access_token}),
        422,
        fields={"date"},
    )
    assert_error(api.get("/api/v1/messages", ivan, params={"chat_id": str(chat + 1)}), 404)
    assert_error(api.get("/api/v1/messages", ivan, params={"receiver_id": "nobody0000000000"}), 404)
    stranger = api.register("Олег", "Орлов")
    assert api.get("/api/v1/messages", ivan, params={"receiver_id": stranger.user_id}).json == {
        "messages": []
    }


def test_history_default_and_largest_page(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    for i in range(101):
        api.messenger.send_message(api.messenger.authenticate(ivan.access_token), chat_id=chat, text=str(i))
    assert len(api.get(f"/api/v1/chats/{chat}/messages", ivan).json["messages"]) == 50
    largest = api.get(f"/api/v1/chats/{chat}/messages", ivan, params={"limit": "100"}).json["messages"]
    assert [m["text"] for m in largest] == [str(i) for i in range(1, 101)]


def test_edit_a_message(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat, "опечатка")
    for method in ("PUT", "PATCH"):
        result = api.request(
            method, f"/api/v1/messages/{message['id']}", ivan, json={"text": f"исправлено {method}"}
        )
        assert result.status_code == 200
        edited = result.json["message"]
        assert edited["text"] == f"исправлено {method}" and edited["edited_date"] >= message["sending_date"]
    seen = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"][0]
    assert seen["text"] == "исправлено PATCH" and seen["edited_date"] is not None


def test_edit_errors(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat)
    path = f"/api/v1/messages/{message['id']}"
    assert_error(api.put(path, anna, json={"text": "не твоё"}), 403, "not_author")
    assert_error(api.put(path, ivan, json={"text": ""}), 422, fields={"text"})
    assert_error(api.put(path, ivan, json={"text": "я" * 4097}), 422, fields={"text"})
    assert_error(api.put(path, ivan, json={}), 422, fields={"text"})
    assert_error(api.put(path, ivan, json={"text": ["a"]}), 400, fields={"text"})
    assert_error(api.put("/api/v1/messages/9999", ivan, json={"text": "x"}), 404)
    api.delete(path, ivan)
    assert_error(api.put(path, ivan, json={"text": "воскрешение"}), 409, "message_deleted")


def test_delete_a_message_for_everyone(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat, "секрет")
    result = api.delete(f"/api/v1/messages/{message['id']}", ivan)
    assert result.status_code == 200
    assert result.json["message"]["is_deleted"] is True and result.json["message"]["text"] is None
    seen = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"]
    assert [(m["id"], m["is_deleted"], m["text"]) for m in seen] == [(message["id"], True, None)]
    assert "секрет" not in api.get("/api/v1/chats", anna).text
    assert api.delete(f"/api/v1/messages/{message['id']}", ivan).status_code == 200  # repeating is harmless


def test_delete_errors(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat)
    assert_error(api.delete(f"/api/v1/messages/{message['id']}", anna), 403, "not_author")
    assert_error(api.delete("/api/v1/messages/9999", ivan), 404)


def test_read_marks_and_unread_counts(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    sent = [api.send(ivan, chat, f"{i}") for i in range(3)]
    assert api.get(f"/api/v1/chats/{chat}", anna).json["chat"]["unread_count"] == 3
    result = api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": sent[1]["id"]})
    assert result.status_code == 200
    assert result.json["chat"]["unread_count"] == 1
    # A read mark never moves back.
    assert (
        api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": sent[0]["id"]}).json["chat"][
            "unread_count"
        ]
        == 1
    )
    flags = [m["is_read"] for m in api.get(f"/api/v1/chats/{chat}/messages", ivan).json["messages"]]
    assert flags == [True, True, False]
    assert api.get("/api/v1/chats", ivan).json["chats"][0]["unread_count"] == 0  # his own messages


def test_read_mark_errors(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat)
    oleg = api.register("Олег", "Орлов")
    other_chat = api.friends_with_chat(ivan, oleg)
    other = api.send(oleg, other_chat)
    assert_error(api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": other["id"]}), 404)
    assert_error(api.post(f"/api/v1/chats/{chat}/read", anna, json={}), 422, fields={"message_id"})
    assert_error(api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": "last"}), 400)
    assert_error(api.post(f"/api/v1/chats/{other_chat}/read", anna, json={"message_id": message["id"]}), 404)


# --- stickers -------------------------------------------------------------------------


@pytest.fixture
def pack(api: Api) -> Any:
    uploads = [
        Upload(name="кот.png", chunks=[png_bytes(colour=(0, 0, 200))]),
        Upload(name="пёс.png", chunks=[png_bytes(colour=(0, 200, 0))]),
    ]
    return api.messenger.add_sticker_pack("Котики", uploads)


def test_list_sticker_packs(api: Api, ivan: Person, pack: Any) -> None:
    result = api.get("/api/v1/stickers", ivan)
    assert result.status_code == 200
    assert result.json == {
        "packs": [
            {
                "id": pack.id,
                "title": "Котики",
                "stickers": [{"id": s.id, "url": f"/api/v1/stickers/{s.id}/image"} for s in pack.stickers],
            }
        ]
    }


def test_sticker_image(api: Api, ivan: Person, pack: Any) -> None:
    result = api.get(f"/api/v1/stickers/{pack.stickers[0].id}/image", ivan)
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "image/png"
    assert result.content.startswith(b"\x89PNG")
    assert "immutable" in result.headers["Cache-Control"]
    assert_error(api.get("/api/v1/stickers/999/image", ivan), 404)
    assert_error(api.get(f"/api/v1/stickers/{pack.stickers[0].id}/image"), 401, "token_missing")


def test_send_a_sticker(api: Api, ivan: Person, anna: Person, pack: Any) -> None:
    chat = api.friends_with_chat(ivan, anna)
    sticker = pack.stickers[1]
    result = api.post(f"/api/v1/chats/{chat}/messages", ivan, json={"sticker_id": sticker.id})
    assert result.status_code == 201
    assert result.json["message"]["sticker"] == {
        "id": sticker.id,
        "url": f"/api/v1/stickers/{sticker.id}/image",
    }
    assert result.json["message"]["text"] is None


# --- attachments ----------------------------------------------------------------------


def test_upload_send_and_download_a_file_with_a_cyrillic_name(api: Api, ivan: Person, anna: Person) -> None:
    data = "Отчёт за квартал\n".encode() * 100
    uploaded = api.upload(ivan, data, "отчёт 2026.txt")
    assert uploaded.status_code == 201, uploaded.text
    attachment = uploaded.json["attachment"]
    assert {"id", "kind", "name", "size", "mime", "url"} <= attachment.keys()
    assert (attachment["kind"], attachment["name"], attachment["size"]) == (
        "file",
        "отчёт 2026.txt",
        len(data),
    )
    assert attachment["url"] == f"/api/v1/attachments/{attachment['id']}"

    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat, "держи", attachment_ids=[attachment["id"]])
    assert [a["id"] for a in message["attachments"]] == [attachment["id"]]

    download = api.get(attachment["url"], anna)
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["Content-Type"] == "application/octet-stream"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert disposition_name(disposition) == "отчёт 2026.txt"
    disposition.encode("latin-1")  # a header must be representable on the wire
    assert download.headers["Accept-Ranges"] == "bytes"


def test_range_requests(api: Api, ivan: Person) -> None:
    data = bytes(range(256)) * 4
    url = api.upload(ivan, data, "bytes.bin").json["attachment"]["url"]
    part = api.get(url, ivan, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206
    assert part.content == data[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(data)}"
    assert part.headers["Content-Length"] == "10"
    open_ended = api.get(url, ivan, headers={"Range": "bytes=1000-"})
    assert (open_ended.status_code, open_ended.content) == (206, data[1000:])
    suffix = api.get(url, ivan, headers={"Range": "bytes=-5"})
    assert (suffix.status_code, suffix.content) == (206, data[-5:])
    beyond = api.get(url, ivan, headers={"Range": "bytes=5000-6000"})
    assert beyond.status_code == 416
    assert beyond.headers["Content-Range"] == f"bytes */{len(data)}"
    for malformed in ("bytes=abc", "bytes=9-3", "lines=1-2", "bytes=0-1,5-6"):
        whole = api.get(url, ivan, headers={"Range": malformed})
        assert (whole.status_code, whole.content) == (200, data), malformed


def test_a_photo_gets_a_thumbnail_and_is_shown_inline(api: Api, ivan: Person) -> None:
    uploaded = api.upload(ivan, png_bytes((800, 600)), "фото.png").json["attachment"]
    assert (uploaded["kind"], uploaded["mime"], uploaded["width"], uploaded["height"]) == (
        "photo",
        "image/png",
        800,
        600,
    )
    image = api.get(uploaded["url"], ivan)
    assert image.headers["Content-Type"] == "image/png"
    assert image.headers["Content-Disposition"].startswith("inline;")
    thumbnail = api.get(uploaded["thumbnail_url"], ivan)
    assert thumbnail.status_code == 200
    assert thumbnail.headers["Content-Type"] in ("image/jpeg", "image/png")
    file = api.upload(ivan, b"plain", "a.txt").json["attachment"]
    assert_error(api.get(f"/api/v1/attachments/{file['id']}/thumbnail", ivan), 404)


def test_upload_limits(api: Api, ivan: Person) -> None:
    assert api.upload(ivan, b"x" * MAX_UPLOAD, "exact.bin").status_code == 201
    assert_error(api.upload(ivan, b"x" * (MAX_UPLOAD + 1), "over.bin"), 413, "too_large")
    assert_error(api.upload(ivan, b"x" * (MAX_UPLOAD + 100_000), "far-over.bin"), 413, "too_large")


def test_upload_errors(api: Api, ivan: Person) -> None:
    assert_error(api.post("/api/v1/attachments", ivan, json={"file": "x"}), 415)
    body, headers = multipart(b"data", "a.txt", field="document")
    assert_error(api.post("/api/v1/attachments", ivan, body=body, headers=headers), 422, fields={"file"})
    garbled = api.post(
        "/api/v1/attachments",
        ivan,
        body=b"garbage",
        headers={"Content-Type": "multipart/form-data; boundary=xyz"},
    )
    assert_error(garbled, 400)
    assert_error(
        api.post("/api/v1/attachments", ivan, body=b"x", headers={"Content-Type": "multipart/form-data"}), 400
    )
    assert_error(api.upload(None, b"data", "a.txt"), 401, "token_missing")
    assert_error(api.get("/api/v1/attachments/999", ivan), 404)


def test_an_attachment_is_sent_once_and_only_by_its_uploader(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    attachment_id = api.upload(ivan, b"data", "a.txt").json["attachment"]["id"]
    assert_error(
        api.post(f"/api/v1/chats/{chat}/messages", anna, json={"attachment_ids": [attachment_id]}),
        422,
        fields={"attachment_ids"},
    )
    api.send(ivan, chat, "раз", attachment_ids=[attachment_id])
    assert_error(
        api.post(f"/api/v1/chats/{chat}/messages", ivan, json={"attachment_ids": [attachment_id]}),
        422,
        fields={"attachment_ids"},
    )


def test_an_unsent_upload_is_private_and_a_deleted_message_takes_its_files(
    api: Api, ivan: Person, anna: Person
) -> None:
    chat = api.friends_with_chat(ivan, anna)
    attachment = api.upload(ivan, b"data", "a.txt").json["attachment"]
    assert_error(api.get(attachment["url"], anna), 404)
    message = api.send(ivan, chat, "файл", attachment_ids=[attachment["id"]])
    assert api.get(attachment["url"], anna).status_code == 200
    api.delete(f"/api/v1/messages/{message['id']}", ivan)
    assert_error(api.get(attachment["url"], anna), 404)
    assert_error(api.get(attachment["url"], ivan), 404)


# --- events ---------------------------------------------------------------------------


def test_events_without_a_cursor_give_the_current_cursor(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    result = api.get("/api/v1/events", anna, params={"timeout": "5"})
    assert result.status_code == 200
    assert result.json["events"] == []
    assert isinstance(result.json["cursor"], int) and result.json["cursor"] > 0
    assert "X-Long-Poll" not in result.headers


def test_events_since_a_cursor(api: Api, ivan: Person, anna: Person) -> None:
    cursor = api.get("/api/v1/events", anna).json["cursor"]
    api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    result = api.get("/api/v1/events", anna, params={"since": str(cursor)})
    events = result.json["events"]
    assert [e["type"] for e in events] == ["friend.request"]
    assert events[0]["data"]["user"]["user_id"] == ivan.user_id
    assert result.json["cursor"] == events[0]["id"] > cursor
    again = api.get_with_body("/api/v1/events", {"since": result.json["cursor"], "jwt": anna.access_token})
    assert again.json == {"events": [], "cursor": result.json["cursor"], "signals": [], "signal_cursor": 0}


def test_message_events_carry_urls(api: Api, ivan: Person, anna: Person, pack: Any) -> None:
    chat = api.friends_with_chat(ivan, anna)
    cursor = api.get("/api/v1/events", anna).json["cursor"]
    api.post(f"/api/v1/chats/{chat}/messages", ivan, json={"sticker_id": pack.stickers[0].id})
    events = api.get("/api/v1/events", anna, params={"since": str(cursor)}).json["events"]
    assert [e["type"] for e in events] == ["message.new"]
    assert events[0]["data"]["message"]["sticker"]["url"].startswith("/api/v1/stickers/")


def test_events_cursor_errors(api: Api, ivan: Person) -> None:
    cursor = api.get("/api/v1/events", ivan).json["cursor"]
    assert_error(api.get("/api/v1/events", ivan, params={"since": str(cursor + 1000)}), 410, "resync")
    assert_error(api.get("/api/v1/events", ivan, params={"since": "-1"}), 422, fields={"since"})
    assert_error(api.get("/api/v1/events", ivan, params={"since": "later"}), 400, fields={"since"})


@pytest.mark.parametrize("timeout", ["-1", "30.5", "1000"])
def test_events_timeout_out_of_bounds_is_422(api: Api, ivan: Person, timeout: str) -> None:
    assert_error(
        api.get("/api/v1/events", ivan, params={"since": "0", "timeout": timeout}), 422, fields={"timeout"}
    )


def test_events_wait_at_most_the_timeout(api: Api, ivan: Person) -> None:
    cursor = api.get("/api/v1/events", ivan).json["cursor"]
    started = time.monotonic()
    result = api.get("/api/v1/events", ivan, params={"since": str(cursor), "timeout": "0.3"})
    waited = time.monotonic() - started
    assert result.json == {"events": [], "cursor": cursor, "signals": [], "signal_cursor": 0}
    assert waited >= 0.25  # it waited (a test never bounds how long: load only adds)


def test_a_waiting_poll_wakes_when_an_event_arrives(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    cursor = api.get("/api/v1/events", anna).json["cursor"]
    answers: list[Any] = []
    poll = threading.Thread(
        target=lambda: answers.append(
            api.get("/api/v1/events", anna, params={"since": str(cursor), "timeout": "30"})
        )
    )
    poll.start()
    time.sleep(0.2)
    api.send(ivan, chat, "ты тут?")
    poll.join(timeout=DEADLINE)  # below the poll's own timeout: ends only if woken
    assert not poll.is_alive()
    assert [e["data"]["message"]["text"] for e in answers[0].json["events"]] == ["ты тут?"]


def test_long_polls_past_the_cap_answer_at_once(make_api: Callable[..., Api]) -> None:
    api = make_api(THREADS=3, RESERVED_THREADS=2)  # one waiter at most
    ivan, anna = api.register("Иван", "Петров"), api.register("Анна", "Сидорова")
    chat = api.friends_with_chat(ivan, anna)
    cursor = api.get("/api/v1/events", anna).json["cursor"]
    waiting = {"since": str(cursor), "timeout": "30"}
    answers: list[Any] = []

    def wait_for_news() -> None:
        while True:  # until this poll holds the one place
            answer = api.get("/api/v1/events", anna, params=waiting)
            if answer.headers.get("X-Long-Poll") != "busy":
                answers.append(answer)
                return

    poll = threading.Thread(target=wait_for_news)
    poll.start()
    for _ in range(500):  # brief probes, until the waiter has the place
        probe = api.get("/api/v1/events", ivan, params={"since": str(cursor), "timeout": "0.01"})
        if probe.headers.get("X-Long-Poll") == "busy":
            break
    else:
        pytest.fail("the long-poll never took the waiting place")
    turned_away: list[Any] = []
    knock = threading.Thread(
        target=lambda: turned_away.append(api.get("/api/v1/events", ivan, params=waiting))
    )
    knock.start()
    knock.join(timeout=DEADLINE)  # below its 30 s timeout: answered without waiting
    assert not knock.is_alive()
    busy = turned_away[0]
    assert busy.status_code == 200 and busy.headers["X-Long-Poll"] == "busy"
    assert busy.json == {"events": [], "cursor": cursor, "signals": [], "signal_cursor": 0}
    api.send(ivan, chat, "разбудить")
    poll.join(timeout=DEADLINE)
    assert [e["type"] for e in answers[0].json["events"]] == ["message.new"]


# --- email confirmation ---------------------------------------------------------------


def test_confirm_the_email_with_a_token(api: Api, ivan: Person) -> None:
    result = api.get("/api/v1/tokens", params={"email": ivan.email, "password": ivan.password})
    assert result.status_code == 200
    token = result.json["token"]
    confirmed = api.post("/api/v1/tokens", json={"token": token})
    assert confirmed.status_code == 200
    assert confirmed.json["user"]["is_confirmed"] is True
    assert api.get("/api/v1/users/me", ivan).json["user"]["is_confirmed"] is True


def test_confirmation_token_from_a_json_body(api: Api, ivan: Person) -> None:
    result = api.get_with_body("/api/v1/tokens", {"email": ivan.email, "password": ivan.password})
    assert result.status_code == 200 and result.json["token"]


def test_confirmation_token_from_posted_credentials(api: Api, ivan: Person) -> None:
    """The recommended form: the password in a POST body, never in the query string."""
    asked = api.post("/api/v1/tokens", json={"email": ivan.email, "password": ivan.password})
    assert asked.status_code == 200, asked.text
    confirmed = api.post("/api/v1/tokens", json={"token": asked.json["token"]})
    assert confirmed.json["user"]["is_confirmed"] is True
    wrong = api.post("/api/v1/tokens", json={"email": ivan.email, "password": "wrong one"})
    assert_error(wrong, 401, "bad_credentials")
    assert_error(api.post("/api/v1/tokens", json={"email": ivan.email}), 422, fields={"password"})


def test_confirmation_errors(api: Api, ivan: Person) -> None:
    assert_error(
        api.get("/api/v1/tokens", params={"email": ivan.email, "password": "wrong one"}),
        401,
        "bad_credentials",
    )
    assert_error(api.get("/api/v1/tokens", params={"email": ivan.email}), 422, fields={"password"})
    assert_error(api.post("/api/v1/tokens", json={"token": "garbage"}), 401, "token_invalid")
    assert_error(api.post("/api/v1/tokens", json={"token": ivan.access_token}), 401, "token_invalid")
    assert_error(api.post("/api/v1/tokens", json={}), 422, fields={"token"})
    token = api.get("/api/v1/tokens", params={"email": ivan.email, "password": ivan.password}).json["token"]
    assert_error(
        api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"}), 401, "token_invalid"
    )


# --- no client input causes a 500 -----------------------------------------------------

# Lone surrogates are valid in JSON text ("\ud800") but have no UTF-8 form.
AWKWARD_TEXT = st.sampled_from(["\ud800", "a\udfffb", "\x00", "я" * 70, "1e400", "-0", " 12 "])
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=30)
    | AWKWARD_TEXT
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = [
    "first_name",
    "second_name",
    "email",
    "password",
    "expires_in",
    "friend_id",
    "user_id",
    "action",
    "chat_id",
    "receiver_id",
    "text",
    "sticker_id",
    "attachment_ids",
    "message_id",
    "age",
    "city",
    "phone_number",
    "old_password",
    "token",
    "since",
    "timeout",
    "before",
    "after",
    "limit",
    "date",
    "search_request",
    "start",
    "type",
    "chat_with",
]
BODIES = st.one_of(
    JSON_VALUES,
    st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, max_size=6),
    st.fixed_dictionaries(
        {"text": st.text(max_size=50)},
        optional={
            "chat_id": st.integers(),
            "sticker_id": st.integers(),
            "attachment_ids": st.lists(st.integers(), max_size=3),
        },
    ),
)
ROUTES = [
    ("POST", "/api/v1/users"),
    ("POST", "/api/v1/login"),
    ("POST", "/api/v1/refresh"),
    ("POST", "/api/v1/users_friends"),
    ("DELETE", "/api/v1/users_friends"),
    ("POST", "/api/v1/chats"),
    ("GET", "/api/v1/chats"),
    ("DELETE", "/api/v1/chats"),
    ("POST", "/api/v1/messages"),
    ("GET", "/api/v1/messages"),
    ("POST", "/api/v1/chats/1/messages"),
    ("POST", "/api/v1/chats/1/read"),
    ("PUT", "/api/v1/messages/1"),
    ("PATCH", "/api/v1/users/me"),
    ("GET", "/api/v1/users"),
    ("GET", "/api/v1/users_friends"),
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/tokens"),
    ("POST", "/api/v1/tokens"),
]


@pytest.fixture(params=["bootstrap", "sqlite"])
def fuzzed(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> tuple[Api, Person, Person]:
    api = make_api(wiring=request.param, RATE_LIMITS_ENABLED=False)
    ivan, anna = api.register("Иван", "Петров"), api.register("Анна", "Сидорова")
    chat = api.friends_with_chat(ivan, anna)
    api.send(ivan, chat)
    return api, ivan, anna


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(route=st.sampled_from(ROUTES), body=BODIES, as_query=st.booleans())
def test_random_json_never_causes_a_500(
    fuzzed: tuple[Api, Person, Person], route: tuple[str, str], body: Any, as_query: bool
) -> None:
    api, ivan, _ = fuzzed
    method, path = route
    if as_query and isinstance(body, dict):
        params = {k: json.dumps(v) if not isinstance(v, str) else v for k, v in body.items()}
        # A lone surrogate reaches a server as the bytes of no UTF-8 character.
        query = urlencode(params, encoding="utf-8", errors="surrogatepass")
        result = api.request(method, path, ivan, query_string=query)
    else:
        result = api.request(
            method, path, ivan, body=json.dumps(body), headers={"Content-Type": "application/json"}
        )
    assert result.status_code < 500, result.text
    if result.status_code >= 400:
        assert_error(result, result.status_code)
