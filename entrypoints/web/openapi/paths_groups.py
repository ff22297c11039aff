"""Paths of group chats: creating one, its settings and photo, members and roles, readers."""

from __future__ import annotations

from .. import render, schema
from .generate import Components, Schema, obj
from .parts import (
    AUTH_ERRORS,
    CHANGE_ERRORS,
    array,
    body,
    errors,
    multipart,
    ok,
    one,
    op,
    path_param,
    string,
)
from .paths_chats import CHAT_ID, MESSAGE_ID
from .paths_users import AVATAR_SIDE, image_upload
from .responses import image_responses

MEMBER_ID = path_param("user_id", string(), "A member's user_id, or `me` (leaving)")
MANAGE_ERRORS = (*CHANGE_ERRORS, 404, 409, 422)


def paths(c: Components) -> dict[str, Schema]:
    chat = one("chat", c.answer(render.ChatOut))
    return {
        "/api/v1/chats/{chat_id}/photo": {
            "parameters": [CHAT_ID],
            "get": _get_photo(),
            "put": _photo_upload(c, "setGroupPhoto"),
            "post": _photo_upload(c, "setGroupPhotoPost"),
            "delete": op(
                "removeGroupPhoto",
                "groups",
                "Remove the group's photo (owner and admins)",
                responses={"200": ok(chat), **errors(*MANAGE_ERRORS)},
            ),
        },
        "/api/v1/chats/{chat_id}/members": {
            "parameters": [CHAT_ID],
            "post": op(
                "addMembers",
                "groups",
                "Add friends of yours to the group (owner and admins)",
                description="403 `add_only_friends` when one is not your friend, 409 `already_member`, "
                "422 `group_full` past the member limit. Without visible history they see what is "
                "written from now on.",
                requestBody=body(c.request(schema.MembersAdd)),
                responses={"200": ok(chat), **errors(*MANAGE_ERRORS)},
            ),
        },
        "/api/v1/chats/{chat_id}/members/{user_id}": {
            "parameters": [CHAT_ID, MEMBER_ID],
            "delete": op(
                "removeMember",
                "groups",
                "Remove a member, or leave (`me`, or your own user_id)",
                description="The owner removes anyone, an admin removes members. A leaving owner's place "
                "passes to the longest-standing admin, else member; the last one out deletes the group. "
                "Leaving answers without the chat, which you no longer see.",
                responses={
                    "200": ok(_success_with_chat(c), "Done; the chat as it is now, unless you left"),
                    **errors(*MANAGE_ERRORS),
                },
            ),
            "patch": op(
                "setMemberRole",
                "groups",
                "Give a member a role (the owner): admin, member, or owner (hands the group over)",
                requestBody=body(c.request(schema.RoleChange)),
                responses={"200": ok(chat), **errors(*MANAGE_ERRORS)},
            ),
        },
        "/api/v1/messages/{message_id}/readers": {
            "parameters": [MESSAGE_ID],
            "get": op(
                "messageReaders",
                "groups",
                "Who of the other members has read the message",
                responses={
                    "200": ok(one("readers", array(c.answer(render.ShortUser)))),
                    **errors(*AUTH_ERRORS, 404),
                },
            ),
        },
    }


def _success_with_chat(c: Components) -> Schema:
    return obj({"success": string(enum=["OK"]), "chat": c.answer(render.ChatOut)}, ["success"])


def _get_photo() -> Schema:
    return op(
        "getGroupPhoto",
        "groups",
        f"The group's photo: a {AVATAR_SIDE} px PNG, or a generated SVG with the title's initials",
        parameters=[
            {
                "name": "v",
                "in": "query",
                "required": False,
                "description": "A version that changes with the photo (for caching); ignored",
                "schema": string(),
            }
        ],
        responses={
            **image_responses(
                {
                    "image/png": {"schema": string(contentMediaType="image/png")},
                    "image/svg+xml": {"schema": string(contentMediaType="image/svg+xml")},
                }
            ),
            **errors(*AUTH_ERRORS, 404, 409),
        },
    )


def _photo_upload(c: Components, operation_id: str) -> Schema:
    return op(
        operation_id,
        "groups",
        "Replace the group's photo (owner and admins; multipart, field `file`)",
        description=f"Cropped to a {AVATAR_SIDE} px square PNG. At most "
        f"{c.settings.MAX_CONTENT_LENGTH} bytes.",
        requestBody=multipart(image_upload(c)),
        responses={"200": ok(one("chat", c.answer(render.ChatOut))), **errors(*MANAGE_ERRORS, 429, 503)},
    )
