"""Paths of friends: the lists, requests and their answers, removal."""

from __future__ import annotations

from .. import render, schema
from .generate import Components, Schema
from .parts import AUTH_ERRORS, CHANGE_ERRORS, array, body, errors, ok, one, op, path_param, string, success


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/users_friends": {"get": _list(c), "post": _action(c), "delete": _remove(c)},
        "/api/v1/users_friends/{user_id}": {
            "parameters": [path_param("user_id", string(), "user_id of the other user")],
            "delete": _remove_by_id(c),
        },
    }


def _named(field: str) -> Schema:
    """The other user named by ``field`` (schema._named_user takes either of two)."""
    return {"required": [field], "properties": {field: {"type": "string", "minLength": 1}}}


NAMES_THE_OTHER_USER = [_named("friend_id"), _named("user_id")]


def _list(c: Components) -> Schema:
    return op(
        "listFriends",
        "friends",
        "Friends, or friend requests",
        parameters=c.parameters(schema.FriendList),
        responses={
            "200": ok(one("friends", array(c.answer(render.FriendOut)))),
            **errors(*AUTH_ERRORS, 422),
        },
    )


def _action(c: Components) -> Schema:
    return op(
        "friendAction",
        "friends",
        "Send, accept or deny a friend request",
        description="`add` to a user who already asked you makes you friends at once.",
        requestBody=body(c.request(schema.FriendAction, anyOf=NAMES_THE_OTHER_USER)),
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 409, 422)},
    )


def _remove(c: Components) -> Schema:
    return op(
        "removeFriend",
        "friends",
        "Cancel your request, refuse theirs, or end the friendship",
        parameters=c.parameters(schema.FriendRemoval),
        requestBody=body(
            c.request(schema.FriendRemoval, anyOf=NAMES_THE_OTHER_USER),
            required=False,
            description="The same fields as the query (the body wins)",
        ),
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 422)},
    )


def _remove_by_id(c: Components) -> Schema:
    return op(
        "removeFriendById",
        "friends",
        "Cancel your request, refuse theirs, or end the friendship",
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 422)},
    )
