"""JSON forms of read models, with URLs: the API's answers and the events' payloads."""

from __future__ import annotations

from typing import Any

from messenger_core.model import AttachmentView, ChatView, Event, EventType, MessageView, UserView
from messenger_core.views import attachment_data, message_data, user_data


def avatar_url(user_id: str, avatar_key: str | None) -> str:
    # The version changes with the avatar, so browsers may cache each URL for long.
    return f"/api/v1/users/{user_id}/avatar?v={(avatar_key or 'default')[:12]}"


def sticker_url(sticker_id: int) -> str:
    return f"/api/v1/stickers/{sticker_id}/image"


def attachment_url(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}"


def short_user(user: UserView) -> dict[str, Any]:
    return _with_avatar_url(user_data(user))


def full_user(user: UserView) -> dict[str, Any]:
    return short_user(user) | {
        "email": user.email,
        "phone_number": user.phone_number,
        "age": user.age,
        "city": user.city,
        "additional_inf": user.additional_inf,
        "created_date": user.created_date.isoformat(),
        "is_confirmed": user.is_confirmed,
    }


def attachment(view: AttachmentView) -> dict[str, Any]:
    return _with_attachment_urls(attachment_data(view))


def message(view: MessageView) -> dict[str, Any]:
    return _with_message_urls(message_data(view))


def chat(view: ChatView) -> dict[str, Any]:
    return {
        "id": view.id,
        "title": view.title,
        "members": [short_user(m) for m in view.members],
        "last_message": message(view.last_message) if view.last_message else None,
        "unread_count": view.unread_count,
        "last_read_message_id": view.last_read_message_id,
        "last_activity": view.last_activity.timestamp(),
    }


def event(view: Event) -> dict[str, Any]:
    data = dict(view.data)
    if "message" in data:
        data["message"] = _with_message_urls(data["message"])
    if "user" in data:
        data["user"] = _with_avatar_url(data["user"])
    return {"id": view.id, "type": view.type.value, "data": data}


EVENT_TYPES = [t.value for t in EventType]


def _with_avatar_url(user: dict[str, Any]) -> dict[str, Any]:
    return user | {"avatar": avatar_url(user["user_id"], user["avatar"])}


def _with_attachment_urls(data: dict[str, Any]) -> dict[str, Any]:
    url = attachment_url(data["id"])
    return data | {"url": url, "thumbnail_url": f"{url}/thumbnail" if data["has_thumbnail"] else None}


def _with_message_urls(data: dict[str, Any]) -> dict[str, Any]:
    sticker = data["sticker"]
    return data | {
        "sticker": None if sticker is None else {"id": sticker["id"], "url": sticker_url(sticker["id"])},
        "attachments": [_with_attachment_urls(a) for a in data["attachments"]],
    }
