"""The authorization matrix of group chats: every group route, tried by the group's owner,
an admin, a member, a member who was removed, a stranger and an anonymous client.

Each case builds its own group (through the API), so no case depends on another's
leftovers; the id reads ``<route> [<actor>] -> <status>``.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from falcon import testing
from PIL import Image

from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.app import create_app

ACTORS = ("owner", "admin", "member", "removed", "stranger", "anonymous")
PASSWORD = "group password 1"
BOUNDARY = "group-boundary"


def upload_body() -> tuple[bytes, dict[str, str]]:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (40, 80, 200)).save(out, "PNG")
    head = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="g.png"\r\n\r\n'.encode()
    body = head + out.getvalue() + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


class Site:
    def __init__(self, tmp: Path) -> None:
        settings = Settings(
            SECRET_KEY="x" * 40,
            DATABASE_PATH=str(tmp / "db.sqlite3"),
            UPLOAD_FOLDER=str(tmp / "up"),
            RATE_LIMITS_ENABLED=False,
        )
        self.client = testing.TestClient(create_app(build_messenger(settings, memory=True), settings))
        self.count = 0

    def request(self, method: str, path: str, token: str | None, **kwargs: Any) -> testing.Result:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.simulate_request(method, path, headers=headers, **kwargs)

    def ok(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        result = self.request(method, path, token, **kwargs)
        assert result.status_code < 300, (method, path, result.status_code, result.text)
        return result.json

    def person(self, name: str) -> tuple[str, str]:
        self.count += 1
        email = f"{name.lower()}{self.count}@example.com"
        body = {"first_name": name, "second_name": "Group", "email": email, "password": PASSWORD}
        user_id = self.ok("POST", "/api/v1/users", None, json=body)["user"]["user_id"]
        login = self.ok("POST", "/api/v1/login", None, json={"email": email, "password": PASSWORD})
        return user_id, login["access_token"]

    def befriend(self, a: tuple[str, str], b: tuple[str, str]) -> None:
        self.ok("POST", "/api/v1/users_friends", a[1], json={"friend_id": b[0], "action": "add"})
        self.ok("POST", "/api/v1/users_friends", b[1], json={"friend_id": a[0], "action": "accept"})


@dataclass
class Group:
    """A group of its owner, an admin, a member and a member removed again, a message of
    the owner's with a photo in it, and a stranger."""

    site: Site
    people: dict[str, tuple[str, str]] = field(default_factory=dict)
    chat_id: int = 0
    message_id: int = 0
    photo_id: int = 0

    @classmethod
    def made(cls, site: Site) -> Group:
        group = cls(site)
        for role in ("owner", "admin", "member", "removed", "stranger"):
            group.people[role] = site.person(role.title())
        owner = group.people["owner"]
        for role in ("admin", "member", "removed"):
            site.befriend(owner, group.people[role])
        members = [group.people[r][0] for r in ("admin", "member", "removed")]
        created = site.ok("POST", "/api/v1/chats", owner[1], json={"title": "Matrix", "member_ids": members})
        group.chat_id = created["chat"]["id"]
        admin = {"role": "admin"}
        site.ok("PATCH", f"{group.path}/members/{group.id_of('admin')}", owner[1], json=admin)
        site.ok("DELETE", f"{group.path}/members/{group.id_of('removed')}", owner[1])
        body, headers = upload_body()
        group.photo_id = site.ok("POST", "/api/v1/attachments", owner[1], body=body, headers=headers)[
            "attachment"
        ]["id"]
        sent = {"text": "from the owner", "attachment_ids": [group.photo_id]}
        group.message_id = site.ok("POST", f"{group.path}/messages", owner[1], json=sent)["message"]["id"]
        return group

    @property
    def path(self) -> str:
        return f"/api/v1/chats/{self.chat_id}"

    def id_of(self, role: str) -> str:
        return self.people[role][0]

    def token(self, actor: str) -> str | None:
        return None if actor == "anonymous" else self.people[actor][1]


Prepare = Callable[[Group, str], dict[str, Any]]  # → request kwargs: method, path, json, upload


@dataclass(frozen=True)
class Row:
    route: str
    expected: tuple[int, int, int, int, int, int]  # owner, admin, member, removed, stranger, anonymous
    prepare: Prepare


def call(method: str, path: str, **extra: Any) -> Prepare:
    """The same request for every actor: ``{chat}``, ``{message}``, ``{photo}`` and
    ``{<role>}`` (that person's user_id) are filled from the group."""

    def prepare(group: Group, actor: str) -> dict[str, Any]:
        names = {"chat": group.chat_id, "message": group.message_id, "photo": group.photo_id}
        names |= {role: user_id for role, (user_id, _) in group.people.items()}

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                return value.format(**names)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        return {"method": method, "path": fill(path), **fill(extra)}

    return prepare


def add_a_friend_of_the_actor(group: Group, actor: str) -> dict[str, Any]:
    """Someone who is a friend of whoever acts (anyone adds only their own friends)."""
    newcomer = group.site.person("Newcomer")
    if actor != "anonymous":
        group.site.befriend(group.people[actor], newcomer)
    return {"method": "POST", "path": f"{group.path}/members", "json": {"user_ids": [newcomer[0]]}}


READ = (200, 200, 200, 404, 404, 401)  # the members
RUN = (200, 200, 403, 404, 404, 401)  # the owner and admins
OWN = (200, 403, 403, 404, 404, 401)  # the owner

