"""Views: the frozen values use cases return — what a client may see of users, chats,
messages and the rest. ``read_models`` assembles them from entities."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import attrs

from .model import (
    Attachment,
    AttachmentKind,
    ChatKind,
    Event,
    ExportState,
    MemberRole,
    MessageKind,
    Signal,
    Sticker,
    StickerPack,
    SystemAction,
    User,
)


@attrs.frozen(kw_only=True)
class PresenceView:
    """What a viewer may know of someone's presence: exactly (``online`` and the minute
    last seen), only a fuzzy word (``policies.fuzzy_last_seen``), or nothing at all."""

    online: bool | None = None  # None: not shown
    last_seen: datetime | None = None  # shown with ``online``; None: never seen
    fuzzy: str | None = None  # recently, within_week, long_ago: when the exact time is hidden


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
    username: str | None = None
    deleted: bool = False  # a tombstone: clients say "Удалённый аккаунт"
    presence: PresenceView | None = None  # None where presence is not shown


@attrs.frozen(kw_only=True)
class NotificationSettings:
    """How a user's notifications behave: their own, shown to nobody else."""

    notify_preview: bool  # a notification shows the message's text
    notify_muted_mentions: bool  # a mention in a muted chat still notifies


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
class SystemView:
    """What a system message says happened, with the people it names."""

    action: SystemAction
    actor: UserView | None
    users: tuple[UserView, ...] = ()
    params: Mapping[str, Any] = attrs.field(factory=dict)  # title, role, history_visible


@attrs.frozen(kw_only=True)
class ReplyView:
    """What a reply quotes, as it was when the reply was sent; only ``id`` and
    ``deleted`` once the original is gone (deleted, or hidden by the reader)."""

    id: int
    deleted: bool = False
    sender_id: str | None = None  # alternative_id of the original's sender
    preview: str | None = None  # the original's first characters, or a file's name
    kind: str | None = None  # "text", "sticker", or an attachment kind ("photo", "file", …)


@attrs.frozen(kw_only=True)
class ForwardView:
    """Where a forwarded message came from: its first author (None when they don't let
    forwards link to them, or are gone), their name and when they wrote it."""

    user_id: str | None
    name: str
    date: datetime


@attrs.frozen(kw_only=True)
class ReactionView:
    emoji: str
    count: int
    user_ids: tuple[str, ...]  # the first reactors (alternative ids), earliest first
    me: bool  # whether the reader reacted so (always False in events: see payloads)


@attrs.frozen(kw_only=True)
class VersionView:
    text: str
    date: datetime


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
    is_read: bool  # read by at least one other member
    kind: MessageKind = MessageKind.USER
    system: SystemView | None = None
    mentions: tuple[str, ...] = ()  # alternative_ids
    read_count: int = 0  # how many other members have read it
    deleted_by: str | None = None  # alternative_id of the moderator who deleted it
    reply_to: ReplyView | None = None
    forwarded_from: ForwardView | None = None
    reactions: tuple[ReactionView, ...] = ()


@attrs.frozen(kw_only=True)
class HistoryPage:
    """A page of a chat as its reader sees it, with ``chat_version``: the chat's newest
    own event (a pin, a reaction, an edit…), which changes even when the page's messages
    don't (a pin). Together they are what a validator of the page must cover."""

    messages: tuple[MessageView, ...]
    chat_version: int


@attrs.frozen(kw_only=True)
class Snippet:
    """A found message's text around its match, and where the match is in it."""

    text: str
    highlights: tuple[tuple[int, int], ...]  # (start, end) offsets into ``text``


@attrs.frozen(kw_only=True)
class FoundMessage:
    message: MessageView
    snippet: Snippet


@attrs.frozen(kw_only=True)
class SearchPage:
    messages: tuple[FoundMessage, ...]
    next: int | None  # the cursor of the next page, None on the last


@attrs.frozen(kw_only=True)
class MemberView:
    user: UserView
    role: MemberRole


@attrs.frozen(kw_only=True)
class ChatView:
    id: int
    kind: ChatKind
    title: str  # a group's title; a direct chat's: the other person's name
    photo: str | None  # blob key of a group's photo
    members: tuple[MemberView, ...]
    last_message: MessageView | None
    unread_count: int
    unread_mentions: int
    last_read_message_id: int
    last_activity: datetime
    my_role: MemberRole
    history_visible: bool
    # Whether you may send here; if not, why: no_longer_friends or blocked (direct chats).
    cannot_send: str | None = None
    pinned_message: MessageView | None = None  # the latest pin the reader may see
    # The reader's mute: notifications are off until then (model.MUTED_FOREVER: for good;
    # a time past is no mute).
    muted_until: datetime | None = None

    @property
    def member_count(self) -> int:
        return len(self.members)

    def peer(self, me: str) -> UserView | None:
        """The other member of a direct chat (None in a group)."""
        if self.kind is not ChatKind.DIRECT:
            return None
        return next((m.user for m in self.members if m.user.user_id != me), None)


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
    signals: tuple[Signal, ...] = ()  # ephemeral: typing
    signal_cursor: int | None = None


@attrs.frozen(kw_only=True)
class SessionView:
    id: int
    device: str
    ip: str | None
    created_date: datetime
    last_used_date: datetime
    current: bool  # the session asking


@attrs.frozen(kw_only=True)
class BlockView:
    user: UserView
    since: datetime


@attrs.frozen(kw_only=True)
class ExportView:
    state: ExportState
    created_date: datetime
    ready_date: datetime | None
    size: int | None


# --- views of one entity ----------------------------------------------------------


def user_view(user: User, *, presence: PresenceView | None = None, hide_avatar: bool = False) -> UserView:
    return UserView(
        id=user.id,
        user_id=user.alternative_id,
        first_name=user.first_name,
        second_name=user.second_name,
        avatar=None if hide_avatar else user.avatar,
        email=user.email,
        phone_number=user.phone_number,
        age=user.age,
        city=user.city,
        additional_inf=user.additional_inf,
        created_date=user.created_date,
        is_confirmed=user.is_confirmed,
        username=user.username,
        deleted=user.is_deleted,
        presence=presence,
    )


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
