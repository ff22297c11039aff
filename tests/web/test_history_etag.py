"""History pages carry an ETag: an unchanged page answers 304 to ``If-None-Match`` with
no body, and every change the reader can see gives the page a new tag."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

import pytest

from tests.web.conftest import Api, Person


@pytest.fixture(params=["fast", "sqlite"])
def api(request: pytest.FixtureRequest, make_api: Callable[..., Api]) -> Api:
    return make_api(wiring=request.param)


@pytest.fixture
def chat(api: Api, ivan: Person, anna: Person) -> int:
    return api.friends_with_chat(ivan, anna)


def page_tag(api: Api, who: Person, chat: int) -> str:
    """The tag of the newest page as ``who`` sees it; checks that it revalidates to 304."""
    page = api.get(f"/api/v1/chats/{chat}/messages", who)
    assert page.status_code == 200, page.text
    tag = page.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"')
    again = api.get(f"/api/v1/chats/{chat}/messages", who, headers={"If-None-Match": tag})
    assert (again.status_code, again.content, again.headers["ETag"]) == (304, b"", tag)
    return tag


def test_an_unchanged_page_is_not_modified(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    api.send(ivan, chat, "привет")
    api.send(ivan, chat, "как дела?")
    tag = page_tag(api, anna, chat)
    path = f"/api/v1/chats/{chat}/messages"
    for header in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        assert api.get(path, anna, headers={"If-None-Match": header}).status_code == 304
    stale = api.get(path, anna, headers={"If-None-Match": '"other"'})
    assert stale.status_code == 200 and stale.headers["ETag"] == tag
    assert [m["text"] for m in stale.json["messages"]] == ["привет", "как дела?"]
    # Another page of the same chat has its own tag; the same page by a peer's id has this one.
    older = api.get(path, anna, params={"after": "0", "limit": "1"}, headers={"If-None-Match": tag})
    assert older.status_code == 200
    by_peer = api.get(
        "/api/v1/messages", anna, params={"receiver_id": ivan.user_id}, headers={"If-None-Match": tag}
    )
    assert by_peer.status_code == 304


def test_not_modified_still_needs_the_reader(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    tag = page_tag(api, anna, chat)
    stranger = api.register("Борис", "Козлов")
    answer = api.get(f"/api/v1/chats/{chat}/messages", stranger, headers={"If-None-Match": tag})
    assert answer.status_code == 404
    assert api.get(f"/api/v1/chats/{chat}/messages", headers={"If-None-Match": tag}).status_code == 401


CHANGES = ("a new message", "an edit", "a delete", "a reaction", "a read mark", "a pin", "hiding for me")


def make_change(change: str, api: Api, ivan: Person, anna: Person, chat: int, message: int) -> int:
    """Do the change; returns its status."""
    path = f"/api/v1/messages/{message}"
    if change == "a new message":
        return api.post(f"/api/v1/chats/{chat}/messages", ivan, json={"text": "ещё"}).status_code
    if change == "an edit":
        return api.put(path, ivan, json={"text": "иначе"}).status_code
    if change == "a delete":
        return api.delete(path, ivan).status_code
    if change == "a reaction":
        return api.put(f"{path}/reactions/{quote('👍')}", ivan).status_code
    if change == "a read mark":
        return api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": message}).status_code
    if change == "a pin":
        return api.put(f"/api/v1/chats/{chat}/pins/{message}", ivan).status_code
    assert change == "hiding for me"
    return api.delete(path, anna, params={"for": "me"}).status_code


@pytest.mark.parametrize("change", CHANGES)
def test_every_change_the_reader_sees_changes_the_tag(
    api: Api, ivan: Person, anna: Person, chat: int, change: str
) -> None:
    """Anna reads the chat; Ivan (or she) changes it; her old tag no longer matches."""
    message = api.send(ivan, chat, "первое")["id"]
    api.send(ivan, chat, "второе")
    before = {who.user_id: page_tag(api, who, chat) for who in (ivan, anna)}
    assert make_change(change, api, ivan, anna, chat, message) in (200, 201)
    # The reader the change is for sees a new page (a read mark by Anna is news to Ivan).
    reader = ivan if change == "a read mark" else anna
    answer = api.get(
        f"/api/v1/chats/{chat}/messages", reader, headers={"If-None-Match": before[reader.user_id]}
    )
    assert answer.status_code == 200, change
    assert answer.headers["ETag"] != before[reader.user_id]
    assert page_tag(api, reader, chat) == answer.headers["ETag"]


def test_unpinning_changes_the_tag_again(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    message = api.send(ivan, chat, "важное")["id"]
    unpinned = page_tag(api, anna, chat)
    assert api.put(f"/api/v1/chats/{chat}/pins/{message}", ivan).status_code == 200
    pinned = page_tag(api, anna, chat)
    assert api.delete(f"/api/v1/chats/{chat}/pins/{message}", ivan).status_code == 200
    assert page_tag(api, anna, chat) not in (unpinned, pinned)
