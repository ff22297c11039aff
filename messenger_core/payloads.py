"""Plain (JSON-ready) payloads of read models, shared by events and the web edge.

Blob keys stay keys here; the web edge turns them into URLs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .views import (
    AttachmentView,
    ForwardView,
    MessageView,
    ReactionView,
    ReplyView,
    SystemView,
    UserView,
    VersionView,
)


def unix(moment: datetime | None) -> float | None:
    return None if moment is None else moment.timestamp()


def user_data(user: UserView) -> dict[str, Any]:
    """The short public form of a user; presence only where the viewer may see it."""
    data: dict[str, Any] = {
        "user_id": user.user_id,
        "first_name": user.first_name,
        "second_name": user.second_name,
        "avatar": user.avatar,
        "username": user.username,
        "deleted": user.deleted,
    }
    presence = user.presence
    if presence is not None:
        if presence.online is not None:
            data["online"] = presence.online
            data["last_seen"] = unix(presence.last_seen)
        elif presence.fuzzy is not None:
            data["last_seen"] = presence.fuzzy
    return data


def attachment_data(attachment: AttachmentView) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "kind": attachment.kind.value,
        "name": attachment.name,
        "size": attachment.size,
        "mime": attachment.mime,
        "width": attachment.width,
        "height": attachment.height,
        "has_thumbnail": attachment.has_thumbnail,
    }


def message_data(message: MessageView, *, shared: bool = False) -> dict[str, Any]:
    """A message; ``shared`` (in events, which every member reads alike) leaves out
    whether the reader reacted: each client knows its own reactions."""
    # Called for every message of every page: the parts most messages lack are tested
    # here rather than in a call each.
    edited = message.edited_date
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "text": message.text,
        "sticker": None if message.sticker is None else {"id": message.sticker.id},
        "attachments": [attachment_data(a) for a in message.attachments] if message.attachments else [],
        "sending_date": message.sending_date.timestamp(),
        "edited_date": None if edited is None else edited.timestamp(),
        "is_deleted": message.is_deleted,
        "is_read": message.is_read,
        "kind": message.kind.value,
        "system": None if message.system is None else system_data(message.system),
        "mentions": list(message.mentions),
        "read_count": message.read_count,
        "deleted_by": message.deleted_by,
        "reply_to": None if message.reply_to is None else reply_data(message.reply_to),
        "forwarded_from": None if message.forwarded_from is None else forward_data(message.forwarded_from),
        "reactions": [reaction_data(r, shared=shared) for r in message.reactions]
        if message.reactions
        else [],
    }


def reply_data(reply: ReplyView | None) -> dict[str, Any] | None:
    if reply is None:
        return None
    if reply.deleted:
        return {"id": reply.id, "deleted": True}
    return {
        "id": reply.id,
        "deleted": False,
        "sender_id": reply.sender_id,
        "preview": reply.preview,
        "kind": reply.kind,
    }


def forward_data(source: ForwardView | None) -> dict[str, Any] | None:
    if source is None:
        return None
    return {"user_id": source.user_id, "name": source.name, "date": unix(source.date)}


def reaction_data(reaction: ReactionView, *, shared: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "emoji": reaction.emoji,
        "count": reaction.count,
        "user_ids": list(reaction.user_ids),
    }
    if not shared:
        data["me"] = reaction.me
    return data


def version_data(version: VersionView) -> dict[str, Any]:
    return {"text": version.text, "date": unix(version.date)}


def system_data(system: SystemView | None) -> dict[str, Any] | None:
    """What a system message says happened: the action, who did it, whom it concerned,
    and its parameters (a new title, a role) — never prose: clients say it in the
    reader's language."""
    if system is None:
        return None
    return {
        "action": system.action.value,
        "actor": user_data(system.actor) if system.actor else None,
        "users": [user_data(u) for u in system.users],
        **system.params,
    }
