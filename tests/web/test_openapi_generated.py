"""The OpenAPI document is generated from the classes the edge uses and the core's constants.

A field added to a request class or an answer's TypedDict shows up in the document with
no change to the OpenAPI code; the limits it states are the core's; the request classes
still structure with their ``Annotated`` metadata; the error answers are the error
shape the code builds.
"""

from __future__ import annotations

import re
import tokenize
import typing
from pathlib import Path
from typing import Annotated, Any

import attrs
import jsonschema_rs
import pytest

from entrypoints.config import Settings
from entrypoints.web import render, schema
from entrypoints.web.errors import BadRequest, codes_by_status, error_body
from entrypoints.web.openapi import openapi_document
from entrypoints.web.openapi.generate import QUERY_INT_RANGE
from entrypoints.web.shapes import Doc, doc
from messenger_core import Invalid, Throttled, limits, policies
from messenger_core.errors import field
from messenger_core.model import FriendListKind, ProfileChanges

ROOT = Path(__file__).resolve().parents[2]
OPENAPI_CODE = ROOT / "entrypoints" / "web" / "openapi"
API_DOCS = ROOT / "docs" / "api_docs.md"
SETTINGS = Settings(SECRET_KEY="x" * 40)


def schemas(document: dict[str, Any]) -> dict[str, Any]:
    components: dict[str, Any] = document["components"]["schemas"]
    return components


