"""The authorization matrix: every API route that touches a user's data, tried by the
owner, a friend (the other member of the chat), a stranger, an anonymous client, a
client holding the owner's token from before a password change (revoked), a user the
owner blocked (an ex-friend with a chat of their own; as a stranger unless a row says),
the token of a session the owner ended (ended) and that of a deleted account (deleted):
those two are refused everywhere.

One test per (route, actor); the id reads ``<route> [<actor>] -> <status>``. Rows that
change or destroy something prepare a fresh target for each actor, so no row depends on
another's leftovers.
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
from entrypoints.web.app import API_ROUTES, create_app
from tests.web.test_group_authorization import COVERED as GROUP_ROUTES

ACTORS = ("owner", "friend", "stranger", "anonymous", "revoked")
EXTRA_ACTORS = ("blocked", "ended", "deleted")
PASSWORD = "old password 123"
NEW_PASSWORD = "new password 456"
BOUNDARY = "matrix-boundary"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def multipart(content: bytes, name: str = "picture.png", mime: str = "image/png") -> tuple[bytes, str]:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        f"Content-Type: {mime}\r\n\r\n"
    ).encode()
    return head + content + f"\r\n--{BOUNDARY}--\r\n".encode(), f"multipart/form-data; boundary={BOUNDARY}"


class World:
    """Owner and friend share a chat with messages and a photo; the stranger shares nothing.
    The owner changed their password, so their first token is revoked."""

    def __init__(self, tmp: Path) -> None:
        settings = Settings(
            SECRET_KEY="x" * 40,
            DATABASE_PATH=str(tmp / "db.sqlite3"),
            UPLOAD_FOLDER=str(tmp / "up"),
            RATE_LIMITS_ENABLED=False,
        )
        self.client = testing.TestClient(create_app(build_messenger(settings, memory=True), settings))
        self.users = 0
        self.owner_id, self.revoked = self.user("Owner")
        self.friend_id, self.friend = self.user("Friend")
        self.stranger_id, self.stranger = self.user("Stranger")
        changed = self.ok(
            "PATCH",
            "/api/v1/users/me",
            self.revoked,
            json={"password": NEW_PASSWORD, "old_password": PASSWORD},
        )
        self.owner, self.owner_id = changed["access_token"], changed["user_id"]
        self.chat_id = self.befriend(self.owner, self.owner_id, self.friend, self.friend_id)
        self.message_id = self.send(self.owner, self.chat_id, "from the owner")
        self.photo_id = self.upload(self.owner)
        self.ok(
            "POST",
            f"/api/v1/chats/{self.chat_id}/messages",
            self.owner,
            json={"text": "a photo", "attachment_ids": [self.photo_id]},
        )
        self.ok("PATCH", "/api/v1/users/me", self.owner, json={"username": "matrix_owner"})
        # The blocked user was a friend with a chat; the owner blocked them.
        self.blocked_id, self.blocked = self.user("Blocked")
        self.blocked_chat = self.befriend(self.owner, self.owner_id, self.blocked, self.blocked_id)
        self.ok("PUT", f"/api/v1/blocks/{self.blocked_id}", self.owner)
        # A second session of the owner, ended from the first: its token is dead.
        email = "owner1@example.com"
        self.ended = self.ok("POST", "/api/v1/login", None, json={"email": email, "password": NEW_PASSWORD})[
            "access_token"
        ]
        self.ok("DELETE", "/api/v1/sessions", self.owner, params={"others": "true"})
        _, self.deleted = self.user("Gone")
        self.ok("DELETE", "/api/v1/users/me", self.deleted, json={"password": PASSWORD})

    # --- setting things up through the API itself --------------------------------------

    def ok(self, method: str, path: str, token: str | None, **kwargs: Any) -> Any:
        result = self.request(method, path, token, **kwargs)
        assert result.status_code < 300, (method, path, result.status_code, result.text)
        return result.json

    def request(self, method: str, path: str, token: str | None, **kwargs: Any) -> testing.Result:
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return self.client.simulate_request(method, path, headers=headers, **kwargs)

    def user(self, name: str) -> tuple[str, str]:
        self.users += 1
        email = f"{name.lower()}{self.users}@example.com"
        body = {"first_name": name, "second_name": "Matrix", "email": email, "password": PASSWORD}
        user_id = self.ok("POST", "/api/v1/users", None, json=body)["user"]["user_id"]
        token = self.ok("POST", "/api/v1/login", None, json={"email": email, "password": PASSWORD})
        return user_id, token["access_token"]

    def befriend(self, a: str, a_id: str, b: str, b_id: str) -> int:
        self.ok("POST", "/api/v1/users_friends", a, json={"friend_id": b_id, "action": "add"})
        self.ok("POST", "/api/v1/users_friends", b, json={"friend_id": a_id, "action": "accept"})
        return int(self.ok("POST", "/api/v1/chats", a, json={"user_id": b_id})["chat"]["id"])

    def new_friend(self) -> tuple[str, str, int]:
        """A fresh friend of the owner and their chat: (user_id, token, chat_id)."""
        user_id, token = self.user("Extra")
        return user_id, token, self.befriend(self.owner, self.owner_id, token, user_id)

    def requester(self) -> str:
        """A fresh user who has asked the owner to be friends."""
        user_id, token = self.user("Asker")
        self.ok("POST", "/api/v1/users_friends", token, json={"friend_id": self.owner_id, "action": "add"})
        return user_id

    def send(self, token: str, chat_id: int, text: str) -> int:
        sent = self.ok("POST", f"/api/v1/chats/{chat_id}/messages", token, json={"text": text})
        return int(sent["message"]["id"])

    def upload(self, token: str) -> int:
        body, content_type = multipart(png())
        answer = self.ok(
            "POST", "/api/v1/attachments", token, body=body, headers={"Content-Type": content_type}
        )
        return int(answer["attachment"]["id"])

    def token(self, actor: str, call: Call) -> str | None:
        return {
            "owner": call.owner or self.owner,
            "friend": call.friend or self.friend,
            "stranger": call.stranger or self.stranger,
            "anonymous": None,
            "revoked": self.revoked,
            "blocked": call.blocked or self.blocked,
            "ended": self.ended,
            "deleted": self.deleted,
        }[actor]


@dataclass
class Call:
    """One request of a row; ``friend``/``stranger`` replace the world's when the row made its own."""

    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    upload: bool = False
    friend: str | None = None
    stranger: str | None = None
    owner: str | None = None
    blocked: str | None = None
    kwargs: dict[str, Any] = field(default_factory=dict)


