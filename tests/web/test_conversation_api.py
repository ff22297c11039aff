"""The conversation over HTTP: replies and jumps, forwards, reactions, edit history and
its window, deleting for oneself, clearing, pins — each route with its errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from adapters.testing import ManualClock
from messenger_core.limits import FORWARD_CHATS_MAX, PINS_MAX
from tests.web.conftest import Api, Person, assert_error, png_bytes

THUMBS = quote("👍")


@pytest.fixture(params=["fast", "sqlite"])
def api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    """The memory adapter and a real SQLite file."""
    return make_api(wiring=request.param)


@pytest.fixture
def boris(api: Api) -> Person:
    return api.register("Борис", "Орлов")


@pytest.fixture
def chat(api: Api, ivan: Person, anna: Person) -> int:
    return api.friends_with_chat(ivan, anna)


def history(api: Api, who: Person, chat_id: int, **params: str) -> list[dict[str, object]]:
    result = api.get(f"/api/v1/chats/{chat_id}/messages", who, params=params)
    assert result.status_code == 200, result.text
    return list(result.json["messages"])


def test_a_reply_carries_its_quote_and_a_jump_loads_around_it(
    api: Api, ivan: Person, anna: Person, chat: int
) -> None:
    ids = [api.send(ivan, chat, f"сообщение {i}")["id"] for i in range(30)]
    reply = api.send(anna, chat, "ответ на первое", reply_to_id=ids[0])
    assert reply["reply_to"] == {
        "id": ids[0],
        "deleted": False,
        "sender_id": ivan.user_id,
        "preview": "сообщение 0",
        "kind": "text",
    }
    page = history(api, anna, chat, around=str(ids[0]), limit="5")
    assert [m["id"] for m in page] == ids[:5]
    page = history(api, anna, chat, around=str(ids[15]), limit="4")
    assert [m["id"] for m in page] == ids[14:18]
    assert_error(
        api.get(f"/api/v1/chats/{chat}/messages", anna, params={"around": str(ids[3]), "before": "9"}),
        422,
        "invalid",
        fields={"around"},
    )


def test_a_reply_must_answer_a_message_of_its_chat(
    api: Api, ivan: Person, anna: Person, boris: Person, chat: int
) -> None:
    elsewhere = api.send(ivan, api.friends_with_chat(ivan, boris), "другой чат")["id"]
    refused = api.post(f"/api/v1/chats/{chat}/messages", anna, json={"text": "?", "reply_to_id": elsewhere})
    error = assert_error(refused, 422, "invalid", fields={"reply_to_id"})
    assert error["details"]["reply_to_id"]["code"] == "no_such_message"
    wrong_type = api.post(f"/api/v1/chats/{chat}/messages", anna, json={"text": "?", "reply_to_id": "x"})
    assert_error(wrong_type, 400, fields={"reply_to_id"})
    other_chat = api.get(f"/api/v1/chats/{chat}/messages", anna, params={"around": str(elsewhere)})
    assert_error(other_chat, 404, "not_found")


def test_a_forward_copies_to_chats_and_names_the_first_author(
    api: Api, ivan: Person, anna: Person, boris: Person, chat: int
) -> None:
    with_boris = api.friends_with_chat(ivan, boris)
    photo = api.upload(ivan, png_bytes(), "фото.png").json["attachment"]["id"]
    original = api.send(anna, chat, "новость", attachment_ids=[])
    own = api.send(ivan, chat, "с фото", attachment_ids=[photo])
    result = api.post(f"/api/v1/messages/{original['id']}/forward", ivan, json={"chat_ids": [with_boris]})
    assert result.status_code == 201, result.text
    [copy] = result.json["messages"]
    assert (copy["chat_id"], copy["text"], copy["sender_id"]) == (with_boris, "новость", ivan.user_id)
    assert copy["forwarded_from"] == {
        "user_id": anna.user_id,
        "name": "Анна Сидорова",
        "date": original["sending_date"],
    }
    [with_file] = api.post(
        f"/api/v1/messages/{own['id']}/forward", ivan, json={"chat_ids": [with_boris]}
    ).json["messages"]
    assert api.delete(f"/api/v1/messages/{own['id']}", ivan).status_code == 200
    shared = api.get(with_file["attachments"][0]["url"], boris)
    assert shared.status_code == 200 and shared.content == png_bytes()  # the bytes outlive the original


def test_forward_errors(api: Api, ivan: Person, anna: Person, boris: Person, chat: int) -> None:
    message = api.send(ivan, chat, "x")["id"]
    path = f"/api/v1/messages/{message}/forward"
    assert_error(api.post(path, ivan, json={"chat_ids": []}), 422, fields={"chat_ids"})
    many = list(range(1, FORWARD_CHATS_MAX + 2))
    assert_error(api.post(path, ivan, json={"chat_ids": many}), 422, fields={"chat_ids"})
    theirs = api.friends_with_chat(anna, boris)
    error = assert_error(api.post(path, ivan, json={"chat_ids": [theirs]}), 422, fields={"chat_ids"})
    assert error["details"]["chat_ids"] == {"code": "no_such_chat", "params": {"id": theirs}}
    assert_error(api.post(path, boris, json={"chat_ids": [theirs]}), 404, "not_found")
    assert_error(api.post(path, ivan, json={"chat_ids": {"id": 1}}), 400, fields={"chat_ids"})
    api.delete(f"/api/v1/messages/{message}", ivan)
    assert_error(api.post(path, ivan, json={"chat_ids": [chat]}), 409, "message_deleted")


def test_a_forward_counts_a_send_per_chat(make_api: Callable[..., Api]) -> None:
    api = make_api(MESSAGES_PER_MINUTE=3)
    ivan, anna, boris = api.register(), api.register("Анна"), api.register("Борис")
    chat, other = api.friends_with_chat(ivan, anna), api.friends_with_chat(ivan, boris)
    message = api.send(ivan, chat, "раз")["id"]  # one of three
    sent = api.post(f"/api/v1/messages/{message}/forward", ivan, json={"chat_ids": [chat, other]})
    assert sent.status_code == 201, sent.text
    throttled = api.post(f"/api/v1/chats/{chat}/messages", ivan, json={"text": "ещё"})
    assert_error(throttled, 429, "throttled")
    assert int(throttled.headers["Retry-After"]) >= 1


def test_reactions_are_idempotent_and_say_mine(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    message = api.send(ivan, chat, "ура")["id"]
    path = f"/api/v1/messages/{message}/reactions/{THUMBS}"
    for _ in range(2):
        result = api.put(path, anna)
        assert result.status_code == 200, result.text
        assert result.json["message"]["reactions"] == [
            {"emoji": "👍", "count": 1, "user_ids": [anna.user_id], "me": True}
        ]
    seen_by_ivan = history(api, ivan, chat)[-1]["reactions"]
    assert seen_by_ivan == [{"emoji": "👍", "count": 1, "user_ids": [anna.user_id], "me": False}]
    heart = api.put(f"/api/v1/messages/{message}/reactions/{quote('❤')}", ivan).json["message"]["reactions"]
    assert [r["emoji"] for r in heart] == ["👍", "❤️"]
    for _ in range(2):
        result = api.delete(path, anna)
        assert result.status_code == 200
        assert [r["emoji"] for r in result.json["message"]["reactions"]] == ["❤️"]


@pytest.mark.parametrize("text", ["ok", quote("👍👍"), quote("<script>"), "%20"])
def test_a_reaction_must_be_one_emoji(api: Api, ivan: Person, anna: Person, chat: int, text: str) -> None:
    message = api.send(ivan, chat, "?")["id"]
    error = assert_error(api.put(f"/api/v1/messages/{message}/reactions/{text}", anna), 422, fields={"emoji"})
    assert error["details"]["emoji"]["code"] == "not_an_emoji"


def test_reaction_events_leave_me_out(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    message = api.send(ivan, chat, "!")["id"]
    cursor = api.get("/api/v1/events", ivan).json["cursor"]
    api.put(f"/api/v1/messages/{message}/reactions/{THUMBS}", anna)
    [event] = api.get("/api/v1/events", ivan, params={"since": str(cursor)}).json["events"]
    assert event["type"] == "message.reaction"
    assert event["data"] == {
        "chat_id": chat,
        "message_id": message,
        "user_id": anna.user_id,
        "emoji": "👍",
        "added": True,
        "reactions": [{"emoji": "👍", "count": 1, "user_ids": [anna.user_id]}],
    }


def test_edit_history_for_every_member_and_the_edit_window(make_api: Callable[..., Api]) -> None:
    clock = ManualClock(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    api = make_api(wiring="sqlite", clock=clock, EDIT_WINDOW_HOURS=1, JWT_ACCESS_TOKEN_EXPIRES=86400)
    ivan, anna, boris = api.register(), api.register("Анна"), api.register("Борис")
    chat = api.friends_with_chat(ivan, anna)
    message = api.send(ivan, chat, "первый вариант")["id"]
    clock.advance(timedelta(minutes=10))
    edited = api.put(f"/api/v1/messages/{message}", ivan, json={"text": "второй вариант"})
    assert edited.status_code == 200, edited.text
    versions = api.get(f"/api/v1/messages/{message}/history", anna)
    assert versions.status_code == 200
    assert [v["text"] for v in versions.json["versions"]] == ["первый вариант", "второй вариант"]
    assert_error(api.get(f"/api/v1/messages/{message}/history", boris), 404, "not_found")
    clock.advance(timedelta(hours=1))
    late = api.put(f"/api/v1/messages/{message}", ivan, json={"text": "третий"})
    error = assert_error(late, 409, "edit_window_passed")
    assert error["params"] == {"hours": 1}


def test_delete_for_me_leaves_the_other_side_untouched(
    api: Api, ivan: Person, anna: Person, chat: int
) -> None:
    first = api.send(ivan, chat, "один")["id"]
    second = api.send(ivan, chat, "два")["id"]
    hidden = api.delete(f"/api/v1/messages/{second}", anna, params={"for": "me"})
    assert (hidden.status_code, hidden.json) == (200, {"success": "OK"})
    assert [m["id"] for m in history(api, anna, chat)] == [first]
    assert [m["id"] for m in history(api, ivan, chat)] == [first, second]
    chats = api.get("/api/v1/chats", anna).json["chats"]
    assert chats[0]["last_message"]["id"] == first and chats[0]["unread_count"] == 1
    assert_error(api.delete(f"/api/v1/messages/{second}", anna, params={"for": "me"}), 404, "not_found")
    assert_error(api.delete(f"/api/v1/messages/{first}", anna, params={"for": "all"}), 422, fields={"for"})
    assert_error(api.delete(f"/api/v1/messages/{first}", anna, params={"for": "everyone"}), 403, "not_author")


def test_clearing_a_chat_is_for_me_only(
    api: Api, ivan: Person, anna: Person, boris: Person, chat: int
) -> None:
    api.send(ivan, chat, "старое")
    cleared = api.post(f"/api/v1/chats/{chat}/clear", anna)
    assert cleared.status_code == 200, cleared.text
    assert (cleared.json["chat"]["last_message"], cleared.json["chat"]["unread_count"]) == (None, 0)
    assert history(api, anna, chat) == []
    assert [m["text"] for m in history(api, ivan, chat)] == ["старое"]
    assert_error(api.post(f"/api/v1/chats/{chat}/clear", boris), 404, "not_found")


def test_pins(api: Api, ivan: Person, anna: Person, boris: Person, chat: int) -> None:
    first = api.send(ivan, chat, "первое")["id"]
    second = api.send(ivan, chat, "второе")["id"]
    pinned = api.put(f"/api/v1/chats/{chat}/pins/{first}", anna)
    assert pinned.status_code == 200 and pinned.json["chat"]["pinned_message"]["id"] == first
    api.put(f"/api/v1/chats/{chat}/pins/{second}", ivan)
    listed = api.get(f"/api/v1/chats/{chat}/pins", anna).json["messages"]
    assert {m["id"] for m in listed} == {first, second}
    api.delete(f"/api/v1/chats/{chat}/pins/{second}", anna)
    again = api.delete(f"/api/v1/chats/{chat}/pins/{second}", anna)
    assert again.status_code == 200 and again.json["chat"]["pinned_message"]["id"] == first
    elsewhere = api.send(ivan, api.friends_with_chat(ivan, boris), "там")["id"]
    assert_error(api.put(f"/api/v1/chats/{chat}/pins/{elsewhere}", ivan), 404, "not_found")
    assert_error(api.put(f"/api/v1/chats/{chat}/pins/{first}", boris), 404, "not_found")


def test_pins_in_a_group_are_for_its_admins_and_bounded(
    api: Api, ivan: Person, anna: Person, chat: int
) -> None:
    group = api.post("/api/v1/chats", ivan, json={"title": "Клуб", "member_ids": [anna.user_id]}).json[
        "chat"
    ]["id"]
    ids = [api.send(ivan, group, str(i))["id"] for i in range(PINS_MAX + 1)]
    assert_error(api.put(f"/api/v1/chats/{group}/pins/{ids[0]}", anna), 403, "not_group_admin")
    for message in ids[:PINS_MAX]:
        assert api.put(f"/api/v1/chats/{group}/pins/{message}", ivan).status_code == 200
    error = assert_error(api.put(f"/api/v1/chats/{group}/pins/{ids[-1]}", ivan), 409, "too_many_pins")
    assert error["params"] == {"max": PINS_MAX}
