"""Paths of notifications: muting a chat for oneself, one's notification settings."""

from __future__ import annotations

from .. import render, schema
from .generate import Components, Schema
from .parts import AUTH_ERRORS, CHANGE_ERRORS, body, errors, ok, one, op
from .paths_chats import CHAT_ID


def paths(c: Components) -> dict[str, Schema]:
    settings = one("settings", c.answer(render.SettingsOut))
    return {
        "/api/v1/chats/{chat_id}/mute": {
            "parameters": [CHAT_ID],
            "put": op(
                "muteChat",
                "notifications",
                "Mute the chat for yourself until a time, for good, or unmute it",
                description='`until`: unix seconds, "forever" (kept as 253402300799, the end of 9999), '
                "or null to unmute. Nobody else is told; your other tabs get `chat.muted`. A muted "
                "chat's unread count stays out of the unread total and its messages do not notify "
                "(mentions still do while the setting `notify_muted_mentions` is on). 422 "
                "`not_in_future` for a time that has passed.",
                requestBody=body(c.request(schema.MuteChange)),
                responses={
                    "200": ok(one("chat", c.answer(render.ChatOut))),
                    **errors(*CHANGE_ERRORS, 404, 422),
                },
            ),
        },
        "/api/v1/settings": {
            "get": op(
                "getSettings",
                "notifications",
                "Your notification settings",
                responses={"200": ok(settings), **errors(*AUTH_ERRORS)},
            ),
            "patch": op(
                "updateSettings",
                "notifications",
                "Change your notification settings (fields left out stay as they are)",
                description="Your other tabs get `settings.updated` with the settings.",
                requestBody=body(c.request(schema.SettingsChange)),
                responses={"200": ok(settings), **errors(*CHANGE_ERRORS, 422)},
            ),
        },
    }