Prepare = Callable[[World, str], Call]
Check = Callable[[World, str, testing.Result], None]


@dataclass(frozen=True)
class Row:
    route: str  # the request, as the test id shows it
    template: str  # the route in API_ROUTES it exercises
    expected: tuple[int, int, int, int, int]  # owner, friend, stranger, anonymous, revoked
    prepare: Prepare
    check: Check | None = None
    blocked: int | None = None  # the blocked user's status, when not the stranger's


def no_email_for_others(world: World, actor: str, result: testing.Result) -> None:
    if actor != "owner":
        assert "email" not in result.json["user"], "a short profile never shows the email"
    if actor == "blocked":
        user = result.json["user"]
        assert {"online", "last_seen"}.isdisjoint(user), "a blocked user sees no presence"
        assert user["avatar"].endswith("v=default"), "nor the avatar"


def own_sessions_only(world: World, actor: str, result: testing.Result) -> None:
    sessions = result.json["sessions"]
    assert [s["current"] for s in sessions].count(True) == 1, sessions


def owners_other_session(world: World, actor: str) -> Call:
    login = {"email": "owner1@example.com", "password": NEW_PASSWORD}
    token = world.ok("POST", "/api/v1/login", None, json=login)["access_token"]
    other = next(s["id"] for s in world.ok("GET", "/api/v1/sessions", token)["sessions"] if s["current"])
    return Call("DELETE", f"/api/v1/sessions/{other}")


