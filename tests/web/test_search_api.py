"""Message search over HTTP: each filter, paging, snippets, and who may find what."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.web.conftest import Api, Person, assert_error, png_bytes


@pytest.fixture(params=["fast", "sqlite"])
def api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    return make_api(wiring=request.param)


def find(api: Api, who: Person, **params: str) -> dict[str, object]:
    result = api.get("/api/v1/search/messages", who, params=params)
    assert result.status_code == 200, result.text
    return dict(result.json)


def texts(api: Api, who: Person, **params: str) -> list[object]:
    return [m["text"] for m in find(api, who, **params)["messages"]]  # type: ignore[index, union-attr]


def test_words_phrases_snippets_and_pages(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    for text in ("Привет, Анна!", "Ёлка стоит в парке", "добрый день", "привет ещё раз"):
        api.send(ivan, chat, text)
    found = find(api, anna, q="ПРИВ")
    assert [m["text"] for m in found["messages"]] == ["привет ещё раз", "Привет, Анна!"]  # type: ignore[index]
    assert found["messages"][0]["snippet"] == {"text": "привет ещё раз", "highlights": [[0, 6]]}  # type: ignore[index]
    assert found["next"] is None
    assert texts(api, anna, q="елка парк") == ["Ёлка стоит в парке"]
    assert texts(api, anna, q='"день добрый"') == []
    first = find(api, anna, q="прив", limit="1")
    assert first["next"] is not None
    rest = texts(api, anna, q="прив", cursor=str(first["next"]))
    assert rest == ["Привет, Анна!"]


def test_filters(api: Api, ivan: Person, anna: Person, boris_and_chat: tuple[Person, int]) -> None:
    _, with_boris = boris_and_chat
    chat = api.friends_with_chat(ivan, anna)
    api.send(ivan, chat, "план на неделю")
    said = api.send(anna, chat, "план готов, смотри https://example.org")
    photo = api.upload(anna, png_bytes(), "План этажа.png").json["attachment"]["id"]
    api.send(anna, chat, "", attachment_ids=[photo])
    api.send(ivan, with_boris, "план для Бориса")
    assert len(texts(api, ivan, q="план")) == 4
    assert texts(api, ivan, q="план", chat_id=str(with_boris)) == ["план для Бориса"]
    assert texts(api, ivan, q="план", sender_id=anna.user_id) == [
        None,
        "план готов, смотри https://example.org",
    ]
    assert texts(api, ivan, has="link") == ["план готов, смотри https://example.org"]
    by_name = find(api, ivan, q="этаж")["messages"]
    assert by_name[0]["snippet"] == {"text": "План этажа.png", "highlights": [[5, 10]]}  # type: ignore[index]
    assert texts(api, ivan, has="photo", q="план") == [None]
    after = str(said["sending_date"])
    assert texts(api, ivan, q="план", after=after) == ["план для Бориса", None]
    assert texts(api, ivan, q="план", before=after) == ["план на неделю"]


@pytest.fixture
def boris_and_chat(api: Api, ivan: Person) -> tuple[Person, int]:
    boris = api.register("Борис", "Орлов")
    return boris, api.friends_with_chat(ivan, boris)


def test_nobody_finds_what_is_not_theirs(api: Api, ivan: Person, anna: Person) -> None:
    stranger = api.register("Чужой", "Человек")
    chat = api.friends_with_chat(ivan, anna)
    kept = api.send(ivan, chat, "секретный план")["id"]
    gone = api.send(ivan, chat, "секретный черновик")["id"]
    api.delete(f"/api/v1/messages/{gone}", ivan)
    assert texts(api, stranger, q="секрет") == []
    assert texts(api, anna, q="секрет") == ["секретный план"]  # a deleted message is never found
    api.delete(f"/api/v1/messages/{kept}", anna, params={"for": "me"})
    assert texts(api, anna, q="секрет") == []
    assert texts(api, ivan, q="секрет") == ["секретный план"]
    group = api.post("/api/v1/chats", ivan, json={"title": "Клуб", "member_ids": [anna.user_id]}).json[
        "chat"
    ]["id"]
    api.send(ivan, group, "групповой секрет")
    assert texts(api, anna, q="групповой") == ["групповой секрет"]
    api.delete(f"/api/v1/chats/{group}/members/{anna.user_id}", ivan)
    assert texts(api, anna, q="групповой") == []  # removed: nothing of the group any more
    assert_error(api.get("/api/v1/search/messages", stranger, params={"q": "x", "chat_id": str(chat)}), 404)


def test_errors(api: Api, ivan: Person) -> None:
    path = "/api/v1/search/messages"
    assert_error(api.get(path, ivan), 422, fields={"q"})
    assert_error(api.get(path, ivan, params={"q": "   "}), 422, fields={"q"})
    assert_error(api.get(path, ivan, params={"q": "x" * 257}), 422, fields={"q"})
    assert_error(api.get(path, ivan, params={"has": "pdf"}), 422, fields={"has"})
    assert_error(api.get(path, ivan, params={"q": "x", "limit": "51"}), 422, fields={"limit"})
    assert_error(api.get(path, ivan, params={"q": "x", "cursor": "abc"}), 400, fields={"cursor"})
    assert_error(api.get(path, ivan, params={"q": "x", "sender_id": "nobody_00000000"}), 404, "not_found")
    assert_error(api.get(path, None, params={"q": "x"}), 401)
