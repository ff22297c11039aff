"""The long-poll path and the events it answers with, one schema per group of types.

Every event type is listed here with the shape of its data; the document does not build
while a type of ``EventType`` is missing.
"""

from __future__ import annotations

from collections.abc import Callable

from messenger_core.model import EventType, MemberRole

from .. import render, schema
from .generate import Components, Schema, obj, ref
from .parts import AUTH_ERRORS, array, errors, ok, one, op, string


def _message(c: Components) -> Schema:
    return one("message", c.answer(render.MessageOut))


def _chat_read(c: Components) -> Schema:
    return obj(
        {"chat_id": INTEGER, "user_id": string(), "message_id": INTEGER}, ["chat_id", "user_id", "message_id"]
    )


def _chat_id(c: Components) -> Schema:
    return one("chat_id", INTEGER)


def _user(c: Components) -> Schema:
    return one("user", c.answer(render.ShortUser))


def _user_id(c: Components) -> Schema:
    return one("user_id", string())


def _chat_changed(c: Components) -> Schema:
    return obj(
        {
            "chat_id": INTEGER,
            "title": string(),
            "history_visible": {"type": "boolean"},
            "photo": {"type": "boolean"},
        },
        ["chat_id", "title", "history_visible", "photo"],
    )


def _members_added(c: Components) -> Schema:
    return obj(
        {"chat_id": INTEGER, "user_ids": array(string()), "by": string()}, ["chat_id", "user_ids", "by"]
    )


def _member_removed(c: Components) -> Schema:
    return obj(
        {"chat_id": INTEGER, "user_id": {"type": ["string", "null"]}, "by": string()},
        ["chat_id", "user_id", "by"],
    )


def _role_changed(c: Components) -> Schema:
    role = string(enum=[r.value for r in MemberRole])
    return obj({"chat_id": INTEGER, "user_id": string(), "role": role}, ["chat_id", "user_id", "role"])


def _export_ready(c: Components) -> Schema:
    return obj(
        {"size": {"type": "integer", "minimum": 0}, "ready_date": {"type": "number"}}, ["size", "ready_date"]
    )


def _reaction(c: Components) -> Schema:
    fields = {
        "chat_id": INTEGER,
        "message_id": INTEGER,
        "user_id": string(),
        "emoji": string(),
        "added": {"type": "boolean"},
        "reactions": array(c.answer(render.ReactionOut)),
    }
    return obj(fields, list(fields))


def _message_hidden(c: Components) -> Schema:
    return obj({"chat_id": INTEGER, "message_id": INTEGER}, ["chat_id", "message_id"])


def _pinned(c: Components) -> Schema:
    fields = {"chat_id": INTEGER, "message_id": INTEGER, "pinned": {"type": "boolean"}, "by": string()}
    return obj(fields, list(fields))


def _cleared(c: Components) -> Schema:
    return obj({"chat_id": INTEGER, "through_message_id": INTEGER}, ["chat_id", "through_message_id"])


def _muted(c: Components) -> Schema:
    until = {"type": ["number", "null"], "description": "Unix seconds (253402300799: forever); null: unmuted"}
    return obj({"chat_id": INTEGER, "muted_until": until}, ["chat_id", "muted_until"])


def _settings(c: Components) -> Schema:
    return c.answer(render.SettingsOut)


INTEGER: Schema = {"type": "integer"}
E = EventType
# group name → the types whose data has one shape, and that shape
_GROUPS: dict[str, tuple[tuple[EventType, ...], Callable[[Components], Schema]]] = {
    "MessageEvent": ((E.MESSAGE_NEW, E.MESSAGE_EDITED, E.MESSAGE_DELETED), _message),
    "ChatReadEvent": ((E.CHAT_READ,), _chat_read),
    "ChatDeletedEvent": ((E.CHAT_DELETED, E.CHAT_CREATED), _chat_id),
    "ChatUpdatedEvent": ((E.CHAT_UPDATED,), _chat_changed),
    "MembersAddedEvent": ((E.CHAT_MEMBER_ADDED,), _members_added),
    "MemberRemovedEvent": ((E.CHAT_MEMBER_REMOVED,), _member_removed),
    "RoleChangedEvent": ((E.CHAT_ROLE_CHANGED,), _role_changed),
    "ReactionEvent": ((E.MESSAGE_REACTION,), _reaction),
    "MessageHiddenEvent": ((E.MESSAGE_HIDDEN,), _message_hidden),
    "PinnedEvent": ((E.CHAT_PINNED,), _pinned),
    "ChatClearedEvent": ((E.CHAT_CLEARED,), _cleared),
    "ChatMutedEvent": ((E.CHAT_MUTED,), _muted),
    "SettingsUpdatedEvent": ((E.SETTINGS_UPDATED,), _settings),
    "UserEvent": ((E.FRIEND_REQUEST, E.FRIEND_ACCEPTED, E.USER_UPDATED), _user),
    "UserIdEvent": ((E.FRIEND_DENIED, E.FRIEND_CANCELLED, E.FRIEND_REMOVED), _user_id),
    "ExportReadyEvent": ((E.EXPORT_READY,), _export_ready),
}


def documented_event_types() -> set[EventType]:
    return {t for types, _ in _GROUPS.values() for t in types}


def paths(c: Components) -> dict[str, Schema]:
    missing = set(EventType) - documented_event_types()
    if missing:
        raise LookupError(f"event types without a documented payload: {sorted(t.value for t in missing)}")
    return {"/api/v1/events": {"get": _events(c)}}


def _event(c: Components) -> Schema:
    """The Event component: one of the groups, each an EventOut with its types and data."""
    for name, (types, data) in _GROUPS.items():
        envelope = c.answer_schema(render.EventOut)
        envelope["properties"] = envelope["properties"] | {
            "type": envelope["properties"]["type"] | {"enum": [t.value for t in types]},
            "data": data(c),
        }
        c.add(name, envelope)
    return c.add("Event", {"oneOf": [ref(name) for name in _GROUPS]})


def _events(c: Components) -> Schema:
    busy = {
        "X-Long-Poll": {
            "description": "`busy` when the answer did not wait because too many requests were waiting",
            "schema": {"type": "string", "enum": ["busy"]},
        }
    }
    cursor = {"type": "integer", "minimum": 0}
    return op(
        "events",
        "events",
        "Long-poll for your events after a cursor",
        description="Without `since`: no events and the current cursor. With it: the events after "
        f"it, waiting up to `timeout` seconds (0 to {c.settings.LONG_POLL_MAX_TIMEOUT:g}) for the "
        "first. When too many requests already wait, the answer comes at once with the "
        "header X-Long-Poll: busy. 410 means the cursor is unknown or too old: reload. "
        "`signals` are ephemeral events (chat.typing), never stored: those after `signals_since` "
        "(none without it) that have not expired; pass the answer's `signal_cursor` back. While "
        "a request waits, you are online.",
        parameters=c.parameters(schema.EventsQuery),
        responses={
            "200": ok(
                obj(
                    {
                        "events": array(_event(c)),
                        "cursor": cursor,
                        "signals": array(c.answer(render.SignalOut)),
                        "signal_cursor": {"type": ["integer", "null"], "minimum": 0},
                    },
                    ["events", "cursor", "signals", "signal_cursor"],
                ),
                "The events, oldest first, and the cursor for the next request",
                headers=busy,
            ),
            **errors(*AUTH_ERRORS, 410, 422),
        },
    )
