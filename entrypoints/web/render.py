"""JSON forms of read models, with URLs: the API's answers and the events' payloads.

Each answer's shape is a TypedDict, checked by mypy where it is built; the OpenAPI
document is generated from the same TypedDicts (descriptions and what a type cannot say
ride on the fields as ``Annotated[T, doc(…)]``). Plain dicts rather than attrs records:
a history page renders fifty messages per request, and building them as dicts costs
nothing past the dict itself.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict, cast

from messenger_core.model import (
    AttachmentKind,
    ChatKind,
    Event,
    EventType,
    MemberRole,
    MessageKind,
    PrivacySettings,
    Signal,
    SystemAction,
    Visibility,
)
from messenger_core.payloads import attachment_data, message_data, user_data, version_data
from messenger_core.policies import PHONE_EXAMPLE
from messenger_core.views import (
    AttachmentView,
    BlockView,
    ChatView,
    ExportView,
    LatestMessage,
    MessageView,
    NotificationSettings,
    SearchPage,
    SessionView,
    StickerPackView,
    UserView,
    VersionView,
)

from .shapes import doc

UnixTime = Annotated[float, doc("Unix time, seconds")]


FUZZY_LAST_SEEN = ["recently", "within_week", "long_ago"]


class _ShortUserFields(TypedDict):
    user_id: Annotated[str, doc("The public id (alternative_id); it changes when email or password does")]
    first_name: Annotated[str, doc("Empty for a deleted account")]
    second_name: Annotated[str, doc("Empty for a deleted account")]
    avatar: Annotated[str, doc("URL of the avatar image (a generated SVG until one is uploaded)")]
    username: Annotated[str | None, doc("The public username, which never rotates; null without one")]
    deleted: Annotated[bool, doc('A deleted account: clients show "Deleted account"')]


# The optional keys through total=False (as errors.ErrorDetail explains).
class ShortUser(_ShortUserFields, total=False):
    online: Annotated[bool, doc("Polling for events now (only where the privacy rules show it)")]
    last_seen: Annotated[
        Any,  # the document says what: a number, a word or null
        doc(
            "When last online (unix seconds, to the minute; null: never), where the privacy rules "
            "show it; where they hide it, a fuzzy word: recently (3 days), within_week or long_ago",
            oneOf=[{"type": "number"}, {"type": "string", "enum": FUZZY_LAST_SEEN}, {"type": "null"}],
        ),
    ]


class FullUser(ShortUser):
    email: str
    phone_number: Annotated[str | None, doc(f"International form, e.g. {PHONE_EXAMPLE}")]
    age: int | None
    city: str | None
    additional_inf: str | None
    created_date: Annotated[str, doc("ISO 8601 with time zone", format="date-time")]
    is_confirmed: bool


class FriendOut(ShortUser):
    is_accepted: bool


class AttachmentOut(TypedDict):
    id: int
    kind: Annotated[str, doc(enum=[k.value for k in AttachmentKind])]
    name: str
    size: Annotated[int, doc(minimum=0)]
    mime: Annotated[str, doc("Sniffed from the content, never taken from the client")]
    width: int | None
    height: int | None
    has_thumbnail: bool
    url: str
    thumbnail_url: str | None


class StickerRef(TypedDict):
    id: int
    url: str


class SystemOut(TypedDict):
    action: Annotated[str, doc("What happened to the group", enum=[a.value for a in SystemAction])]
    actor: Annotated[ShortUser | None, doc("Who did it")]
    users: Annotated[list[ShortUser], doc("Whom it concerns (added, removed, who left, a new role)")]


class SystemDetails(SystemOut, total=False):
    title: Annotated[str, doc("group_created, title_changed: the title")]
    role: Annotated[str, doc("role_changed: the new role", enum=[r.value for r in MemberRole])]
    history_visible: Annotated[bool, doc("history_visibility_changed: the new setting")]
    removed: Annotated[bool, doc("photo_changed: the photo was removed")]


class ReplyOut(TypedDict):
    id: Annotated[int, doc("The message it answers")]
    deleted: Annotated[bool, doc("The original is gone (deleted, or hidden by you): only id is left")]


class ReplyDetails(ReplyOut, total=False):
    sender_id: Annotated[str | None, doc("user_id of the original's author")]
    preview: Annotated[str, doc("The original's first characters, or its file's name, as when replied to")]
    kind: Annotated[
        str, doc("What the original held", enum=["text", "sticker", *(k.value for k in AttachmentKind)])
    ]


class ForwardOut(TypedDict):
    user_id: Annotated[str | None, doc("user_id of the first author; null when they keep it out of forwards")]
    name: Annotated[str, doc("The first author's name when it was first forwarded")]
    date: Annotated[UnixTime, doc("When the original was sent")]


class ReactionOut(TypedDict):
    emoji: str
    count: Annotated[int, doc("How many members reacted so", minimum=1)]
    user_ids: Annotated[list[str], doc("user_ids of the first reactors, at most 10, earliest first")]


class ReactionDetails(ReactionOut, total=False):
    me: Annotated[bool, doc("Whether you reacted so (absent in events, which everyone reads alike)")]


class VersionOut(TypedDict):
    text: str
    date: Annotated[UnixTime, doc("When this text was written")]


class MessageOut(TypedDict):
    id: int
    chat_id: int
    sender_id: Annotated[str, doc("user_id of the author (of a system message: who did it)")]
    text: str | None
    sticker: StickerRef | None
    attachments: list[AttachmentOut]
    sending_date: UnixTime
    edited_date: UnixTime | None
    is_deleted: bool
    is_read: Annotated[bool, doc("Read by at least one other member of the chat")]
    kind: Annotated[str, doc("user, or system: a change of the group", enum=[k.value for k in MessageKind])]
    system: Annotated[
        SystemDetails | None, doc("What a system message says happened, as data for the reader's language")
    ]
    mentions: Annotated[list[str], doc("user_ids of the members it mentions")]
    read_count: Annotated[int, doc("How many other members have read it", minimum=0)]
    deleted_by: Annotated[str | None, doc("user_id of the group admin who deleted it, if not its author")]
    reply_to: Annotated[ReplyDetails | None, doc("What it answers, as it was when answered")]
    forwarded_from: Annotated[ForwardOut | None, doc("Where a forwarded copy comes from")]
    reactions: Annotated[list[ReactionDetails], doc("Reactions by emoji, in the order each emoji first came")]


class SnippetOut(TypedDict):
    text: Annotated[str, doc("The message's text (or a file's name) around the match")]
    highlights: Annotated[
        list[list[int]], doc("Where the match is in `text`: [start, end] offsets, in code points")
    ]


class FoundMessageOut(MessageOut):
    snippet: SnippetOut


class LatestMessageOut(MessageOut):
    chat_with: Annotated[str | None, doc("user_id of the other member")]


class MemberOut(ShortUser):
    role: Annotated[str, doc(enum=[r.value for r in MemberRole])]


class ChatOut(TypedDict):
    id: int
    kind: Annotated[str, doc("direct (two friends) or group", enum=[k.value for k in ChatKind])]
    title: Annotated[str, doc("A group's title; a direct chat's: the other member's name")]
    photo: Annotated[str | None, doc("URL of a group's photo, null without one")]
    members: list[MemberOut]
    member_count: Annotated[int, doc(minimum=1)]
    my_role: Annotated[str, doc("Your role (direct chats: member)", enum=[r.value for r in MemberRole])]
    history_visible: Annotated[bool, doc("Whether members who join later see earlier messages")]
    last_message: MessageOut | None
    unread_count: Annotated[int, doc(minimum=0)]
    unread_mentions: Annotated[int, doc("Unread messages that mention you", minimum=0)]
    last_read_message_id: Annotated[int, doc(minimum=0)]
    last_activity: UnixTime
    can_send: Annotated[bool, doc("Whether you may send here (a direct chat needs the friendship, no block)")]
    cannot_send: Annotated[str | None, doc("Why not: no_longer_friends or blocked (null when you may)")]
    pinned_message: Annotated[MessageOut | None, doc("The latest pinned message you can see")]
    muted_until: Annotated[
        UnixTime | None,
        doc(
            "Your mute of the chat: no notifications until then (253402300799, the end of 9999: "
            "forever; a time past or null: not muted)"
        ),
    ]


class SettingsOut(TypedDict):
    notify_preview: Annotated[bool, doc("Notifications show the message's text")]
    notify_muted_mentions: Annotated[bool, doc("A mention of you in a muted chat still notifies")]


class SearchPageOut(TypedDict):
    messages: list[FoundMessageOut]
    next: Annotated[int | None, doc("Pass as `cursor` for the next page; null on the last")]


class StickerPackOut(TypedDict):
    id: int
    title: str
    stickers: list[StickerRef]


class EventOut(TypedDict):
    id: Annotated[int, doc("The event's place in the stream: the next cursor", minimum=1)]
    type: Annotated[str, doc(enum=[t.value for t in EventType])]
    data: dict[str, Any]


class SignalOut(TypedDict):
    type: Annotated[str, doc("chat.typing", enum=["chat.typing"])]
    data: Annotated[dict[str, Any], doc("chat.typing: the chat_id and the user_id of who types")]


class SessionOut(TypedDict):
    id: int
    device: Annotated[str, doc("Browser and system from the User-Agent (empty when unknown)")]
    ip: Annotated[str | None, doc("The client address it signed in from")]
    created_date: UnixTime
    last_used_date: Annotated[float, doc("Unix time, seconds; updated at most once a minute")]
    current: Annotated[bool, doc("The session of the token asking")]


class BlockOut(ShortUser):
    blocked_date: UnixTime


class PrivacyOut(TypedDict):
    last_seen: Annotated[
        str, doc("Who sees your last seen and online status", enum=[v.value for v in Visibility])
    ]
    read_receipts: Annotated[bool, doc("Whether you send read receipts in direct chats")]
    typing: Annotated[bool, doc("Whether you send typing signals")]
    forward_link: Annotated[bool, doc("Whether forwarded copies of your messages link to you")]


class ExportOut(TypedDict):
    state: Annotated[str, doc("pending while it is built, then ready", enum=["pending", "ready"])]
    created_date: UnixTime
    ready_date: UnixTime | None
    size: Annotated[int | None, doc("Bytes of the ZIP, once ready", minimum=0)]
    url: Annotated[str, doc("Where the ZIP is downloaded from, once ready")]


def avatar_url(user_id: str, avatar_key: str | None) -> str:
    # The version changes with the avatar, so browsers may cache each URL for long.
    return f"/api/v1/users/{user_id}/avatar?v={(avatar_key or 'default')[:12]}"


def sticker_url(sticker_id: int) -> str:
    return f"/api/v1/stickers/{sticker_id}/image"


def attachment_url(attachment_id: int) -> str:
    return f"/api/v1/attachments/{attachment_id}"


def short_user(user: UserView) -> ShortUser:
    return _with_avatar_url(user_data(user))


def full_user(user: UserView) -> FullUser:
    return {
        **short_user(user),
        "email": user.email,
        "phone_number": user.phone_number,
        "age": user.age,
        "city": user.city,
        "additional_inf": user.additional_inf,
        "created_date": user.created_date.isoformat(),
        "is_confirmed": user.is_confirmed,
    }


def friend(user: UserView, is_accepted: bool) -> FriendOut:
    return {**short_user(user), "is_accepted": is_accepted}


def attachment(view: AttachmentView) -> AttachmentOut:
    return _with_attachment_urls(attachment_data(view))


def message(view: MessageView) -> MessageOut:
    return _with_message_urls(message_data(view))


def search_page(page: SearchPage) -> SearchPageOut:
    return {
        "messages": [
            {
                **message(hit.message),
                "snippet": {
                    "text": hit.snippet.text,
                    "highlights": [list(h) for h in hit.snippet.highlights],
                },
            }
            for hit in page.messages
        ],
        "next": page.next,
    }


def latest_message(latest: LatestMessage) -> LatestMessageOut:
    return {**message(latest.message), "chat_with": latest.chat_with}


def group_photo_url(chat_id: int, photo_key: str | None) -> str | None:
    return None if photo_key is None else f"/api/v1/chats/{chat_id}/photo?v={photo_key[:12]}"


def chat(view: ChatView) -> ChatOut:
    return {
        "id": view.id,
        "kind": view.kind.value,
        "title": view.title,
        "photo": group_photo_url(view.id, view.photo),
        "members": [{**short_user(m.user), "role": m.role.value} for m in view.members],
        "member_count": view.member_count,
        "my_role": view.my_role.value,
        "history_visible": view.history_visible,
        "last_message": message(view.last_message) if view.last_message else None,
        "unread_count": view.unread_count,
        "unread_mentions": view.unread_mentions,
        "last_read_message_id": view.last_read_message_id,
        "last_activity": view.last_activity.timestamp(),
        "can_send": view.cannot_send is None,
        "cannot_send": view.cannot_send,
        "pinned_message": message(view.pinned_message) if view.pinned_message else None,
        "muted_until": view.muted_until.timestamp() if view.muted_until else None,
    }


def notification_settings(view: NotificationSettings) -> SettingsOut:
    return {"notify_preview": view.notify_preview, "notify_muted_mentions": view.notify_muted_mentions}


def versions(views: list[VersionView]) -> list[VersionOut]:
    return [cast(VersionOut, version_data(v)) for v in views]


def readers(users: list[UserView]) -> list[ShortUser]:
    return [short_user(u) for u in users]


def sticker_pack(pack: StickerPackView) -> StickerPackOut:
    return {
        "id": pack.id,
        "title": pack.title,
        "stickers": [{"id": s.id, "url": sticker_url(s.id)} for s in pack.stickers],
    }


def event(view: Event) -> EventOut:
    data = dict(view.data)
    if "message" in data:
        data["message"] = _with_message_urls(dict(data["message"]))  # stored data stays as it is
    if "user" in data:
        data["user"] = _with_avatar_url(data["user"])
    return {"id": view.id, "type": view.type.value, "data": data}


EVENT_TYPES = [t.value for t in EventType]


def signal(view: Signal) -> SignalOut:
    return {"type": view.type, "data": dict(view.data)}


def session(view: SessionView) -> SessionOut:
    return {
        "id": view.id,
        "device": view.device,
        "ip": view.ip,
        "created_date": view.created_date.timestamp(),
        "last_used_date": view.last_used_date.timestamp(),
        "current": view.current,
    }


def block(view: BlockView) -> BlockOut:
    return {**short_user(view.user), "blocked_date": view.since.timestamp()}


def privacy(settings: PrivacySettings) -> PrivacyOut:
    return {
        "last_seen": settings.last_seen.value,
        "read_receipts": settings.read_receipts,
        "typing": settings.typing,
        "forward_link": settings.forward_link,
    }


EXPORT_URL = "/api/v1/users/me/export?download=1"


def export(view: ExportView) -> ExportOut:
    return {
        "state": view.state.value,
        "created_date": view.created_date.timestamp(),
        "ready_date": view.ready_date.timestamp() if view.ready_date else None,
        "size": view.size,
        "url": EXPORT_URL,
    }


def _with_avatar_url(user: dict[str, Any]) -> ShortUser:
    short: ShortUser = {
        "user_id": user["user_id"],
        "first_name": user["first_name"],
        "second_name": user["second_name"],
        "avatar": avatar_url(user["user_id"], user["avatar"]),
        # Payloads written before usernames and tombstones lack these.
        "username": user.get("username"),
        "deleted": bool(user.get("deleted", False)),
    }
    if "online" in user:
        short["online"] = user["online"]
    if "last_seen" in user:
        short["last_seen"] = user["last_seen"]
    return short


# Payloads (messenger_core.payloads) hold every field of their answer but the URLs.


def _with_attachment_urls(data: dict[str, Any]) -> AttachmentOut:
    url = attachment_url(data["id"])
    thumbnail = f"{url}/thumbnail" if data["has_thumbnail"] else None
    return cast(AttachmentOut, {**data, "url": url, "thumbnail_url": thumbnail})


def _with_message_urls(data: dict[str, Any]) -> MessageOut:
    """``data`` (a dict of its own: its top-level values are replaced, never changed)
    with the URLs of its sticker, files and the avatars its system line names."""
    sticker = data["sticker"]
    if sticker is not None:
        data["sticker"] = {"id": sticker["id"], "url": sticker_url(sticker["id"])}
    if data["attachments"]:
        data["attachments"] = [_with_attachment_urls(a) for a in data["attachments"]]
    system = data.get("system")
    if system is not None:
        actor = system["actor"]
        system = {
            **system,
            "actor": None if actor is None else _with_avatar_url(actor),
            "users": [_with_avatar_url(u) for u in system["users"]],
        }
    data["system"] = system
    return cast(MessageOut, data)
