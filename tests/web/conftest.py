"""Web tests: the real app over a real Messenger (memory adapter, PyJWT tokens, argon2),
driven in-process through ``falcon.testing``. Nothing of the core is mocked.

``Api`` wraps the test client with the few steps most tests need (people, friends,
chats, uploads), each done over HTTP and checked, so a test reads as its story.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import attrs
import pytest
from falcon import testing
from PIL import Image

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.jobs import InlineJobs
from entrypoints.bootstrap import build_messenger, prepare_database
from entrypoints.config import Settings
from entrypoints.web.app import create_app
from messenger_core import Messenger
from messenger_core.ports import Clock

SECRET_KEY = "x" * 40
PASSWORD = "correct horse battery"
MAX_UPLOAD = 32 * 1024  # small, so 413 tests stay fast


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "SECRET_KEY": SECRET_KEY,
        "DATABASE_PATH": str(tmp_path / "db.sqlite3"),
        "UPLOAD_FOLDER": str(tmp_path / "up"),
        "MAX_CONTENT_LENGTH": MAX_UPLOAD,
    }
    return Settings(**(values | overrides))


@attrs.frozen(kw_only=True)
class Person:
    """A registered, signed-in user as a client sees them."""

    user_id: str
    first_name: str
    second_name: str
    email: str
    password: str
    access_token: str
    refresh_token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}


class Api:
    """A falcon test client plus the Messenger behind it."""

    def __init__(self, messenger: Messenger, settings: Settings) -> None:
        self.messenger = messenger
        self.settings = settings
        self.app = create_app(messenger, settings)
        self.client = testing.TestClient(self.app)
        self._emails = 0

    # Plain requests ------------------------------------------------------------------

    def request(self, method: str, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        headers = dict(kwargs.pop("headers", None) or {})
        if who is not None:
            headers |= who.auth
        return self.client.simulate_request(method, path, headers=headers, **kwargs)

    def get(self, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        return self.request("GET", path, who, **kwargs)

    def post(self, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        return self.request("POST", path, who, **kwargs)

    def put(self, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        return self.request("PUT", path, who, **kwargs)

    def patch(self, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        return self.request("PATCH", path, who, **kwargs)

    def delete(self, path: str, who: Person | None = None, **kwargs: Any) -> testing.Result:
        return self.request("DELETE", path, who, **kwargs)

    def get_with_body(
        self, path: str, body: dict[str, Any], who: Person | None = None, **kwargs: Any
    ) -> testing.Result:
        """A GET whose parameters ride in a JSON body, as the spec's clients send them."""
        headers = dict(kwargs.pop("headers", None) or {}) | {"Content-Type": "application/json"}
        return self.get(path, who, body=json.dumps(body), headers=headers, **kwargs)

    # Steps of a story ----------------------------------------------------------------

    def register(
        self,
        first_name: str = "Иван",
        second_name: str = "Петров",
        *,
        email: str | None = None,
        password: str = PASSWORD,
    ) -> Person:
        """Register over the API and sign in."""
        if email is None:
            self._emails += 1
            email = f"user{self._emails}@example.org"
        body = {"first_name": first_name, "second_name": second_name, "email": email, "password": password}
        registered = self.post("/api/v1/users", json=body)
        assert registered.status_code == 201, registered.text
        tokens = self.login(email, password)
        return Person(
            user_id=registered.json["user"]["user_id"],
            first_name=first_name,
            second_name=second_name,
            email=email,
            password=password,
            access_token=tokens["access_token"],
            refresh_token=tokens["refresh_token"],
        )

    def login(self, email: str, password: str, **extra: Any) -> dict[str, Any]:
        result = self.post("/api/v1/login", json={"email": email, "password": password} | extra)
        assert result.status_code == 200, result.text
        return dict(result.json)

    def befriend(self, a: Person, b: Person) -> None:
        sent = self.post("/api/v1/users_friends", a, json={"friend_id": b.user_id, "action": "add"})
        assert sent.status_code == 200, sent.text
        accepted = self.post("/api/v1/users_friends", b, json={"friend_id": a.user_id, "action": "accept"})
        assert accepted.status_code == 200, accepted.text

    def open_chat(self, a: Person, b: Person) -> int:
        result = self.post("/api/v1/chats", a, json={"user_id": b.user_id})
        assert result.status_code in (200, 201), result.text
        return int(result.json["chat"]["id"])

    def friends_with_chat(self, a: Person, b: Person) -> int:
        self.befriend(a, b)
        return self.open_chat(a, b)

    def send(self, who: Person, chat_id: int, text: str = "привет", **extra: Any) -> dict[str, Any]:
        result = self.post(f"/api/v1/chats/{chat_id}/messages", who, json={"text": text} | extra)
        assert result.status_code == 201, result.text
        return dict(result.json["message"])

    def upload(
        self,
        who: Person | None,
        data: bytes,
        name: str = "file.bin",
        path: str = "/api/v1/attachments",
        method: str = "POST",
    ) -> testing.Result:
        body, headers = multipart(data, name)
        return self.request(method, path, who, body=body, headers=headers)


