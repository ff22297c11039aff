"""Read models: the frozen views use cases return, and their assembly from entities —
the one place that decides what a view holds.

Use cases call the assembly functions inside their unit of work; nothing here writes.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from .model import (
    Actor,
    Attachment,
    AttachmentKind,
    Chat,
    Event,
    Friendship,
    Message,
    Sticker,
    StickerPack,
    User,
)
from .ports import UnitOfWork


@attrs.frozen(kw_only=True)
class UserView:
    id: int
    user_id: str  # the public alternative_id
    first_name: str
    second_name: str
    avatar: str | None
    email: str
    phone_number: str | None
    age: int | None
    city: str | None
    additional_inf: str | None
    created_date: datetime
    is_confirmed: bool


@attrs.frozen(kw_only=True)
class FriendView:
    user: UserView
    is_accepted: bool
    since: datetime


@attrs.frozen(kw_only=True)
class AttachmentView:
    id: int
    kind: AttachmentKind
    name: str
    size: int
    mime: str
    width: int | None = None
    height: int | None = None
    has_thumbnail: bool = False


@attrs.frozen(kw_only=True)
class StickerView:
    id: int
    pack_id: int
    mime: str


@attrs.frozen(kw_only=True)
class MessageView:
    id: int
    chat_id: int
    sender_id: str  # alternative_id of the sender
    text: str | None
    sticker: StickerView | None
    attachments: tuple[AttachmentView, ...]
    sending_date: datetime
    edited_date: datetime | None
    is_deleted: bool
    is_read: bool  # read by every other participant


@attrs.frozen(kw_only=True)
class ChatView:
    id: int
    title: str
    members: tuple[UserView, ...]
    last_message: MessageView | None
    unread_count: int
    last_read_message_id: int
    last_activity: datetime

    def peer(self, me: str) -> UserView | None:
        """The other member of a 1:1 chat."""
        return next((m for m in self.members if m.user_id != me), None)


@attrs.frozen(kw_only=True)
class LatestMessage:
    """The last message of a chat, with the other member of a direct chat."""

    message: MessageView
    chat_with: str | None


@attrs.frozen(kw_only=True)
class StickerPackView:
    id: int
    title: str
    stickers: tuple[StickerView, ...]


@attrs.frozen(kw_only=True)
class EventBatch:
    events: tuple[Event, ...]
    cursor: int


# --- assembly ---------------------------------------------------------------------


def user_view(user: User) -> UserView:
    return UserView(
        id=user.id,
        user_id=user.alternative_id,
        first_name=user.first_name,
        second_name=user.second_name,
        avatar=user.avatar,
        email=user.email,
        phone_number=user.phone_number,
        age=user.age,
        city=user.city,
        additional_inf=user.additional_inf,
        created_date=user.created_date,
        is_confirmed=user.is_confirmed,
    )


def friend_view(row: Friendship, user: User) -> FriendView:
    return FriendView(user=user_view(user), is_accepted=row.is_accepted, since=row.created_date)


def sticker_view(sticker: Sticker) -> StickerView:
    return StickerView(id=sticker.id, pack_id=sticker.pack_id, mime=sticker.mime)


def sticker_pack_view(pack: StickerPack) -> StickerPackView:
    return StickerPackView(
        id=pack.id, title=pack.title, stickers=tuple(sticker_view(s) for s in pack.stickers)
    )


def attachment_view(attachment: Attachment) -> AttachmentView:
    return AttachmentView(
        id=attachment.id,
        kind=attachment.kind,
        name=attachment.name,
        size=attachment.size,
        mime=attachment.mime,
        width=attachment.width,
        height=attachment.height,
        has_thumbnail=attachment.thumbnail_key is not None,
    )


def new_message_view(
    message: Message, sender: Actor, sticker: Sticker | None, files: list[Attachment]
) -> MessageView:
    """The view of a message just sent, from what the send holds: nobody else can have
    read it yet, since read marks only point at existing messages."""
    return MessageView(
        id=message.id,
        chat_id=message.chat_id,
        sender_id=sender.alternative_id,
        text=message.text,
        sticker=sticker_view(sticker) if sticker else None,
        attachments=tuple(attachment_view(a) for a in files),
        sending_date=message.sending_date,
        edited_date=None,
        is_deleted=False,
        is_read=False,
    )


def message_views(uow: UnitOfWork, chat_id: int, messages: list[Message]) -> list[MessageView]:
    """Views of messages of one chat, with senders, stickers, files and read state
    fetched once for the whole list."""
    if not messages:
        return []
    members = uow.chats.members(chat_id)
    senders = uow.users.get_many({m.sender_id for m in messages})
    attachments = uow.attachments.for_messages(m.id for m in messages)
    stickers: dict[int, Sticker | None] = {}
    for message in messages:
        if message.sticker_id is not None and message.sticker_id not in stickers:
            stickers[message.sticker_id] = uow.stickers.get_sticker(message.sticker_id)
    # Per sender, computed once: its public id, and how far every other member has
    # read (a message is read when all of them have read past it).
    sender_ids = {m.sender_id for m in messages}
    public_ids = {i: senders[i].alternative_id if i in senders else "" for i in sender_ids}
    read_up_to = {
        i: min((m.last_read_message_id for m in members if m.user_id != i), default=-1) for i in sender_ids
    }
    views = []
    for message in messages:
        sticker = stickers.get(message.sticker_id) if message.sticker_id is not None else None
        files = attachments.get(message.id)
        views.append(
            MessageView(
                id=message.id,
                chat_id=message.chat_id,
                sender_id=public_ids[message.sender_id],
                text=message.text,
                sticker=sticker_view(sticker) if sticker else None,
                attachments=tuple(attachment_view(a) for a in files) if files else (),
                sending_date=message.sending_date,
                edited_date=message.edited_date,
                is_deleted=message.is_deleted,
                is_read=read_up_to[message.sender_id] >= message.id,
            )
        )
    return views


def chat_view(uow: UnitOfWork, actor: Actor, chat: Chat) -> ChatView:
    """The chat as ``actor`` sees it: members, last message, unread count, read mark."""
    members = uow.chats.members(chat.id)
    users = uow.users.get_many(m.user_id for m in members)
    mine = next((m for m in members if m.user_id == actor.id), None)
    last_read = mine.last_read_message_id if mine else 0
    last = uow.messages.get(chat.last_message_id) if chat.last_message_id else None
    member_views = tuple(user_view(users[m.user_id]) for m in members if m.user_id in users)
    others = [v for v in member_views if v.id != actor.id]
    return ChatView(
        id=chat.id,
        title=", ".join(f"{u.first_name} {u.second_name}" for u in others) or "—",
        members=member_views,
        last_message=message_views(uow, chat.id, [last])[0] if last else None,
        unread_count=uow.messages.count_unread(chat.id, actor.id, last_read),
        last_read_message_id=last_read,
        last_activity=chat.last_activity,
    )
