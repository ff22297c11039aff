"""Attacks on the API: forged and misused tokens, a third user prying into another
pair's chat, and the headers and cookies that keep browsers safe.

Forged tokens are built here with the standard library (hmac, base64), so the tests
say exactly what goes on the wire without trusting the JWT library under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
import pytest

from adapters.testing import ManualClock
from tests.web.conftest import (
    SECRET_KEY,
    Api,
    Person,
    assert_error,
    cookie_header,
    multipart,
    png_bytes,
)

# --- forging tokens -------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def forge(claims: dict[str, Any], *, alg: str = "HS256", key: str = SECRET_KEY) -> str:
    """A JWT with these claims, signed as ``alg`` says (``none``: no signature)."""
    header = _b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = _b64(json.dumps(claims).encode())
    signing_input = f"{header}.{payload}".encode()
    digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
    signature = b"" if alg == "none" else hmac.new(key.encode(), signing_input, digests[alg]).digest()
    return f"{header}.{payload}.{_b64(signature)}"


def claims_of(token: str) -> dict[str, Any]:
    return dict(json.loads(_unb64(token.split(".")[1])))


def access_claims(person: Person, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    session = jwt.decode(person.access_token, options={"verify_signature": False})["sid"]
    return {"sub": person.user_id, "type": "access", "iat": now, "exp": now + 3600, "sid": session} | changes


def me(api: Api, token: str) -> Any:
    return api.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})


def test_a_token_forged_here_is_accepted_so_the_forgeries_below_are_meaningful(
    api: Api, ivan: Person
) -> None:
    assert me(api, forge(access_claims(ivan))).json["user"]["user_id"] == ivan.user_id


def test_alg_none_is_refused(api: Api, ivan: Person) -> None:
    unsigned = forge(access_claims(ivan), alg="none")
    assert_error(me(api, unsigned), 401, "token_invalid")
    assert_error(me(api, unsigned.rstrip(".") + "."), 401, "token_invalid")
    header = _b64(json.dumps({"alg": "none"}).encode())
    assert_error(me(api, f"{header}.{_b64(json.dumps(access_claims(ivan)).encode())}."), 401, "token_invalid")


@pytest.mark.parametrize("alg", ["HS384", "HS512"])
def test_another_algorithm_with_the_right_key_is_refused(api: Api, ivan: Person, alg: str) -> None:
    assert_error(me(api, forge(access_claims(ivan), alg=alg)), 401, "token_invalid")


def test_a_tampered_signature_is_refused(api: Api, ivan: Person) -> None:
    header, payload, signature = ivan.access_token.split(".")
    flipped = signature[:-2] + ("A" if signature[-2] != "A" else "B") + signature[-1]
    assert_error(me(api, f"{header}.{payload}.{flipped}"), 401, "token_invalid")
    assert_error(me(api, f"{header}.{payload}."), 401, "token_invalid")


def test_a_tampered_payload_is_refused(api: Api, ivan: Person, anna: Person) -> None:
    header, _, signature = ivan.access_token.split(".")
    stolen = _b64(json.dumps(claims_of(ivan.access_token) | {"sub": anna.user_id}).encode())
    assert_error(me(api, f"{header}.{stolen}.{signature}"), 401, "token_invalid")
    longer = _b64(json.dumps(claims_of(ivan.access_token) | {"exp": 2**40}).encode())
    assert_error(me(api, f"{header}.{longer}.{signature}"), 401, "token_invalid")


def test_a_token_signed_with_another_secret_is_refused(api: Api, ivan: Person) -> None:
    assert_error(me(api, forge(access_claims(ivan), key="y" * 40)), 401, "token_invalid")


def test_a_token_without_expiry_or_with_odd_claims_is_refused(api: Api, ivan: Person) -> None:
    no_exp = {k: v for k, v in access_claims(ivan).items() if k != "exp"}
    assert_error(me(api, forge(no_exp)), 401, "token_invalid")
    for odd in ({"type": "admin"}, {"sub": 42}, {"iat": "yesterday"}, {"type": None}):
        assert_error(me(api, forge(access_claims(ivan, **odd))), 401, "token_invalid")
    assert_error(me(api, forge({"sub": ivan.user_id})), 401, "token_invalid")


def test_a_refresh_token_is_not_an_access_token(api: Api, ivan: Person, anna: Person) -> None:
    assert_error(me(api, ivan.refresh_token), 401, "token_invalid")
    assert_error(api.get("/api/v1/chats", params={"jwt": ivan.refresh_token}), 401, "token_invalid")
    body = {"access_token": ivan.refresh_token, "friend_id": anna.user_id, "action": "add"}
    assert_error(api.post("/api/v1/users_friends", json=body), 401, "token_invalid")
    cookie = cookie_header({"access_token_cookie": ivan.refresh_token})
    assert_error(api.get("/api/v1/users/me", headers={"Cookie": cookie}), 401, "token_invalid")


def test_an_access_or_confirmation_token_does_not_refresh(api: Api, ivan: Person) -> None:
    assert_error(api.post("/api/v1/refresh", json={"refresh_token": ivan.access_token}), 401, "token_invalid")
    confirm = api.get("/api/v1/tokens", params={"email": ivan.email, "password": ivan.password}).json["token"]
    assert_error(api.post("/api/v1/refresh", json={"refresh_token": confirm}), 401, "token_invalid")
    assert_error(me(api, confirm), 401, "token_invalid")


def test_a_token_for_a_user_who_does_not_exist_is_revoked(api: Api, ivan: Person) -> None:
    ghost = forge(access_claims(ivan, sub="nobody0000000000"))
    assert_error(me(api, ghost), 401, "token_revoked")


@pytest.mark.parametrize("wiring", ["bootstrap", "fast"])
def test_an_expired_token_is_refused_and_a_refresh_renews_it(
    make_api: Callable[..., Api], wiring: str
) -> None:
    clock = ManualClock(datetime.now(UTC))
    api = make_api(wiring=wiring, clock=clock)
    ivan = api.register()
    short = api.login(ivan.email, ivan.password, expires_in=60)
    assert me(api, short["access_token"]).status_code == 200
    clock.advance(timedelta(seconds=59))
    assert me(api, short["access_token"]).status_code == 200
    clock.advance(timedelta(seconds=1))
    assert_error(me(api, short["access_token"]), 401, "token_expired")
    clock.advance(timedelta(hours=2))
    assert_error(me(api, ivan.access_token), 401, "token_expired")  # the default hour is over too
    renewed = api.post("/api/v1/refresh", json={"refresh_token": short["refresh_token"]})
    assert renewed.status_code == 200  # refresh tokens never expire
    assert me(api, renewed.json["access_token"]).json["user"]["user_id"] == ivan.user_id


def test_an_expired_confirmation_token_is_refused(make_api: Callable[..., Api]) -> None:
    clock = ManualClock(datetime.now(UTC))
    api = make_api(clock=clock)
    ivan = api.register()
    token = api.get("/api/v1/tokens", params={"email": ivan.email, "password": ivan.password}).json["token"]
    clock.advance(timedelta(days=2))
    assert_error(api.post("/api/v1/tokens", json={"token": token}), 401, "token_expired")


def test_rotation_revokes_refresh_cookies_and_confirmation_tokens(api: Api, ivan: Person) -> None:
    confirm = api.get("/api/v1/tokens", params={"email": ivan.email, "password": ivan.password}).json["token"]
    api.patch(
        "/api/v1/users/me", ivan, json={"password": "brand new password", "old_password": ivan.password}
    )
    assert_error(
        api.post(
            "/api/v1/refresh", headers={"Cookie": cookie_header({"refresh_token_cookie": ivan.refresh_token})}
        ),
        401,
        "token_revoked",
    )
    assert_error(api.post("/api/v1/tokens", json={"token": confirm}), 401, "token_revoked")


# --- a third user and another pair's chat ---------------------------------------------


@pytest.fixture
def pair_chat(api: Api, ivan: Person, anna: Person) -> dict[str, Any]:
    """Ivan and Anna's chat: a message each and a photo; Oleg is friends with both."""
    chat = api.friends_with_chat(ivan, anna)
    photo = api.upload(ivan, png_bytes(), "личное.png").json["attachment"]
    file = api.upload(anna, b"private notes", "notes.txt").json["attachment"]
    messages = [
        api.send(ivan, chat, "только для Анны", attachment_ids=[photo["id"]]),
        api.send(anna, chat, "только для Ивана", attachment_ids=[file["id"]]),
    ]
    oleg = api.register("Олег", "Орлов")
    api.befriend(oleg, ivan)
    api.befriend(oleg, anna)
    return {"chat": chat, "messages": messages, "attachments": [photo, file], "oleg": oleg}


