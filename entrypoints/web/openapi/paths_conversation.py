"""Paths of the conversation around messages: forwards, reactions, edit history, pins,
clearing a chat for oneself."""

from __future__ import annotations

from messenger_core.limits import PINS_MAX, REACTIONS_MAX

from .. import render, schema
from .generate import Components, Schema
from .parts import AUTH_ERRORS, CHANGE_ERRORS, array, body, errors, ok, one, op, path_id, path_param, string
from .paths_chats import CHAT_ID, MESSAGE_ID

EMOJI = path_param("emoji", string(minLength=1), "One emoji, URL-encoded (e.g. %F0%9F%91%8D for 👍)")
PINNED_ID = path_id("message_id", "A message of the chat")


def paths(c: Components) -> dict[str, Schema]:
    message = one("message", c.answer(render.MessageOut))
    chat = one("chat", c.answer(render.ChatOut))
    messages = one("messages", array(c.answer(render.MessageOut)))
    return {
        "/api/v1/messages/{message_id}/forward": {
            "parameters": [MESSAGE_ID],
            "post": op(
                "forwardMessage",
                "conversation",
                "Forward a message you can see to chats you may write in",
                description="Each copy keeps the text, the sticker and the files (shared, not copied) and "
                "names where it came from in `forwarded_from`. 422 `no_such_chat` names a chat you "
                "cannot write in; 409 for a deleted or system message.",
                requestBody=body(c.request(schema.MessageForward)),
                responses={
                    "201": ok(messages, "The copies, one per chat, in the order asked"),
                    **errors(*CHANGE_ERRORS, 404, 409, 422, 429),
                },
            ),
        },
        "/api/v1/messages/{message_id}/reactions/{emoji}": {
            "parameters": [MESSAGE_ID, EMOJI],
            "put": op(
                "addReaction",
                "conversation",
                "React to a message with one emoji (again: no change)",
                description=f"422 `not_an_emoji` unless the text is one emoji; 409 `too_many_reactions` "
                f"past {REACTIONS_MAX} different emoji on the message.",
                responses={
                    "200": ok(message, "The message with its reactions"),
                    **errors(*CHANGE_ERRORS, 404, 409, 422, 429),
                },
            ),
            "delete": op(
                "removeReaction",
                "conversation",
                "Take your reaction back (one you never gave: no change)",
                responses={
                    "200": ok(message, "The message with its reactions"),
                    **errors(*CHANGE_ERRORS, 404, 409, 422),
                },
            ),
        },
        "/api/v1/messages/{message_id}/history": {
            "parameters": [MESSAGE_ID],
            "get": op(
                "editHistory",
                "conversation",
                "Every text the message has had, oldest first, the current one last",
                description="Every member sees it. A deleted message has none.",
                responses={
                    "200": ok(one("versions", array(c.answer(render.VersionOut)))),
                    **errors(*AUTH_ERRORS, 404),
                },
            ),
        },
        "/api/v1/chats/{chat_id}/pins": {
            "parameters": [CHAT_ID],
            "get": op(
                "listPins",
                "conversation",
                "The chat's pinned messages you can see, latest pinned first",
                responses={"200": ok(messages), **errors(*AUTH_ERRORS, 404)},
            ),
        },
        "/api/v1/chats/{chat_id}/pins/{message_id}": {
            "parameters": [CHAT_ID, PINNED_ID],
            "put": op(
                "pinMessage",
                "conversation",
                "Pin a message (either member of a direct chat; a group's owner and admins)",
                description=f"At most {PINS_MAX} per chat (409 `too_many_pins`); pinning again "
                "changes nothing.",
                responses={
                    "200": ok(chat, "The chat with its pinned_message"),
                    **errors(*CHANGE_ERRORS, 404, 409),
                },
            ),
            "delete": op(
                "unpinMessage",
                "conversation",
                "Unpin a message (one that is not pinned: no change)",
                responses={
                    "200": ok(chat, "The chat with its pinned_message"),
                    **errors(*CHANGE_ERRORS, 404),
                },
            ),
        },
        "/api/v1/chats/{chat_id}/clear": {
            "parameters": [CHAT_ID],
            "post": op(
                "clearChat",
                "conversation",
                "Clear the chat for yourself: everything up to now leaves your history, nobody else's",
                responses={"200": ok(chat), **errors(*CHANGE_ERRORS, 404)},
            ),
        },
    }
