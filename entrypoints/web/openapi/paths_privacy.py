"""Paths of privacy and account control: sessions, blocks, privacy settings, typing,
usernames, the data export and deleting the account."""

from __future__ import annotations

from messenger_core.limits import (
    EXPORT_INTERVAL_HOURS,
    EXPORT_RETENTION_DAYS,
    TYPING_INTERVAL_SECONDS,
    TYPING_TTL_SECONDS,
    USERNAME_MAX,
    USERNAME_MIN,
)

from .. import render, schema
from .generate import Components, Schema, obj
from .parts import (
    AUTH_ERRORS,
    CHANGE_ERRORS,
    array,
    body,
    errors,
    ok,
    one,
    op,
    path_id,
    path_param,
    string,
    success,
)

SESSION_ID = path_id("session_id", "The session's id (from GET /api/v1/sessions)")
USER_ID = path_param("user_id", string(), "The user_id of the user")


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/sessions": {"get": _list_sessions(c), "delete": _end_others(c)},
        "/api/v1/sessions/{session_id}": {"parameters": [SESSION_ID], "delete": _end_session(c)},
        "/api/v1/blocks": {"get": _list_blocks(c)},
        "/api/v1/blocks/{user_id}": {"parameters": [USER_ID], "put": _block(c), "delete": _unblock(c)},
        "/api/v1/users/me/privacy": {"get": _get_privacy(c), "patch": _set_privacy(c)},
        "/api/v1/chats/{chat_id}/typing": {
            "parameters": [path_id("chat_id", "The chat's id")],
            "post": _typing(c),
        },
        "/api/v1/users/by-username/{username}": {
            "parameters": [path_param("username", string(), "A username, in any letter case")],
            "get": _by_username(c),
        },
        "/api/v1/users/me/export": {"post": _start_export(c), "get": _get_export(c)},
    }


def _list_sessions(c: Components) -> Schema:
    return op(
        "listSessions",
        "sessions",
        "Your signed-in sessions (devices), oldest first; the one asking is `current`",
        responses={"200": ok(one("sessions", array(c.answer(render.SessionOut)))), **errors(*AUTH_ERRORS)},
    )


def _end_others(c: Components) -> Schema:
    answer = obj(
        {"success": {"const": "OK"}, "ended": {"type": "integer", "minimum": 0}}, ["success", "ended"]
    )
    return op(
        "endOtherSessions",
        "sessions",
        "End every session but the current one (`?others=true`)",
        description="Their access and refresh tokens stop working at once (401 token_revoked with "
        "params.ended = ended_elsewhere); their waiting long-polls end.",
        parameters=c.parameters(schema.SessionsEnd),
        responses={"200": ok(answer, "How many sessions ended"), **errors(*CHANGE_ERRORS, 422)},
    )


def _end_session(c: Components) -> Schema:
    return op(
        "endSession",
        "sessions",
        "End one of your sessions (the current one signs this device out and clears its cookies)",
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404)},
    )


def _list_blocks(c: Components) -> Schema:
    return op(
        "listBlocks",
        "blocks",
        "Whom you blocked, oldest first",
        responses={"200": ok(one("blocks", array(c.answer(render.BlockOut)))), **errors(*AUTH_ERRORS)},
    )


def _block(c: Components) -> Schema:
    return op(
        "blockUser",
        "blocks",
        "Block a user (idempotent): ends your friendship and cancels requests both ways",
        description="A block either way closes your direct chat for writing (403 `blocked`) and "
        "friend requests, and hides avatars and presence from each other. In groups you both stay.",
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 422)},
    )


def _unblock(c: Components) -> Schema:
    return op(
        "unblockUser",
        "blocks",
        "Unblock a user (idempotent); a friendship the block ended stays ended",
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 422)},
    )


def _get_privacy(c: Components) -> Schema:
    return op(
        "getPrivacy",
        "privacy",
        "Your privacy settings",
        responses={"200": ok(c.answer(render.PrivacyOut)), **errors(*AUTH_ERRORS)},
    )


def _set_privacy(c: Components) -> Schema:
    return op(
        "setPrivacy",
        "privacy",
        "Change privacy settings (only the fields sent)",
        description="last_seen and read_receipts are reciprocal: hiding yours hides others' from you.",
        requestBody=body(c.request(schema.PrivacyChange), required=False),
        responses={"200": ok(c.answer(render.PrivacyOut)), **errors(*CHANGE_ERRORS, 422)},
    )


def _typing(c: Components) -> Schema:
    return op(
        "sendTyping",
        "chats",
        "Tell the chat's other members you are typing (an ephemeral signal, never stored)",
        description=f"They get a `chat.typing` signal from the long-poll, shown for {TYPING_TTL_SECONDS} s. "
        f"At most one per {TYPING_INTERVAL_SECONDS} s per user and chat is sent (more answer 204 too); "
        "none when your typing setting is off, where you may not write, or to whom a block separates "
        "you from.",
        responses={"204": {"description": "Done (sent or not)"}, **errors(*CHANGE_ERRORS, 404)},
    )


def _by_username(c: Components) -> Schema:
    return op(
        "getUserByUsername",
        "users",
        f"The user with a username ({USERNAME_MIN}–{USERNAME_MAX} of a-z, 0-9, _; any case)",
        responses={"200": ok(one("user", c.answer(render.ShortUser))), **errors(*AUTH_ERRORS, 404)},
    )


def _start_export(c: Components) -> Schema:
    return op(
        "startExport",
        "users",
        f"Start a ZIP of your data (one per {EXPORT_INTERVAL_HOURS} h)",
        description="Built in the background; the `export.ready` event says when it is there. "
        f"Kept {EXPORT_RETENTION_DAYS} days. Another within the interval: 429 `export_daily`.",
        responses={
            "202": {"description": "Started"} | ok(one("export", c.answer(render.ExportOut))),
            **errors(*CHANGE_ERRORS, 429),
        },
    )


def _get_export(c: Components) -> Schema:
    return op(
        "getExport",
        "users",
        "Your latest export's state, or with `download=true` the ZIP",
        parameters=c.parameters(schema.ExportQuery),
        responses={
            "200": {
                "description": "The state (JSON), or the ZIP with download=true",
                "content": {
                    "application/json": {"schema": one("export", c.answer(render.ExportOut))},
                    "application/octet-stream": {"schema": string(contentMediaType="application/zip")},
                },
            },
            **errors(*AUTH_ERRORS, 404, 422),
        },
    )