def test_a_third_user_cannot_read_the_chat(api: Api, ivan: Person, pair_chat: dict[str, Any]) -> None:
    oleg, chat = pair_chat["oleg"], pair_chat["chat"]
    assert_error(api.get(f"/api/v1/chats/{chat}", oleg), 404)
    assert_error(api.get(f"/api/v1/chats/{chat}/messages", oleg), 404)
    assert_error(api.get("/api/v1/messages", oleg, params={"chat_id": str(chat)}), 404)
    assert_error(api.get("/api/v1/chats", oleg, params={"chat_id": str(chat)}), 404)
    assert api.get("/api/v1/messages", oleg, params={"receiver_id": ivan.user_id}).json == {"messages": []}
    assert api.get("/api/v1/chats", oleg).json == {"chats": []}
    assert api.get("/api/v1/messages", oleg).json == {"messages": []}
    events = api.get("/api/v1/events", oleg, params={"since": "0"}).json["events"]
    assert "только для" not in json.dumps(events, ensure_ascii=False)


def test_a_third_user_cannot_write_edit_delete_or_mark(
    api: Api, ivan: Person, anna: Person, pair_chat: dict[str, Any]
) -> None:
    oleg, chat = pair_chat["oleg"], pair_chat["chat"]
    for message in pair_chat["messages"]:
        path = f"/api/v1/messages/{message['id']}"
        assert_error(api.put(path, oleg, json={"text": "взлом"}), 404)
        assert_error(api.patch(path, oleg, json={"text": "взлом"}), 404)
        assert_error(api.delete(path, oleg), 404)
        assert_error(api.post(f"/api/v1/chats/{chat}/read", oleg, json={"message_id": message["id"]}), 404)
    assert_error(api.post(f"/api/v1/chats/{chat}/messages", oleg, json={"text": "я тоже тут"}), 404)
    assert_error(api.post("/api/v1/messages", oleg, json={"chat_id": chat, "text": "я тоже тут"}), 404)
    assert_error(api.delete(f"/api/v1/chats/{chat}", oleg), 404)
    assert_error(api.delete("/api/v1/chats", oleg, params={"chat_id": str(chat)}), 404)
    # Nothing changed for the pair.
    seen = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"]
    assert [(m["text"], m["is_deleted"], m["edited_date"]) for m in seen] == [
        ("только для Анны", False, None),
        ("только для Ивана", False, None),
    ]
    assert api.get(f"/api/v1/chats/{chat}", ivan).json["chat"]["unread_count"] == 1


