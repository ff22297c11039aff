"""The access log: one line per request, and never a token, a password or a cookie."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from falcon import testing

from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.access_log import redact_query
from entrypoints.web.app import create_app

PASSWORD = "Pa55word-never-logged"


@pytest.fixture
def client(tmp_path: Path) -> testing.TestClient:
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
        RATE_LIMITS_ENABLED=False,
    )
    return testing.TestClient(create_app(build_messenger(settings, memory=True), settings))


def access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "messenger.access"]


def sign_up(client: testing.TestClient) -> str:
    body = {"first_name": "Log", "second_name": "Reader", "email": "log@example.com", "password": PASSWORD}
    assert client.simulate_post("/api/v1/users", json=body).status_code == 201
    login = client.simulate_post("/api/v1/login", json={"email": "log@example.com", "password": PASSWORD})
    return login.json["access_token"]


def test_a_query_token_and_a_bearer_token_never_reach_the_log(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, not only the access log
    token = sign_up(client)
    result = client.simulate_get(
        "/api/v1/users/me",
        query_string="jwt=SECRET&limit=5",
        headers={"Authorization": f"Bearer {token}", "Cookie": "access_token_cookie=COOKIESECRET"},
    )
    assert result.status_code == 200

    lines = access_lines(caplog)
    assert any("GET /api/v1/users/me?jwt=[redacted]&limit=5 200" in line for line in lines), lines
    for secret in ("SECRET", token, PASSWORD, "COOKIESECRET"):
        assert secret not in caplog.text
        assert all(secret not in line for line in lines)


def test_login_and_register_bodies_are_not_logged(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = sign_up(client)
    assert [line.split()[1:4] for line in access_lines(caplog)] == [
        ["POST", "/api/v1/users", "201"],
        ["POST", "/api/v1/login", "200"],
    ]
    assert PASSWORD not in caplog.text
    assert token not in caplog.text


@pytest.mark.parametrize(
    "name", ["jwt", "access_token", "refresh_token", "token", "password", "JWT", "j%77t"]
)
def test_every_secret_parameter_is_redacted(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture, name: str
) -> None:
    caplog.set_level(logging.INFO, logger="messenger.access")
    result = client.simulate_get("/api/v1/chats", query_string=f"chat_id=7&{name}=TOPSECRET")
    assert result.status_code == 401
    [line] = access_lines(caplog)
    assert "TOPSECRET" not in line
    assert f"/api/v1/chats?chat_id=7&{name}=[redacted] 401" in line


def test_a_line_has_method_path_status_and_duration(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="messenger.access")
    client.simulate_get("/api/v1/no-such-route")
    client.simulate_delete("/api/v1/stickers")
    first, second = access_lines(caplog)
    _address, method, path, status, duration = first.split()
    assert (method, path, status) == ("GET", "/api/v1/no-such-route", "404")
    assert duration.endswith("ms") and float(duration[:-2]) >= 0
    assert second.split()[1:4] == ["DELETE", "/api/v1/stickers", "405"]
    assert all(r.levelno == logging.INFO for r in caplog.records if r.name == "messenger.access")


def test_a_newline_in_the_path_cannot_forge_a_line(
    client: testing.TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="messenger.access")
    client.simulate_get("/api/v1/x%0A127.0.0.1 GET /admin 200")
    [line] = access_lines(caplog)
    assert "\n" not in line and "\\x0a" in line


def test_redact_query_keeps_everything_else_as_sent() -> None:
    assert redact_query("") == ""
    assert redact_query("a=1&b=%20x") == "a=1&b=%20x"
    assert redact_query("jwt=abc&jwt=def") == "jwt=[redacted]&jwt=[redacted]"
    assert redact_query("password") == "password"
    assert redact_query("next=/chats&Refresh_Token=abc") == "next=/chats&Refresh_Token=[redacted]"


def test_a_token_inside_a_url_valued_parameter_is_redacted_too() -> None:
    from entrypoints.web.access_log import redact_query

    logged = redact_query("next=%2Ffriends%3Fjwt%3Dabc.def%26tab%3D2&page=1")
    assert "abc.def" not in logged
    assert "tab=2" in logged and "page=1" in logged
