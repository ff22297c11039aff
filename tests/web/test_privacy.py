"""Blocking, privacy settings (last seen, read receipts, typing), usernames, the data
export and deleting the account, over HTTP."""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs
import pytest

from adapters.testing import ManualClock
from messenger_core.limits import TYPING_INTERVAL_SECONDS, TYPING_TTL_SECONDS
from tests.web.conftest import PASSWORD, Api, Person, assert_error, png_bytes

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def timed(make_api: Callable[..., Api], clock: ManualClock) -> Api:
    return make_api(clock=clock)


def user_as_seen(api: Api, viewer: Person, person: Person) -> dict[str, Any]:
    return dict(api.get(f"/api/v1/users/{person.user_id}", viewer).json["user"])


def signed_in_again(api: Api, person: Person) -> Person:
    return attrs.evolve(person, access_token=api.login(person.email, person.password)["access_token"])


def poll(api: Api, who: Person, **params: Any) -> dict[str, Any]:
    return dict(api.get("/api/v1/events", who, params={"since": "0", **params}).json)


# --- blocking ---------------------------------------------------------------------------


def test_blocking_ends_the_friendship_and_closes_the_direct_chat_both_ways(
    api: Api, ivan: Person, anna: Person
) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.send(anna, chat, "до блокировки")
    assert api.put(f"/api/v1/blocks/{anna.user_id}", ivan).json == {"success": "OK"}
    assert api.put(f"/api/v1/blocks/{anna.user_id}", ivan).status_code == 200  # idempotent
    assert api.get("/api/v1/users_friends", ivan).json["friends"] == []
    for who, other in ((anna, ivan), (ivan, anna)):
        assert_error(api.post(f"/api/v1/chats/{chat}/messages", who, json={"text": "эй"}), 403, "blocked")
        by_user = api.post("/api/v1/messages", who, json={"receiver_id": other.user_id, "text": "эй"})
        assert_error(by_user, 403, "blocked")
        seen = api.get(f"/api/v1/chats/{chat}", who).json["chat"]
        assert (seen["can_send"], seen["cannot_send"]) == (False, "blocked")
        texts = [m["text"] for m in api.get(f"/api/v1/chats/{chat}/messages", who).json["messages"]]
        assert texts == ["до блокировки"]  # readable still
    request = api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "add"})
    assert_error(request, 403, "blocked")
    request = api.post("/api/v1/users_friends", ivan, json={"friend_id": anna.user_id, "action": "add"})
    assert_error(request, 403, "blocked")
    assert [b["user_id"] for b in api.get("/api/v1/blocks", ivan).json["blocks"]] == [anna.user_id]
    assert api.get("/api/v1/blocks", anna).json["blocks"] == []


def test_blocking_cancels_pending_requests_both_ways(api: Api, ivan: Person, anna: Person) -> None:
    api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "add"})
    api.put(f"/api/v1/blocks/{anna.user_id}", ivan)
    assert api.get("/api/v1/users_friends", ivan, params={"type": "incoming"}).json["friends"] == []
    assert api.get("/api/v1/users_friends", anna, params={"type": "outgoing"}).json["friends"] == []
    assert "friend.denied" in [e["type"] for e in poll(api, anna)["events"]]


