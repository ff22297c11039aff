"""The OpenAPI 3.1 document of the JSON API: the one machine-readable description.

Generated from what the server runs, so it cannot drift from it:

- request bodies and query parameters from the attrs classes requests are structured
  into (``schema``), answers from the TypedDicts they are rendered as (``render``), and
  the error answers from the error shape and the status table (``errors``), by
  ``generate``; a limit or pattern is read from the core (``messenger_core.limits``,
  ``policies``) or the settings through the fields' ``Annotated`` metadata;
- each ``paths_*`` module holds only what a path alone can say: its operations, their
  summaries, status lists and rules across fields; ``paths_events`` fails to build while
  an event type has no documented payload.

A test compares the paths and methods with the app's routes, so an undocumented route
fails too.
"""

from __future__ import annotations

from typing import Any

from ...config import Settings
from ..auth import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from . import (
    paths_auth,
    paths_chats,
    paths_conversation,
    paths_events,
    paths_files,
    paths_friends,
    paths_groups,
    paths_notifications,
    paths_privacy,
    paths_search,
    paths_users,
)
from .generate import Components, Schema
from .parts import ok, op
from .paths_events import documented_event_types
from .responses import error_responses

__all__ = ["documented_event_types", "openapi_document"]

AUTHENTICATED: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"accessCookie": []}, {"jwtQuery": []}]
PATH_GROUPS = (
    paths_auth,
    paths_users,
    paths_friends,
    paths_chats,
    paths_conversation,
    paths_search,
    paths_notifications,
    paths_groups,
    paths_files,
    paths_events,
    paths_privacy,
)
METHODS = ("get", "put", "post", "delete", "patch")


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as configured by ``settings``."""
    components = Components(settings)
    paths: dict[str, Schema] = {}
    for group in PATH_GROUPS:
        paths |= group.paths(components)
    paths["/api/v1/openapi.json"] = {
        "get": op(
            "openapi",
            "docs",
            "This document",
            public=True,
            responses={"200": ok({"type": "object"}, "The OpenAPI 3.1 document")},
        )
    }
    responses = error_responses(components)
    return {
        "openapi": "3.1.0",
        "info": INFO,
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [{"name": name} for name in _tags(paths)],
        "security": AUTHENTICATED,
        "paths": paths,
        "components": {
            "schemas": components.schemas,
            "responses": responses,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


def _tags(paths: dict[str, Schema]) -> list[str]:
    """The operations' tags, in the order the paths first use them."""
    found = [tag for item in paths.values() for m in METHODS if m in item for tag in item[m]["tags"]]
    return list(dict.fromkeys(found))


INFO = {
    "title": "Messenger API",
    "version": "1",
    "summary": "A self-hosted messenger: users, friends, chats, messages, stickers, files, events",
    "description": "The human documentation is at /docs/v1/api_docs. Every path also answers with a "
    "trailing slash. Parameters of GET requests may also come in a JSON body. Every error is JSON: "
    '{"error": {"code", "message", "params"?, "fields"?, "details"?}}; `fields` and `details` name '
    "each wrong field, the first with an English message, the second with a code and its "
    "parameters. A method a path does not list answers 405.",
}

SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "An access token: Authorization: Bearer …",
    },
    "accessCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": ACCESS_COOKIE,
        "description": "Set by login. Changes (POST, PUT, PATCH, DELETE) need the X-CSRF-Token header "
        f"equal to the {CSRF_COOKIE} cookie, or a same-origin Origin header.",
    },
    "jwtQuery": {
        "type": "apiKey",
        "in": "query",
        "name": "jwt",
        "description": "The token in the query string",
    },
    "refreshCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": REFRESH_COOKIE,
        "description": "Set by login; read only by /api/v1/refresh",
    },
}
