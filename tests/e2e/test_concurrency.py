"""16 clients sending, editing, deleting and reading at once against one real server.

No request may fail with a 5xx or ``database is locked``, and afterwards the server must
hold exactly what the clients were acknowledged: every acknowledged send, each with the
text of its last acknowledged edit, and a tombstone for each acknowledged delete.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from scripts.crash_test import Client, make_clients
from scripts.live_server import LiveServer, bearer, expect

pytestmark = pytest.mark.e2e

DURATION = 10.0  # seconds of load, as the reliability issue asks
THREADS = 16
SEED = 7


@dataclass
class Expected:
    """What a client was acknowledged about one of its messages."""

    text: str
    deleted: bool = False
    edited: bool = False


@dataclass
class Tally:
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    locked: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    expected: dict[int, Expected] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def served(self) -> int:
        return sum(self.statuses.values())


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    with LiveServer(tmp_path) as live:
        yield live


def work(url: str, me: Client, number: int, deadline: float, tally: Tally) -> None:
    """One client: a random mix of the operations a real user does, until the deadline."""
    rng = random.Random(SEED * 1000 + number)
    session = requests.Session()
    session.headers.update(bearer(me.token))
    mine: dict[int, Expected] = {}  # this thread alone changes these, so its order is the truth
    cursor: int | None = None
    n = 0

    def call(op: str, method: str, path: str, **kwargs: object) -> requests.Response | None:
        try:
            response = session.request(method, f"{url}{path}", timeout=30, **kwargs)
        except requests.RequestException as error:
            with tally.lock:
                tally.client_errors.append(f"{op}: {error!r}")
            return None
        with tally.lock:
            tally.statuses[(op, response.status_code)] += 1
            if "locked" in response.text:
                tally.locked.append(f"{op} -> {response.status_code}: {response.text[:200]}")
        return response

    while time.monotonic() < deadline:
        n += 1
        live = [i for i, e in mine.items() if not e.deleted]
        roll = rng.random()
        if roll < 0.40 or not live:
            text = f"client {number} says {n}"
            response = call("send", "POST", f"/api/v1/chats/{me.chat_id}/messages", json={"text": text})
            if response is not None and response.status_code == 201:
                mine[response.json()["message"]["id"]] = Expected(text)
        elif roll < 0.58:
            message_id = rng.choice(live)
            text = f"client {number} edits {message_id} ({n})"
            response = call("edit", "PATCH", f"/api/v1/messages/{message_id}", json={"text": text})
            if response is not None and response.status_code == 200:
                mine[message_id] = Expected(text, edited=True)
        elif roll < 0.66:
            message_id = rng.choice(live)
            response = call("delete", "DELETE", f"/api/v1/messages/{message_id}")
            if response is not None and response.status_code == 200:
                mine[message_id] = Expected(mine[message_id].text, deleted=True)
        elif roll < 0.82:
            params = {"limit": 50}
            if live and rng.random() < 0.5:
                params["before"] = rng.choice(live)
            call("history", "GET", f"/api/v1/chats/{me.chat_id}/messages", params=params)
        elif roll < 0.88:
            response = call("history", "GET", f"/api/v1/chats/{me.chat_id}/messages", params={"limit": 1})
            if response is not None and response.status_code == 200 and response.json()["messages"]:
                last = response.json()["messages"][-1]["id"]
                call("read", "POST", f"/api/v1/chats/{me.chat_id}/read", json={"message_id": last})
        elif roll < 0.94:
            call("chats", "GET", "/api/v1/chats")
        else:
            response = call(
                "events",
                "GET",
                "/api/v1/events",
                params={"timeout": 0} | ({"since": cursor} if cursor is not None else {}),
            )
            if response is not None and response.status_code == 200:
                cursor = response.json()["cursor"]
    with tally.lock:
        tally.expected.update(mine)


def stored_messages(url: str, clients: list[Client]) -> dict[int, dict]:
    stored: dict[int, dict] = {}
    for chat_id, token in {c.chat_id: c.token for c in clients}.items():
        after = 0
        while page := expect(
            requests.get(
                f"{url}/api/v1/chats/{chat_id}/messages",
                params={"after": after, "limit": 100},
                headers=bearer(token),
                timeout=30,
            ),
            200,
        )["messages"]:
            stored.update({m["id"]: m for m in page})
            after = page[-1]["id"]
    return stored


def test_sixteen_clients_get_exactly_what_they_were_acknowledged(server: LiveServer) -> None:
    clients = make_clients(server.url, THREADS)
    tally = Tally()
    deadline = time.monotonic() + DURATION
    threads = [
        threading.Thread(target=work, args=(server.url, c, i, deadline, tally)) for i, c in enumerate(clients)
    ]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DURATION + 60)
    elapsed = time.monotonic() - started

    by_op = Counter()
    for (op, _), count in tally.statuses.items():
        by_op[op] += count
    print(
        f"\n{tally.served} requests served by one server to {THREADS} clients in {elapsed:.1f} s "
        f"({tally.served / elapsed:.0f}/s): " + ", ".join(f"{op} {n}" for op, n in by_op.most_common())
    )
    print("statuses:", dict(sorted(Counter(s for _, s in tally.statuses.elements()).items())))

    assert not tally.client_errors, tally.client_errors[:5]
    assert not tally.locked, tally.locked[:5]
    server_errors = {k: n for k, n in tally.statuses.items() if k[1] >= 500}
    assert not server_errors
    unexpected = {k: n for k, n in tally.statuses.items() if k[1] not in (200, 201)}
    assert not unexpected, "every request the clients made was valid"
    log = server.log()
    assert "database is locked" not in log
    assert "Traceback" not in log

    stored = stored_messages(server.url, clients)
    assert set(stored) == set(tally.expected), "the server holds exactly the acknowledged messages"
    for message_id, expected in tally.expected.items():
        message = stored[message_id]
        if expected.deleted:
            assert message["is_deleted"] is True and message["text"] is None, message
        else:
            assert message["is_deleted"] is False, message
            assert message["text"] == expected.text, message
            assert (message["edited_date"] is not None) == expected.edited, message
