"""Sessions over HTTP: the list and ending them, refresh rotation with reuse detection,
logout on the server, the idle limit, and what a signed-out page is told."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from adapters.testing import ManualClock
from messenger_core.limits import REFRESH_REUSE_GRACE_SECONDS, SESSION_TOUCH_SECONDS
from tests.web.conftest import PASSWORD, Api, Person, assert_error, cookie_header, cookies_of

CHROME = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"
)
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1"
)
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
def timed(make_api: Callable[..., Api], clock: ManualClock) -> Api:
    return make_api(clock=clock)


def sign_in(api: Api, person: Person, user_agent: str = CHROME, address: str = "10.1.1.1") -> dict[str, str]:
    result = api.post(
        "/api/v1/login",
        json={"email": person.email, "password": person.password},
        headers={"User-Agent": user_agent},
        remote_addr=address,
    )
    assert result.status_code == 200, result.text
    return dict(result.json)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_every_login_is_a_session_with_its_device_address_and_times(api: Api, ivan: Person) -> None:
    phone = sign_in(api, ivan, IPHONE, "10.2.2.2")
    listed = api.get("/api/v1/sessions", headers=bearer(phone["access_token"])).json["sessions"]
    assert len(listed) == 2
    mine = next(s for s in listed if s["current"])
    assert (mine["device"], mine["ip"]) == ("Mobile Safari 17 · iOS 17", "10.2.2.2")
    assert mine["created_date"] == mine["last_used_date"]
    other = next(s for s in listed if not s["current"])
    assert other["device"] == ""  # the fixture's client sends no User-Agent


def test_last_used_is_written_at_most_once_a_minute(timed: Api, clock: ManualClock) -> None:
    ivan = timed.register()
    first = timed.get("/api/v1/sessions", ivan).json["sessions"][0]["last_used_date"]
    clock.advance(timedelta(seconds=SESSION_TOUCH_SECONDS - 1))
    assert timed.get("/api/v1/sessions", ivan).json["sessions"][0]["last_used_date"] == first
    clock.advance(timedelta(seconds=1))
    later = timed.get("/api/v1/sessions", ivan).json["sessions"][0]["last_used_date"]
    assert later == first + SESSION_TOUCH_SECONDS


def test_ending_a_session_revokes_its_tokens_at_once(api: Api, ivan: Person) -> None:
    other = sign_in(api, ivan)
    # Verified once: the codec's cache now holds the token; revocation must still count.
    assert api.get("/api/v1/users/me", headers=bearer(other["access_token"])).status_code == 200
    sessions = api.get("/api/v1/sessions", ivan).json["sessions"]
    victim = next(s["id"] for s in sessions if not s["current"])
    assert api.delete(f"/api/v1/sessions/{victim}", ivan).json == {"success": "OK"}
    error = assert_error(
        api.get("/api/v1/users/me", headers=bearer(other["access_token"])), 401, "token_revoked"
    )
    assert error["params"] == {"ended": "ended_elsewhere"}
    assert_error(
        api.post("/api/v1/refresh", json={"refresh_token": other["refresh_token"]}), 401, "token_revoked"
    )
    assert api.get("/api/v1/users/me", ivan).status_code == 200  # the session asking goes on
    assert_error(api.delete(f"/api/v1/sessions/{victim}", ivan), 404, "not_found")


def test_end_all_others_keeps_the_current_one(api: Api, ivan: Person, anna: Person) -> None:
    tokens = [sign_in(api, ivan) for _ in range(3)]
    assert api.delete("/api/v1/sessions", ivan, params={"others": "true"}).json == {
        "success": "OK",
        "ended": 3,
    }
    for pair in tokens:
        assert_error(api.get("/api/v1/users/me", headers=bearer(pair["access_token"])), 401, "token_revoked")
    assert [s["current"] for s in api.get("/api/v1/sessions", ivan).json["sessions"]] == [True]
    assert api.get("/api/v1/users/me", anna).status_code == 200  # nobody else's
    assert_error(api.delete("/api/v1/sessions", ivan), 422, "invalid", fields={"others"})
    assert_error(api.delete("/api/v1/sessions", ivan, params={"others": "false"}), 422, fields={"others"})


def test_another_users_session_is_not_found(api: Api, ivan: Person, anna: Person) -> None:
    theirs = api.get("/api/v1/sessions", anna).json["sessions"][0]["id"]
    assert_error(api.delete(f"/api/v1/sessions/{theirs}", ivan), 404, "not_found")
    assert api.get("/api/v1/users/me", anna).status_code == 200


def test_ending_the_current_session_signs_this_device_out(api: Api, ivan: Person) -> None:
    current = api.get("/api/v1/sessions", ivan).json["sessions"][0]["id"]
    result = api.delete(f"/api/v1/sessions/{current}", ivan)
    assert result.status_code == 200 and cookies_of(result)["access_token_cookie"] == ""
    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")


def test_logout_ends_the_session_on_the_server(api: Api, ivan: Person) -> None:
    assert api.get("/api/v1/users/me", ivan).status_code == 200  # cached as verified
    assert api.post("/api/v1/logout", ivan).json == {"success": "OK"}
    error = assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")
    assert error["params"] == {"ended": "logout"}
    assert_error(
        api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token}), 401, "token_revoked"
    )


def test_logout_with_only_a_refresh_cookie_ends_that_session(api: Api, ivan: Person) -> None:
    cookie = cookie_header({"refresh_token_cookie": ivan.refresh_token})
    result = api.post("/api/v1/logout", headers={"Cookie": cookie, "Origin": "http://falconframework.org"})
    assert result.status_code == 200
    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")


def test_logout_by_cookie_from_another_site_is_refused(api: Api, ivan: Person) -> None:
    cookie = cookie_header({"access_token_cookie": ivan.access_token})
    result = api.post("/api/v1/logout", headers={"Cookie": cookie, "Origin": "https://evil.example"})
    assert_error(result, 403, "csrf_failed")
    assert api.get("/api/v1/users/me", ivan).status_code == 200


def test_refresh_rotates_and_the_retired_token_revokes_the_session(timed: Api, clock: ManualClock) -> None:
    ivan = timed.register()
    first = timed.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token}).json
    assert first["refresh_token"] != ivan.refresh_token
    second = timed.post("/api/v1/refresh", json={"refresh_token": first["refresh_token"]}).json
    clock.advance(timedelta(seconds=REFRESH_REUSE_GRACE_SECONDS + 1))
    # A thief replays the first refresh token: the whole session ends, for its owner too.
    stolen = timed.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token})
    assert assert_error(stolen, 401, "token_revoked")["params"] == {"ended": "refresh_reused"}
    for token in (second["access_token"], ivan.access_token):
        assert_error(timed.get("/api/v1/users/me", headers=bearer(token)), 401, "token_revoked")
    assert_error(timed.post("/api/v1/refresh", json={"refresh_token": second["refresh_token"]}), 401)


def test_two_tabs_renewing_at_once_both_get_in(timed: Api, clock: ManualClock) -> None:
    ivan = timed.register()
    one = timed.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token})
    clock.advance(timedelta(seconds=REFRESH_REUSE_GRACE_SECONDS))
    two = timed.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token})
    assert one.status_code == two.status_code == 200
    assert timed.get("/api/v1/users/me", headers=bearer(two.json["access_token"])).status_code == 200
    assert timed.post("/api/v1/refresh", json={"refresh_token": two.json["refresh_token"]}).status_code == 200


def test_refresh_sets_the_next_refresh_cookie(api: Api, ivan: Person) -> None:
    cookie = cookie_header({"refresh_token_cookie": ivan.refresh_token})
    result = api.post("/api/v1/refresh", headers={"Cookie": cookie})
    assert cookies_of(result)["refresh_token_cookie"] == result.json["refresh_token"] != ivan.refresh_token


def test_a_session_idle_past_the_setting_ends(make_api: Callable[..., Api], clock: ManualClock) -> None:
    api = make_api(clock=clock, SESSION_IDLE_DAYS=30)
    ivan = api.register()
    clock.advance(timedelta(days=29))
    renewed = api.post("/api/v1/refresh", json={"refresh_token": ivan.refresh_token})
    assert renewed.status_code == 200  # use keeps it alive
    clock.advance(timedelta(days=30, seconds=1))
    refreshed = api.post("/api/v1/refresh", json={"refresh_token": renewed.json["refresh_token"]})
    assert assert_error(refreshed, 401, "token_revoked")["params"] == {"ended": "idle"}
    assert api.get("/api/v1/sessions", api.register("Анна", "Новая")).status_code == 200


def test_a_password_change_ends_every_session_and_says_so(api: Api, ivan: Person) -> None:
    other = sign_in(api, ivan)
    changed = api.patch(
        "/api/v1/users/me", ivan, json={"password": "a new password!", "old_password": PASSWORD}
    )
    assert changed.status_code == 200
    error = assert_error(
        api.get("/api/v1/users/me", headers=bearer(other["access_token"])), 401, "token_revoked"
    )
    assert error["params"] == {"ended": "password_changed"}
    fresh = bearer(changed.json["access_token"])
    assert [s["current"] for s in api.get("/api/v1/sessions", headers=fresh).json["sessions"]] == [True]


def test_a_wait_for_events_ends_with_its_session(api: Api, ivan: Person) -> None:
    other = sign_in(api, ivan)
    cursor = api.get("/api/v1/events", headers=bearer(other["access_token"])).json["cursor"]
    api.delete("/api/v1/sessions", ivan, params={"others": "true"})
    waited = api.get("/api/v1/events", headers=bearer(other["access_token"]), params={"since": cursor})
    assert_error(waited, 401, "token_revoked")


def test_the_login_page_says_why_the_session_ended(api: Api) -> None:
    page = api.get("/login", params={"ended": "ended_elsewhere"}, headers={"Accept-Language": "ru"})
    assert "Сеанс завершён на другом устройстве" in page.text
    page = api.get("/login", params={"ended": "password_changed"}, headers={"Accept-Language": "en"})
    assert "The password was changed" in page.text
    assert "data-ended-notice" not in api.get("/login", params={"ended": "<script>"}).text


def test_a_page_with_an_ended_session_goes_to_login_with_the_reason(api: Api, ivan: Person) -> None:
    cookie = cookie_header({"access_token_cookie": ivan.access_token})
    api.delete("/api/v1/sessions", api.register("Другой", "Сеанс"), params={"others": "true"})  # someone else
    sessions = api.get("/api/v1/sessions", ivan).json["sessions"]
    api.post("/api/v1/logout", headers=bearer(sign_in(api, ivan)["access_token"]))
    own = sign_in(api, ivan)
    api.delete(f"/api/v1/sessions/{sessions[0]['id']}", headers=bearer(own["access_token"]))
    page = api.get("/friends", headers={"Cookie": cookie})
    assert page.status_code == 303
    assert page.headers["Location"] == "/login?next=%2Ffriends&ended=ended_elsewhere"


def test_the_logout_link_ends_the_session_on_the_server(api: Api, ivan: Person) -> None:
    cookie = cookie_header(
        {"access_token_cookie": ivan.access_token, "refresh_token_cookie": ivan.refresh_token}
    )
    result = api.get("/logout", headers={"Cookie": cookie, "Sec-Fetch-Site": "same-origin"})
    assert result.status_code == 303
    assert_error(api.get("/api/v1/users/me", ivan), 401, "token_revoked")


def test_the_logout_link_from_another_site_asks_first(api: Api, ivan: Person) -> None:
    cookie = cookie_header({"access_token_cookie": ivan.access_token})
    page = api.get("/logout", headers={"Cookie": cookie, "Sec-Fetch-Site": "cross-site"})
    assert page.status_code == 200 and 'action="/logout"' in page.text
    assert api.get("/api/v1/users/me", ivan).status_code == 200


def test_the_login_page_says_the_429_in_words(make_api: Callable[..., Api]) -> None:
    api = make_api(LOGIN_FAILURES_PER_ACCOUNT=2)
    ivan = api.register()
    form = {"email": ivan.email, "password": "wrong"}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "ru"}
    body = f"email={ivan.email}&password=wrong"
    for _ in range(2):
        assert api.post("/login", body=body, headers=headers).status_code == 401
    page = api.post("/login", body=body, headers=headers)
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    minutes = -(-int(page.headers["Retry-After"]) // 60)  # a bucket's refill: under the window
    assert f"Слишком много попыток входа. Попробуйте через {minutes} мин." in page.text
    assert form  # the same form from another address still gets in (test_rate_limits)


def test_the_owner_signs_in_from_elsewhere_during_a_lock_out_attack(make_api: Callable[..., Api]) -> None:
    api = make_api(LOGIN_FAILURES_PER_ACCOUNT=5, LOGIN_FAILURES_PER_ADDRESS=50)
    ivan = api.register()
    attacker = {"email": ivan.email, "password": "guess"}
    for _ in range(12):
        api.post("/api/v1/login", json=attacker, remote_addr="203.0.113.9")
    assert api.post("/api/v1/login", json=attacker, remote_addr="203.0.113.9").status_code == 429
    owner = api.post(
        "/api/v1/login", json={"email": ivan.email, "password": PASSWORD}, remote_addr="198.51.100.7"
    )
    assert owner.status_code == 200
    assert api.get("/api/v1/users/me", headers=bearer(owner.json["access_token"])).status_code == 200
