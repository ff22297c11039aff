"""The OpenAPI document and the Markdown API docs stay true to the app.

Adding a route without documenting it fails here, and so does an answer whose status or
shape the document does not describe: a story over every resource is checked against it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import falcon
import falcon.inspect
import falcon.testing
import jsonschema_rs
import pytest
import schemathesis
from PIL import Image
from schemathesis.core.result import Ok

from entrypoints.bootstrap import build_messenger
from entrypoints.config import Settings
from entrypoints.web.app import create_app
from entrypoints.web.openapi import documented_event_types, openapi_document
from messenger_core.model import EventType

ROOT = Path(__file__).resolve().parents[2]
API_DOCS = ROOT / "docs" / "api_docs.md"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PASSWORD = "correct horse battery"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        SECRET_KEY="x" * 40, DATABASE_PATH=str(tmp_path / "db.sqlite3"), UPLOAD_FOLDER=str(tmp_path / "up")
    )


@pytest.fixture
def app(settings: Settings) -> falcon.App:
    return create_app(build_messenger(settings, memory=True), settings)


@pytest.fixture
def document(settings: Settings) -> dict[str, Any]:
    return openapi_document(settings)


def openapi_path(falcon_path: str) -> str:
    """``/chats/{chat_id:int}`` → ``/chats/{chat_id}``."""
    return re.sub(r"\{(\w+):[^}]*\}", r"{\1}", falcon_path)


def app_operations(app: falcon.App) -> set[tuple[str, str]]:
    """(path, method) of every responder the app has under /api/, Falcon's defaults left out."""
    found = set()
    for route in falcon.inspect.inspect_app(app).routes:
        if not route.path.startswith("/api/"):
            continue
        for method in route.methods:
            if not method.internal:
                found.add((openapi_path(route.path), method.method.lower()))
    return found


def documented_operations(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method) for path, item in document["paths"].items() for method in item if method in METHODS
    }


# --- the document against the routes -----------------------------------------------------


def test_every_api_route_and_method_is_documented_and_nothing_else(
    app: falcon.App, document: dict[str, Any]
) -> None:
    routes = app_operations(app)
    assert routes, "no /api/ routes found: has inspect_app changed?"
    documented = documented_operations(document)
    assert routes - documented == set(), "routes missing from the OpenAPI document"
    assert documented - routes == set(), "the OpenAPI document describes routes the app does not have"


def test_the_document_is_valid_openapi_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # against the OpenAPI 3.1 meta-schema
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result.err()  # every operation resolves (references, parameters)
    for component in document["components"]["schemas"].values():
        jsonschema_rs.meta.validate(component)  # each is a valid JSON Schema 2020-12


