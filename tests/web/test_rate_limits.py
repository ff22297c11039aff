"""Abuse limits: sign-in failures per account and per address, registrations, searches."""

from __future__ import annotations

from pathlib import Path

import pytest
from falcon import testing

from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.app import create_app
from entrypoints.web.limits import SlidingWindow
from messenger_core import Throttled


def client(tmp_path: Path, **overrides: object) -> testing.TestClient:
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
        **overrides,  # type: ignore[arg-type]
    )
    return testing.TestClient(create_app(build_messenger(settings, memory=True), settings))


def register(c: testing.TestClient, email: str) -> None:
    body = {"first_name": "A", "second_name": "B", "email": email, "password": "password123"}
    assert c.simulate_post("/api/v1/users", json=body).status_code == 201


def login(c: testing.TestClient, email: str, password: str, address: str = "10.0.0.1") -> testing.Result:
    return c.simulate_post("/api/v1/login", json={"email": email, "password": password}, remote_addr=address)


def test_sliding_window_counts_and_forgets() -> None:
    now = [0.0]
    window = SlidingWindow(2, 10, clock=lambda: now[0])
    window.hit("k")
    window.hit("k")
    with pytest.raises(Throttled) as raised:
        window.hit("k")
    assert raised.value.retry_after == 10
    window.hit("other")  # other keys are unaffected
    now[0] = 10.5
    window.hit("k")


def test_failed_logins_lock_the_account_not_other_users(tmp_path: Path) -> None:
    c = client(tmp_path, LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_ADDRESS=100)
    register(c, "victim@example.com")
    register(c, "other@example.com")
    for _ in range(3):
        assert login(c, "victim@example.com", "wrong-password").status_code == 401
    locked = login(c, "VICTIM@example.com", "password123")
    assert locked.status_code == 429
    assert int(locked.headers["Retry-After"]) > 0
    assert locked.json["error"]["code"] == "throttled"
    assert login(c, "other@example.com", "password123").status_code == 200


def test_failed_logins_per_address(tmp_path: Path) -> None:
    c = client(tmp_path, LOGIN_FAILURES_PER_ACCOUNT=100, LOGIN_FAILURES_PER_ADDRESS=3)
    register(c, "someone@example.com")
    for i in range(3):
        assert login(c, f"guess{i}@example.com", "wrong-password", "10.9.9.9").status_code == 401
    assert login(c, "someone@example.com", "password123", "10.9.9.9").status_code == 429
    assert login(c, "someone@example.com", "password123", "10.1.1.1").status_code == 200


def test_registrations_per_address(tmp_path: Path) -> None:
    c = client(tmp_path, REGISTRATIONS_PER_ADDRESS=2)
    register(c, "a1@example.com")
    register(c, "a2@example.com")
    body = {"first_name": "A", "second_name": "B", "email": "a3@example.com", "password": "password123"}
    assert c.simulate_post("/api/v1/users", json=body).status_code == 429


def test_search_rate(tmp_path: Path) -> None:
    c = client(tmp_path, SEARCHES_PER_MINUTE=2)
    register(c, "s@example.com")
    token = login(c, "s@example.com", "password123").json["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    statuses = [
        c.simulate_get("/api/v1/users", params={"search_request": "a"}, headers=headers).status_code
        for _ in range(3)
    ]
    assert statuses == [200, 200, 429]


def test_one_setting_turns_every_limit_off(tmp_path: Path) -> None:
    c = client(tmp_path, RATE_LIMITS_ENABLED=False, LOGIN_FAILURES_PER_ACCOUNT=1, REGISTRATIONS_PER_ADDRESS=1)
    register(c, "x1@example.com")
    register(c, "x2@example.com")
    for _ in range(3):
        assert login(c, "x1@example.com", "wrong-password").status_code == 401
    assert login(c, "x1@example.com", "password123").status_code == 200