ROWS = (
    Row("GET /chats/{group}", READ, call("GET", "/api/v1/chats/{chat}")),
    Row("GET /chats/{group}/messages", READ, call("GET", "/api/v1/chats/{chat}/messages")),
    Row(
        "POST /chats/{group}/messages",
        (201, 201, 201, 404, 404, 401),
        call("POST", "/api/v1/chats/{chat}/messages", json={"text": "hello"}),
    ),
    Row(
        "POST /chats/{group}/messages mentioning the member",
        (201, 201, 201, 404, 404, 401),
        call("POST", "/api/v1/chats/{chat}/messages", json={"text": "hi", "mentions": ["{member}"]}),
    ),
    Row("GET /messages/{message}/readers", READ, call("GET", "/api/v1/messages/{message}/readers")),
    Row("GET /attachments/{photo in the group}", READ, call("GET", "/api/v1/attachments/{photo}")),
    Row("PATCH /chats/{group}", RUN, call("PATCH", "/api/v1/chats/{chat}", json={"title": "Renamed"})),
    Row("GET /chats/{group}/photo", READ, call("GET", "/api/v1/chats/{chat}/photo")),
    Row("PUT /chats/{group}/photo", RUN, call("PUT", "/api/v1/chats/{chat}/photo", upload=True)),
    Row("POST /chats/{group}/photo", RUN, call("POST", "/api/v1/chats/{chat}/photo", upload=True)),
    Row("DELETE /chats/{group}/photo", RUN, call("DELETE", "/api/v1/chats/{chat}/photo")),
    Row("POST /chats/{group}/members", RUN, add_a_friend_of_the_actor),
    Row(
        "DELETE /chats/{group}/members/{member}",
        (200, 200, 200, 404, 404, 401),  # the member naming themselves leaves
        call("DELETE", "/api/v1/chats/{chat}/members/{member}"),
    ),
    Row(
        "DELETE /chats/{group}/members/{owner}",
        (200, 403, 403, 404, 404, 401),  # an admin cannot remove the owner; the owner leaves
        call("DELETE", "/api/v1/chats/{chat}/members/{owner}"),
    ),
    Row(
        "DELETE /chats/{group}/members/{admin}",
        (200, 200, 403, 404, 404, 401),  # the admin naming themselves leaves
        call("DELETE", "/api/v1/chats/{chat}/members/{admin}"),
    ),
    Row(
        "DELETE /chats/{group}/members/me",
        (200, 200, 200, 404, 404, 401),
        call("DELETE", "/api/v1/chats/{chat}/members/me"),
    ),
    Row(
        "PATCH /chats/{group}/members/{member}",
        OWN,
        call("PATCH", "/api/v1/chats/{chat}/members/{member}", json={"role": "admin"}),
    ),
    Row(
        "DELETE /messages/{owner's message}",
        (200, 200, 403, 404, 404, 401),  # its author, or an admin moderating
        call("DELETE", "/api/v1/messages/{message}"),
    ),
    Row(
        "PUT /messages/{owner's message}",
        (200, 403, 403, 404, 404, 401),  # only the author edits
        call("PUT", "/api/v1/messages/{message}", json={"text": "edited"}),
    ),
    Row("DELETE /chats/{group}", OWN, call("DELETE", "/api/v1/chats/{chat}")),
)

# The group routes this matrix covers (the main matrix checks every route is covered).
COVERED = frozenset(
    {
        "/api/v1/chats/{chat_id:int}/photo",
        "/api/v1/chats/{chat_id:int}/members",
        "/api/v1/chats/{chat_id:int}/members/{user_id}",
        "/api/v1/messages/{message_id:int}/readers",
    }
)

CASES = [
    pytest.param(row, actor, status, id=f"{row.route} [{actor}] -> {status}")
    for row in ROWS
    for actor, status in zip(ACTORS, row.expected, strict=True)
]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Site:
    return Site(tmp_path_factory.mktemp("groups"))


@pytest.mark.parametrize(("row", "actor", "expected"), CASES)
def test_group_authorization(site: Site, row: Row, actor: str, expected: int) -> None:
    group = Group.made(site)
    request = row.prepare(group, actor)
    kwargs: dict[str, Any] = {}
    if "json" in request:
        kwargs["json"] = request["json"]
    if request.get("upload"):
        kwargs["body"], kwargs["headers"] = upload_body()
    result = site.request(request["method"], request["path"], group.token(actor), **kwargs)
    assert result.status_code == expected, result.text[:300]
    if actor == "anonymous":
        assert result.json["error"]["code"] == "token_missing"


def test_a_removed_member_gets_their_removal_and_nothing_after_it(site: Site) -> None:
    group = Group.made(site)
    removed = group.token("removed")
    events = site.ok("GET", "/api/v1/events", removed, params={"since": 0})["events"]
    types = [e["type"] for e in events]
    assert "chat.member_removed" in types
    removal = types.index("chat.member_removed")
    assert all(e["data"].get("chat_id") != group.chat_id for e in events[removal + 1 :])
    later = site.ok("GET", "/api/v1/events", removed, params={"since": events[-1]["id"]})["events"]
    assert later == []  # the owner's message with the photo came after: not for them
    assert site.request("GET", f"/api/v1/attachments/{group.photo_id}", removed).status_code == 404
