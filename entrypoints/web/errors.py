"""Errors at the HTTP edge: the one table of status codes, the edge's own error codes,
and the JSON error shape.

The core's categories (``messenger_core.errors``) carry every domain code; what only the
edge can get wrong (malformed JSON, a wrong field type, a cross-site form, an unknown
method) gets its own category here, built the same way, so the API, the pages and the
translation catalogues treat all codes alike.

The error shape stays what clients already read::

    {"error": {"code": "invalid", "message": "Validation failed", "params": {…},
               "fields": {"text": "At most 4096 characters"},
               "details": {"text": {"code": "too_long", "params": {"max": 4096}}}}}

``fields`` keeps the English message per field (the shape the first clients parse);
``details`` adds each field's code and parameters, for clients that speak the user's
language. ``params`` and both maps appear only when they have content. The TypedDicts
below are that shape; the OpenAPI document is generated from them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any, ClassVar, TypedDict

from messenger_core.errors import (
    CATEGORIES,
    Conflict,
    FieldError,
    Forbidden,
    Gone,
    Invalid,
    MessengerError,
    NotFound,
    Throttled,
    TooLarge,
    Unauthorized,
    Unavailable,
    all_codes,
)

from .shapes import doc


class BadRequest(MessengerError):
    """The request cannot be read: not JSON, not an object, fields of the wrong type."""

    CODES: ClassVar[Mapping[str, str]] = {
        "bad_request": "The request is malformed",
        "not_an_object": "The JSON body must be an object",
        "bad_multipart": "Multipart headers must be UTF-8 (RFC 7578)",
    }


class MethodNotAllowed(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {"method_not_allowed": "This method is not allowed here"}


class UnsupportedMediaType(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {"unsupported_media_type": "Send the body as {expected}"}


class CrossSite(Forbidden):
    CODES: ClassVar[Mapping[str, str]] = {
        "csrf_failed": "Cross-site request refused: send the X-CSRF-Token header",
        "cross_site": "The form was sent from another site",
    }


class ServerError(MessengerError):
    CODES: ClassVar[Mapping[str, str]] = {"internal_error": "Something went wrong on our side"}


EDGE_CATEGORIES: tuple[type[MessengerError], ...] = (
    BadRequest,
    MethodNotAllowed,
    UnsupportedMediaType,
    CrossSite,
    ServerError,
)

# Per-field codes only the edge produces (shapes and types of request fields).
EDGE_FIELD_CODES: Mapping[str, str] = {
    "unknown_field": "Unknown field",
    "wrong_type": "Has the wrong type",
    "not_integer": "Must be a whole number",
    "integer_too_big": "Must be a whole number that fits in 64 bits",
    "not_number": "Must be a number",
    "not_string": "Must be a string",
    "not_boolean": "Must be true or false",
    "not_integer_list": "Must be a list of whole numbers",
    "not_string_list": "Must be a list of strings",
    "one_of": "Must be one of: {options}",
    "invalid_time": "Not a valid unix time",
    "seconds_range": "Must be from 0 to {max} seconds",
    "file_part_required": "Required: a multipart part named 'file'",
    "chat_or_peer": "Name the chat (chat_id or chat_with)",
    "passwords_differ": "The passwords differ",
}


def edge_field(code: str, **params: Any) -> FieldError:
    return FieldError(code, params, EDGE_FIELD_CODES[code].format(**params))


# The one table of status codes: every error category maps to exactly one status.
STATUS_BY_ERROR: tuple[tuple[type[MessengerError], int], ...] = (
    (BadRequest, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (MethodNotAllowed, 405),
    (Conflict, 409),
    (Gone, 410),
    (TooLarge, 413),
    (UnsupportedMediaType, 415),
    (Invalid, 422),
    (Throttled, 429),
    (ServerError, 500),
    (Unavailable, 503),
)


def status_of(error: MessengerError | type[MessengerError]) -> int:
    category = error if isinstance(error, type) else type(error)
    return next((status for cls, status in STATUS_BY_ERROR if issubclass(category, cls)), 400)


class FieldDetail(TypedDict):
    code: Annotated[str, doc("What is wrong with the field: a stable code")]
    params: Annotated[dict[str, Any], doc("Values its message names (e.g. max, min)")]


class _ErrorCodeAndMessage(TypedDict):
    code: Annotated[str, doc("A stable machine-readable code")]
    message: Annotated[str, doc("For people")]


# The optional keys through total=False: Python 3.11 does not see NotRequired in a
# postponed annotation, and the document reads __required_keys__.
class ErrorDetail(_ErrorCodeAndMessage, total=False):
    params: Annotated[dict[str, Any], doc("Values the message names (e.g. retry_after, max, what)")]
    fields: Annotated[dict[str, str], doc("Field name → what is wrong with it, in English")]
    details: Annotated[
        dict[str, FieldDetail], doc("Field name → the code and parameters of what is wrong with it")
    ]


class ErrorBody(TypedDict):
    error: ErrorDetail


def error_body(error: MessengerError) -> ErrorBody:
    body: ErrorDetail = {"code": error.code, "message": error.message}
    if error.params:
        body["params"] = dict(error.params)
    if error.fields:
        body["fields"] = {name: f.message for name, f in error.fields.items()}
        body["details"] = {
            name: {"code": f.code, "params": dict(f.params)} for name, f in error.fields.items()
        }
    return {"error": body}


def codes_by_status() -> dict[int, list[str]]:
    """Every code each status may carry, for the OpenAPI document."""
    found: dict[int, list[str]] = {status: [] for _, status in STATUS_BY_ERROR}
    for category in (*CATEGORIES, *EDGE_CATEGORIES):
        found[status_of(category)].extend(category.CODES)
    return found


def every_code() -> Iterator[tuple[str, str]]:
    """Every (code, English template) an answer or a form may carry, core and edge."""
    yield from all_codes(CATEGORIES + EDGE_CATEGORIES)
    yield from EDGE_FIELD_CODES.items()