def test_a_third_user_cannot_fetch_or_reuse_the_attachments(api: Api, pair_chat: dict[str, Any]) -> None:
    oleg = pair_chat["oleg"]
    photo, file = pair_chat["attachments"]
    for attachment in (photo, file):
        assert_error(api.get(attachment["url"], oleg), 404)
        assert_error(api.get(attachment["url"], oleg, headers={"Range": "bytes=0-3"}), 404)
    assert_error(api.get(photo["thumbnail_url"], oleg), 404)
    # Nor attach them to a message of his own, in his chat with their uploader.
    his_chat = api.post("/api/v1/chats", oleg, json={"user_id": pair_chat["messages"][0]["sender_id"]})
    for attachment in (photo, file):
        stolen = api.post(
            f"/api/v1/chats/{his_chat.json['chat']['id']}/messages",
            oleg,
            json={"attachment_ids": [attachment["id"]]},
        )
        assert_error(stolen, 422, fields={"attachment_ids"})


def test_a_foreign_id_and_a_missing_id_look_the_same(api: Api, pair_chat: dict[str, Any]) -> None:
    oleg = pair_chat["oleg"]
    message_id = pair_chat["messages"][0]["id"]
    foreign = api.put(f"/api/v1/messages/{message_id}", oleg, json={"text": "x"})
    missing = api.put("/api/v1/messages/99999", oleg, json={"text": "x"})
    assert (foreign.status_code, foreign.json) == (missing.status_code, missing.json)
    attachment_id = pair_chat["attachments"][0]["id"]
    foreign_file = api.get(f"/api/v1/attachments/{attachment_id}", oleg)
    missing_file = api.get("/api/v1/attachments/99999", oleg)
    assert (foreign_file.status_code, foreign_file.json) == (missing_file.status_code, missing_file.json)
    chat = pair_chat["chat"]
    assert api.get(f"/api/v1/chats/{chat}", oleg).json == api.get("/api/v1/chats/99999", oleg).json