def parameters(document: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    return {p["name"]: p for p in document["paths"][path][method]["parameters"]}


# --- nothing retyped -----------------------------------------------------------------


def test_the_documented_message_limit_is_the_cores() -> None:
    found = schemas(openapi_document(SETTINGS))
    assert found["MessageEdit"]["properties"]["text"]["maxLength"] == limits.MESSAGE_MAX
    for name in ("MessageSend", "MessageSendToChat"):
        assert found[name]["properties"]["text"]["maxLength"] == limits.MESSAGE_MAX
        assert found[name]["properties"]["attachment_ids"]["maxItems"] == limits.ATTACHMENTS_MAX


def test_the_documented_limits_and_patterns_are_the_cores() -> None:
    document = openapi_document(SETTINGS)
    register = schemas(document)["Register"]["properties"]
    assert register["email"]["pattern"] == policies.EMAIL_PATTERN
    assert register["email"]["maxLength"] == limits.EMAIL_MAX
    assert register["first_name"]["maxLength"] == limits.NAME_MAX
    assert register["password"]["minLength"] == limits.PASSWORD_MIN
    assert (
        parameters(document, "/api/v1/users", "get")["limit"]["schema"]["maximum"] == limits.SEARCH_LIMIT_MAX
    )
    history = parameters(document, "/api/v1/messages", "get")["limit"]["schema"]
    assert (history["maximum"], history["default"]) == (
        limits.HISTORY_LIMIT_MAX,
        limits.HISTORY_LIMIT_DEFAULT,
    )


def _literals(path: Path) -> list[str]:
    """The numbers and strings written in a module's code (comments left out)."""
    with path.open("rb") as source:
        tokens = tokenize.tokenize(source.readline)
        return [t.string for t in tokens if t.type in (tokenize.NUMBER, tokenize.STRING)]


def test_no_limit_number_or_core_pattern_is_written_in_the_openapi_code() -> None:
    literals = [literal for path in OPENAPI_CODE.glob("*.py") for literal in _literals(path)]
    assert literals
    for name, value in limits.public_limits().items():
        if value >= 10:  # small numbers occur for other reasons
            retyped = [literal for literal in literals if re.search(rf"\b{value}\b", literal)]
            assert not retyped, f"{name} ({value}) is retyped in the OpenAPI code: {retyped}"
    assert not [literal for literal in literals if policies.EMAIL_PATTERN in literal]
    assert not [literal for literal in literals if str(QUERY_INT_RANGE[1]) in literal or "2**63" in literal]


# --- a field added to a class shows up -------------------------------------------------


def test_a_field_added_to_a_request_class_appears_in_the_body_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    @attrs.frozen
    class MessageEdit(schema.MessageEdit):
        mood: Annotated[str | None, doc("How the author feels", maxLength=limits.NAME_MAX)] = None

    monkeypatch.setattr(schema, "MessageEdit", MessageEdit)
    edit = schemas(openapi_document(SETTINGS))["MessageEdit"]
    assert edit["properties"]["mood"] == {
        "type": ["string", "null"],
        "maxLength": limits.NAME_MAX,
        "description": "How the author feels",
    }
    assert edit["required"] == ["text"]
    # and the converter reads it, metadata and all
    parsed = schema.parse(MessageEdit, {"text": "hi", "mood": "calm"})
    assert (parsed.text, parsed.mood) == ("hi", "calm")


def test_a_field_added_to_a_query_class_appears_as_a_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    @attrs.frozen
    class EventsQuery(schema.EventsQuery):
        kinds: Annotated[FriendListKind, doc("Which ones")] = FriendListKind.INCOMING

    monkeypatch.setattr(schema, "EventsQuery", EventsQuery)
    found = parameters(openapi_document(SETTINGS), "/api/v1/events", "get")
    assert found["kinds"] == {
        "name": "kinds",
        "in": "query",
        "required": False,
        "description": "Which ones",
        "schema": {"type": "string", "enum": ["friends", "incoming", "outgoing"], "default": "incoming"},
    }


def test_a_key_added_to_an_answer_appears_in_its_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    class ChatOut(render.ChatOut):
        pinned: Annotated[bool, doc("Pinned to the top")]
        muted_until: float | None

    monkeypatch.setattr(render, "ChatOut", ChatOut)
    chat = schemas(openapi_document(SETTINGS))["Chat"]
    assert chat["properties"]["pinned"] == {"type": "boolean", "description": "Pinned to the top"}
    assert chat["properties"]["muted_until"] == {"type": ["number", "null"]}
    assert {"pinned", "muted_until", "members"} <= set(chat["required"])
    assert chat["additionalProperties"] is False


def test_answers_are_closed_exact_and_nested_answers_are_references() -> None:
    found = schemas(openapi_document(SETTINGS))
    message = found["Message"]
    assert message["required"] == list(typing.get_type_hints(render.MessageOut))
    assert message["properties"]["sticker"] == {
        "oneOf": [{"$ref": "#/components/schemas/StickerRef"}, {"type": "null"}]
    }
    assert message["properties"]["attachments"]["items"] == {"$ref": "#/components/schemas/Attachment"}
    assert message["properties"]["text"]["type"] == ["string", "null"]
    assert found["FullUser"]["properties"]["age"] == {"type": ["integer", "null"]}
    assert found["LatestMessage"]["properties"].keys() == message["properties"].keys() | {"chat_with"}


def test_the_profile_edit_is_every_field_of_profile_changes_each_null_or_empty() -> None:
    edit = schemas(openapi_document(SETTINGS))["ProfileEdit"]["properties"]
    names = {f.name for f in attrs.fields(ProfileChanges)} - {"clear"}
    assert set(schema.PROFILE_CHANGES_DOCS) <= names
    assert names <= edit.keys()
    for name in names:
        assert {"type": "null"} in edit[name]["anyOf"] and {"const": ""} in edit[name]["anyOf"], name
    assert edit["age"]["anyOf"][0] == {
        "type": "integer",
        "minimum": limits.AGE_MIN,
        "maximum": limits.AGE_MAX,
    }


def test_token_fields_ride_in_every_json_body() -> None:
    document = openapi_document(SETTINGS)
    for path, item in document["paths"].items():
        for method, operation in item.items():
            content = (
                operation.get("requestBody", {}).get("content", {}) if isinstance(operation, dict) else {}
            )
            if "application/json" in content:
                body = content["application/json"]["schema"]
                for choice in body.get("oneOf", [body]):  # a body of several shapes: each
                    name = choice["$ref"].rsplit("/", 1)[1]
                    assert schemas(document)[name]["properties"].keys() >= schema.TOKEN_FIELDS, (path, method)


# --- the classes still structure with their metadata -----------------------------------


def test_annotated_fields_structure_as_before() -> None:
    assert typing.get_origin(typing.get_type_hints(schema.Search, include_extras=True)["limit"]) is Annotated
    search = schema.parse(schema.Search, {"search_request": "бор", "start": "2", "limit": 5})
    assert (search.text, search.start, search.limit) == ("бор", 2, 5)
    assert schema.parse(schema.FriendList, {"type": "incoming"}).kind is FriendListKind.INCOMING
    query = schema.parse(schema.MessageQuery, {"chat_id": "3", "date": "60", "before": "9"})
    assert (query.chat_id, query.page.before, query.page.since.timestamp()) == (3, 9, 60)  # type: ignore[union-attr]
    assert schema.parse(schema.MessageSend, {"attachment_ids": "1,2"}).attachment_ids == [1, 2]
    assert schema.parse(schema.EventsQuery, {"timeout": "0.5"}).timeout == 0.5


@pytest.mark.parametrize(
    ("cls", "data", "category", "field_name", "code"),
    [
        (schema.Register, {"first_name": 5}, BadRequest, "first_name", "not_string"),
        (schema.ReadMark, {"message_id": 2**64}, BadRequest, "message_id", "integer_too_big"),
        (
            schema.ReadMark,
            {"message_id": "1" * (schema.QUERY_DIGITS + 1)},
            BadRequest,
            "message_id",
            "not_integer",
        ),
        (schema.FriendList, {"type": "enemies"}, Invalid, "type", "one_of"),
        (schema.Search, {"search_request": "a", "nick": "b"}, Invalid, "nick", "unknown_field"),
        (schema.MessageQuery, {"date": "1e400"}, BadRequest, "date", "not_number"),
        (schema.MessageEdit, {}, Invalid, "text", "required"),
    ],
)
def test_annotated_fields_refuse_as_before(
    cls: type, data: dict[str, Any], category: type[Exception], field_name: str, code: str
) -> None:
    with pytest.raises(category) as refused:
        schema.parse(cls, data)
    assert refused.value.fields[field_name].code == code  # type: ignore[attr-defined]


def test_doc_markers_are_hashable_so_cattrs_may_cache_the_types() -> None:
    marker = doc("x", items={"minimum": 1})
    assert isinstance(marker, Doc) and hash(marker) == hash(marker)


# --- errors ----------------------------------------------------------------------------


def test_error_answers_validate_against_the_generated_error_shape() -> None:
    document = openapi_document(SETTINGS)
    for error, status in (
        (Invalid({"text": field("too_long", max=limits.MESSAGE_MAX)}), "Invalid"),
        (Throttled(retry_after=3), "Throttled"),
        (BadRequest(), "BadRequest"),
    ):
        answer = document["components"]["responses"][status]["content"]["application/json"]["schema"]
        validator = jsonschema_rs.validator_for({"components": document["components"]} | answer)
        assert validator.is_valid(error_body(error)), error_body(error)
        assert not validator.is_valid({"error": {**error_body(error)["error"], "surprise": 1}})
    retry_after = document["components"]["responses"]["Throttled"]["headers"]["Retry-After"]
    assert retry_after["required"] is True


def test_every_status_lists_the_codes_of_its_categories() -> None:
    responses = openapi_document(SETTINGS)["components"]["responses"]
    for answer in responses.values():
        enum = answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"]
        assert enum["properties"]["code"]["enum"]
    codes = {code for found in codes_by_status().values() for code in found}
    listed = {
        code
        for answer in responses.values()
        for code in answer["content"]["application/json"]["schema"]["allOf"][1]["properties"]["error"][
            "properties"
        ]["code"]["enum"]
    }
    assert listed == codes
