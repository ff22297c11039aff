"""Answers many operations share: the error answers, file downloads, token cookies.

The error answers come from ``errors``: one per category of its status table, named
after the category, its schema the error shape (``errors.ErrorBody``) with the codes
that status may carry (``codes_by_status``). The same table, as Markdown, is the Errors
section of docs/api_docs.md (a test keeps the two equal).
"""

from __future__ import annotations

from messenger_core.errors import FIELD_CODES, Throttled

from ..errors import EDGE_FIELD_CODES, STATUS_BY_ERROR, ErrorBody, codes_by_status, status_of
from .generate import Components, Schema
from .parts import json_content, string

# When each status is the answer; a category added to errors.STATUS_BY_ERROR without a
# line here fails the build.
ERROR_DESCRIPTIONS: dict[int, str] = {
    400: "Malformed JSON, a body that is not a JSON object, a field of the wrong type (`fields` and "
    "`details` name it), a malformed multipart body or header",
    401: "No usable token (the code names the reason), or wrong credentials",
    403: "Not allowed: not yours, not a friend, the wrong current password, or a cookie-authenticated "
    "change without CSRF proof",
    404: "No such thing, or not visible to you (other people's chats look missing); `params.what` "
    "names the kind",
    405: "The path has no such method",
    409: "The current state forbids it (already friends, email taken, message deleted)",
    410: "The event cursor is unknown or too old: reload the state and start again",
    413: "The body is over the limit: a JSON body over `MAX_JSON_BODY` or a file over "
    "`MAX_CONTENT_LENGTH` (`params.max` bytes); `unsent_uploads_full`: your uploads not yet sent "
    "already hold `UNSENT_UPLOAD_BYTES` (`params.max`)",
    415: "An upload that is not `multipart/form-data`, or a body that is not JSON where JSON is read",
    422: "Validation failed: missing or unknown fields, values out of range, a rule of the domain; "
    "`fields` and `details` say which",
    429: "Too many attempts (sign-in failures, registrations, searches): wait `Retry-After` seconds "
    "(also `params.retry_after`)",
    500: "Something went wrong on the server: a bug, and the server's log has it",
    503: "The server's storage cannot be used now (a full disk, or an upload while the disk "
    "has less than `UPLOAD_MIN_FREE_BYTES` free; a read-only or busy database; an upload folder or "
    "object store that cannot be written or read): nothing was changed; try again later",
}

SET_COOKIE = {
    "Set-Cookie": {
        "description": "HttpOnly, SameSite=Lax token cookies (and the csrf_token cookie)",
        "schema": string(),
    }
}


def error_responses(components: Components) -> dict[str, Schema]:
    """components/responses: an error answer per status of the status table."""
    missing = {status for _, status in STATUS_BY_ERROR} - ERROR_DESCRIPTIONS.keys()
    if missing:
        raise LookupError(f"error statuses without a description: {sorted(missing)}")
    shape = components.answer(ErrorBody)
    codes = codes_by_status()
    responses: dict[str, Schema] = {}
    for category, status in STATUS_BY_ERROR:
        only_its_codes = {"properties": {"error": {"properties": {"code": {"enum": codes[status]}}}}}
        responses[category.__name__] = {"description": ERROR_DESCRIPTIONS[status]} | json_content(
            {"allOf": [shape, only_its_codes]}
        )
        if status == status_of(Throttled):
            responses[category.__name__]["headers"] = {
                "Retry-After": {
                    "description": "Seconds to wait",
                    "required": True,
                    "schema": {"type": "integer"},
                }
            }
    return responses


def file_responses() -> dict[str, Schema]:
    """A file's bytes (200), a byte range of them (206), or a range past the end (416)."""
    headers = {
        "Content-Disposition": {
            "description": "inline for photos, video and audio; attachment otherwise",
            "schema": string(),
        },
        "Accept-Ranges": {"schema": {"const": "bytes"}},
    }
    return {
        "200": {
            "description": "The bytes",
            "headers": headers,
            "content": {
                media: {"schema": string()}
                for media in ("image/*", "video/*", "audio/*", "application/octet-stream")
            },
        },
        "206": {
            "description": "The requested byte range (Range: bytes=…)",
            "headers": headers | {"Content-Range": {"schema": string(), "required": True}},
            "content": {"*/*": {"schema": string()}},
        },
        "416": {
            "description": "The range starts past the end; Content-Range names the size. No body.",
            "headers": {"Content-Range": {"schema": string()}},
        },
    }


def image_responses(content: Schema) -> dict[str, Schema]:
    """An image (of the types in ``content``), or a range of it."""
    ranges = file_responses()
    return {
        "200": {"description": "The image", "content": content},
        "206": ranges["206"],
        "416": ranges["416"],
    }


# --- the Errors section of docs/api_docs.md --------------------------------------------


def error_codes_table() -> str:
    """Markdown: every status, the codes it may carry, and when."""
    rows = ["| status | codes | when |", "|---|---|---|"]
    for status, codes in codes_by_status().items():
        listed = ", ".join(f"`{code}`" for code in codes)
        rows.append(f"| {status} | {listed} | {ERROR_DESCRIPTIONS[status]} |")
    return "\n".join(rows)


def field_codes_table() -> str:
    """Markdown: every code a field of ``details`` may carry, with its English message
    (``{name}`` is one of its ``params``)."""
    rows = ["| code | message |", "|---|---|"]
    rows += [f"| `{code}` | {text} |" for code, text in {**FIELD_CODES, **EDGE_FIELD_CODES}.items()]
    return "\n".join(rows)