def test_the_partner_may_read_but_not_edit_or_delete_the_others_messages(
    api: Api, ivan: Person, anna: Person, pair_chat: dict[str, Any]
) -> None:
    ivans = pair_chat["messages"][0]
    assert_error(
        api.put(f"/api/v1/messages/{ivans['id']}", anna, json={"text": "подделка"}), 403, "not_author"
    )
    assert_error(api.delete(f"/api/v1/messages/{ivans['id']}", anna), 403, "not_author")
    assert api.get(pair_chat["attachments"][0]["url"], anna).status_code == 200


# --- headers and cookies --------------------------------------------------------------


def _assert_hardened(result: Any) -> None:
    assert result.headers["X-Content-Type-Options"] == "nosniff"
    assert result.headers["Referrer-Policy"] == "no-referrer"
    assert result.headers["X-Frame-Options"] == "DENY"
    assert "Content-Security-Policy" in result.headers


def test_security_headers_on_api_answers_and_errors(api: Api, ivan: Person) -> None:
    answers = [
        api.get("/api/v1/users/me", ivan),
        api.get("/api/v1/users/me"),  # 401
        api.get("/api/v1/nothing"),  # 404
        api.request("DELETE", "/api/v1/login"),  # 405
        api.post("/api/v1/users", json={}),  # 422
        api.post("/api/v1/users", body="{", headers={"Content-Type": "application/json"}),  # 400
    ]
    for result in answers:
        _assert_hardened(result)
        assert "frame-ancestors 'none'" in result.headers["Content-Security-Policy"]
        assert result.headers["Cache-Control"] == "no-store"


def test_files_are_served_sandboxed(api: Api, ivan: Person) -> None:
    url = api.upload(ivan, b"<html><script>alert(1)</script></html>", "page.html").json["attachment"]["url"]
    result = api.get(url, ivan)
    _assert_hardened(result)
    assert result.headers["Content-Type"] == "application/octet-stream"
    assert result.headers["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in result.headers["Content-Security-Policy"]
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    svg_url = api.upload(ivan, svg, "cat.svg").json["attachment"]["url"]
    assert api.get(svg_url, ivan).headers["Content-Type"] == "application/octet-stream"
    _assert_hardened(api.get(f"/api/v1/users/{ivan.user_id}/avatar", ivan))


def test_file_names_cannot_break_out_of_the_disposition_header(api: Api, ivan: Person) -> None:
    body, headers = multipart(b"x", 'evil%22; filename=other.exe; x=".txt')
    url = api.post("/api/v1/attachments", ivan, body=body, headers=headers).json["attachment"]["url"]
    disposition = api.get(url, ivan).headers["Content-Disposition"]
    # One quoted ASCII fallback with no quote or backslash inside, then the encoded name.
    assert re.fullmatch(
        r"""attachment; filename="[^"\\]*"; filename\*=UTF-8''[A-Za-z0-9%._~-]+""", disposition
    ), disposition
    traversal = api.upload(ivan, b"x", "../../etc/passwd").json["attachment"]
    assert traversal["name"] == "passwd"


def _login(api: Api, person: Person) -> Any:
    return api.post("/api/v1/login", json={"email": person.email, "password": person.password})


def test_token_cookies_are_http_only_and_same_site_lax(api: Api, ivan: Person) -> None:
    cookies = _login(api, ivan).cookies
    for name in ("access_token_cookie", "refresh_token_cookie"):
        assert cookies[name].http_only, name
        assert cookies[name].same_site == "Lax", name
        assert not cookies[name].secure, name
        assert cookies[name].path == "/"
    csrf = cookies["csrf_token"]
    assert not csrf.http_only  # scripts echo it in X-CSRF-Token
    assert csrf.same_site == "Lax"


def test_cookies_are_secure_when_configured(make_api: Callable[..., Api]) -> None:
    api = make_api(JWT_COOKIE_SECURE=True)
    ivan = api.register()
    answers = {
        "login": _login(api, ivan),
        "refresh": api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token}),
        "rotation": api.patch(
            "/api/v1/users/me", ivan, json={"password": "another password", "old_password": ivan.password}
        ),
        "logout": api.post("/api/v1/logout"),
    }
    for step, result in answers.items():
        assert result.status_code == 200, (step, result.text)
        assert result.cookies, step
        for name, cookie in result.cookies.items():
            assert cookie.secure, (step, name)
            assert cookie.same_site == "Lax", (step, name)
            assert cookie.http_only == (name != "csrf_token"), (step, name)