def _patterns(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns(value)


def test_every_pattern_compiles_for_python_and_for_jsonschema_rs(document: dict[str, Any]) -> None:
    patterns = set(_patterns(document))
    assert patterns
    for pattern in patterns:
        re.compile(pattern)  # hypothesis generates from Python's re
        jsonschema_rs.validator_for({"type": "string", "pattern": pattern})  # schemathesis validates with it


def test_operation_ids_are_unique_and_path_parameters_declared(document: dict[str, Any]) -> None:
    ids = [op["operationId"] for item in document["paths"].values() for m, op in item.items() if m in METHODS]
    assert len(ids) == len(set(ids))
    for path, item in document["paths"].items():
        names = set(re.findall(r"\{(\w+)\}", path))
        for method, operation in item.items():
            if method not in METHODS:
                continue
            declared = {
                p["name"]
                for p in [*item.get("parameters", []), *operation.get("parameters", [])]
                if p["in"] == "path"
            }
            assert declared == names, (path, method)


def test_every_event_type_has_a_documented_payload() -> None:
    assert documented_event_types() == set(EventType)


def test_the_document_is_served(app: falcon.App, document: dict[str, Any]) -> None:
    client = falcon.testing.TestClient(app)
    for path in ("/api/v1/openapi.json", "/api/v1/openapi.json/"):
        result = client.simulate_get(path)
        assert result.status_code == 200
        assert result.headers["Content-Type"].startswith("application/json")
        assert result.json == json.loads(json.dumps(document))


def test_the_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(SECRET_KEY="x" * 40, LONG_POLL_MAX_TIMEOUT=12.0, JWT_ACCESS_TOKEN_MAX_EXPIRES=600)
    document = openapi_document(settings)
    timeout = next(
        p for p in document["paths"]["/api/v1/events"]["get"]["parameters"] if p["name"] == "timeout"
    )
    assert timeout["schema"]["maximum"] == 12.0
    expires_in = document["components"]["schemas"]["Login"]["properties"]["expires_in"]
    assert expires_in["maximum"] == 600


def test_every_route_is_in_the_markdown_docs(app: falcon.App) -> None:
    text = API_DOCS.read_text(encoding="utf-8")
    for path, method in sorted(app_operations(app)):
        assert path in text, f"{path} is missing from docs/api_docs.md"
        assert re.search(rf"{method.upper()}[^\n]*{re.escape(path)}", text), (
            f"{method.upper()} {path} undocumented"
        )


# --- answers against the document --------------------------------------------------------


class Checked:
    """A test client that checks every answer against the document: its status is listed
    for the operation, and a JSON body validates against that status's schema."""

    def __init__(self, app: falcon.App, document: dict[str, Any]) -> None:
        self.client = falcon.testing.TestClient(app)
        self.document = document
        self.seen: set[tuple[str, str, int]] = set()

    def __call__(
        self,
        method: str,
        template: str,
        token: str | None = None,
        *,
        path_params: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> falcon.testing.Result:
        headers = dict(kwargs.pop("headers", None) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        path = template.format(**(path_params or {}))
        result = self.client.simulate_request(method, path, headers=headers, **kwargs)
        self.check(method.lower(), template, result)
        return result

    def check(self, method: str, template: str, result: falcon.testing.Result) -> None:
        operation = self.document["paths"][template][method]
        status = str(result.status_code)
        assert status in operation["responses"], (
            f"{method.upper()} {template} answered {status}: {result.text}"
        )
        response = self._resolve(operation["responses"][status])
        self.seen.add((template, method, result.status_code))
        content = response.get("content")
        if not content:
            assert not result.content, f"{method.upper()} {template} {status} should have no body"
            return
        content_type = result.headers.get("Content-Type", "").split(";")[0]
        assert any(_media_matches(content_type, key) for key in content), (template, status, content_type)
        if content_type == "application/json":
            schema = content["application/json"]["schema"]
            root = {"components": self.document["components"]} | schema
            errors = [e.message for e in jsonschema_rs.validator_for(root).iter_errors(result.json)]
            assert not errors, (
                f"{method.upper()} {template} {status}: {errors}\n{json.dumps(result.json)[:2000]}"
            )

    def _resolve(self, item: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in item:
            node: Any = self.document
            for part in item["$ref"].removeprefix("#/").split("/"):
                node = node[part]
            item = node
        return item


def _media_matches(actual: str, documented: str) -> bool:
    if documented in ("*/*", actual):
        return True
    return documented.endswith("/*") and actual.startswith(documented[:-1])


def multipart(data: bytes, filename: str) -> tuple[bytes, dict[str, str]]:
    boundary = "----openapi-test"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    return head + data + f"\r\n--{boundary}--\r\n".encode(), {
        "Content-Type": f"multipart/form-data; boundary={boundary}"
    }


def png(size: tuple[int, int] = (60, 40)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buffer, "PNG")
    return buffer.getvalue()


def test_a_story_over_every_resource_matches_the_document(app: falcon.App, document: dict[str, Any]) -> None:
    call = Checked(app, document)

    def register(first: str, email: str) -> tuple[str, str, str]:
        body = {"first_name": first, "second_name": "Тестова", "email": email, "password": PASSWORD}
        user_id = call("POST", "/api/v1/users", json=body).json["user"]["user_id"]
        tokens = call("POST", "/api/v1/login", json={"email": email, "password": PASSWORD}).json
        return user_id, tokens["access_token"], tokens["refresh_token"]

    anna_id, anna, anna_refresh = register("Анна", "anna@example.com")
    boris_id, boris, _ = register("Борис", "boris@example.com")
    vera_id, vera, _ = register("Вера", "vera@example.com")
    cursor = call("GET", "/api/v1/events", boris).json["cursor"]

    # accounts and tokens
    assert (
        call(
            "POST",
            "/api/v1/users",
            json={
                "first_name": "Анна",
                "second_name": "Т",
                "email": "anna@example.com",
                "password": PASSWORD,
            },
        ).status_code
        == 409
    )
    assert call("POST", "/api/v1/users", json={"first_name": "", "second_name": 5}).status_code == 400
    assert call("POST", "/api/v1/users", json={"first_name": " "}).status_code == 422
    assert (
        call("POST", "/api/v1/users", body="{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert (
        call("POST", "/api/v1/users", body="a=b", headers={"Content-Type": "text/plain"}).status_code == 415
    )
    assert (
        call("POST", "/api/v1/login", json={"email": "anna@example.com", "password": "nope"}).status_code
        == 401
    )
    assert (
        call("POST", "/api/v1/login", json={"email": "a", "password": "b", "expires_in": 0}).status_code
        == 422
    )
    assert call("POST", "/api/v1/refresh", json={"refresh_token": anna_refresh}).status_code == 200
    assert (
        call("POST", "/api/v1/refresh", params={"jwt": anna_refresh, "expires_in": "60"}).status_code == 200
    )
    assert call("POST", "/api/v1/refresh", json={"refresh_token": anna}).status_code == 401
    assert call("POST", "/api/v1/logout").status_code == 200
    token = call("GET", "/api/v1/tokens", params={"email": "vera@example.com", "password": PASSWORD}).json[
        "token"
    ]
    assert (
        call("GET", "/api/v1/tokens", params={"email": "vera@example.com", "password": "x"}).status_code
        == 401
    )
    assert call("POST", "/api/v1/tokens", json={"token": token}).json["user"]["is_confirmed"] is True
    assert call("POST", "/api/v1/tokens", json={"token": "nonsense"}).status_code == 401

    # users
    assert "user" in call("GET", "/api/v1/users", anna).json
    assert (
        call("GET", "/api/v1/users", anna, params={"search_request": "бор"}).json["users"][0]["user_id"]
        == boris_id
    )
    assert (
        call("GET", "/api/v1/users", anna, params={"search_request": "а", "limit": "50"}).status_code == 422
    )
    assert call("GET", "/api/v1/users").status_code == 401
    for user in ("me", anna_id, boris_id):
        call("GET", "/api/v1/users/{user_id}", anna, path_params={"user_id": user})
    assert call("GET", "/api/v1/users/{user_id}", anna, path_params={"user_id": "nobody"}).status_code == 404
    edit = {"city": "Тверь", "age": 30, "phone_number": "+7 916 123-45-67", "additional_inf": ""}
    call("PATCH", "/api/v1/users/{user_id}", anna, path_params={"user_id": "me"}, json=edit)
    assert (
        call(
            "PUT", "/api/v1/users/{user_id}", anna, path_params={"user_id": boris_id}, json={"city": "x"}
        ).status_code
        == 403
    )
    assert (
        call(
            "PUT", "/api/v1/users/{user_id}", anna, path_params={"user_id": "me"}, json={"age": 0}
        ).status_code
        == 422
    )
    avatar_body, avatar_headers = multipart(png(), "me.png")
    call(
        "PUT",
        "/api/v1/users/{user_id}/avatar",
        anna,
        path_params={"user_id": "me"},
        body=avatar_body,
        headers=avatar_headers,
    )
    assert (
        call(
            "POST", "/api/v1/users/{user_id}/avatar", anna, path_params={"user_id": "me"}, json={}
        ).status_code
        == 415
    )
    call("GET", "/api/v1/users/{user_id}/avatar", anna, path_params={"user_id": "me"})
    call("GET", "/api/v1/users/{user_id}/avatar", anna, path_params={"user_id": boris_id})

    # friends
    add = {"friend_id": boris_id, "action": "add"}
    call("POST", "/api/v1/users_friends", anna, json=add)
    assert call("POST", "/api/v1/users_friends", anna, json=add).status_code == 409
    assert (
        call("POST", "/api/v1/users_friends", anna, json={"friend_id": anna_id, "action": "add"}).status_code
        == 422
    )
    call("GET", "/api/v1/users_friends", boris, params={"type": "incoming"})
    call("POST", "/api/v1/users_friends", boris, json={"user_id": anna_id, "action": "accept"})
    call("GET", "/api/v1/users_friends", anna)
    call("PATCH", "/api/v1/users/{user_id}", anna, path_params={"user_id": "me"}, json={"first_name": "Аня"})
    call("POST", "/api/v1/users_friends", vera, json={"friend_id": anna_id, "action": "add"})
    call("POST", "/api/v1/users_friends", anna, json={"friend_id": vera_id, "action": "deny"})
    call("POST", "/api/v1/users_friends", vera, json={"friend_id": anna_id, "action": "add"})
    call("DELETE", "/api/v1/users_friends", vera, json={"friend_id": anna_id})
    assert (
        call("DELETE", "/api/v1/users_friends/{user_id}", vera, path_params={"user_id": anna_id}).status_code
        == 404
    )

    # chats and messages
    assert call("POST", "/api/v1/chats", anna, json={"user_id": vera_id}).status_code == 403
    chat = call("POST", "/api/v1/chats", anna, json={"user_id": boris_id}).json["chat"]["id"]
    assert call("POST", "/api/v1/chats", anna, json={"user_id": boris_id}).status_code == 200
    upload_body, upload_headers = multipart(png((800, 600)), "фото.png")
    photo = call("POST", "/api/v1/attachments", anna, body=upload_body, headers=upload_headers).json[
        "attachment"
    ]
    notes_body, notes_headers = multipart(b"<html>not for browsers</html>", "notes.html")
    notes = call("POST", "/api/v1/attachments", anna, body=notes_body, headers=notes_headers).json[
        "attachment"
    ]
    first = call(
        "POST",
        "/api/v1/messages",
        anna,
        json={"receiver_id": boris_id, "text": "Привет!", "attachment_ids": [photo["id"], notes["id"]]},
    )
    first_id = first.json["message"]["id"]
    packs = call("GET", "/api/v1/stickers", anna).json["packs"]
    sticker = (
        {"sticker_id": packs[0]["stickers"][0]["id"]} if packs and packs[0]["stickers"] else {"text": "🙂"}
    )
    second = call(
        "POST", "/api/v1/chats/{chat_id}/messages", boris, path_params={"chat_id": chat}, json=sticker
    )
    assert call("POST", "/api/v1/messages", anna, json={"chat_id": chat, "text": "  "}).status_code == 422
    assert (
        call("POST", "/api/v1/messages", vera, json={"receiver_id": anna_id, "text": "hi"}).status_code == 403
    )
    assert call("POST", "/api/v1/messages", vera, json={"chat_id": chat, "text": "hi"}).status_code == 404
    call(
        "PATCH",
        "/api/v1/messages/{message_id}",
        anna,
        path_params={"message_id": first_id},
        json={"text": "Привет"},
    )
    assert (
        call(
            "PUT",
            "/api/v1/messages/{message_id}",
            boris,
            path_params={"message_id": first_id},
            json={"text": "x"},
        ).status_code
        == 403
    )
    call(
        "POST",
        "/api/v1/chats/{chat_id}/read",
        anna,
        path_params={"chat_id": chat},
        json={"message_id": second.json["message"]["id"]},
    )
    call("GET", "/api/v1/chats", anna)
    call("GET", "/api/v1/chats", anna, params={"chat_with": boris_id})
    call("GET", "/api/v1/chats/{chat_id}", boris, path_params={"chat_id": chat})
    assert call("GET", "/api/v1/chats/{chat_id}", vera, path_params={"chat_id": chat}).status_code == 404
    call("GET", "/api/v1/messages", anna)
    call("GET", "/api/v1/messages", anna, params={"receiver_id": boris_id, "limit": "1"})
    call("GET", "/api/v1/messages", anna, params={"chat_id": str(chat), "after": str(first_id)})
    page = call(
        "GET", "/api/v1/chats/{chat_id}/messages", boris, path_params={"chat_id": chat}, params={"date": "0"}
    )
    unchanged = {"If-None-Match": page.headers["ETag"]}
    call("GET", "/api/v1/chats/{chat_id}/messages", boris, path_params={"chat_id": chat}, headers=unchanged)
    call("GET", "/api/v1/messages", boris, params={"chat_id": str(chat)}, headers=unchanged)
    assert (
        call(
            "GET", "/api/v1/messages", anna, params={"chat_id": str(chat), "before": "1", "after": "1"}
        ).status_code
        == 422
    )

    # files
    for template, key in (
        ("/api/v1/attachments/{attachment_id}", "attachment_id"),
        ("/api/v1/attachments/{attachment_id}/thumbnail", "attachment_id"),
    ):
        call("GET", template, boris, path_params={key: photo["id"]})
        call("GET", template, boris, path_params={key: photo["id"]}, headers={"Range": "bytes=0-9"})
        call("GET", template, boris, path_params={key: photo["id"]}, headers={"Range": "bytes=999999-"})
        assert call("GET", template, vera, path_params={key: photo["id"]}).status_code == 404
    served = call(
        "GET", "/api/v1/attachments/{attachment_id}", boris, path_params={"attachment_id": notes["id"]}
    )
    assert served.headers["Content-Disposition"].startswith("attachment")
    assert (
        call(
            "GET",
            "/api/v1/attachments/{attachment_id}/thumbnail",
            boris,
            path_params={"attachment_id": notes["id"]},
        ).status_code
        == 404
    )
    if packs and packs[0]["stickers"]:
        call(
            "GET",
            "/api/v1/stickers/{sticker_id}/image",
            anna,
            path_params={"sticker_id": sticker["sticker_id"]},
        )
    assert (
        call(
            "GET", "/api/v1/stickers/{sticker_id}/image", anna, path_params={"sticker_id": 987654}
        ).status_code
        == 404
    )
    assert call("POST", "/api/v1/attachments", anna, json={}).status_code == 415

    # groups
    call("POST", "/api/v1/users_friends", vera, json={"friend_id": anna_id, "action": "add"})
    call("POST", "/api/v1/users_friends", anna, json={"friend_id": vera_id, "action": "accept"})
    group = call("POST", "/api/v1/chats", anna, json={"title": "Книжный клуб", "member_ids": [boris_id]})
    assert group.status_code == 201
    group_id = group.json["chat"]["id"]
    at_group = {"chat_id": group_id}
    assert (
        call("POST", "/api/v1/chats", anna, json={"title": " ", "member_ids": [boris_id]}).status_code == 422
    )
    assert (
        call("POST", "/api/v1/chats", boris, json={"title": "X", "member_ids": [vera_id]}).status_code == 403
    )
    call("PATCH", "/api/v1/chats/{chat_id}", anna, path_params=at_group, json={"title": "Клуб"})
    assert (
        call(
            "PATCH", "/api/v1/chats/{chat_id}", boris, path_params=at_group, json={"title": "Мой"}
        ).status_code
        == 403
    )
    photo_body, photo_headers = multipart(png(), "group.png")
    call(
        "PUT",
        "/api/v1/chats/{chat_id}/photo",
        anna,
        path_params=at_group,
        body=photo_body,
        headers=photo_headers,
    )
    call(
        "POST",
        "/api/v1/chats/{chat_id}/photo",
        anna,
        path_params=at_group,
        body=photo_body,
        headers=photo_headers,
    )
    call("GET", "/api/v1/chats/{chat_id}/photo", boris, path_params=at_group)
    call("DELETE", "/api/v1/chats/{chat_id}/photo", anna, path_params=at_group)
    assert call("GET", "/api/v1/chats/{chat_id}/photo", vera, path_params=at_group).status_code == 404
    call("POST", "/api/v1/chats/{chat_id}/members", anna, path_params=at_group, json={"user_ids": [vera_id]})
    again = call(
        "POST", "/api/v1/chats/{chat_id}/members", anna, path_params=at_group, json={"user_ids": [vera_id]}
    )
    assert again.status_code == 409
    vera_member = {"chat_id": group_id, "user_id": vera_id}
    call(
        "PATCH",
        "/api/v1/chats/{chat_id}/members/{user_id}",
        anna,
        path_params=vera_member,
        json={"role": "admin"},
    )
    mention = {"text": "Борис, привет", "mentions": [boris_id]}
    said = call("POST", "/api/v1/chats/{chat_id}/messages", vera, path_params=at_group, json=mention).json
    assert said["message"]["mentions"] == [boris_id]
    outsider = {"text": "x", "mentions": [anna_id + "x"]}
    assert (
        call(
            "POST", "/api/v1/chats/{chat_id}/messages", vera, path_params=at_group, json=outsider
        ).status_code
        == 422
    )
    call(
        "GET",
        "/api/v1/messages/{message_id}/readers",
        anna,
        path_params={"message_id": said["message"]["id"]},
    )
    group_events = call("GET", "/api/v1/events", boris, params={"since": str(cursor)}).json["events"]
    assert {"chat.created", "chat.updated", "chat.member_added", "chat.role_changed"} <= {
        e["type"] for e in group_events
    }
    call("DELETE", "/api/v1/chats/{chat_id}/members/{user_id}", anna, path_params=vera_member)
    boris_leaves = {"chat_id": group_id, "user_id": "me"}
    call("DELETE", "/api/v1/chats/{chat_id}/members/{user_id}", boris, path_params=boris_leaves)
    assert call("GET", "/api/v1/chats/{chat_id}", boris, path_params=at_group).status_code == 404
    left = call("GET", "/api/v1/events", boris, params={"since": str(cursor)}).json["events"]
    assert "chat.member_removed" in {e["type"] for e in left}

    # the conversation: a reply, a jump to it, reactions, edit history, pins, a forward,
    # deleting for oneself, clearing a chat
    at_first = {"message_id": first_id}
    reply = call(
        "POST",
        "/api/v1/chats/{chat_id}/messages",
        boris,
        path_params={"chat_id": chat},
        json={"text": "Ответ", "reply_to_id": first_id},
    ).json["message"]
    assert reply["reply_to"]["id"] == first_id
    around = {"around": str(first_id), "limit": "3"}
    call("GET", "/api/v1/chats/{chat_id}/messages", anna, path_params={"chat_id": chat}, params=around)
    thumbs_up = {**at_first, "emoji": quote("👍")}
    reacted = call("PUT", "/api/v1/messages/{message_id}/reactions/{emoji}", boris, path_params=thumbs_up)
    assert reacted.json["message"]["reactions"][0]["me"] is True
    not_emoji = {**at_first, "emoji": "ab"}
    assert (
        call(
            "PUT", "/api/v1/messages/{message_id}/reactions/{emoji}", boris, path_params=not_emoji
        ).status_code
        == 422
    )
    call("DELETE", "/api/v1/messages/{message_id}/reactions/{emoji}", boris, path_params=thumbs_up)
    versions = call("GET", "/api/v1/messages/{message_id}/history", boris, path_params=at_first).json
    assert [v["text"] for v in versions["versions"]][-1] == "Привет"
    pin = {"chat_id": chat, "message_id": first_id}
    pinned = call("PUT", "/api/v1/chats/{chat_id}/pins/{message_id}", anna, path_params=pin).json
    assert pinned["chat"]["pinned_message"]["id"] == first_id
    call("GET", "/api/v1/chats/{chat_id}/pins", boris, path_params={"chat_id": chat})
    call("DELETE", "/api/v1/chats/{chat_id}/pins/{message_id}", boris, path_params=pin)
    copies = call(
        "POST",
        "/api/v1/messages/{message_id}/forward",
        anna,
        path_params=at_first,
        json={"chat_ids": [group_id]},
    )
    assert copies.status_code == 201
    assert copies.json["messages"][0]["forwarded_from"]["user_id"] == anna_id
    nowhere = call(
        "POST", "/api/v1/messages/{message_id}/forward", anna, path_params=at_first, json={"chat_ids": []}
    )
    assert nowhere.status_code == 422
    call(
        "DELETE",
        "/api/v1/messages/{message_id}",
        boris,
        path_params={"message_id": reply["id"]},
        params={"for": "me"},
    )
    call("POST", "/api/v1/chats/{chat_id}/clear", anna, path_params=at_group)
    # notifications: a mute for good, its end in the past refused, the settings
    muted = call(
        "PUT", "/api/v1/chats/{chat_id}/mute", boris, path_params={"chat_id": chat}, json={"until": "forever"}
    )
    assert muted.json["chat"]["muted_until"] == 253402300799
    past = call(
        "PUT", "/api/v1/chats/{chat_id}/mute", boris, path_params={"chat_id": chat}, json={"until": 1}
    )
    assert past.status_code == 422
    call("PUT", "/api/v1/chats/{chat_id}/mute", boris, path_params={"chat_id": chat}, json={"until": None})
    assert call("GET", "/api/v1/settings", boris).json["settings"]["notify_preview"] is True
    call("PATCH", "/api/v1/settings", boris, json={"notify_preview": False})
    assert call("PATCH", "/api/v1/settings", boris, json={"notify_preview": 3}).status_code == 400
    found = call("GET", "/api/v1/search/messages", boris, params={"q": "прив", "limit": "1"}).json
    assert found["messages"] and found["messages"][0]["snippet"]["highlights"]
    assert call("GET", "/api/v1/search/messages", boris, params={"q": ""}).status_code == 422
    conversation = call("GET", "/api/v1/events", boris, params={"since": str(cursor)}).json["events"]
    assert {"message.reaction", "chat.pinned", "message.hidden"} <= {e["type"] for e in conversation}
    assert {"chat.muted", "settings.updated"} <= {e["type"] for e in conversation}

    # deletions, events, a password change
    call("DELETE", "/api/v1/messages/{message_id}", anna, path_params={"message_id": first_id})
    assert (
        call(
            "PUT",
            "/api/v1/messages/{message_id}",
            anna,
            path_params={"message_id": first_id},
            json={"text": "again"},
        ).status_code
        == 409
    )
    events = call("GET", "/api/v1/events", boris, params={"since": str(cursor)}).json["events"]
    assert {
        "friend.request",
        "message.new",
        "message.edited",
        "message.deleted",
        "chat.read",
        "user.updated",
    } <= {e["type"] for e in events}
    call("DELETE", "/api/v1/chats", anna, params={"chat_with": boris_id})
    assert call("DELETE", "/api/v1/chats/{chat_id}", anna, path_params={"chat_id": chat}).status_code == 404
    call("DELETE", "/api/v1/users_friends/{user_id}", anna, path_params={"user_id": boris_id})
    events = call("GET", "/api/v1/events", boris, params={"since": str(cursor), "timeout": "0.01"}).json[
        "events"
    ]
    assert {"chat.deleted", "friend.removed"} <= {e["type"] for e in events}
    assert call("GET", "/api/v1/events", boris, params={"since": "999999999"}).status_code == 410
    assert call("GET", "/api/v1/events", boris, params={"timeout": "99"}).status_code == 422
    rotated = call(
        "PUT",
        "/api/v1/users/{user_id}",
        anna,
        path_params={"user_id": "me"},
        json={"password": "another password", "old_password": PASSWORD},
    )
    assert {"access_token", "refresh_token"} <= rotated.json.keys()
    revoked = call("GET", "/api/v1/users/{user_id}", anna, path_params={"user_id": "me"})
    assert revoked.json["error"]["code"] == "token_revoked"

    # privacy and account control
    anna, anna_id = rotated.json["access_token"], rotated.json["user_id"]
    me = {"user_id": "me"}
    other = call("POST", "/api/v1/login", json={"email": "anna@example.com", "password": "another password"})
    sessions = call("GET", "/api/v1/sessions", anna).json["sessions"]
    elsewhere = {"session_id": next(s["id"] for s in sessions if not s["current"])}
    call("DELETE", "/api/v1/sessions/{session_id}", anna, path_params=elsewhere)
    assert call("DELETE", "/api/v1/sessions/{session_id}", anna, path_params=elsewhere).status_code == 404
    assert call("GET", "/api/v1/sessions", other.json["access_token"]).status_code == 401
    assert call("DELETE", "/api/v1/sessions", anna, params={"others": "true"}).json["ended"] == 0
    assert call("DELETE", "/api/v1/sessions", anna).status_code == 422
    call("GET", "/api/v1/users/me/privacy", anna)
    call("PATCH", "/api/v1/users/me/privacy", anna, json={"last_seen": "friends", "forward_link": False})
    assert call("PATCH", "/api/v1/users/me/privacy", anna, json={"last_seen": "aliens"}).status_code == 422
    call("PATCH", "/api/v1/users/{user_id}", anna, path_params=me, json={"username": "Anna_T"})
    taken = call("PATCH", "/api/v1/users/{user_id}", vera, path_params=me, json={"username": "anna_t"})
    assert taken.status_code == 409
    found = call("GET", "/api/v1/users/by-username/{username}", vera, path_params={"username": "ANNA_T"})
    assert found.json["user"]["user_id"] == anna_id
    nobody = call(
        "GET", "/api/v1/users/by-username/{username}", vera, path_params={"username": "nobody_here"}
    )
    assert nobody.status_code == 404
    with_vera = {"chat_id": call("POST", "/api/v1/chats", vera, json={"user_id": anna_id}).json["chat"]["id"]}
    signal_cursor = call("GET", "/api/v1/events", anna).json["signal_cursor"]
    assert call("POST", "/api/v1/chats/{chat_id}/typing", vera, path_params=with_vera).status_code == 204
    assert call("POST", "/api/v1/chats/{chat_id}/typing", boris, path_params=with_vera).status_code == 404
    typing = call("GET", "/api/v1/events", anna, params={"since": "0", "signals_since": str(signal_cursor)})
    assert [s["type"] for s in typing.json["signals"]] == ["chat.typing"]
    call("PUT", "/api/v1/blocks/{user_id}", anna, path_params={"user_id": vera_id})
    assert call("GET", "/api/v1/blocks", anna).json["blocks"][0]["user_id"] == vera_id
    blocked = call(
        "POST", "/api/v1/chats/{chat_id}/messages", vera, path_params=with_vera, json={"text": "hi"}
    )
    assert blocked.json["error"]["code"] == "blocked"
    assert call("PUT", "/api/v1/blocks/{user_id}", anna, path_params={"user_id": "nobody"}).status_code == 404
    call("DELETE", "/api/v1/blocks/{user_id}", anna, path_params={"user_id": vera_id})
    assert call("GET", "/api/v1/users/me/export", boris).status_code == 404
    assert call("POST", "/api/v1/users/me/export", anna).status_code == 202
    assert call("GET", "/api/v1/users/me/export", anna).json["export"]["state"] == "ready"
    archive = call("GET", "/api/v1/users/me/export", anna, params={"download": "true"})
    assert archive.content.startswith(b"PK")
    assert call("POST", "/api/v1/users/me/export", anna).status_code == 429
    wrong = call("DELETE", "/api/v1/users/{user_id}", vera, path_params=me, json={"password": "nope"})
    assert wrong.status_code == 403
    call("DELETE", "/api/v1/users/{user_id}", vera, path_params=me, json={"password": PASSWORD})
    assert call("GET", "/api/v1/users/{user_id}", vera, path_params=me).status_code == 401
    call("POST", "/api/v1/logout", anna)
    assert call("GET", "/api/v1/users/{user_id}", anna, path_params=me).status_code == 401
    call("GET", "/api/v1/openapi.json")

    # Every operation was called at least once.
    called = {(template, method) for template, method, _ in call.seen}
    assert documented_operations(document) - called == set()
