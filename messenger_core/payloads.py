"""Plain (JSON-ready) payloads of read models, shared by events and the web edge.

Blob keys stay keys here; the web edge turns them into URLs.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .read_models import AttachmentView, MessageView, SystemView, UserView


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


def message_data(message: MessageView) -> dict[str, Any]:
    return {
        "id": message.id,
        "chat_id": message.chat_id,
        "sender_id": message.sender_id,
        "text": message.text,
        "sticker": None if message.sticker is None else {"id": message.sticker.id},
        "attachments": [attachment_data(a) for a in message.attachments],
        "sending_date": unix(message.sending_date),
        "edited_date": unix(message.edited_date),
        "is_deleted": message.is_deleted,
        "is_read": message.is_read,
        "kind": message.kind.value,
        "system": system_data(message.system),
        "mentions": list(message.mentions),
        "read_count": message.read_count,
        "deleted_by": message.deleted_by,
    }


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
