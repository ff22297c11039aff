"""Paths of users: registration, search, profiles and avatars."""

from __future__ import annotations

from messenger_core import MessengerSettings
from messenger_core.model import ProfileChanges

from .. import render, schema
from .generate import Components, Schema, obj
from .parts import (
    AUTH_ERRORS,
    CHANGE_ERRORS,
    array,
    body,
    errors,
    json_content,
    multipart,
    ok,
    one,
    op,
    path_param,
    string,
    success,
)
from .responses import SET_COOKIE, image_responses

USER_ID = path_param("user_id", string(), "A user_id, or `me`")
# bootstrap leaves the avatar's side at the core's default
AVATAR_SIDE = MessengerSettings().avatar_side


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/users": {"post": _register(c), "get": _search(c)},
        "/api/v1/users/{user_id}": {
            "parameters": [USER_ID],
            "get": _get_user(c),
            "put": _profile_edit(c, "updateProfile"),
            "patch": _profile_edit(c, "patchProfile"),
            "delete": _delete_account(c),
        },
        "/api/v1/users/{user_id}/avatar": {
            "parameters": [USER_ID],
            "get": _get_avatar(),
            "put": _avatar_upload(c, "setAvatar"),
            "post": _avatar_upload(c, "setAvatarPost"),
        },
    }


def _register(c: Components) -> Schema:
    return op(
        "register",
        "users",
        "Register",
        public=True,
        requestBody=body(c.request(schema.Register)),
        responses={
            "201": {"description": "The new user"} | json_content(one("user", c.answer(render.FullUser))),
            **errors(400, 409, 413, 415, 422, 429),
        },
    )


def _search(c: Components) -> Schema:
    return op(
        "searchUsers",
        "users",
        "Search users, or (without a search field) the current user",
        description="Case-insensitive substring search in names and user_id (Cyrillic too). Without "
        "any of search_request, first_name, second_name the answer is the current user.",
        parameters=c.parameters(schema.Search),
        responses={
            "200": ok(
                {
                    "oneOf": [
                        one("user", c.answer(render.FullUser)),
                        one("users", array(c.answer(render.ShortUser))),
                    ]
                },
                "The found users, or the current user",
            ),
            **errors(*AUTH_ERRORS, 422, 429),
        },
    )


def _get_user(c: Components) -> Schema:
    return op(
        "getUser",
        "users",
        "A user: full for yourself (or `me`), short for others",
        responses={
            "200": ok(
                {"oneOf": [one("user", c.answer(render.FullUser)), one("user", c.answer(render.ShortUser))]}
            ),
            **errors(*AUTH_ERRORS, 404),
        },
    )


def _profile_edit(c: Components, operation_id: str) -> Schema:
    *some, last = schema.CLEARABLE
    changes = c.request(
        ProfileChanges,
        name="ProfileEdit",
        overlay=schema.PROFILE_CHANGES_DOCS,
        omit=frozenset({"clear"}),  # made by the structure hook, never read from the body
        empty_means_unchanged=True,
        dependentRequired={"email": ["old_password"], "password": ["old_password"]},
        description='Only the fields sent change. null or "" leaves a field as it is, except that '
        f'"" or null empties {", ".join(some)} and {last}.',
    )
    answer = obj(
        {
            "user_id": string(),
            "user": c.answer(render.FullUser),
            "access_token": string(),
            "refresh_token": string(),
        },
        ["user_id", "user"],
        dependentRequired={"access_token": ["refresh_token"], "refresh_token": ["access_token"]},
    )
    return op(
        operation_id,
        "users",
        "Edit your profile",
        description="Changing email or password needs old_password, gives you a new user_id and new tokens "
        "(also set as cookies), and revokes every older token (401 token_revoked).",
        requestBody=body(changes, required=False),
        responses={
            "200": ok(answer, "The user; with new tokens when email or password changed"),
            **errors(400, 401, 403, 409, 413, 415, 422),
        },
    )


def _delete_account(c: Components) -> Schema:
    return op(
        "deleteAccount",
        "users",
        "Delete your account (`me`)",
        description="Needs the password (under the sign-in limits). Every session ends; profile, "
        "avatar, friendships, requests, blocks and the export go; the email can register again. "
        "Your messages stay in others' chats under a tombstone (`deleted: true` on the short user) "
        "with your files, unless `delete_messages`: then they become tombstones for everyone and "
        "your files are deleted. You leave every group.",
        requestBody=body(c.request(schema.AccountDeletion)),
        responses={"200": ok(success(c), headers=SET_COOKIE), **errors(*CHANGE_ERRORS, 422, 429)},
    )


def _get_avatar() -> Schema:
    return op(
        "getAvatar",
        "users",
        f"The avatar: a {AVATAR_SIDE} px PNG, or a generated SVG with the initials",
        parameters=[
            {
                "name": "v",
                "in": "query",
                "required": False,
                "description": "A version that changes with the avatar (for caching); ignored",
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
            **errors(*AUTH_ERRORS, 404),
        },
    )


def image_upload(c: Components) -> Schema:
    """The multipart body of an avatar or a group photo (the ImageUpload component)."""
    most = c.settings.MAX_CONTENT_LENGTH
    return c.add(
        "ImageUpload",
        obj(
            {
                "file": string(
                    contentMediaType="image/*", description=f"PNG, JPEG, WebP or GIF, at most {most} bytes"
                )
            },
            ["file"],
            closed=False,
        ),
    )


def _avatar_upload(c: Components, operation_id: str) -> Schema:
    most = c.settings.MAX_CONTENT_LENGTH
    upload = image_upload(c)
    return op(
        operation_id,
        "users",
        "Replace your avatar (multipart, field `file`: PNG, JPEG, WebP or GIF)",
        description=f"Cropped to a {AVATAR_SIDE} px square PNG. At most {most} bytes.",
        requestBody=multipart(upload),
        responses={
            "200": ok(one("user", c.answer(render.FullUser)), "You, with the new avatar URL"),
            **errors(400, 401, 403, 413, 415, 422, 429, 503),
        },
    )
