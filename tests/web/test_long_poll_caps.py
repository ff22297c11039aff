"""Long-poll places: one user, or one address, cannot take every waiter's place."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from falcon import testing

from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.app import create_app

PASSWORD = "password123"


def make_client(tmp_path: Path, **overrides: object) -> testing.TestClient:
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
        LONG_POLL_MAX_TIMEOUT=30.0,
        **overrides,  # type: ignore[arg-type]
    )
    return testing.TestClient(create_app(build_messenger(settings, memory=True), settings))


def signed_in(c: testing.TestClient, email: str) -> tuple[dict[str, str], str]:
    body = {"first_name": "A", "second_name": "B", "email": email, "password": PASSWORD}
    user_id = c.simulate_post("/api/v1/users", json=body).json["user"]["user_id"]
    token = c.simulate_post("/api/v1/login", json={"email": email, "password": PASSWORD}).json["access_token"]
    return {"Authorization": f"Bearer {token}"}, user_id


def cursor_of(c: testing.TestClient, auth: dict[str, str]) -> int:
    return int(c.simulate_get("/api/v1/events", headers=auth).json["cursor"])


def poll(
    c: testing.TestClient, auth: dict[str, str], timeout: float, address: str, cursor: int | None = None
) -> testing.Result:
    since = cursor_of(c, auth) if cursor is None else cursor
    return c.simulate_get(
        "/api/v1/events", params={"since": since, "timeout": timeout}, headers=auth, remote_addr=address
    )


def busy(result: testing.Result) -> bool:
    return result.headers.get("X-Long-Poll") == "busy"


def waiter(
    c: testing.TestClient, auth: dict[str, str], address: str, results: list[testing.Result]
) -> threading.Thread:
    """A client that long-polls from its cursor and, told "busy", polls again, as the page does
    (a probe of the test may hold a place for a moment)."""
    since = cursor_of(c, auth)

    def run() -> None:
        while busy(result := poll(c, auth, 20, address, since)):
            time.sleep(0.01)
        results.append(result)

    return threading.Thread(target=run)


def wait_until_busy(c: testing.TestClient, auth: dict[str, str], address: str) -> None:
    """Poll (briefly) until a new long-poll is answered busy: the waiters are in place."""
    for _ in range(200):
        if busy(poll(c, auth, 0.05, address)):
            return
    raise AssertionError("the waiters never took their places")


def test_one_user_holds_at_most_its_share_of_places(tmp_path: Path) -> None:
    c = make_client(tmp_path, LONG_POLLS_PER_USER=2, LONG_POLLS_PER_ADDRESS=100)
    greedy, greedy_id = signed_in(c, "greedy@example.com")
    other, _ = signed_in(c, "other@example.com")
    results: list[testing.Result] = []
    waiters = [waiter(c, greedy, "10.0.0.1", results) for _ in range(2)]
    for thread in waiters:
        thread.start()
    wait_until_busy(c, greedy, "10.0.0.1")  # a third long-poll of the same user: busy at once
    assert not busy(poll(c, other, 0.05, "10.0.0.2"))  # anyone else still waits as usual
    # Wake the two waiters with an event of their own (a friend request to them).
    c.simulate_post("/api/v1/users_friends", json={"action": "add", "friend_id": greedy_id}, headers=other)
    for thread in waiters:
        thread.join(20)
    assert [len(r.json["events"]) for r in results] == [1, 1]
    assert not any(busy(r) for r in results)


def test_one_address_holds_at_most_its_share_of_places(tmp_path: Path) -> None:
    c = make_client(tmp_path, LONG_POLLS_PER_USER=10, LONG_POLLS_PER_ADDRESS=2)
    people = [signed_in(c, f"p{i}@example.com") for i in range(3)]
    results: list[testing.Result] = []
    waiters = [waiter(c, auth, "10.9.9.9", results) for auth, _ in people[:2]]
    for thread in waiters:
        thread.start()
    wait_until_busy(c, people[2][0], "10.9.9.9")  # a third user behind the same address
    assert not busy(poll(c, people[2][0], 0.05, "10.1.1.1"))  # from elsewhere: a place
    for _, user_id in people[:2]:
        c.simulate_post(
            "/api/v1/users_friends", json={"action": "add", "friend_id": user_id}, headers=people[2][0]
        )
    for thread in waiters:
        thread.join(20)
    assert len(results) == 2 and all(r.json["events"] for r in results)