def fresh_user(method: str) -> Prepare:
    def prepare(world: World, actor: str) -> Call:
        user_id, _ = world.user("Target")
        return Call(method, f"/api/v1/blocks/{user_id}")

    return prepare


def with_export(world: World, actor: str) -> Call:
    token = world.token(actor, Call("GET", ""))
    if token is not None:
        world.request("POST", "/api/v1/users/me/export", token)  # 202, or 429 if there is one
    return Call("GET", "/api/v1/users/me/export")


def delete_fresh_account(world: World, actor: str) -> Call:
    # A fresh account plays the owner, so the world's owner stays.
    user_id, token = world.user("Leaving")
    return Call("DELETE", f"/api/v1/users/{user_id}", json={"password": PASSWORD}, owner=token)


def own_friends_only(world: World, actor: str, result: testing.Result) -> None:
    ids = {f["user_id"] for f in result.json["friends"]}
    assert (world.friend_id in ids) == (actor == "owner"), ids


def chat_hidden_from_stranger(world: World, actor: str, result: testing.Result) -> None:
    ids = {c["id"] for c in result.json["chats"]}
    assert (world.chat_id in ids) == (actor not in ("stranger", "blocked")), ids


def no_messages_for_stranger(world: World, actor: str, result: testing.Result) -> None:
    chats = {m["chat_id"] for m in result.json["messages"]}
    assert (world.chat_id in chats) == (actor not in ("stranger", "blocked")), chats


def stranger_finds_nothing_of_the_chat(world: World, actor: str, result: testing.Result) -> None:
    chats = {m["chat_id"] for m in result.json["messages"]}
    assert (world.chat_id in chats) == (actor not in ("stranger", "blocked")), chats


def stranger_sees_no_chat_events(world: World, actor: str, result: testing.Result) -> None:
    chats = {e["data"].get("message", {}).get("chat_id") for e in result.json["events"]}
    assert (world.chat_id in chats) == (actor not in ("stranger", "blocked")), chats


def fresh_friend_chat(
    path: str, params: Callable[[int, str], dict[str, Any]] | None = None, method: str = "DELETE"
) -> Prepare:
    """A chat between the owner and a fresh friend, who plays the friend."""

    def prepare(world: World, actor: str) -> Call:
        friend_id, friend, chat_id = world.new_friend()
        world.send(world.owner, chat_id, "something to clear")
        return Call(
            method,
            path.format(chat_id=chat_id),
            params=params(chat_id, friend_id) if params else None,
            friend=friend,
        )

    return prepare


def fresh_friend_removal(method_form: str) -> Prepare:
    """The owner's fresh friend X; the world's friend and stranger have nothing with X."""

    def prepare(world: World, actor: str) -> Call:
        friend_id, _, _ = world.new_friend()
        if method_form == "item":
            return Call("DELETE", f"/api/v1/users_friends/{friend_id}")
        if method_form == "body":
            return Call("DELETE", "/api/v1/users_friends", json={"friend_id": friend_id})
        return Call("DELETE", "/api/v1/users_friends", params={"friend_id": friend_id})

    return prepare


def answer_request(action: str) -> Prepare:
    def prepare(world: World, actor: str) -> Call:
        return Call("POST", "/api/v1/users_friends", json={"friend_id": world.requester(), "action": action})

    return prepare


def ask_owner(world: World, actor: str) -> Call:
    # A fresh stranger each time: a request, once sent, would make the next one a conflict.
    stranger = world.user("Stranger")[1] if actor == "stranger" else None
    return Call(
        "POST",
        "/api/v1/users_friends",
        json={"friend_id": world.owner_id, "action": "add"},
        stranger=stranger,
    )


def fresh_message(method: str, params: dict[str, Any] | None = None) -> Prepare:
    def prepare(world: World, actor: str) -> Call:
        message_id = world.send(world.owner, world.chat_id, f"to be changed by the {actor}")
        return Call(
            method,
            f"/api/v1/messages/{message_id}",
            json={"text": "changed"} if method != "DELETE" else None,
            params=params,
        )

    return prepare


