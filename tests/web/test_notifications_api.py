"""Notifications over HTTP: muting a chat for oneself (until a time, for good, unmuting)
and one's notification settings — each route with its errors and its events."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.testing import ManualClock
from tests.web.conftest import Api, Person, assert_error

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
FOREVER = 253402300799.0  # 9999-12-31T23:59:59Z


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture(params=["fast", "sqlite"])
def api(request: pytest.FixtureRequest, make_api: Callable[..., Api], clock: ManualClock) -> Api:
    """The memory adapter and a real SQLite file, on a manual clock."""
    return make_api(wiring=request.param, clock=clock, JWT_ACCESS_TOKEN_EXPIRES=86400)


@pytest.fixture
def chat(api: Api, ivan: Person, anna: Person) -> int:
    return api.friends_with_chat(ivan, anna)


def events_after(api: Api, who: Person, cursor: int) -> list[dict[str, object]]:
    return list(api.get("/api/v1/events", who, params={"since": str(cursor)}).json["events"])


def cursor_of(api: Api, who: Person) -> int:
    return int(api.get("/api/v1/events", who).json["cursor"])


def mute(api: Api, who: Person, chat_id: int, until: object) -> dict[str, object]:
    result = api.put(f"/api/v1/chats/{chat_id}/mute", who, json={"until": until})
    assert result.status_code == 200, result.text
    return dict(result.json["chat"])


def test_a_mute_is_the_members_own_and_tells_only_their_tabs(
    api: Api, ivan: Person, anna: Person, chat: int
) -> None:
    assert api.get(f"/api/v1/chats/{chat}", anna).json["chat"]["muted_until"] is None
    ivans, annas = cursor_of(api, ivan), cursor_of(api, anna)
    hour = (NOW + timedelta(hours=1)).timestamp()
    assert mute(api, anna, chat, hour)["muted_until"] == hour
    assert api.get(f"/api/v1/chats/{chat}", anna).json["chat"]["muted_until"] == hour
    listed = api.get("/api/v1/chats", anna).json["chats"]
    assert [c["muted_until"] for c in listed] == [hour]
    assert api.get(f"/api/v1/chats/{chat}", ivan).json["chat"]["muted_until"] is None
    told = events_after(api, anna, annas)
    assert [(e["type"], e["data"]) for e in told] == [("chat.muted", {"chat_id": chat, "muted_until": hour})]
    assert events_after(api, ivan, ivans) == []
    # the same mute again changes nothing and tells nobody
    annas = cursor_of(api, anna)
    mute(api, anna, chat, hour)
    assert events_after(api, anna, annas) == []


def test_forever_and_unmuting(api: Api, anna: Person, chat: int) -> None:
    assert mute(api, anna, chat, "forever")["muted_until"] == FOREVER
    assert mute(api, anna, chat, None)["muted_until"] is None
    assert mute(api, anna, chat, FOREVER)["muted_until"] == FOREVER
    beyond = api.put(f"/api/v1/chats/{chat}/mute", anna, json={"until": 1e15})
    assert assert_error(beyond, 422, fields={"until"})["details"]["until"]["code"] == "invalid_time"


def test_unread_counts_go_on_while_muted(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    mute(api, anna, chat, "forever")
    api.send(ivan, chat, "пока ты молчишь")
    found = api.get(f"/api/v1/chats/{chat}", anna).json["chat"]
    assert found["unread_count"] == 1 and found["muted_until"] == FOREVER


def test_a_mute_must_end_in_the_future(api: Api, anna: Person, chat: int, clock: ManualClock) -> None:
    past = api.put(f"/api/v1/chats/{chat}/mute", anna, json={"until": NOW.timestamp()})
    error = assert_error(past, 422, "invalid", fields={"until"})
    assert error["details"]["until"]["code"] == "not_in_future"
    hour = (NOW + timedelta(hours=1)).timestamp()
    mute(api, anna, chat, hour)
    clock.advance(timedelta(hours=2))
    # an ended mute stays as it was written: clients read a time past as no mute
    assert api.get(f"/api/v1/chats/{chat}", anna).json["chat"]["muted_until"] == hour


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({}, 422, "until"),
        ({"until": "soon"}, 400, "until"),
        ({"until": True}, 400, "until"),
        ({"until": [1]}, 400, "until"),
        ({"until": None, "extra": 1}, 422, "extra"),
    ],
)
def test_a_mute_body_is_checked(
    api: Api, anna: Person, chat: int, body: dict[str, object], status: int, field: str
) -> None:
    assert_error(api.put(f"/api/v1/chats/{chat}/mute", anna, json=body), status, fields={field})


def test_only_members_mute(api: Api, ivan: Person, anna: Person, chat: int) -> None:
    stranger = api.register("Вера", "Чужая")
    assert_error(api.put(f"/api/v1/chats/{chat}/mute", stranger, json={"until": None}), 404, "not_found")
    assert_error(api.put("/api/v1/chats/999999/mute", anna, json={"until": None}), 404, "not_found")
    assert_error(api.put(f"/api/v1/chats/{chat}/mute", None, json={"until": None}), 401)


def test_notification_settings_default_on_and_change_one_at_a_time(
    api: Api, anna: Person, ivan: Person
) -> None:
    both_on = {"notify_preview": True, "notify_muted_mentions": True}
    assert api.get("/api/v1/settings", anna).json == {"settings": both_on}
    annas, ivans = cursor_of(api, anna), cursor_of(api, ivan)
    changed = api.patch("/api/v1/settings", anna, json={"notify_preview": False})
    assert changed.status_code == 200, changed.text
    expected = {"notify_preview": False, "notify_muted_mentions": True}
    assert changed.json == {"settings": expected}
    assert api.get("/api/v1/settings", anna).json == {"settings": expected}
    assert api.get("/api/v1/settings", ivan).json == {"settings": both_on}
    told = events_after(api, anna, annas)
    assert [(e["type"], e["data"]) for e in told] == [("settings.updated", expected)]
    assert events_after(api, ivan, ivans) == []
    again = api.patch("/api/v1/settings", anna, json={"notify_muted_mentions": False, "notify_preview": None})
    assert again.json == {"settings": {"notify_preview": False, "notify_muted_mentions": False}}
    # nothing asked, nothing changed, nobody told
    annas = cursor_of(api, anna)
    assert api.patch("/api/v1/settings", anna, json={}).json["settings"]["notify_preview"] is False
    assert events_after(api, anna, annas) == []


def test_settings_bodies_are_checked_and_need_a_user(api: Api, anna: Person) -> None:
    assert_error(
        api.patch("/api/v1/settings", anna, json={"notify_preview": "maybe"}), 400, fields={"notify_preview"}
    )
    assert_error(api.patch("/api/v1/settings", anna, json={"sound": True}), 422)
    assert_error(api.get("/api/v1/settings", None), 401)
    assert_error(api.patch("/api/v1/settings", None, json={}), 401)
