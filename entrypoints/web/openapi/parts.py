"""Small builders the path modules share: operations, bodies, answers, error references."""

from __future__ import annotations

from typing import Any

from ..errors import STATUS_BY_ERROR
from .generate import INT64_RANGE, Components, Schema, obj

JSON = "application/json"
# Every request that reads its token may find none (401) or a malformed one (400).
AUTH_ERRORS = (400, 401)
# A change may also be cookie-authenticated without CSRF proof (403), or carry a body
# that is too large (413) or not JSON (415).
CHANGE_ERRORS = (400, 401, 403, 413, 415)

_RESPONSE_NAMES = {status: category.__name__ for category, status in STATUS_BY_ERROR}


def op(operation_id: str, tag: str, summary: str, *, public: bool = False, **fields: Any) -> Schema:
    """An operation; ``public`` ones need no token."""
    operation: Schema = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if public:
        operation["security"] = []
    return operation | fields


def json_content(value: Schema) -> Schema:
    return {"content": {JSON: {"schema": value}}}


def body(value: Schema, *, required: bool = True, description: str | None = None) -> Schema:
    request: Schema = {"required": required} | json_content(value)
    if description:
        request["description"] = description
    return request


def multipart(value: Schema) -> Schema:
    return {"required": True, "content": {"multipart/form-data": {"schema": value}}}


def ok(value: Schema, description: str = "Done", **extra: Any) -> Schema:
    return {"description": description} | json_content(value) | extra


def errors(*statuses: int) -> dict[str, Schema]:
    """References to the error answers of ``statuses`` (components/responses)."""
    return {str(status): {"$ref": f"#/components/responses/{_RESPONSE_NAMES[status]}"} for status in statuses}


def one(key: str, value: Schema) -> Schema:
    """An answer holding one thing under ``key``: ``{"user": …}``."""
    return obj({key: value}, [key])


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items} | extra


def string(**extra: Any) -> Schema:
    return {"type": "string"} | extra


def path_id(name: str, description: str) -> Schema:
    """A path parameter matched by the ``int`` route converter (app.Id: ASCII digits, no
    sign, up to SQLite's largest INTEGER)."""
    _, high = INT64_RANGE
    return path_param(name, {"type": "integer", "minimum": 0, "maximum": high}, description)


def path_param(name: str, value: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": value}


def success(components: Components) -> Schema:
    return components.add("Success", obj({"success": {"const": "OK"}}, ["success"]))