def with_own_upload(world: World, actor: str) -> Call:
    # The acting user names an unsent upload of the owner's: only the owner may send it.
    upload_id = world.upload(world.owner)
    return Call(
        "POST",
        f"/api/v1/chats/{world.chat_id}/messages",
        json={"text": "with a file", "attachment_ids": [upload_id]},
    )


def unsent_upload(world: World, actor: str) -> Call:
    return Call("GET", f"/api/v1/attachments/{world.upload(world.owner)}")


def fixed(method: str, path: str, **kwargs: Any) -> Prepare:
    """The same request for every actor; ``{owner}``, ``{friend}``, ``{chat}``, ``{message}``,
    ``{photo}`` are filled from the world."""

    def prepare(world: World, actor: str) -> Call:
        names = {
            "owner": world.owner_id,
            "friend": world.friend_id,
            "chat": world.chat_id,
            "message": world.message_id,
            "photo": world.photo_id,
            "blocked_chat": world.blocked_chat,
        }

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                return value.format(**names)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        return Call(method, fill(path), **{k: fill(v) for k, v in kwargs.items()})

    return prepare


EVERYONE = (200, 200, 200, 401, 401)
MEMBERS = (200, 200, 404, 401, 401)
OWNER_ONLY = (200, 403, 403, 401, 401)
AUTHOR_ONLY = (200, 403, 404, 401, 401)

