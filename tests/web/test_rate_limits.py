"""Abuse limits: sign-in failures per account and per address, registrations, searches."""

from __future__ import annotations

from pathlib import Path

import pytest
from falcon import testing

from adapters.memory import MemoryRateLimitStore
from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.app import create_app
from entrypoints.web.limits import Bucket
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


def test_a_bucket_lets_its_limit_through_then_one_per_share_of_the_period() -> None:
    now = [1000.0]
    bucket = Bucket(MemoryRateLimitStore(), "test", 2, 10, clock=lambda: now[0])
    bucket.take("k")
    bucket.take("k")
    with pytest.raises(Throttled) as raised:
        bucket.take("k")
    assert raised.value.retry_after == 5  # 2 per 10 s: one back every 5 s
    bucket.take("other")  # other keys are unaffected
    now[0] += 5
    bucket.take("k")
    with pytest.raises(Throttled):
        bucket.check("k")
    bucket.reset("k")
    bucket.check("k")


def test_limits_of_two_apps_on_one_store_count_together(tmp_path: Path) -> None:
    # Two server processes share the database's store; two apps on one store show it here.
    store = MemoryRateLimitStore()
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
        REGISTRATIONS_PER_ADDRESS=2,
    )
    one, two = (
        testing.TestClient(create_app(build_messenger(settings, memory=True), settings, rate_limits=store))
        for _ in range(2)
    )
    register(one, "r1@example.com")
    register(two, "r2@example.com")
    body = {"first_name": "A", "second_name": "B", "email": "r3@example.com", "password": "password123"}
    assert one.simulate_post("/api/v1/users", json=body).status_code == 429


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


def token_of(c: testing.TestClient, email: str, address: str = "10.0.0.1") -> dict[str, str]:
    return {"Authorization": f"Bearer {login(c, email, 'password123', address).json['access_token']}"}


def test_an_attacker_cannot_lock_the_owner_out_from_another_address(tmp_path: Path) -> None:
    c = client(tmp_path, LOGIN_FAILURES_PER_ACCOUNT=3, LOGIN_FAILURES_PER_ADDRESS=1000)
    register(c, "owner@example.com")
    for _ in range(10):  # the attacker hammers the account from one address
        assert login(c, "owner@example.com", "guess", "10.6.6.6").status_code in (401, 429)
    assert login(c, "owner@example.com", "password123", "10.6.6.6").status_code == 429
    assert login(c, "owner@example.com", "password123", "10.1.2.3").status_code == 200  # the owner


def test_guesses_from_many_addresses_never_spend_the_owners_allowance(tmp_path: Path) -> None:
    c = client(tmp_path, PASSWORD_CHECKS_PER_MINUTE=2, LOGIN_FAILURES_PER_ACCOUNT=3)
    register(c, "owner@example.com")
    for attacker in range(30):  # a botnet: each address guesses until its own limits stop it
        address = f"10.9.{attacker}.1"
        statuses = {login(c, "owner@example.com", f"guess-{n}", address).status_code for n in range(4)}
        assert statuses <= {401, 429} and 429 in statuses
    assert login(c, "owner@example.com", "password123", "10.1.2.3").status_code == 200  # the owner


def test_every_password_check_costs_a_token_so_logins_cannot_burn_the_cpu(tmp_path: Path) -> None:
    c = client(tmp_path, PASSWORD_CHECKS_PER_MINUTE=2)
    register(c, "busy@example.com")
    statuses = [login(c, "busy@example.com", "password123").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    register(c, "calm@example.com")  # another account from another address is unaffected
    assert login(c, "calm@example.com", "password123", "10.0.0.2").status_code == 200


def test_current_password_guesses_are_under_the_sign_in_limits(tmp_path: Path) -> None:
    c = client(tmp_path, LOGIN_FAILURES_PER_ACCOUNT=3)
    register(c, "me@example.com")
    register(c, "taken@example.com")
    me = token_of(c, "me@example.com")

    def change(old: str, email: str = "new@example.com") -> testing.Result:
        body = {"email": email, "old_password": old}
        return c.simulate_put("/api/v1/users/me", json=body, headers=me, remote_addr="10.0.0.1")

    # A wrong current password says so, before whether the new email is taken.
    wrong = change("wrong-1", email="taken@example.com")
    assert (wrong.status_code, wrong.json["error"]["code"]) == (403, "wrong_password")
    assert change("wrong-2").status_code == 403
    assert change("wrong-3").status_code == 403
    throttled = change("password123")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert c.simulate_get("/api/v1/users/me", headers=me).json["user"]["email"] == "me@example.com"


def test_posted_confirmation_credentials_are_under_the_sign_in_limits(tmp_path: Path) -> None:
    c = client(tmp_path, LOGIN_FAILURES_PER_ACCOUNT=2)
    register(c, "me@example.com")

    def ask(password: str) -> testing.Result:
        body = {"email": "me@example.com", "password": password}
        return c.simulate_post("/api/v1/tokens", json=body, remote_addr="10.0.0.7")

    assert [ask("wrong-1").status_code, ask("wrong-2").status_code] == [401, 401]
    throttled = ask("password123")
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0


def test_sends_and_friend_requests_have_buckets(tmp_path: Path) -> None:
    c = client(tmp_path, MESSAGES_PER_MINUTE=3, FRIEND_REQUESTS_PER_HOUR=1)
    for email in ("a@example.com", "b@example.com", "c@example.com"):
        register(c, email)
    a, b = token_of(c, "a@example.com"), token_of(c, "b@example.com")
    ids = {
        e: c.simulate_get("/api/v1/users/me", headers=h).json["user"]["user_id"]
        for e, h in (("a", a), ("b", b))
    }
    c_id = c.simulate_get("/api/v1/users/me", headers=token_of(c, "c@example.com")).json["user"]["user_id"]
    add = {"action": "add", "friend_id": ids["b"]}
    assert c.simulate_post("/api/v1/users_friends", json=add, headers=a).status_code == 200
    again = c.simulate_post("/api/v1/users_friends", json={"action": "add", "friend_id": c_id}, headers=a)
    assert again.status_code == 429 and int(again.headers["Retry-After"]) > 0
    accept = {"action": "accept", "friend_id": ids["a"]}
    assert c.simulate_post("/api/v1/users_friends", json=accept, headers=b).status_code == 200
    sends = [
        c.simulate_post("/api/v1/messages", json={"receiver_id": ids["b"], "text": f"{i}"}, headers=a)
        for i in range(4)
    ]
    assert [s.status_code for s in sends] == [201, 201, 201, 429]
    assert (
        sends[-1].json["error"]["code"] == "throttled" and "retry_after" in sends[-1].json["error"]["params"]
    )
    # b's bucket is b's own
    reply = c.simulate_post("/api/v1/messages", json={"receiver_id": ids["a"], "text": "hi"}, headers=b)
    assert reply.status_code == 201


def test_upload_bytes_per_hour(tmp_path: Path) -> None:
    c = client(tmp_path, UPLOAD_BYTES_PER_HOUR=3000)
    register(c, "up@example.com")
    me = token_of(c, "up@example.com")

    def upload(size: int) -> testing.Result:
        boundary = "xyz"
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n"
            ).encode()
            + bytes(size)
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers = me | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return c.simulate_post("/api/v1/attachments", body=body, headers=headers)

    assert upload(1000).status_code == 201
    assert upload(1000).status_code == 201
    refused = upload(1000)
    assert refused.status_code == 429 and refused.json["error"]["code"] == "throttled"
