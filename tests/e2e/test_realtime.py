"""Real-time delivery over HTTP against the real server (``python __main__.py``).

A long-poll waiter wakes promptly on a send, an edit and a delete; ``timeout`` is honoured;
two server processes on one database (NOTIFIER 'polling') deliver to each other's waiters;
the waiter cap answers at once with ``X-Long-Poll: busy`` and leaves ordinary requests
served; the cursor survives a restart; the maintenance thread prunes old events.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from scripts.live_server import PASSWORD, LiveServer, bearer, befriend, expect, sign_up

pytestmark = pytest.mark.e2e

POLL = 30.0  # seconds: the polls' timeout (LONG_POLL_MAX_TIMEOUT's default)
WOKEN = 20.0  # a poll that answers within this was woken (or had news), not timed out


@dataclass
class Pair:
    """Two friends with their chat: Alice sends, Bob waits."""

    alice_id: str
    alice_token: str
    bob_id: str
    bob_token: str
    chat_id: int


def make_pair(url: str) -> Pair:
    alice_id, alice_token = sign_up(url, "alice@example.com", "Alice")
    bob_id, bob_token = sign_up(url, "bob@example.com", "Bob")
    chat_id = befriend(url, alice_token, bob_id, bob_token, alice_id)
    return Pair(alice_id, alice_token, bob_id, bob_token, chat_id)


def cursor_of(url: str, token: str) -> int:
    return int(expect(requests.get(f"{url}/api/v1/events", headers=bearer(token), timeout=10), 200)["cursor"])


def long_poll(
    url: str, token: str, since: int, timeout: float = POLL
) -> tuple[dict[str, Any], float, requests.Response]:
    """One long-poll; returns its body, how long it took, and the response."""
    started = time.monotonic()
    response = requests.get(
        f"{url}/api/v1/events",
        params={"since": since, "timeout": timeout},
        headers=bearer(token),
        timeout=timeout + 10,
    )
    return expect(response, 200), time.monotonic() - started, response


def send(url: str, pair: Pair, text: str) -> dict[str, Any]:
    path = f"{url}/api/v1/chats/{pair.chat_id}/messages"
    response = requests.post(path, json={"text": text}, headers=bearer(pair.alice_token), timeout=10)
    message: dict[str, Any] = expect(response, 201)["message"]
    return message


class Waiting:
    """A long-poll running in the background, started before the change it waits for."""

    def __init__(
        self, pool: ThreadPoolExecutor, url: str, token: str, since: int, timeout: float = POLL
    ) -> None:
        self.future: Future[tuple[dict[str, Any], float, requests.Response]] = pool.submit(
            long_poll, url, token, since, timeout
        )

    def result(self) -> tuple[dict[str, Any], float, requests.Response]:
        """The answer; TimeoutError if the poll would only have ended by its timeout."""
        return self.future.result(timeout=WOKEN)


def settle() -> None:
    # The waiter's request has to reach the server before the change it waits for, or it
    # would be answered at once from the stream rather than woken: the wake-up is what is
    # tested. Either way the event must arrive, so this pause only decides which path runs.
    time.sleep(0.3)


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(max_workers=8) as executor:
        yield executor


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as live:
        yield live


def test_a_waiter_wakes_on_a_send_an_edit_and_a_delete(server: LiveServer, pool: ThreadPoolExecutor) -> None:
    url = server.url
    pair = make_pair(url)
    cursor = cursor_of(url, pair.bob_token)

    waiting = Waiting(pool, url, pair.bob_token, cursor)
    settle()
    message = send(url, pair, "hello, are you there?")
    body, _, _ = waiting.result()
    assert [e["type"] for e in body["events"]] == ["message.new"]
    assert body["events"][0]["data"]["message"]["text"] == "hello, are you there?"
    cursor = body["cursor"]
    assert cursor == body["events"][-1]["id"]

    waiting = Waiting(pool, url, pair.bob_token, cursor)
    settle()
    expect(
        requests.patch(
            f"{url}/api/v1/messages/{message['id']}",
            json={"text": "hello, edited"},
            headers=bearer(pair.alice_token),
            timeout=10,
        ),
        200,
    )
    body, _, _ = waiting.result()
    assert [e["type"] for e in body["events"]] == ["message.edited"]
    assert body["events"][0]["data"]["message"]["text"] == "hello, edited"
    cursor = body["cursor"]

    waiting = Waiting(pool, url, pair.bob_token, cursor)
    settle()
    expect(
        requests.delete(
            f"{url}/api/v1/messages/{message['id']}", headers=bearer(pair.alice_token), timeout=10
        ),
        200,
    )
    body, _, _ = waiting.result()
    assert [e["type"] for e in body["events"]] == ["message.deleted"]
    assert body["events"][0]["data"]["message"]["id"] == message["id"]


def test_a_password_change_ends_a_long_poll_already_waiting(
    server: LiveServer, pool: ThreadPoolExecutor
) -> None:
    """Revocation reaches a wait in flight, whichever worker holds it: the poll answers
    401 token_revoked at once instead of delivering events to a token no longer good."""
    url = server.url
    pair = make_pair(url)
    cursor = cursor_of(url, pair.bob_token)

    def poll() -> requests.Response:
        return requests.get(
            f"{url}/api/v1/events",
            params={"since": cursor, "timeout": POLL},
            headers=bearer(pair.bob_token),
            timeout=POLL + 10,
        )

    waiting = pool.submit(poll)
    settle()
    change = {"old_password": PASSWORD, "password": "a new password 123"}
    expect(
        requests.patch(f"{url}/api/v1/users/me", json=change, headers=bearer(pair.bob_token), timeout=30), 200
    )
    ended = waiting.result(timeout=WOKEN)  # woken, not timed out
    assert ended.status_code == 401, ended.text
    error = ended.json()["error"]
    assert (error["code"], error["params"]["ended"]) == ("token_revoked", "password_changed")


def test_timeout_is_honoured_with_nothing_happening(server: LiveServer) -> None:
    url = server.url
    pair = make_pair(url)
    cursor = cursor_of(url, pair.bob_token)
    body, elapsed, _ = long_poll(url, pair.bob_token, cursor, timeout=1)
    assert elapsed >= 1
    assert (body["events"], body["cursor"]) == ([], cursor)


def test_events_already_waiting_are_answered_at_once(server: LiveServer, pool: ThreadPoolExecutor) -> None:
    url = server.url
    pair = make_pair(url)
    cursor = cursor_of(url, pair.bob_token)
    send(url, pair, "sent before anyone waited")
    body, _, _ = Waiting(pool, url, pair.bob_token, cursor).result()
    assert [e["type"] for e in body["events"]] == ["message.new"]


def test_two_processes_on_one_database_deliver_to_each_others_waiters(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    polling = {"NOTIFIER": "'polling'"}
    with LiveServer(tmp_path, extra_env=polling) as first, LiveServer(tmp_path, extra_env=polling) as second:
        assert first.database == second.database
        pair = make_pair(first.url)
        cursor = cursor_of(second.url, pair.bob_token)

        waiting = Waiting(pool, second.url, pair.bob_token, cursor)
        settle()
        send(first.url, pair, "from the first process")
        body, _, _ = waiting.result()
        assert [e["data"]["message"]["text"] for e in body["events"]] == ["from the first process"]

        # And the other way round: Bob answers through the second, Alice waits on the first.
        cursor = cursor_of(first.url, pair.alice_token)
        waiting = Waiting(pool, first.url, pair.alice_token, cursor)
        settle()
        path = f"{second.url}/api/v1/chats/{pair.chat_id}/messages"
        expect(
            requests.post(path, json={"text": "from the second"}, headers=bearer(pair.bob_token), timeout=10),
            201,
        )
        body, _, _ = waiting.result()
        assert [e["data"]["message"]["text"] for e in body["events"]] == ["from the second"]


def test_past_the_waiter_cap_a_long_poll_answers_at_once_and_others_are_served(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    # 4 threads, 2 kept for ordinary requests: at most 2 long-polls wait (in a process:
    # one process shows it exactly).
    with LiveServer(tmp_path, extra_env={"THREADS": "4", "RESERVED_THREADS": "2", "WORKERS": "1"}) as server:
        url = server.url
        pair = make_pair(url)
        cursor = cursor_of(url, pair.bob_token)
        waiters = [pool.submit(hold_a_slot, url, pair.bob_token, cursor) for _ in range(2)]

        # Until both waiters hold their slots, a third poll may still get one and wait out
        # its 1 s: poll until the cap answers (which it must, long before their 30 s pass).
        deadline = time.monotonic() + WOKEN
        while True:
            body, _, response = long_poll(url, pair.bob_token, cursor, timeout=1)
            if response.headers.get("X-Long-Poll") == "busy":
                break
            assert time.monotonic() < deadline, "the waiter cap never answered busy"
            time.sleep(0.3)  # leave the freed slot to a waiter polling again
        assert (body["events"], body["cursor"]) == ([], cursor)  # "busy": answered without waiting

        me = expect(requests.get(f"{url}/api/v1/users/me", headers=bearer(pair.bob_token), timeout=30), 200)
        assert me["user"]["user_id"] == pair.bob_id
        # Served while the capped waiters still wait (they wait 30 s for an event that only
        # comes below): ordinary requests do not queue behind long-polls.
        assert not any(w.done() for w in waiters), "the capped waiters should still be waiting"

        # Nothing is lost: the waiters wake, and the client told "busy" polls again with
        # its cursor and gets the message too (at once, busy or not).
        send(url, pair, "after the cap")
        for waiter in waiters:
            body = waiter.result(timeout=WOKEN)
            assert [e["type"] for e in body["events"]] == ["message.new"]
        body, _, _ = Waiting(pool, url, pair.bob_token, cursor).result()
        assert [e["type"] for e in body["events"]] == ["message.new"]


def hold_a_slot(url: str, token: str, since: int) -> dict[str, Any]:
    """Long-poll as a client does: answered busy, poll again (after a pause) until waiting."""
    while True:
        body, _, response = long_poll(url, token, since)
        if response.headers.get("X-Long-Poll") != "busy":
            return body
        time.sleep(0.05)


def test_the_cursor_survives_a_restart(tmp_path: Path, pool: ThreadPoolExecutor) -> None:
    server = LiveServer(tmp_path)
    server.start()
    try:
        pair = make_pair(server.url)
        cursor = cursor_of(server.url, pair.bob_token)
        server.stop()
        server.start()  # same database, a new process
        assert cursor_of(server.url, pair.bob_token) == cursor  # the sequence is kept, not restarted

        waiting = Waiting(pool, server.url, pair.bob_token, cursor)
        settle()
        send(server.url, pair, "after the restart")
        body, _, _ = waiting.result()
        assert [e["type"] for e in body["events"]] == ["message.new"]
        assert body["events"][0]["id"] > cursor
    finally:
        server.stop()


def test_the_maintenance_thread_prunes_old_events(tmp_path: Path) -> None:
    # Retention 0 days: every event is old by the next maintenance pass (each 0.2 s).
    env = {"EVENT_RETENTION_DAYS": "0", "MAINTENANCE_INTERVAL": "0.2"}
    with LiveServer(tmp_path, extra_env=env) as server:
        url = server.url
        pair = make_pair(url)
        cursor = cursor_of(url, pair.bob_token)
        send(url, pair, "soon pruned")
        deadline = time.monotonic() + 10
        while True:  # once pruned, a cursor before the pruned event can no longer be served
            response = requests.get(
                f"{url}/api/v1/events", params={"since": cursor}, headers=bearer(pair.bob_token), timeout=10
            )
            if response.status_code == 410:
                break
            assert response.status_code == 200
            assert time.monotonic() < deadline, "the maintenance thread never pruned the event"
            time.sleep(0.1)
        assert response.json()["error"]["code"] == "resync"
        # The cursor the server gives now still works after pruning.
        fresh = cursor_of(url, pair.bob_token)
        assert fresh > cursor
        body, _, _ = long_poll(url, pair.bob_token, fresh, timeout=0.5)
        assert (body["events"], body["cursor"]) == ([], fresh)


def test_a_waiting_client_does_not_hold_back_others(server: LiveServer, pool: ThreadPoolExecutor) -> None:
    url = server.url
    pair = make_pair(url)
    cursor = cursor_of(url, pair.bob_token)
    waiters = [Waiting(pool, url, pair.bob_token, cursor, timeout=25) for _ in range(4)]
    settle()
    expect(requests.get(f"{url}/api/v1/chats", headers=bearer(pair.alice_token), timeout=30), 200)
    # Answered while all four still wait: a request queued behind them would come after.
    assert not any(w.future.done() for w in waiters)
    send(url, pair, "wake up")
    for waiter in waiters:
        body, _, _ = waiter.result()
        assert [e["type"] for e in body["events"]] == ["message.new"]