ROWS: tuple[Row, ...] = (
    # profiles
    Row("GET /api/v1/users/me", "/api/v1/users/{user_id}", EVERYONE, fixed("GET", "/api/v1/users/me")),
    Row(
        "GET /api/v1/users/{owner}",
        "/api/v1/users/{user_id}",
        EVERYONE,
        fixed("GET", "/api/v1/users/{owner}"),
        no_email_for_others,
    ),
    Row(
        "PUT /api/v1/users/{owner}",
        "/api/v1/users/{user_id}",
        OWNER_ONLY,
        fixed("PUT", "/api/v1/users/{owner}", json={"city": "Tver"}),
    ),
    Row(
        "PATCH /api/v1/users/{owner}",
        "/api/v1/users/{user_id}",
        OWNER_ONLY,
        fixed("PATCH", "/api/v1/users/{owner}", json={"age": 30}),
    ),
    Row(
        "PUT /api/v1/users/{owner}/avatar",
        "/api/v1/users/{user_id}/avatar",
        OWNER_ONLY,
        fixed("PUT", "/api/v1/users/{owner}/avatar", upload=True),
    ),
    Row(
        "POST /api/v1/users/{owner}/avatar",
        "/api/v1/users/{user_id}/avatar",
        OWNER_ONLY,
        fixed("POST", "/api/v1/users/{owner}/avatar", upload=True),
    ),
    Row(
        "GET /api/v1/users/{owner}/avatar",
        "/api/v1/users/{user_id}/avatar",
        EVERYONE,
        fixed("GET", "/api/v1/users/{owner}/avatar"),
    ),
    Row("GET /api/v1/users", "/api/v1/users", EVERYONE, fixed("GET", "/api/v1/users")),
    Row(
        "GET /api/v1/users?search_request=Owner",
        "/api/v1/users",
        EVERYONE,
        fixed("GET", "/api/v1/users", params={"search_request": "Owner"}),
    ),
    # friends
    Row(
        "GET /api/v1/users_friends",
        "/api/v1/users_friends",
        EVERYONE,
        fixed("GET", "/api/v1/users_friends"),
        own_friends_only,
    ),
    Row(
        "GET /api/v1/users_friends?type=incoming",
        "/api/v1/users_friends",
        EVERYONE,
        fixed("GET", "/api/v1/users_friends", params={"type": "incoming"}),
    ),
    Row(
        "POST /api/v1/users_friends add {owner}",
        "/api/v1/users_friends",
        (422, 409, 200, 401, 401),
        ask_owner,
        blocked=403,
    ),
    Row(
        "POST /api/v1/users_friends accept {asker}",
        "/api/v1/users_friends",
        (200, 404, 404, 401, 401),
        answer_request("accept"),
    ),
    Row(
        "POST /api/v1/users_friends deny {asker}",
        "/api/v1/users_friends",
        (200, 404, 404, 401, 401),
        answer_request("deny"),
    ),
    Row(
        "DELETE /api/v1/users_friends/{owner's friend}",
        "/api/v1/users_friends/{user_id}",
        (200, 404, 404, 401, 401),
        fresh_friend_removal("item"),
    ),
    Row(
        "DELETE /api/v1/users_friends {friend_id}",
        "/api/v1/users_friends",
        (200, 404, 404, 401, 401),
        fresh_friend_removal("body"),
    ),
    Row(
        "DELETE /api/v1/users_friends?friend_id=",
        "/api/v1/users_friends",
        (200, 404, 404, 401, 401),
        fresh_friend_removal("query"),
    ),
    # chats
    Row(
        "GET /api/v1/chats",
        "/api/v1/chats",
        EVERYONE,
        fixed("GET", "/api/v1/chats"),
        chat_hidden_from_stranger,
    ),
    Row(
        "GET /api/v1/chats/{chat}",
        "/api/v1/chats/{chat_id:int}",
        MEMBERS,
        fixed("GET", "/api/v1/chats/{chat}"),
    ),
    Row(
        "GET /api/v1/chats?chat_id=",
        "/api/v1/chats",
        MEMBERS,
        fixed("GET", "/api/v1/chats", params={"chat_id": "{chat}"}),
    ),
    Row(
        "GET /api/v1/chats?chat_with={friend}",
        "/api/v1/chats",
        (200, 422, 404, 401, 401),
        fixed("GET", "/api/v1/chats", params={"chat_with": "{friend}"}),
    ),
    Row(
        "POST /api/v1/chats {user_id: friend}",
        "/api/v1/chats",
        (200, 422, 403, 401, 401),
        fixed("POST", "/api/v1/chats", json={"user_id": "{friend}"}),
    ),
    Row(
        "DELETE /api/v1/chats/{chat}",
        "/api/v1/chats/{chat_id:int}",
        MEMBERS,
        fresh_friend_chat("/api/v1/chats/{chat_id}"),
    ),
    Row(
        "DELETE /api/v1/chats?chat_id=",
        "/api/v1/chats",
        MEMBERS,
        fresh_friend_chat("/api/v1/chats", lambda chat_id, _: {"chat_id": chat_id}),
    ),
    Row(
        "DELETE /api/v1/chats?chat_with={friend}",
        "/api/v1/chats",
        (200, 422, 404, 401, 401),
        fresh_friend_chat("/api/v1/chats", lambda _, friend_id: {"chat_with": friend_id}),
    ),
    # messages
    Row(
        "GET /api/v1/chats/{chat}/messages",
        "/api/v1/chats/{chat_id:int}/messages",
        MEMBERS,
        fixed("GET", "/api/v1/chats/{chat}/messages"),
    ),
    Row(
        "GET /api/v1/messages?chat_id=",
        "/api/v1/messages",
        MEMBERS,
        fixed("GET", "/api/v1/messages", params={"chat_id": "{chat}"}),
    ),
    Row(
        "GET /api/v1/messages?receiver_id={friend}",
        "/api/v1/messages",
        (200, 422, 200, 401, 401),
        fixed("GET", "/api/v1/messages", params={"receiver_id": "{friend}"}),
        no_messages_for_stranger,
    ),
    Row(
        "GET /api/v1/messages",
        "/api/v1/messages",
        EVERYONE,
        fixed("GET", "/api/v1/messages"),
        no_messages_for_stranger,
    ),
    Row(
        "POST /api/v1/chats/{chat}/messages",
        "/api/v1/chats/{chat_id:int}/messages",
        (201, 201, 404, 401, 401),
        fixed("POST", "/api/v1/chats/{chat}/messages", json={"text": "hello"}),
    ),
    Row(
        "POST /api/v1/messages {chat_id}",
        "/api/v1/messages",
        (201, 201, 404, 401, 401),
        fixed("POST", "/api/v1/messages", json={"chat_id": "{chat}", "text": "hello"}),
    ),
    Row(
        "POST /api/v1/messages {receiver_id: friend}",
        "/api/v1/messages",
        (201, 422, 403, 401, 401),
        fixed("POST", "/api/v1/messages", json={"receiver_id": "{friend}", "text": "hello"}),
    ),
    Row(
        "POST /api/v1/chats/{chat}/messages {owner's upload}",
        "/api/v1/chats/{chat_id:int}/messages",
        (201, 422, 404, 401, 401),
        with_own_upload,
    ),
    Row(
        "PUT /api/v1/messages/{owner's message}",
        "/api/v1/messages/{message_id:int}",
        AUTHOR_ONLY,
        fresh_message("PUT"),
    ),
    Row(
        "PATCH /api/v1/messages/{owner's message}",
        "/api/v1/messages/{message_id:int}",
        AUTHOR_ONLY,
        fresh_message("PATCH"),
    ),
    Row(
        "DELETE /api/v1/messages/{owner's message}",
        "/api/v1/messages/{message_id:int}",
        AUTHOR_ONLY,
        fresh_message("DELETE"),
    ),
    Row(
        "DELETE /api/v1/messages/{owner's message}?for=me",
        "/api/v1/messages/{message_id:int}",
        MEMBERS,
        fresh_message("DELETE", {"for": "me"}),
    ),
    # the conversation
    Row(
        "POST /api/v1/messages/{message}/forward {chat}",
        "/api/v1/messages/{message_id:int}/forward",
        (201, 201, 404, 401, 401),
        fixed("POST", "/api/v1/messages/{message}/forward", json={"chat_ids": ["{chat}"]}),
    ),
    Row(
        "PUT /api/v1/messages/{message}/reactions/👍",
        "/api/v1/messages/{message_id:int}/reactions/{emoji}",
        MEMBERS,
        fixed("PUT", "/api/v1/messages/{message}/reactions/%F0%9F%91%8D"),
    ),
    Row(
        "DELETE /api/v1/messages/{message}/reactions/👍",
        "/api/v1/messages/{message_id:int}/reactions/{emoji}",
        MEMBERS,
        fixed("DELETE", "/api/v1/messages/{message}/reactions/%F0%9F%91%8D"),
    ),
    Row(
        "GET /api/v1/messages/{message}/history",
        "/api/v1/messages/{message_id:int}/history",
        MEMBERS,
        fixed("GET", "/api/v1/messages/{message}/history"),
    ),
    Row(
        "GET /api/v1/chats/{chat}/pins",
        "/api/v1/chats/{chat_id:int}/pins",
        MEMBERS,
        fixed("GET", "/api/v1/chats/{chat}/pins"),
    ),
    Row(
        "PUT /api/v1/chats/{chat}/pins/{message}",
        "/api/v1/chats/{chat_id:int}/pins/{message_id:int}",
        MEMBERS,
        fixed("PUT", "/api/v1/chats/{chat}/pins/{message}"),
    ),
    Row(
        "DELETE /api/v1/chats/{chat}/pins/{message}",
        "/api/v1/chats/{chat_id:int}/pins/{message_id:int}",
        MEMBERS,
        fixed("DELETE", "/api/v1/chats/{chat}/pins/{message}"),
    ),
    Row(
        "POST /api/v1/chats/{chat}/clear",
        "/api/v1/chats/{chat_id:int}/clear",
        MEMBERS,
        fresh_friend_chat("/api/v1/chats/{chat_id}/clear", method="POST"),
    ),
    Row(
        "POST /api/v1/chats/{chat}/read",
        "/api/v1/chats/{chat_id:int}/read",
        MEMBERS,
        fixed("POST", "/api/v1/chats/{chat}/read", json={"message_id": "{message}"}),
    ),
    # notifications
    Row(
        "PUT /api/v1/chats/{chat}/mute",
        "/api/v1/chats/{chat_id:int}/mute",
        MEMBERS,
        fixed("PUT", "/api/v1/chats/{chat}/mute", json={"until": "forever"}),
    ),
    Row("GET /api/v1/settings", "/api/v1/settings", EVERYONE, fixed("GET", "/api/v1/settings")),
    Row(
        "PATCH /api/v1/settings",
        "/api/v1/settings",
        EVERYONE,
        fixed("PATCH", "/api/v1/settings", json={"notify_preview": False}),
    ),
    # search
    Row(
        "GET /api/v1/search/messages?q=owner",
        "/api/v1/search/messages",
        EVERYONE,
        fixed("GET", "/api/v1/search/messages", params={"q": "owner"}),
        stranger_finds_nothing_of_the_chat,
    ),
    Row(
        "GET /api/v1/search/messages?chat_id=",
        "/api/v1/search/messages",
        MEMBERS,
        fixed("GET", "/api/v1/search/messages", params={"q": "owner", "chat_id": "{chat}"}),
    ),
    # attachments
    Row(
        "GET /api/v1/attachments/{sent photo}",
        "/api/v1/attachments/{attachment_id:int}",
        MEMBERS,
        fixed("GET", "/api/v1/attachments/{photo}"),
    ),
    Row(
        "GET /api/v1/attachments/{sent photo}/thumbnail",
        "/api/v1/attachments/{attachment_id:int}/thumbnail",
        MEMBERS,
        fixed("GET", "/api/v1/attachments/{photo}/thumbnail"),
    ),
    Row(
        "GET /api/v1/attachments/{owner's unsent upload}",
        "/api/v1/attachments/{attachment_id:int}",
        (200, 404, 404, 401, 401),
        unsent_upload,
    ),
    Row(
        "POST /api/v1/attachments",
        "/api/v1/attachments",
        (201, 201, 201, 401, 401),
        fixed("POST", "/api/v1/attachments", upload=True),
    ),
    # events
    Row(
        "GET /api/v1/events?since=0",
        "/api/v1/events",
        EVERYONE,
        fixed("GET", "/api/v1/events", params={"since": 0}),
        stranger_sees_no_chat_events,
    ),
    Row("GET /api/v1/events", "/api/v1/events", EVERYONE, fixed("GET", "/api/v1/events")),
    # the blocked user's own chat with the owner: readable, not writable
    Row(
        "GET /api/v1/chats/{blocked chat}/messages",
        "/api/v1/chats/{chat_id:int}/messages",
        (200, 404, 404, 401, 401),
        fixed("GET", "/api/v1/chats/{blocked_chat}/messages"),
        blocked=200,
    ),
    Row(
        "POST /api/v1/chats/{blocked chat}/messages",
        "/api/v1/chats/{chat_id:int}/messages",
        (403, 404, 404, 401, 401),
        fixed("POST", "/api/v1/chats/{blocked_chat}/messages", json={"text": "hello"}),
        blocked=403,
    ),
    # privacy and account control
    Row(
        "GET /api/v1/sessions",
        "/api/v1/sessions",
        EVERYONE,
        fixed("GET", "/api/v1/sessions"),
        own_sessions_only,
    ),
    Row(
        "DELETE /api/v1/sessions?others=true",
        "/api/v1/sessions",
        EVERYONE,
        fixed("DELETE", "/api/v1/sessions", params={"others": "true"}),
    ),
    Row(
        "DELETE /api/v1/sessions/{owner's other session}",
        "/api/v1/sessions/{session_id:int}",
        (200, 404, 404, 401, 401),
        owners_other_session,
    ),
    Row("GET /api/v1/blocks", "/api/v1/blocks", EVERYONE, fixed("GET", "/api/v1/blocks")),
    Row("PUT /api/v1/blocks/{someone}", "/api/v1/blocks/{user_id}", EVERYONE, fresh_user("PUT")),
    Row("DELETE /api/v1/blocks/{someone}", "/api/v1/blocks/{user_id}", EVERYONE, fresh_user("DELETE")),
    Row(
        "GET /api/v1/users/me/privacy",
        "/api/v1/users/me/privacy",
        EVERYONE,
        fixed("GET", "/api/v1/users/me/privacy"),
    ),
    Row(
        "PATCH /api/v1/users/me/privacy",
        "/api/v1/users/me/privacy",
        EVERYONE,
        fixed("PATCH", "/api/v1/users/me/privacy", json={"typing": True}),
    ),
    Row(
        "POST /api/v1/chats/{chat}/typing",
        "/api/v1/chats/{chat_id:int}/typing",
        (204, 204, 404, 401, 401),
        fixed("POST", "/api/v1/chats/{chat}/typing"),
    ),
    Row(
        "GET /api/v1/users/by-username/matrix_owner",
        "/api/v1/users/by-username/{username}",
        EVERYONE,
        fixed("GET", "/api/v1/users/by-username/matrix_owner"),
        no_email_for_others,
    ),
    Row(
        "POST /api/v1/users/me/export",
        "/api/v1/users/me/export",
        (202, 202, 202, 401, 401),
        fixed("POST", "/api/v1/users/me/export"),
        blocked=202,
    ),
    Row("GET /api/v1/users/me/export", "/api/v1/users/me/export", EVERYONE, with_export),
    Row(
        "DELETE /api/v1/users/{leaving}",
        "/api/v1/users/{user_id}",
        (200, 403, 403, 401, 401),
        delete_fresh_account,
    ),
)


