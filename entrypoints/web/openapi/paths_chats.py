"""Paths of chats and messages: the chat list, history, sending, editing, read marks."""

from __future__ import annotations

from .. import render, schema
from ..shapes import NOT_BLANK
from .generate import Components, Schema
from .parts import AUTH_ERRORS, CHANGE_ERRORS, array, body, errors, ok, one, op, path_id, success

CHAT_ID = path_id("chat_id", "The chat's id")
MESSAGE_ID = path_id("message_id", "The message's id")


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/chats": {"get": _list_chats(c), "post": _open_chat(c), "delete": _delete_selected(c)},
        "/api/v1/chats/{chat_id}": {
            "parameters": [CHAT_ID],
            "get": op(
                "getChat", "chats", "One chat", responses={"200": ok(_chat(c)), **errors(*AUTH_ERRORS, 404)}
            ),
            "delete": op(
                "deleteChat",
                "chats",
                "Delete a chat and its messages for every member (a group: its owner only)",
                responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404)},
            ),
            "patch": op(
                "updateGroup",
                "groups",
                "Rename a group or change whether later members see earlier messages (owner and admins)",
                requestBody=body(c.request(schema.GroupChange)),
                responses={"200": ok(_chat(c)), **errors(*CHANGE_ERRORS, 404, 409, 422)},
            ),
        },
        "/api/v1/chats/{chat_id}/messages": {
            "parameters": [CHAT_ID],
            "get": _chat_history(c),
            "post": _send(c, "sendToChat", "Send a message to the chat", _to_chat(c)),
        },
        "/api/v1/chats/{chat_id}/read": {"parameters": [CHAT_ID], "post": _mark_read(c)},
        "/api/v1/messages": {
            "get": _list_messages(c),
            "post": _send(c, "sendMessage", "Send a message to a chat or to a friend", _to_anyone(c)),
        },
        "/api/v1/messages/{message_id}": {
            "parameters": [MESSAGE_ID],
            "put": _edit(c, "editMessage"),
            "patch": _edit(c, "patchMessage"),
            "delete": _delete_message(c),
        },
    }


def _chat(c: Components) -> Schema:
    return one("chat", c.answer(render.ChatOut))


def _list_chats(c: Components) -> Schema:
    return op(
        "listChats",
        "chats",
        "Your chats (latest activity first), or one chat",
        parameters=c.parameters(schema.ChatSelect),
        responses={
            "200": ok(
                {"oneOf": [one("chats", array(c.answer(render.ChatOut))), _chat(c)]},
                "All chats, or the chat named by chat_id or chat_with",
            ),
            **errors(*AUTH_ERRORS, 404, 422),
        },
    )


def _open_chat(c: Components) -> Schema:
    return op(
        "openChat",
        "chats",
        "Get or create the 1:1 chat with a friend, or create a group",
        description="With `{user_id}`: the direct chat with that friend (201 when created now). With "
        "`{title, member_ids}`: a new group of you (its owner) and those friends of yours, 201.",
        requestBody=body({"oneOf": [c.request(schema.ChatOpen), c.request(schema.GroupCreate)]}),
        responses={
            "200": ok(_chat(c), "The existing chat"),
            "201": ok(_chat(c), "The chat, created now"),
            **errors(*CHANGE_ERRORS, 404, 422),
        },
    )


def _delete_selected(c: Components) -> Schema:
    # ChatsResource.on_delete: chat_id, else chat_with, else 422 chat_or_peer.
    either = [
        {"required": ["chat_id"], "properties": {"chat_id": {"type": "integer"}}},
        {"required": ["chat_with"], "properties": {"chat_with": {"type": "string"}}},
    ]
    return op(
        "deleteChatBySelection",
        "chats",
        "Delete a chat and its messages for both members",
        parameters=c.parameters(schema.ChatSelect),
        requestBody=body(
            c.request(schema.ChatSelect, anyOf=either),
            required=False,
            description="The same fields as the query (the body wins)",
        ),
        responses={"200": ok(success(c)), **errors(*CHANGE_ERRORS, 404, 422)},
    )


def _mark_read(c: Components) -> Schema:
    return op(
        "markRead",
        "chats",
        "Mark the chat read up to a message (a read mark never moves back)",
        requestBody=body(c.request(schema.ReadMark)),
        responses={
            "200": ok(_chat(c), "The chat with its new unread_count"),
            **errors(*CHANGE_ERRORS, 404, 422),
        },
    )


