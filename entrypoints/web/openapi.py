"""The OpenAPI 3.1 document of the JSON API: the one machine-readable description.

Built in code rather than kept as a JSON file so that the limits it states are the very
constants the server enforces (policies, settings) and the event types come from the
model: a new event type without a documented payload fails to build. A test compares
its paths and methods with the routes of the app, so an undocumented route fails too.

Schemas are exact about nullability and closed (``additionalProperties: false``), so a
fuzzer validating answers against them notices any field that appears or changes type.
"""

from __future__ import annotations

from typing import Any

from messenger_core import limits, policies
from messenger_core.model import AttachmentKind, EventType

from ..config import Settings
from .errors import codes_by_status

Schema = dict[str, Any]

# Query strings carry at most 18 digits (schema._INT); SQLite integers are signed 64-bit.
QUERY_INT_MAX = 10**18 - 1
INT64_MAX = 2**63 - 1
# datetime.fromtimestamp reaches the year 9999 and no further.
UNIX_TIME_MAX = 253402300799

JSON = "application/json"
TOKEN_FIELDS = ("access_token", "refresh_token", "jwt")
AUTHENTICATED: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"accessCookie": []}, {"jwtQuery": []}]

# A name: not blank, and none of the usual control or format characters. The server
# refuses all of Unicode's category C (unassigned code points too), which a portable
# pattern cannot name, so a rare generated name may still be refused with 422.
_CONTROL = (
    r"\x00-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u206f\ufeff\ufff9-\ufffb\ue000-\uf8ff"
)
_VISIBLE = rf"[^{_CONTROL}]*[^\s{_CONTROL}][^{_CONTROL}]*"
NAME_PATTERN = f"^{_VISIBLE}$"
EMAIL_PATTERN = policies.EMAIL_PATTERN
_SEP = r"[\s().-]*"
PHONE_PATTERN = rf"^{_SEP}\+{_SEP}[1-9]({_SEP}[0-9]){{6,14}}{_SEP}$"
# Text that stays after trimming (Python's str.strip also trims \x1c-\x1f and \x85).
NOT_BLANK = r"[^\s\x1c-\x1f\x85]"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(schema: Schema) -> Schema:
    """The schema, or JSON null."""
    if "type" in schema and "$ref" not in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        return schema | {"type": [*types, "null"]}
    return {"oneOf": [schema, {"type": "null"}]}


def obj(
    properties: Schema, required: tuple[str, ...] | list[str] = (), *, closed: bool = True, **extra: Any
) -> Schema:
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if closed:
        schema["additionalProperties"] = False
    return schema | extra


def integer(minimum: int = -INT64_MAX, maximum: int = INT64_MAX, **extra: Any) -> Schema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum} | extra


def string(**extra: Any) -> Schema:
    return {"type": "string"} | extra


def array(items: Schema, **extra: Any) -> Schema:
    return {"type": "array", "items": items} | extra


def json_content(schema: Schema) -> Schema:
    return {"content": {JSON: {"schema": schema}}}


def body(schema: Schema, *, required: bool = True, description: str | None = None) -> Schema:
    request: Schema = {"required": required} | json_content(schema)
    if description:
        request["description"] = description
    return request


def ok(schema: Schema, description: str = "Done", **extra: Any) -> Schema:
    return {"description": description} | json_content(schema) | extra