def test_a_cross_site_form_cannot_use_the_cookies(api: Api, ivan: Person, anna: Person) -> None:
    cookies = {c.name: c.value for c in _login(api, ivan).cookies.values()}
    forged = {"Cookie": cookie_header(cookies), "Origin": "https://evil.example"}
    for method, path, body in [
        ("POST", "/api/v1/users_friends", {"friend_id": anna.user_id, "action": "add"}),
        ("PATCH", "/api/v1/users/me", {"email": "attacker@evil.example", "old_password": "guess"}),
        ("DELETE", "/api/v1/users_friends", {"friend_id": anna.user_id}),
        ("POST", "/api/v1/chats", {"user_id": anna.user_id}),
    ]:
        assert_error(api.request(method, path, json=body, headers=forged), 403, "csrf_failed")
    assert api.get("/api/v1/users_friends", ivan, params={"type": "outgoing"}).json["friends"] == []


def test_the_api_login_refuses_another_sites_page(api: Api, ivan: Person) -> None:
    body = {"email": ivan.email, "password": ivan.password}
    refused = api.post("/api/v1/login", json=body, headers={"Sec-Fetch-Site": "cross-site"})
    assert_error(refused, 403, "cross_site")
    assert "access_token_cookie" not in refused.cookies
    foreign = api.post("/api/v1/login", json=body, headers={"Origin": "https://evil.example"})
    assert_error(foreign, 403, "cross_site")
    assert api.post("/api/v1/login", json=body, headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    assert api.post("/api/v1/login", json=body).status_code == 200  # an API client sends neither


# --- ids are ASCII digits ---------------------------------------------------------------

# int() reads each of these as a number: "１" (fullwidth) and "٣" (Arabic-Indic) as 1 and 3,
# "+1" as 1, "1_0" as 10. An id is ASCII digits and nothing else.
NOT_IDS = ("１", "٣", "۱", "१", "+1", "1_0", "-1", "1٣")


@pytest.fixture
def three_chats(api: Api, ivan: Person) -> list[int]:
    """Chats 1, 2 and 3 (and messages with those ids), all Ivan's."""
    chats = []
    for name in ("Анна", "Борис", "Вера"):
        chat = api.friends_with_chat(ivan, api.register(name, "Тестова"))
        api.send(ivan, chat, f"привет, {name}")
        chats.append(chat)
    return chats


@pytest.mark.parametrize("text", NOT_IDS)
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/v1/chats/{}", None),
        ("DELETE", "/api/v1/chats/{}", None),
        ("GET", "/api/v1/chats/{}/messages", None),
        ("POST", "/api/v1/chats/{}/read", {"message_id": 1}),
        ("GET", "/api/v1/chats/{}/members", None),
        ("PATCH", "/api/v1/messages/{}", {"text": "изменено"}),
        ("DELETE", "/api/v1/messages/{}", None),
        ("GET", "/api/v1/messages/{}/readers", None),
        ("GET", "/api/v1/attachments/{}", None),
        ("GET", "/api/v1/stickers/{}/image", None),
    ],
)
def test_a_path_id_that_is_not_ascii_digits_names_nothing(
    api: Api, ivan: Person, three_chats: list[int], method: str, path: str, body: Any, text: str
) -> None:
    assert three_chats == [1, 2, 3]
    result = api.request(method, path.format(text), ivan, json=body)
    assert_error(result, 404, "not_found")
    assert [m["text"] for m in api.get("/api/v1/chats/1/messages", ivan).json["messages"]] == ["привет, Анна"]


@pytest.mark.parametrize("text", ["١", "１", "٣", "1_0"])
@pytest.mark.parametrize("name", ["chat_id", "before", "after"])
def test_a_query_id_that_is_not_ascii_digits_is_refused(
    api: Api, ivan: Person, three_chats: list[int], name: str, text: str
) -> None:
    query = {"chat_id": "1"} | {name: text}
    result = api.get("/api/v1/messages", ivan, params=query)
    assert_error(result, 400, "bad_request", fields={name})
    events = api.get("/api/v1/events", ivan, params={"since": text})
    assert_error(events, 400, "bad_request", fields={"since"})