# History pages are validated: an ETag on each, 304 to If-None-Match naming it.
IF_NONE_MATCH = {
    "name": "If-None-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of a page you hold: 304 and no body while the page is unchanged for you",
    "schema": {"type": "string"},
}
ETAG = {
    "ETag": {
        "description": "The page's version as you see it; any change you could see changes it",
        "schema": {"type": "string"},
    }
}
NOT_MODIFIED = {"description": "The page is the one your If-None-Match names", "headers": ETAG}


def _chat_history(c: Components) -> Schema:
    return op(
        "chatHistory",
        "messages",
        "A page of the chat's messages, oldest first",
        parameters=[*c.parameters(schema.HistoryPage), IF_NONE_MATCH],
        responses={
            "200": ok(one("messages", array(c.answer(render.MessageOut))), headers=ETAG),
            "304": NOT_MODIFIED,
            **errors(*AUTH_ERRORS, 404, 422),
        },
    )


def _list_messages(c: Components) -> Schema:
    any_message = {"anyOf": [c.answer(render.MessageOut), c.answer(render.LatestMessageOut)]}
    return op(
        "listMessages",
        "messages",
        "History with a user or of a chat; without either, the latest message of each chat",
        parameters=[*c.parameters(schema.MessageQuery), IF_NONE_MATCH],
        responses={
            "200": ok(
                one("messages", array(any_message)),
                "Messages, oldest first; without chat_id and receiver_id each also has chat_with;"
                " a history page carries an ETag",
                headers=ETAG,
            ),
            "304": NOT_MODIFIED,
            **errors(*AUTH_ERRORS, 404, 422),
        },
    )


# policies.check_message_content: a message holds text, a sticker or files.
SOMETHING_TO_SEND = [
    {"required": ["text"], "properties": {"text": {"type": "string", "pattern": NOT_BLANK}}},
    {"required": ["sticker_id"], "properties": {"sticker_id": {"type": "integer"}}},
    {"required": ["attachment_ids"], "properties": {"attachment_ids": {"minItems": 1}}},
]


def _to_anyone(c: Components) -> Schema:
    # MessageSend names its chat by chat_id or by the receiver's user_id.
    chat_or_receiver = [
        {"required": ["chat_id"], "properties": {"chat_id": {"type": "integer"}}},
        {"required": ["receiver_id"], "properties": {"receiver_id": {"type": "string"}}},
    ]
    return c.request(schema.MessageSend, anyOf=chat_or_receiver, allOf=[{"anyOf": SOMETHING_TO_SEND}])


def _to_chat(c: Components) -> Schema:
    return c.request(
        schema.MessageSend,
        name="MessageSendToChat",
        anyOf=SOMETHING_TO_SEND,
        description="chat_id and receiver_id are ignored: the path names the chat",
    )


def _send(c: Components, operation_id: str, summary: str, message: Schema) -> Schema:
    return op(
        operation_id,
        "messages",
        summary,
        requestBody=body(message),
        responses={
            "201": ok(one("message", c.answer(render.MessageOut)), "The message"),
            **errors(*CHANGE_ERRORS, 404, 422),
        },
    )


def _edit(c: Components, operation_id: str) -> Schema:
    return op(
        operation_id,
        "messages",
        "Edit the text of your message",
        requestBody=body(c.request(schema.MessageEdit)),
        responses={
            "200": ok(one("message", c.answer(render.MessageOut)), "The edited message"),
            **errors(*CHANGE_ERRORS, 404, 409, 422),
        },
    )


def _delete_message(c: Components) -> Schema:
    tombstone = one("message", c.answer(render.MessageOut))
    tombstone["properties"] |= {"success": {"const": "OK"}}
    tombstone["required"] = ["success", "message"]
    return op(
        "deleteMessage",
        "messages",
        "Delete a message for everyone (a tombstone stays), or hide it from yourself",
        description="`for=everyone` (the default): your own message, or anyone's in a group you "
        "run; deleting a deleted message again answers the same. `for=me`: any message you can "
        "see leaves your history, unread counts and chat list, and nobody else's.",
        parameters=c.parameters(schema.MessageDelete),
        responses={
            "200": ok({"oneOf": [tombstone, success(c)]}, "The tombstone; for=me: success only"),
            **errors(*CHANGE_ERRORS, 404, 409, 422),
        },
    )