def errors(*statuses: int) -> dict[str, Schema]:
    return {
        str(status): {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"} for status in statuses
    }


def query(name: str, schema: Schema, description: str, *, required: bool = False) -> Schema:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


def path_param(name: str, schema: Schema, description: str) -> Schema:
    return {"name": name, "in": "path", "required": True, "description": description, "schema": schema}


def with_tokens(properties: Schema) -> Schema:
    """Token fields may ride in any JSON body; authentication reads them, nothing else does."""
    return properties | {name: ref(_TOKEN_SCHEMAS[name]) for name in TOKEN_FIELDS}


_TOKEN_SCHEMAS = {"access_token": "AccessTokenField", "refresh_token": "RefreshTokenField", "jwt": "JwtField"}

CODES = codes_by_status()

# status → (component name, description, the error codes it carries)
ERROR_RESPONSES: dict[int, tuple[str, str, list[str]]] = {
    400: (
        "BadRequest",
        "Malformed JSON, a body that is not an object, a field of the wrong type, "
        "a malformed multipart body or header",
        CODES[400],
    ),
    401: (
        "Unauthorized",
        "No usable token (the code names the reason), or wrong credentials",
        CODES[401],
    ),
    403: (
        "Forbidden",
        "Not allowed: not yours, not a friend, wrong current password, or a cookie-"
        "authenticated change without CSRF proof",
        CODES[403],
    ),
    404: ("NotFound", "No such thing, or not visible to you", ["not_found"]),
    409: (
        "Conflict",
        "The state forbids it (already friends, email taken, message deleted)",
        CODES[409],
    ),
    410: ("Gone", "The event cursor is unknown or too old: reload the state and start again", ["resync"]),
    413: (
        "TooLarge",
        "The body is over the limit (JSON bodies and uploads have separate limits)",
        CODES[413],
    ),
    415: ("UnsupportedMediaType", "An upload must be multipart/form-data", ["unsupported_media_type"]),
    422: ("Invalid", "Validation failed; `fields` maps each field to its message", ["invalid"]),
    429: (
        "Throttled",
        "Too many attempts (sign-in failures, registrations, searches): wait Retry-After seconds",
        CODES[429],
    ),
}


# --- shapes ----------------------------------------------------------------------------


def _schemas(settings: Settings) -> dict[str, Schema]:
    short_user = {
        "user_id": string(
            description="The public id (alternative_id); it changes when email or password does"
        ),
        "first_name": string(),
        "second_name": string(),
        "avatar": string(description="URL of the avatar image (a generated SVG until one is uploaded)"),
    }
    full_user = short_user | {
        "email": string(),
        "phone_number": nullable(string(description="International form, e.g. +79161234567")),
        "age": nullable({"type": "integer"}),
        "city": nullable(string()),
        "additional_inf": nullable(string()),
        "created_date": string(format="date-time", description="ISO 8601 with time zone"),
        "is_confirmed": {"type": "boolean"},
    }
    attachment = {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": [k.value for k in AttachmentKind]},
        "name": string(),
        "size": {"type": "integer", "minimum": 0},
        "mime": string(description="Sniffed from the content, never taken from the client"),
        "width": nullable({"type": "integer"}),
        "height": nullable({"type": "integer"}),
        "has_thumbnail": {"type": "boolean"},
        "url": string(),
        "thumbnail_url": nullable(string()),
    }
    message = {
        "id": {"type": "integer"},
        "chat_id": {"type": "integer"},
        "sender_id": string(description="user_id of the author"),
        "text": nullable(string()),
        "sticker": nullable(ref("Sticker")),
        "attachments": array(ref("Attachment")),
        "sending_date": {"type": "number", "description": "Unix time, seconds"},
        "edited_date": nullable({"type": "number", "description": "Unix time, seconds"}),
        "is_deleted": {"type": "boolean"},
        "is_read": {"type": "boolean", "description": "Read by every other member of the chat"},
    }
    schemas: dict[str, Schema] = {
        "Error": obj(
            {
                "error": obj(
                    {
                        "code": string(description="A stable machine-readable code"),
                        "message": string(description="For people"),
                        "params": {
                            "type": "object",
                            "description": "Values the message names (e.g. retry_after, max, what)",
                        },
                        "fields": {
                            "type": "object",
                            "additionalProperties": string(),
                            "description": "Field name → what is wrong with it, in English",
                        },
                        "details": {
                            "type": "object",
                            "additionalProperties": obj(
                                {"code": string(), "params": {"type": "object"}}, ["code", "params"]
                            ),
                            "description": "Field name → the code and parameters of what is wrong with it",
                        },
                    },
                    ["code", "message"],
                )
            },
            ["error"],
        ),
        "ShortUser": obj(short_user, list(short_user)),
        "FullUser": obj(full_user, list(full_user)),
        "Friend": obj(short_user | {"is_accepted": {"type": "boolean"}}, [*short_user, "is_accepted"]),
        "Sticker": obj({"id": {"type": "integer"}, "url": string()}, ["id", "url"]),
        "StickerPack": obj(
            {"id": {"type": "integer"}, "title": string(), "stickers": array(ref("Sticker"))},
            ["id", "title", "stickers"],
        ),
        "Attachment": obj(attachment, list(attachment)),
        "Message": obj(message, list(message)),
        "LatestMessage": obj(
            message | {"chat_with": nullable(string(description="user_id of the other member"))},
            [*message, "chat_with"],
        ),
        "Chat": obj(
            {
                "id": {"type": "integer"},
                "title": string(description="The other members' names"),
                "members": array(ref("ShortUser")),
                "last_message": nullable(ref("Message")),
                "unread_count": {"type": "integer", "minimum": 0},
                "last_read_message_id": {"type": "integer", "minimum": 0},
                "last_activity": {"type": "number", "description": "Unix time, seconds"},
            },
            [
                "id",
                "title",
                "members",
                "last_message",
                "unread_count",
                "last_read_message_id",
                "last_activity",
            ],
        ),
        "Event": {"oneOf": [ref(name) for name in _EVENT_GROUPS]},
        "TokenPair": obj(
            {"access_token": string(), "refresh_token": string()}, ["access_token", "refresh_token"]
        ),
        "AccessToken": obj({"access_token": string()}, ["access_token"]),
        "Success": obj({"success": {"const": "OK"}}, ["success"]),
        "AccessTokenField": string(description="An access token (instead of the Authorization header)"),
        "RefreshTokenField": string(description="A refresh token (instead of the refresh cookie)"),
        "JwtField": string(description="A token of the type the route expects"),
        # requests
        "Register": obj(
            with_tokens(
                {
                    "first_name": string(minLength=1, maxLength=limits.NAME_MAX, pattern=NAME_PATTERN),
                    "second_name": string(minLength=1, maxLength=limits.NAME_MAX, pattern=NAME_PATTERN),
                    "email": string(maxLength=limits.EMAIL_MAX, pattern=EMAIL_PATTERN),
                    "password": string(minLength=limits.PASSWORD_MIN, maxLength=limits.PASSWORD_MAX),
                }
            ),
            ["first_name", "second_name", "email", "password"],
        ),
        "Login": obj(
            with_tokens(
                {
                    "email": string(),
                    "password": string(),
                    "expires_in": nullable(
                        integer(
                            1,
                            settings.JWT_ACCESS_TOKEN_MAX_EXPIRES,
                            description=f"Lifetime of the access token, seconds (default "
                            f"{settings.JWT_ACCESS_TOKEN_EXPIRES})",
                        )
                    ),
                }
            ),
            ["email", "password"],
        ),
        "Refresh": obj(
            with_tokens(
                {
                    "expires_in": nullable(
                        integer(
                            1,
                            settings.JWT_ACCESS_TOKEN_MAX_EXPIRES,
                            description="Lifetime of the new access token, seconds",
                        )
                    )
                }
            ),
            closed=False,
            description="Other fields are ignored",
        ),
        "Confirmation": obj(
            with_tokens({"token": string(description="The token from GET /api/v1/tokens")}), ["token"]
        ),
        "ProfileEdit": obj(
            with_tokens(
                {
                    "first_name": nullable(string(maxLength=limits.NAME_MAX, pattern=f"^$|{NAME_PATTERN}")),
                    "second_name": nullable(string(maxLength=limits.NAME_MAX, pattern=f"^$|{NAME_PATTERN}")),
                    "phone_number": nullable(string(pattern=f"^$|{PHONE_PATTERN}")),
                    "age": {
                        "anyOf": [integer(limits.AGE_MIN, limits.AGE_MAX), {"type": "null"}, {"const": ""}]
                    },
                    "city": nullable(string(maxLength=limits.CITY_MAX)),
                    "additional_inf": nullable(string(maxLength=limits.ABOUT_MAX)),
                    "email": nullable(string(maxLength=limits.EMAIL_MAX, pattern=f"^$|{EMAIL_PATTERN}")),
                    "password": {
                        "anyOf": [
                            string(minLength=limits.PASSWORD_MIN, maxLength=limits.PASSWORD_MAX),
                            {"type": "null"},
                            {"const": ""},
                        ]
                    },
                    "old_password": nullable(string(description="Required to change email or password")),
                }
            ),
            dependentRequired={"email": ["old_password"], "password": ["old_password"]},
            description='Only the fields sent change. null or "" leaves a field as it is, except that '
            '"" or null empties phone_number, age, city and additional_inf.',
        ),
        "FriendAction": obj(
            with_tokens(
                {
                    "action": {"type": "string", "enum": ["add", "accept", "deny"]},
                    "friend_id": nullable(string(description="user_id of the other user")),
                    "user_id": nullable(string(description="The same as friend_id")),
                }
            ),
            ["action"],
            anyOf=[_named("friend_id"), _named("user_id")],
        ),
        "FriendRemoval": obj(
            with_tokens(
                {
                    "friend_id": nullable(string(description="user_id of the other user")),
                    "user_id": nullable(string(description="The same as friend_id")),
                }
            ),
            anyOf=[_named("friend_id"), _named("user_id")],
        ),
        "ChatOpen": obj(with_tokens({"user_id": string(description="user_id of a friend")}), ["user_id"]),
        "ChatSelect": obj(
            with_tokens({"chat_id": nullable(integer(1)), "chat_with": nullable(string())}),
            anyOf=[
                {"required": ["chat_id"], "properties": {"chat_id": {"type": "integer"}}},
                {"required": ["chat_with"], "properties": {"chat_with": {"type": "string"}}},
            ],
        ),
        "MessageSend": obj(
            with_tokens(_message_send()),
            anyOf=[
                {"required": ["chat_id"], "properties": {"chat_id": {"type": "integer"}}},
                {"required": ["receiver_id"], "properties": {"receiver_id": {"type": "string"}}},
            ],
            allOf=[{"anyOf": _something_to_send()}],
        ),
        "MessageSendToChat": obj(
            with_tokens(_message_send()),
            anyOf=_something_to_send(),
            description="chat_id and receiver_id are ignored: the path names the chat",
        ),
        "MessageEdit": obj(
            with_tokens({"text": string(maxLength=limits.MESSAGE_MAX, pattern=NOT_BLANK)}), ["text"]
        ),
        "ReadMark": obj(
            with_tokens({"message_id": integer(1, description="A message of this chat")}), ["message_id"]
        ),
        "ImageUpload": obj(
            {
                "file": string(
                    contentMediaType="image/*",
                    description=f"PNG, JPEG, WebP or GIF, at most {settings.MAX_CONTENT_LENGTH} bytes",
                )
            },
            ["file"],
            closed=False,
        ),
        "Upload": obj(
            {
                "file": string(
                    contentMediaType="application/octet-stream",
                    description=f"The file, at most {settings.MAX_CONTENT_LENGTH} bytes",
                )
            },
            ["file"],
            closed=False,
        ),
    }
    for name, (types, data) in _EVENT_GROUPS.items():
        schemas[name] = obj(
            {
                "id": integer(1, description="The event's place in the stream: the next cursor"),
                "type": {"type": "string", "enum": [t.value for t in types]},
                "data": data,
            },
            ["id", "type", "data"],
        )
    return schemas


def _named(field: str) -> Schema:
    return {"required": [field], "properties": {field: {"type": "string", "minLength": 1}}}


def _message_send() -> Schema:
    return {
        "chat_id": nullable(integer(1)),
        "receiver_id": nullable(string(description="user_id of a friend; the chat is created if needed")),
        "text": nullable(string(maxLength=limits.MESSAGE_MAX)),
        "sticker_id": nullable(integer(1)),
        "attachment_ids": array(
            integer(1),
            maxItems=limits.ATTACHMENTS_MAX,
            uniqueItems=True,
            description="Your uploads not sent yet",
        ),
    }


def _something_to_send() -> list[Schema]:
    return [
        {"required": ["text"], "properties": {"text": {"type": "string", "pattern": NOT_BLANK}}},
        {"required": ["sticker_id"], "properties": {"sticker_id": {"type": "integer"}}},
        {"required": ["attachment_ids"], "properties": {"attachment_ids": {"minItems": 1}}},
    ]


# Every event type with the shape of its data; building fails for a type missing here.
_EVENT_GROUPS: dict[str, tuple[tuple[EventType, ...], Schema]] = {
    "MessageEvent": (
        (EventType.MESSAGE_NEW, EventType.MESSAGE_EDITED, EventType.MESSAGE_DELETED),
        obj({"message": ref("Message")}, ["message"]),
    ),
    "ChatReadEvent": (
        (EventType.CHAT_READ,),
        obj(
            {"chat_id": {"type": "integer"}, "user_id": string(), "message_id": {"type": "integer"}},
            ["chat_id", "user_id", "message_id"],
        ),
    ),
    "ChatDeletedEvent": ((EventType.CHAT_DELETED,), obj({"chat_id": {"type": "integer"}}, ["chat_id"])),
    "UserEvent": (
        (EventType.FRIEND_REQUEST, EventType.FRIEND_ACCEPTED, EventType.USER_UPDATED),
        obj({"user": ref("ShortUser")}, ["user"]),
    ),
    "UserIdEvent": (
        (EventType.FRIEND_DENIED, EventType.FRIEND_CANCELLED, EventType.FRIEND_REMOVED),
        obj({"user_id": string()}, ["user_id"]),
    ),
}


def documented_event_types() -> set[EventType]:
    return {t for group, _ in _EVENT_GROUPS.values() for t in group}


# --- operations ------------------------------------------------------------------------


def _paths(settings: Settings) -> dict[str, Schema]:
    auth_errors = (400, 401)
    # 403: a cookie-authenticated change without CSRF proof; 415: a body that is not JSON
    change_errors = (400, 401, 403, 413, 415)
    user_id = path_param("user_id", string(), "A user_id, or `me`")
    chat_id = path_param("chat_id", integer(), "The chat's id")
    message_id = path_param("message_id", integer(), "The message's id")
    attachment_id = path_param("attachment_id", integer(), "The attachment's id")
    sticker_id = path_param("sticker_id", integer(), "The sticker's id")
    q_int = {"type": "integer", "minimum": -QUERY_INT_MAX, "maximum": QUERY_INT_MAX}
    q_id = q_int | {"minimum": 1}
    user = json_content(obj({"user": ref("FullUser")}, ["user"]))
    chat = obj({"chat": ref("Chat")}, ["chat"])
    history_query = [
        query(
            "date",
            {"type": "number", "minimum": 0, "maximum": UNIX_TIME_MAX},
            "Unix time, seconds: only messages sent after it",
        ),
        query("before", q_int, "A message id: the page just before it"),
        query("after", q_int, "A message id: the page just after it (not with `before`)"),
        query(
            "limit",
            {"type": "integer", "minimum": 1, "maximum": limits.HISTORY_LIMIT_MAX},
            f"Page size (default {limits.HISTORY_LIMIT_DEFAULT})",
        ),
    ]
    file_responses = _file_responses()

    return {
        "/api/v1/login": {
            "post": _op(
                "login",
                "auth",
                "Log in: tokens in the body and in cookies",
                public=True,
                requestBody=body(ref("Login")),
                responses={
                    "200": ok(
                        ref("TokenPair"),
                        "Tokens; the cookies access_token_cookie, refresh_token_cookie "
                        "and csrf_token are set too",
                        headers=_SET_COOKIE,
                    ),
                    **errors(400, 401, 413, 415, 422, 429),
                },
            )
        },
        "/api/v1/refresh": {
            "post": _op(
                "refresh",
                "auth",
                "A new access token for a refresh token",
                security=[{"refreshCookie": []}, {"jwtQuery": []}, {}],
                description="The refresh token comes from the JSON body (`refresh_token` or `jwt`), the "
                "query parameter `jwt` or the cookie `refresh_token_cookie` (not from Authorization).",
                parameters=[
                    query(
                        "expires_in",
                        {"type": "integer", "minimum": 1, "maximum": settings.JWT_ACCESS_TOKEN_MAX_EXPIRES},
                        "Lifetime of the new access token, seconds",
                    )
                ],
                requestBody=body(ref("Refresh"), required=False),
                responses={
                    "200": ok(
                        ref("AccessToken"),
                        "The new access token (the access cookie is set too)",
                        headers=_SET_COOKIE,
                    ),
                    **errors(400, 401, 413, 415, 422),
                },
            )
        },
        "/api/v1/logout": {
            "post": _op(
                "logout",
                "auth",
                "Clear the token cookies",
                public=True,
                description="Tokens themselves stay valid until they expire; changing the password revokes "
                "them all.",
                responses={"200": ok(ref("Success"), headers=_SET_COOKIE)},
            )
        },
        "/api/v1/tokens": {
            "get": _op(
                "requestConfirmation",
                "auth",
                "Get (and mail) an email confirmation token",
                public=True,
                parameters=[
                    query("email", string(), "Your email", required=True),
                    query("password", string(), "Your password", required=True),
                ],
                responses={
                    "200": ok(obj({"token": string()}, ["token"]), "The confirmation token (valid 24 h)"),
                    **errors(400, 401, 422, 429),
                },
            ),
            "post": _op(
                "confirmEmail",
                "auth",
                "Confirm the email with the token",
                public=True,
                requestBody=body(ref("Confirmation")),
                responses={
                    "200": {"description": "The user, now is_confirmed"} | user,
                    **errors(400, 401, 413, 415, 422),
                },
            ),
        },
        "/api/v1/users": {
            "post": _op(
                "register",
                "users",
                "Register",
                public=True,
                requestBody=body(ref("Register")),
                responses={
                    "201": {"description": "The new user"} | user,
                    **errors(400, 409, 413, 415, 422, 429),
                },
            ),
            "get": _op(
                "searchUsers",
                "users",
                "Search users, or (without a search field) the current user",
                description="Case-insensitive substring search in names and user_id (Cyrillic too). Without "
                "any of search_request, first_name, second_name the answer is the current user.",
                parameters=[
                    query(
                        "search_request",
                        string(),
                        "Words to find, each in the first name, second name or user_id",
                    ),
                    query("first_name", string(), "Text to find in the first name"),
                    query("second_name", string(), "Text to find in the second name"),
                    query("start", q_int | {"minimum": 0}, "How many results to skip (default 0)"),
                    query(
                        "limit",
                        {"type": "integer", "minimum": 1, "maximum": limits.SEARCH_LIMIT_MAX},
                        f"Page size (default and at most {limits.SEARCH_LIMIT_MAX})",
                    ),
                ],
                responses={
                    "200": ok(
                        {
                            "oneOf": [
                                obj({"user": ref("FullUser")}, ["user"]),
                                obj({"users": array(ref("ShortUser"))}, ["users"]),
                            ]
                        },
                        "The found users, or the current user",
                    ),
                    **errors(*auth_errors, 422, 429),
                },
            ),
        },
        "/api/v1/users/{user_id}": {
            "parameters": [user_id],
            "get": _op(
                "getUser",
                "users",
                "A user: full for yourself (or `me`), short for others",
                responses={
                    "200": ok(
                        {
                            "oneOf": [
                                obj({"user": ref("FullUser")}, ["user"]),
                                obj({"user": ref("ShortUser")}, ["user"]),
                            ]
                        }
                    ),
                    **errors(*auth_errors, 404),
                },
            ),
            "put": _profile_edit("updateProfile"),
            "patch": _profile_edit("patchProfile"),
        },
        "/api/v1/users/{user_id}/avatar": {
            "parameters": [user_id],
            "get": _op(
                "getAvatar",
                "users",
                "The avatar: a 256 px PNG, or a generated SVG with the initials",
                parameters=[
                    query("v", string(), "A version that changes with the avatar (for caching); ignored")
                ],
                responses={
                    "200": {
                        "description": "The image",
                        "content": {
                            "image/png": {"schema": string(contentMediaType="image/png")},
                            "image/svg+xml": {"schema": string(contentMediaType="image/svg+xml")},
                        },
                    },
                    "206": file_responses["206"],
                    "416": file_responses["416"],
                    **errors(*auth_errors, 404),
                },
            ),
            "put": _avatar_upload("setAvatar", settings),
            "post": _avatar_upload("setAvatarPost", settings),
        },
        "/api/v1/users_friends": {
            "get": _op(
                "listFriends",
                "friends",
                "Friends, or friend requests",
                parameters=[
                    query(
                        "type",
                        {"type": "string", "enum": ["friends", "incoming", "outgoing"]},
                        "No value: friends; incoming: requests to you; outgoing: your requests",
                    )
                ],
                responses={
                    "200": ok(obj({"friends": array(ref("Friend"))}, ["friends"])),
                    **errors(*auth_errors, 422),
                },
            ),
            "post": _op(
                "friendAction",
                "friends",
                "Send, accept or deny a friend request",
                description="`add` to a user who already asked you makes you friends at once.",
                requestBody=body(ref("FriendAction")),
                responses={"200": ok(ref("Success")), **errors(*change_errors, 404, 409, 422)},
            ),
            "delete": _op(
                "removeFriend",
                "friends",
                "Cancel your request, refuse theirs, or end the friendship",
                parameters=[
                    query("friend_id", string(), "user_id of the other user"),
                    query("user_id", string(), "The same as friend_id"),
                ],
                requestBody=body(
                    ref("FriendRemoval"),
                    required=False,
                    description="The same fields as the query (the body wins)",
                ),
                responses={"200": ok(ref("Success")), **errors(*change_errors, 404, 422)},
            ),
        },
        "/api/v1/users_friends/{user_id}": {
            "parameters": [path_param("user_id", string(), "user_id of the other user")],
            "delete": _op(
                "removeFriendById",
                "friends",
                "Cancel your request, refuse theirs, or end the friendship",
                responses={"200": ok(ref("Success")), **errors(*change_errors, 404, 422)},
            ),
        },
        "/api/v1/chats": {
            "get": _op(
                "listChats",
                "chats",
                "Your chats (latest activity first), or one chat",
                parameters=[
                    query("chat_id", q_id, "One chat by id"),
                    query("chat_with", string(), "Your 1:1 chat with this user_id"),
                ],
                responses={
                    "200": ok(
                        {"oneOf": [obj({"chats": array(ref("Chat"))}, ["chats"]), chat]},
                        "All chats, or the chat named by chat_id or chat_with",
                    ),
                    **errors(*auth_errors, 404, 422),
                },
            ),
            "post": _op(
                "openChat",
                "chats",
                "Get or create the 1:1 chat with a friend",
                requestBody=body(ref("ChatOpen")),
                responses={
                    "200": ok(chat, "The existing chat"),
                    "201": ok(chat, "The chat, created now"),
                    **errors(*change_errors, 404, 422),
                },
            ),
            "delete": _op(
                "deleteChatBySelection",
                "chats",
                "Delete a chat and its messages for both members",
                parameters=[
                    query("chat_id", q_id, "The chat's id"),
                    query("chat_with", string(), "Your 1:1 chat with this user_id"),
                ],
                requestBody=body(
                    ref("ChatSelect"),
                    required=False,
                    description="The same fields as the query (the body wins)",
                ),
                responses={"200": ok(ref("Success")), **errors(*change_errors, 404, 422)},
            ),
        },
        "/api/v1/chats/{chat_id}": {
            "parameters": [chat_id],
            "get": _op(
                "getChat", "chats", "One chat", responses={"200": ok(chat), **errors(*auth_errors, 404)}
            ),
            "delete": _op(
                "deleteChat",
                "chats",
                "Delete a chat and its messages for both members",
                responses={"200": ok(ref("Success")), **errors(*change_errors, 404)},
            ),
        },
        "/api/v1/chats/{chat_id}/messages": {
            "parameters": [chat_id],
            "get": _op(
                "chatHistory",
                "messages",
                "A page of the chat's messages, oldest first",
                parameters=history_query,
                responses={
                    "200": ok(obj({"messages": array(ref("Message"))}, ["messages"])),
                    **errors(*auth_errors, 404, 422),
                },
            ),
            "post": _op(
                "sendToChat",
                "messages",
                "Send a message to the chat",
                requestBody=body(ref("MessageSendToChat")),
                responses={
                    "201": ok(obj({"message": ref("Message")}, ["message"]), "The message"),
                    **errors(*change_errors, 404, 422),
                },
            ),
        },
        "/api/v1/chats/{chat_id}/read": {
            "parameters": [chat_id],
            "post": _op(
                "markRead",
                "chats",
                "Mark the chat read up to a message (a read mark never moves back)",
                requestBody=body(ref("ReadMark")),
                responses={
                    "200": ok(chat, "The chat with its new unread_count"),
                    **errors(*change_errors, 404, 422),
                },
            ),
        },
        "/api/v1/messages": {
            "get": _op(
                "listMessages",
                "messages",
                "History with a user or of a chat; without either, the latest message of each chat",
                parameters=[
                    query("receiver_id", string(), "The other user's user_id (your 1:1 chat with them)"),
                    query("chat_id", q_id, "The chat's id (wins over receiver_id)"),
                    *history_query,
                ],
                responses={
                    "200": ok(
                        obj(
                            {"messages": array({"anyOf": [ref("Message"), ref("LatestMessage")]})},
                            ["messages"],
                        ),
                        "Messages, oldest first; without chat_id and receiver_id each also has chat_with",
                    ),
                    **errors(*auth_errors, 404, 422),
                },
            ),
            "post": _op(
                "sendMessage",
                "messages",
                "Send a message to a chat or to a friend",
                requestBody=body(ref("MessageSend")),
                responses={
                    "201": ok(obj({"message": ref("Message")}, ["message"]), "The message"),
                    **errors(*change_errors, 404, 422),
                },
            ),
        },
        "/api/v1/messages/{message_id}": {
            "parameters": [message_id],
            "put": _message_edit("editMessage"),
            "patch": _message_edit("patchMessage"),
            "delete": _op(
                "deleteMessage",
                "messages",
                "Delete your message for everyone (a tombstone stays)",
                description="Deleting a deleted message again answers the same.",
                responses={
                    "200": ok(
                        obj({"success": {"const": "OK"}, "message": ref("Message")}, ["success", "message"]),
                        "The tombstone",
                    ),
                    **errors(*change_errors, 404),
                },
            ),
        },
        "/api/v1/stickers": {
            "get": _op(
                "listStickers",
                "stickers",
                "Every sticker pack",
                responses={
                    "200": ok(obj({"packs": array(ref("StickerPack"))}, ["packs"])),
                    **errors(*auth_errors),
                },
            )
        },
        "/api/v1/stickers/{sticker_id}/image": {
            "parameters": [sticker_id],
            "get": _op(
                "stickerImage",
                "stickers",
                "A sticker's image",
                responses={
                    "200": {"description": "The image", "content": {"image/*": {"schema": string()}}},
                    "206": file_responses["206"],
                    "416": file_responses["416"],
                    **errors(*auth_errors, 404),
                },
            ),
        },
        "/api/v1/attachments": {
            "post": _op(
                "uploadAttachment",
                "attachments",
                "Upload a file to send with a later message",
                description=f"multipart/form-data with the file in the field `file`, at most "
                f"{settings.MAX_CONTENT_LENGTH} bytes. The kind (photo, video, audio, file) comes "
                "from the content. An upload not sent within a day is removed.",
                requestBody={"required": True, "content": {"multipart/form-data": {"schema": ref("Upload")}}},
                responses={
                    "201": ok(obj({"attachment": ref("Attachment")}, ["attachment"]), "The upload"),
                    **errors(*change_errors, 415, 422),
                },
            )
        },
        "/api/v1/attachments/{attachment_id}": {
            "parameters": [attachment_id],
            "get": _op(
                "getAttachment",
                "attachments",
                "The file (for its uploader and the chat's members)",
                description="Photos, video and audio are served inline with their type; everything else "
                "as application/octet-stream with Content-Disposition: attachment. Single byte "
                "ranges are honoured.",
                responses={**file_responses, **errors(*auth_errors, 404)},
            ),
        },
        "/api/v1/attachments/{attachment_id}/thumbnail": {
            "parameters": [attachment_id],
            "get": _op(
                "getThumbnail",
                "attachments",
                "A photo's thumbnail (JPEG, or PNG when transparent)",
                responses={
                    "200": {
                        "description": "The thumbnail",
                        "content": {"image/jpeg": {"schema": string()}, "image/png": {"schema": string()}},
                    },
                    "206": file_responses["206"],
                    "416": file_responses["416"],
                    **errors(*auth_errors, 404),
                },
            ),
        },
        "/api/v1/events": {
            "get": _op(
                "events",
                "events",
                "Long-poll for your events after a cursor",
                description="Without `since`: no events and the current cursor. With it: the events after "
                f"it, waiting up to `timeout` seconds (0 to {settings.LONG_POLL_MAX_TIMEOUT:g}) for the "
                "first. When too many requests already wait, the answer comes at once with the "
                "header X-Long-Poll: busy. 410 means the cursor is unknown or too old: reload.",
                parameters=[
                    query(
                        "since",
                        {"type": "integer", "minimum": 0, "maximum": QUERY_INT_MAX},
                        "The cursor of your last answer",
                    ),
                    query(
                        "timeout",
                        {"type": "number", "minimum": 0, "maximum": settings.LONG_POLL_MAX_TIMEOUT},
                        "Seconds to wait for the first event (default 0)",
                    ),
                ],
                responses={
                    "200": ok(
                        obj({"events": array(ref("Event")), "cursor": integer(0)}, ["events", "cursor"]),
                        "The events, oldest first, and the cursor for the next request",
                        headers={
                            "X-Long-Poll": {
                                "description": "`busy` when the answer did not wait because "
                                "too many requests were waiting",
                                "schema": {"type": "string", "enum": ["busy"]},
                            }
                        },
                    ),
                    **errors(*auth_errors, 410, 422),
                },
            )
        },
        "/api/v1/openapi.json": {
            "get": _op(
                "openapi",
                "docs",
                "This document",
                public=True,
                responses={"200": ok({"type": "object"}, "The OpenAPI 3.1 document")},
            )
        },
    }


_SET_COOKIE = {
    "Set-Cookie": {
        "description": "HttpOnly, SameSite=Lax token cookies (and the csrf_token cookie)",
        "schema": string(),
    }
}


def _op(operation_id: str, tag: str, summary: str, *, public: bool = False, **fields: Any) -> Schema:
    operation: Schema = {"operationId": operation_id, "tags": [tag], "summary": summary}
    if public:
        operation["security"] = []
    return operation | fields


def _profile_edit(operation_id: str) -> Schema:
    return _op(
        operation_id,
        "users",
        "Edit your profile",
        description="Changing email or password needs old_password, gives you a new user_id and new tokens "
        "(also set as cookies), and revokes every older token (401 token_revoked).",
        requestBody=body(ref("ProfileEdit"), required=False),
        responses={
            "200": ok(
                obj(
                    {
                        "user_id": string(),
                        "user": ref("FullUser"),
                        "access_token": string(),
                        "refresh_token": string(),
                    },
                    ["user_id", "user"],
                    dependentRequired={"access_token": ["refresh_token"], "refresh_token": ["access_token"]},
                ),
                "The user; with new tokens when email or password changed",
            ),
            **errors(400, 401, 403, 409, 413, 415, 422),
        },
    )


def _avatar_upload(operation_id: str, settings: Settings) -> Schema:
    return _op(
        operation_id,
        "users",
        "Replace your avatar (multipart, field `file`: PNG, JPEG, WebP or GIF)",
        description=f"Cropped to a 256 px square PNG. At most {settings.MAX_CONTENT_LENGTH} bytes.",
        requestBody={"required": True, "content": {"multipart/form-data": {"schema": ref("ImageUpload")}}},
        responses={
            "200": ok(obj({"user": ref("FullUser")}, ["user"]), "You, with the new avatar URL"),
            **errors(400, 401, 403, 413, 415, 422),
        },
    )


def _message_edit(operation_id: str) -> Schema:
    return _op(
        operation_id,
        "messages",
        "Edit the text of your message",
        requestBody=body(ref("MessageEdit")),
        responses={
            "200": ok(obj({"message": ref("Message")}, ["message"]), "The edited message"),
            **errors(400, 401, 403, 404, 409, 413, 415, 422),
        },
    )


def _file_responses() -> dict[str, Schema]:
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


def _error_responses() -> dict[str, Schema]:
    responses: dict[str, Schema] = {}
    for name, description, codes in ERROR_RESPONSES.values():
        error = {
            "allOf": [ref("Error"), {"properties": {"error": {"properties": {"code": {"enum": codes}}}}}]
        }
        responses[name] = {"description": description} | json_content(error)
    responses["Throttled"]["headers"] = {
        "Retry-After": {"description": "Seconds to wait", "required": True, "schema": {"type": "integer"}}
    }
    return responses


def openapi_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as configured by ``settings``."""
    missing = set(EventType) - documented_event_types()
    if missing:
        raise LookupError(f"event types without a documented payload: {sorted(t.value for t in missing)}")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Messenger API",
            "version": "1",
            "summary": "A self-hosted messenger: users, friends, chats, messages, stickers, files, events",
            "description": "The human documentation is at /docs/v1/api_docs. Every path also answers with a "
            "trailing slash. Parameters of GET requests may also come in a JSON body. Every "
            'error is JSON: {"error": {"code", "message", "fields"?}}; a method a path '
            "does not list answers 405.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "tags": [
            {"name": name}
            for name in (
                "auth",
                "users",
                "friends",
                "chats",
                "messages",
                "stickers",
                "attachments",
                "events",
                "docs",
            )
        ],
        "security": AUTHENTICATED,
        "paths": _paths(settings),
        "components": {
            "schemas": _schemas(settings),
            "responses": _error_responses(),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token: Authorization: Bearer …",
                },
                "accessCookie": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "access_token_cookie",
                    "description": "Set by login. Changes (POST, PUT, PATCH, DELETE) need the "
                    "X-CSRF-Token header equal to the csrf_token cookie, or a "
                    "same-origin Origin header.",
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
                    "name": "refresh_token_cookie",
                    "description": "Set by login; read only by /api/v1/refresh",
                },
            },
        },
    }