def multipart(
    data: bytes, filename: str, field: str = "file", content_type: str = "application/octet-stream"
) -> tuple[bytes, dict[str, str]]:
    """A multipart/form-data body with one file part, its name in UTF-8 as browsers send it."""
    boundary = "----messenger-test-boundary"
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="{field}"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def png_bytes(size: tuple[int, int] = (40, 30), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "PNG")
    return buffer.getvalue()


def cookies_of(result: testing.Result) -> dict[str, str]:
    return {name: cookie.value for name, cookie in result.cookies.items()}


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in cookies.items())


def assert_error(
    result: testing.Result, status: int, code: str | None = None, *, fields: set[str] | None = None
) -> dict[str, Any]:
    """The answer is the API's JSON error shape with this status (and code, and fields)."""
    assert result.status_code == status, result.text
    assert result.headers["Content-Type"].startswith("application/json")
    error = result.json["error"]
    assert isinstance(error["code"], str) and isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code, error
    if fields is not None:
        assert set(error.get("fields", {})) == fields, error
    return dict(error)


def disposition_name(header: str) -> str:
    """The UTF-8 file name from a Content-Disposition header (RFC 6266 ``filename*``)."""
    star = next(p.strip() for p in header.split(";") if p.strip().startswith("filename*="))
    return unquote(star.removeprefix("filename*=UTF-8''"))


def memory_messenger(settings: Settings, clock: Clock | None = None) -> Messenger:
    """What ``build_messenger(settings, memory=True)`` wires (PyJWT tokens included),
    but with argon2 at its cheapest, so a test may register people freely."""
    return build_messenger(settings, memory=True, clock=clock, hasher=FAST_HASHER)


FAST_HASHER = Argon2PasswordHasher.fast_for_tests()


@pytest.fixture
def make_api(tmp_path: Path) -> Iterator[Callable[..., Api]]:
    """Build an Api with settings overrides. By default on the memory adapter with a
    cheap hasher; ``wiring="bootstrap"`` takes ``build_messenger(memory=True)`` as it
    is, and ``wiring="sqlite"`` the real database adapter on a temporary file."""
    built: list[Messenger] = []

    def make(*, wiring: str = "fast", clock: Clock | None = None, **overrides: Any) -> Api:
        settings = make_settings(tmp_path / f"app{len(built)}", **overrides)
        if wiring == "sqlite":
            Path(settings.DATABASE_PATH).parent.mkdir(parents=True, exist_ok=True)
            prepare_database(settings)
            messenger = build_messenger(settings, clock=clock, jobs=InlineJobs())
        elif wiring == "bootstrap":
            messenger = build_messenger(settings, memory=True, clock=clock)
        else:
            messenger = memory_messenger(settings, clock)
        built.append(messenger)
        return Api(messenger, settings)

    yield make


@pytest.fixture
def api(make_api: Callable[..., Api]) -> Api:
    return make_api()


@pytest.fixture
def ivan(api: Api) -> Person:
    return api.register("Иван", "Петров")


@pytest.fixture
def anna(api: Api) -> Person:
    return api.register("Анна", "Сидорова")