def _expected(row: Row) -> list[tuple[str, int]]:
    """The row's status for each actor: the extra actors' follow from the five."""
    stranger = row.expected[ACTORS.index("stranger")]
    extra = {"blocked": stranger if row.blocked is None else row.blocked, "ended": 401, "deleted": 401}
    return [*zip(ACTORS, row.expected, strict=True), *extra.items()]


CASES = [
    pytest.param(row, actor, status, id=f"{row.route} [{actor}] -> {status}")
    for row in ROWS
    for actor, status in _expected(row)
]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return World(tmp_path_factory.mktemp("matrix"))


@pytest.mark.parametrize(("row", "actor", "expected"), CASES)
def test_authorization(world: World, row: Row, actor: str, expected: int) -> None:
    call = row.prepare(world, actor)
    kwargs: dict[str, Any] = dict(call.kwargs)
    if call.json is not None:
        kwargs["json"] = call.json
    if call.params is not None:
        kwargs["params"] = call.params
    if call.upload:
        kwargs["body"], content_type = multipart(png())
        kwargs["headers"] = {"Content-Type": content_type}
    result = world.request(call.method, call.path, world.token(actor, call), **kwargs)

    assert result.status_code == expected, result.text[:300]
    if actor == "anonymous":
        assert result.json["error"]["code"] == "token_missing"
    if actor in ("revoked", "ended", "deleted"):
        assert result.json["error"]["code"] == "token_revoked"
    if row.check is not None and result.status_code < 300 and result.content:
        row.check(world, actor, result)


def test_every_data_route_is_in_the_matrix() -> None:
    """A new route that touches user data must get its row (or be listed as public here)."""
    public = {
        "/api/v1/login",
        "/api/v1/refresh",
        "/api/v1/logout",
        "/api/v1/tokens",
        "/api/v1/stickers",
        "/api/v1/stickers/{sticker_id:int}/image",
    }
    routes = {path for path, _, _ in API_ROUTES}
    covered = {row.template for row in ROWS} | GROUP_ROUTES
    assert covered <= routes, f"rows name routes that do not exist: {covered - routes}"
    assert not routes - public - covered, f"routes without rows: {sorted(routes - public - covered)}"