def test_unblocking_lets_them_become_friends_again(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.put(f"/api/v1/blocks/{anna.user_id}", ivan)
    assert api.delete(f"/api/v1/blocks/{anna.user_id}", ivan).json == {"success": "OK"}
    assert api.delete(f"/api/v1/blocks/{anna.user_id}", ivan).status_code == 200  # idempotent
    seen = api.get(f"/api/v1/chats/{chat}", anna).json["chat"]
    assert seen["cannot_send"] == "no_longer_friends"  # the block ended the friendship for good
    api.befriend(anna, ivan)
    api.send(anna, chat, "мир")


def test_block_errors(api: Api, ivan: Person) -> None:
    assert_error(api.put("/api/v1/blocks/nobody_at_all_00", ivan), 404, "not_found")
    assert_error(api.put(f"/api/v1/blocks/{ivan.user_id}", ivan), 422, "invalid", fields={"user_id"})
    assert_error(api.get("/api/v1/blocks"), 401, "token_missing")


def test_a_blocked_user_sees_no_presence_no_avatar_and_no_profile_changes(
    api: Api, ivan: Person, anna: Person
) -> None:
    api.befriend(ivan, anna)
    api.upload(ivan, png_bytes(), "me.png", path="/api/v1/users/me/avatar", method="PUT")
    assert "online" in user_as_seen(api, anna, ivan)
    api.put(f"/api/v1/blocks/{anna.user_id}", ivan)
    cursor = api.get("/api/v1/events", anna).json["cursor"]
    seen = user_as_seen(api, anna, ivan)
    assert {"online", "last_seen"}.isdisjoint(seen)
    assert seen["avatar"].endswith("v=default")
    avatar = api.get(f"/api/v1/users/{ivan.user_id}/avatar", anna)
    assert avatar.headers["Content-Type"] == "image/svg+xml"  # the generated one
    api.patch("/api/v1/users/me", ivan, json={"city": "Тверь", "first_name": "Ваня"})
    later = api.get("/api/v1/events", anna, params={"since": cursor}).json["events"]
    assert "user.updated" not in [e["type"] for e in later]
    # The blocker does not see theirs either.
    assert {"online", "last_seen"}.isdisjoint(user_as_seen(api, ivan, anna))


def test_in_groups_both_stay_and_the_blocked_cannot_mention_the_blocker(
    api: Api, ivan: Person, anna: Person
) -> None:
    oleg = api.register("Олег", "Орлов")
    api.befriend(ivan, anna)
    api.befriend(ivan, oleg)
    group = api.post(
        "/api/v1/chats", ivan, json={"title": "Клуб", "member_ids": [anna.user_id, oleg.user_id]}
    )
    group_id = group.json["chat"]["id"]
    api.put(f"/api/v1/blocks/{anna.user_id}", oleg)
    sent = api.send(anna, group_id, "Олег, привет", mentions=[oleg.user_id, ivan.user_id])
    assert sent["mentions"] == [ivan.user_id]
    assert "Олег, привет" in [
        m["text"] for m in api.get(f"/api/v1/chats/{group_id}/messages", oleg).json["messages"]
    ]
    assert api.get(f"/api/v1/chats/{group_id}", oleg).json["chat"]["unread_mentions"] == 0


def test_search_results_and_chat_members_hide_the_blockers_avatar(
    api: Api, ivan: Person, anna: Person
) -> None:
    api.upload(ivan, png_bytes(), "me.png", path="/api/v1/users/me/avatar", method="PUT")
    api.put(f"/api/v1/blocks/{anna.user_id}", ivan)
    found = api.get("/api/v1/users", anna, params={"search_request": "Иван"}).json["users"]
    assert found[0]["avatar"].endswith("v=default")


# --- removing a friend -----------------------------------------------------------------


def test_an_ex_friend_cannot_write_until_friends_again(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.delete(f"/api/v1/users_friends/{ivan.user_id}", anna)
    assert_error(
        api.post(f"/api/v1/chats/{chat}/messages", anna, json={"text": "?"}), 403, "no_longer_friends"
    )
    assert api.get(f"/api/v1/chats/{chat}/messages", anna).status_code == 200


# --- presence --------------------------------------------------------------------------


def test_online_while_polling_and_last_seen_to_the_minute(timed: Api, clock: ManualClock) -> None:
    ivan, anna = timed.register("Иван", "Петров"), timed.register("Анна", "Сидорова")
    clock.advance(timedelta(seconds=30))
    seen = user_as_seen(timed, anna, ivan)
    assert seen["online"] is False
    assert seen["last_seen"] == START.timestamp()  # signed in at START, to the minute
    poll(timed, ivan)
    assert user_as_seen(timed, anna, ivan)["online"] is True
    clock.advance(timedelta(seconds=61))
    assert user_as_seen(timed, anna, ivan)["online"] is False


def test_last_seen_for_friends_only_and_fuzzy_for_the_rest(timed: Api, clock: ManualClock) -> None:
    ivan, anna, oleg = (timed.register(n, "Т") for n in ("Иван", "Анна", "Олег"))
    timed.befriend(ivan, anna)
    assert (
        timed.patch("/api/v1/users/me/privacy", ivan, json={"last_seen": "friends"}).json["last_seen"]
        == "friends"
    )
    assert "online" in user_as_seen(timed, anna, ivan)
    stranger_view = user_as_seen(timed, oleg, ivan)
    assert "online" not in stranger_view and stranger_view["last_seen"] == "recently"
    clock.advance(timedelta(days=5))
    oleg = signed_in_again(timed, oleg)  # his access token has expired meanwhile
    assert user_as_seen(timed, oleg, ivan)["last_seen"] == "within_week"
    clock.advance(timedelta(days=5))
    oleg = signed_in_again(timed, oleg)
    assert user_as_seen(timed, oleg, ivan)["last_seen"] == "long_ago"


def test_hiding_your_last_seen_hides_everyone_elses(api: Api, ivan: Person, anna: Person) -> None:
    api.patch("/api/v1/users/me/privacy", ivan, json={"last_seen": "nobody"})
    assert user_as_seen(api, ivan, anna)["last_seen"] == "recently"  # reciprocal
    assert user_as_seen(api, anna, ivan)["last_seen"] == "recently"


def test_privacy_settings_and_their_errors(api: Api, ivan: Person) -> None:
    assert api.get("/api/v1/users/me/privacy", ivan).json == {
        "last_seen": "everybody",
        "read_receipts": True,
        "typing": True,
        "forward_link": True,
    }
    changed = api.patch("/api/v1/users/me/privacy", ivan, json={"forward_link": False, "typing": False})
    assert changed.json | {} == {
        "last_seen": "everybody",
        "read_receipts": True,
        "typing": False,
        "forward_link": False,
    }
    assert_error(
        api.patch("/api/v1/users/me/privacy", ivan, json={"last_seen": "aliens"}), 422, fields={"last_seen"}
    )
    assert_error(
        api.patch("/api/v1/users/me/privacy", ivan, json={"typing": "sometimes"}), 400, fields={"typing"}
    )
    assert_error(api.patch("/api/v1/users/me/privacy", ivan, json={"colour": "red"}), 422, fields={"colour"})


def test_forward_link_off_names_the_author_without_a_link(api: Api, ivan: Person, anna: Person) -> None:
    boris = api.register("Борис", "Борисов")
    chat = api.friends_with_chat(ivan, anna)
    with_boris = api.friends_with_chat(ivan, boris)
    original = api.send(anna, chat, "не пересылайте меня")
    api.patch("/api/v1/users/me/privacy", anna, json={"forward_link": False})
    forwarded = api.post(f"/api/v1/messages/{original['id']}/forward", ivan, json={"chat_ids": [with_boris]})
    assert forwarded.status_code == 201, forwarded.text
    [copy] = forwarded.json["messages"]
    assert copy["forwarded_from"] == {
        "user_id": None,
        "name": "Анна Сидорова",
        "date": original["sending_date"],
    }
    [seen] = [m for m in api.get(f"/api/v1/chats/{with_boris}/messages", boris).json["messages"]]
    assert seen["forwarded_from"]["user_id"] is None


# --- read receipts -----------------------------------------------------------------------


def test_read_receipts_off_hides_them_both_ways(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.patch("/api/v1/users/me/privacy", anna, json={"read_receipts": False})
    mine = api.send(ivan, chat, "прочитаешь?")
    cursor = api.get("/api/v1/events", ivan).json["cursor"]
    read = api.post(f"/api/v1/chats/{chat}/read", anna, json={"message_id": mine["id"]})
    assert read.json["chat"]["unread_count"] == 0  # her own counts move
    assert api.get(f"/api/v1/chats/{chat}/messages", ivan).json["messages"][-1]["is_read"] is False
    events = api.get("/api/v1/events", ivan, params={"since": cursor}).json["events"]
    assert "chat.read" not in [e["type"] for e in events]
    assert api.get(f"/api/v1/messages/{mine['id']}/readers", ivan).json["readers"] == []
    theirs = api.send(anna, chat, "а я тебе")
    api.post(f"/api/v1/chats/{chat}/read", ivan, json={"message_id": theirs["id"]})
    assert (
        api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"][-1]["is_read"] is False
    )  # reciprocal
    api.patch("/api/v1/users/me/privacy", anna, json={"read_receipts": True})
    assert api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"][-1]["is_read"] is True


# --- typing ------------------------------------------------------------------------------


def test_typing_reaches_the_other_members_and_expires(timed: Api, clock: ManualClock) -> None:
    ivan, anna = timed.register("Иван", "П"), timed.register("Анна", "С")
    chat = timed.friends_with_chat(ivan, anna)
    start = timed.get("/api/v1/events", anna).json["signal_cursor"]
    assert timed.post(f"/api/v1/chats/{chat}/typing", ivan).status_code == 204
    got = poll(timed, anna, signals_since=start)
    assert got["signals"] == [{"type": "chat.typing", "data": {"chat_id": chat, "user_id": ivan.user_id}}]
    assert poll(timed, anna, signals_since=got["signal_cursor"])["signals"] == []  # once
    assert poll(timed, ivan, signals_since=start)["signals"] == []  # not to the typist
    clock.advance(timedelta(seconds=TYPING_TTL_SECONDS))
    assert poll(timed, anna, signals_since=start)["signals"] == []  # expired


def test_typing_is_throttled_and_can_be_turned_off(timed: Api, clock: ManualClock) -> None:
    ivan, anna = timed.register("Иван", "П"), timed.register("Анна", "С")
    chat = timed.friends_with_chat(ivan, anna)
    start = timed.get("/api/v1/events", anna).json["signal_cursor"]
    for _ in range(3):
        assert timed.post(f"/api/v1/chats/{chat}/typing", ivan).status_code == 204
    assert len(poll(timed, anna, signals_since=start)["signals"]) == 1
    clock.advance(timedelta(seconds=TYPING_INTERVAL_SECONDS))
    timed.post(f"/api/v1/chats/{chat}/typing", ivan)
    both = poll(timed, anna, signals_since=start)
    assert len(both["signals"]) == 2
    timed.patch("/api/v1/users/me/privacy", ivan, json={"typing": False})
    clock.advance(timedelta(seconds=TYPING_INTERVAL_SECONDS))
    timed.post(f"/api/v1/chats/{chat}/typing", ivan)
    assert poll(timed, anna, signals_since=both["signal_cursor"])["signals"] == []


def test_typing_never_reaches_across_a_block(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.put(f"/api/v1/blocks/{anna.user_id}", ivan)
    start = api.get("/api/v1/events", ivan).json["signal_cursor"]
    assert api.post(f"/api/v1/chats/{chat}/typing", anna).status_code == 204
    assert poll(api, ivan, signals_since=start)["signals"] == []
    assert_error(api.post("/api/v1/chats/999/typing", anna), 404, "not_found")


def test_a_typing_signal_wakes_a_waiting_long_poll(api: Api, ivan: Person, anna: Person) -> None:
    chat = api.friends_with_chat(ivan, anna)
    first = api.get("/api/v1/events", anna).json
    answers: list[dict[str, Any]] = []
    params = {"since": first["cursor"], "signals_since": first["signal_cursor"], "timeout": "20"}
    waiter = threading.Thread(
        target=lambda: answers.append(api.get("/api/v1/events", anna, params=params).json)
    )
    waiter.start()
    while not user_as_seen(api, ivan, anna).get("online"):  # she is waiting now
        pass
    api.post(f"/api/v1/chats/{chat}/typing", ivan)
    waiter.join()
    assert [s["type"] for s in answers[0]["signals"]] == ["chat.typing"]


# --- usernames ---------------------------------------------------------------------------


def test_a_username_is_set_found_in_any_case_and_freed_when_changed(
    api: Api, ivan: Person, anna: Person
) -> None:
    set_ = api.patch("/api/v1/users/me", ivan, json={"username": "  Ivan_Petrov "})
    assert set_.json["user"]["username"] == "ivan_petrov"
    assert_error(api.patch("/api/v1/users/me", anna, json={"username": "IVAN_PETROV"}), 409, "username_taken")
    found = api.get("/api/v1/users/by-username/Ivan_Petrov", anna).json["user"]
    assert found["user_id"] == ivan.user_id and found["username"] == "ivan_petrov"
    search = api.get("/api/v1/users", anna, params={"search_request": "petrov"}).json["users"]
    assert [u["user_id"] for u in search] == [ivan.user_id]
    api.patch("/api/v1/users/me", ivan, json={"username": "vanya_p"})
    assert api.patch("/api/v1/users/me", anna, json={"username": "ivan_petrov"}).status_code == 200  # freed
    assert_error(api.get("/api/v1/users/by-username/nobody_has_it", anna), 404, "not_found")
    cleared = api.patch("/api/v1/users/me", ivan, json={"username": ""})
    assert cleared.json["user"]["username"] is None


def test_a_username_survives_a_password_change(api: Api, ivan: Person) -> None:
    api.patch("/api/v1/users/me", ivan, json={"username": "ivan_stays"})
    changed = api.patch(
        "/api/v1/users/me", ivan, json={"password": "a new password!", "old_password": PASSWORD}
    )
    assert changed.json["user_id"] != ivan.user_id and changed.json["user"]["username"] == "ivan_stays"


@pytest.mark.parametrize("bad", ["abcd", "a" * 33, "иван_петров", "ivan petrov", "ivan-petrov"])
def test_a_username_of_the_wrong_form_is_refused(api: Api, ivan: Person, bad: str) -> None:
    error = assert_error(
        api.patch("/api/v1/users/me", ivan, json={"username": bad}), 422, fields={"username"}
    )
    assert error["details"]["username"] == {"code": "invalid_username", "params": {"min": 5, "max": 32}}


def test_the_username_link_opens_a_friends_chat_or_offers_a_request(
    api: Api, ivan: Person, anna: Person
) -> None:
    api.patch("/api/v1/users/me", anna, json={"username": "anna_s"})
    cookies = {"Cookie": f"access_token_cookie={ivan.access_token}"}
    card = api.get("/u/anna_s", headers=cookies | {"Accept-Language": "ru"})
    assert card.status_code == 200 and "Добавить в друзья" in card.text
    form = {"Content-Type": "application/x-www-form-urlencoded", "Sec-Fetch-Site": "same-origin"}
    sent = api.post("/u/anna_s", body="", headers=cookies | form | {"Accept-Language": "ru"})
    assert sent.status_code == 200 and "Заявка отправлена" in sent.text
    assert (
        api.get("/api/v1/users_friends", anna, params={"type": "incoming"}).json["friends"][0]["user_id"]
        == ivan.user_id
    )
    api.post("/api/v1/users_friends", anna, json={"friend_id": ivan.user_id, "action": "accept"})
    opened = api.get("/u/ANNA_S", headers=cookies)
    assert opened.status_code == 303 and opened.headers["Location"] == f"/?chat_with={anna.user_id}"
    assert api.get("/u/nobody_here", headers=cookies).status_code == 404
    cross = api.post("/u/anna_s", body="", headers=cookies | {**form, "Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403


# --- the export --------------------------------------------------------------------------


def test_the_export_holds_profile_friends_sessions_chats_and_files(
    api: Api, ivan: Person, anna: Person
) -> None:
    chat = api.friends_with_chat(ivan, anna)
    upload = api.upload(ivan, b"%PDF-1.4 the bytes", "заметки.pdf").json["attachment"]
    api.send(ivan, chat, "с файлом", attachment_ids=[upload["id"]])
    api.send(anna, chat, "ответ")
    cursor = api.get("/api/v1/events", ivan).json["cursor"]
    assert_error(api.get("/api/v1/users/me/export", ivan), 404, "not_found")
    started = api.post("/api/v1/users/me/export", ivan)
    assert (
        started.status_code == 202 and started.json["export"]["url"] == "/api/v1/users/me/export?download=1"
    )
    state = api.get("/api/v1/users/me/export", ivan).json["export"]
    assert state["state"] == "ready" and state["size"] > 0
    events = api.get("/api/v1/events", ivan, params={"since": cursor}).json["events"]
    assert [e["data"]["size"] for e in events if e["type"] == "export.ready"] == [state["size"]]
    download = api.get("/api/v1/users/me/export", ivan, params={"download": "1"})
    assert download.headers["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    names = set(archive.namelist())
    assert {"manifest.json", "profile.json", "friends.json", "sessions.json", "files.json"} <= names
    assert json.loads(archive.read("profile.json"))["email"] == ivan.email
    assert json.loads(archive.read("friends.json"))[0]["user"]["user_id"] == anna.user_id
    assert len(json.loads(archive.read("sessions.json"))) == 1
    history = json.loads(archive.read(f"chats/{chat}.json"))
    assert [m["text"] for m in history["messages"]] == ["с файлом", "ответ"]
    files = json.loads(archive.read("files.json"))
    assert archive.read(files[0]["path"]) == b"%PDF-1.4 the bytes"
    assert_error(api.post("/api/v1/users/me/export", ivan), 429, "export_daily")
    assert api.get("/api/v1/users/me/export", anna).status_code == 404  # hers is hers


def test_an_export_a_day_then_another(timed: Api, clock: ManualClock) -> None:
    ivan = timed.register()
    timed.post("/api/v1/users/me/export", ivan)
    refused = timed.post("/api/v1/users/me/export", ivan)
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) == 24 * 3600
    clock.advance(timedelta(hours=24))
    ivan = signed_in_again(timed, ivan)
    assert timed.post("/api/v1/users/me/export", ivan).status_code == 202
    assert timed.messenger.prune_exports() == 0
    clock.advance(timedelta(days=8))
    assert timed.messenger.prune_exports() == 1
    assert_error(timed.get("/api/v1/users/me/export", signed_in_again(timed, ivan)), 404, "not_found")


# --- deleting the account ------------------------------------------------------------------


def test_a_deleted_account_frees_its_email_and_leaves_a_tombstone(
    api: Api, ivan: Person, anna: Person
) -> None:
    chat = api.friends_with_chat(ivan, anna)
    api.patch("/api/v1/users/me", ivan, json={"username": "ivan_gone", "city": "Тверь"})
    api.send(ivan, chat, "я ухожу")
    assert_error(api.delete("/api/v1/users/me", ivan, json={"password": "not it"}), 403, "wrong_password")
    assert_error(
        api.delete(f"/api/v1/users/{anna.user_id}", ivan, json={"password": PASSWORD}), 403, "not_yours"
    )
    assert api.delete("/api/v1/users/me", ivan, json={"password": PASSWORD}).json == {"success": "OK"}
    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")
    assert_error(api.get(f"/api/v1/users/{ivan.user_id}", anna), 404, "not_found")
    assert_error(api.get("/api/v1/users/by-username/ivan_gone", anna), 404, "not_found")
    assert api.get("/api/v1/users", anna, params={"search_request": "Иван"}).json["users"] == []
    assert api.get("/api/v1/users_friends", anna).json["friends"] == []
    history = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"]
    assert [m["text"] for m in history] == ["я ухожу"]
    members = api.get(f"/api/v1/chats/{chat}", anna).json["chat"]["members"]
    gone = next(m for m in members if m["user_id"] != anna.user_id)
    assert gone["deleted"] is True and (gone["first_name"], gone["second_name"], gone["username"]) == (
        "",
        "",
        None,
    )
    assert history[0]["sender_id"] == gone["user_id"]
    again = api.register("Иван", "Новый", email=ivan.email)  # the email registers again
    assert again.user_id != ivan.user_id
    assert api.get("/api/v1/users/me", again).json["user"]["city"] is None


def test_deleting_with_the_messages_tombstones_them_and_deletes_the_files(
    api: Api, ivan: Person, anna: Person
) -> None:
    chat = api.friends_with_chat(ivan, anna)
    upload = api.upload(ivan, b"%PDF-1.4 secret", "a.pdf").json["attachment"]
    api.send(ivan, chat, "удалится", attachment_ids=[upload["id"]])
    api.send(anna, chat, "останется")
    api.upload(ivan, b"%PDF-1.4 unsent", "b.pdf")  # unsent: goes too
    api.delete("/api/v1/users/me", ivan, json={"password": PASSWORD, "delete_messages": True})
    history = api.get(f"/api/v1/chats/{chat}/messages", anna).json["messages"]
    assert [(m["text"], m["is_deleted"]) for m in history] == [(None, True), ("останется", False)]
    assert history[0]["attachments"] == []
    assert_error(api.get(f"/api/v1/attachments/{upload['id']}", anna), 404, "not_found")


def test_a_deleted_owner_hands_the_group_on(api: Api, ivan: Person, anna: Person) -> None:
    api.befriend(ivan, anna)
    group = api.post("/api/v1/chats", ivan, json={"title": "Клуб", "member_ids": [anna.user_id]}).json["chat"]
    api.delete("/api/v1/users/me", ivan, json={"password": PASSWORD})
    chat = api.get(f"/api/v1/chats/{group['id']}", anna).json["chat"]
    assert [(m["user_id"], m["role"]) for m in chat["members"]] == [(anna.user_id, "owner")]
