"""Minimal examples of what fuzzing found, kept as fast in-process tests on SQLite
(the memory adapter takes any Python int; SQLite's INTEGER is 64-bit)."""

from __future__ import annotations

import pytest
from falcon import testing

from entrypoints.bootstrap import build_messenger, prepare_database
from entrypoints.config import Settings
from entrypoints.web.app import create_app

PASSWORD = "fuzz findings 1"
PAST_64_BITS = ("-204665420018636334575910912", "-9223372036854775809", "9223372036854775808")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> tuple[testing.TestClient, dict[str, str]]:
    tmp_path = tmp_path_factory.mktemp("findings")
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
        RATE_LIMITS_ENABLED=False,
    )
    prepare_database(settings)
    client = testing.TestClient(create_app(build_messenger(settings), settings))
    body = {"first_name": "F", "second_name": "Z", "email": "f@example.com", "password": PASSWORD}
    assert client.simulate_post("/api/v1/users", json=body).status_code == 201
    login = client.simulate_post("/api/v1/login", json={"email": "f@example.com", "password": PASSWORD})
    return client, {"Authorization": f"Bearer {login.json['access_token']}"}


@pytest.mark.parametrize("number", PAST_64_BITS)
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/chats/{}"),  # found by schemathesis: OverflowError → 500
        ("DELETE", "/api/v1/chats/{}"),
        ("GET", "/api/v1/chats/{}/messages"),
        ("POST", "/api/v1/chats/{}/read"),
        ("PATCH", "/api/v1/messages/{}"),
        ("DELETE", "/api/v1/messages/{}"),
        ("GET", "/api/v1/attachments/{}"),
        ("GET", "/api/v1/attachments/{}/thumbnail"),
        ("GET", "/api/v1/stickers/{}/image"),
    ],
)
def test_an_id_past_64_bits_names_nothing(
    client: tuple[testing.TestClient, dict[str, str]], method: str, path: str, number: str
) -> None:
    test_client, headers = client
    result = test_client.simulate_request(method, path.format(number), headers=headers, json={"text": "x"})
    assert result.status_code == 404, result.text
