"""Read models: the frozen views use cases return, and their assembly from entities —
the one place that decides what a view holds.

Use cases call the assembly functions inside their unit of work; nothing here writes.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import attrs

from . import policies
from .model import (
    Actor,
    Attachment,
    AttachmentKind,
    Block,
    Chat,
    ChatKind,
    ChatMember,
    Event,
    Export,
    ExportState,
    Friendship,
    MemberRole,
    Message,
    MessageKind,
    MessageVersion,
    ReactionSummary,
    Session,
    Signal,
    Sticker,
    StickerPack,
    SystemAction,
    User,
)
from .ports import UnitOfWork


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


# --- assembly ---------------------------------------------------------------------


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


@attrs.frozen(kw_only=True)
class Audience:
    """Who is looking, and what that lets them see of other people: a user who blocked
    the viewer (or whom the viewer blocked) shows no avatar and no presence; presence
    otherwise follows both people's last-seen settings (``policies.sees_presence``).
    Without ``online`` (no presence wanted), only the blocks count."""

    viewer: User | None
    friends: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()  # either way
    online: Callable[[int], bool] | None = None
    now: datetime | None = None

    @classmethod
    def of(
        cls,
        uow: UnitOfWork,
        viewer_id: int,
        *,
        online: Callable[[int], bool] | None = None,
        now: datetime | None = None,
    ) -> Audience:
        blocks = uow.blocks.involving(viewer_id)
        blocked = frozenset(b.blocked_id if b.blocker_id == viewer_id else b.blocker_id for b in blocks)
        if online is None:
            return cls(viewer=None, blocked=blocked)
        friends = frozenset(r.other(viewer_id) for r in uow.friendships.list_for(viewer_id) if r.is_accepted)
        return cls(viewer=uow.users.get(viewer_id), friends=friends, blocked=blocked, online=online, now=now)

    def show(self, user: User) -> UserView:
        if self.viewer is not None and user.id == self.viewer.id:
            return user_view(user, presence=self._exact(user))
        if user.id in self.blocked or user.is_deleted:
            return user_view(user, hide_avatar=True)
        if self.viewer is None or self.online is None or self.now is None:
            return user_view(user)
        if policies.sees_presence(
            user.last_seen_visibility, self.viewer.last_seen_visibility, friends=user.id in self.friends
        ):
            return user_view(user, presence=self._exact(user))
        seen = self.now if self.online(user.id) else user.last_seen
        return user_view(user, presence=PresenceView(fuzzy=policies.fuzzy_last_seen(seen, self.now)))

    def _exact(self, user: User) -> PresenceView | None:
        if self.online is None:
            return None
        return PresenceView(online=self.online(user.id), last_seen=user.last_seen)


def session_view(session: Session, current_id: int | None) -> SessionView:
    return SessionView(
        id=session.id,
        device=session.device,
        ip=session.ip,
        created_date=session.created_date,
        last_used_date=session.last_used_date,
        current=session.id == current_id,
    )


def block_view(block: Block, user: User) -> BlockView:
    return BlockView(user=user_view(user), since=block.created_date)


def export_view(export: Export) -> ExportView:
    return ExportView(
        state=export.state, created_date=export.created_date, ready_date=export.ready_date, size=export.size
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
    message: Message,
    sender: Actor,
    sticker: Sticker | None,
    files: list[Attachment],
    users: Mapping[int, User],
) -> MessageView:
    """The view of a message just sent, from what the send holds: nobody else can have
    read it or reacted to it yet, since read marks only point at existing messages, and
    what it quotes was checked live by the send. ``users`` holds everyone it names
    (mentions, a system message's people, the quoted sender, a forward's author)."""
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
        kind=message.kind,
        system=system_view(message.system, users),
        mentions=_public_ids(message.mentions, users),
        reply_to=reply_view(message.reply_to, users, gone=False),
        forwarded_from=forward_view(message.forwarded_from, users),
    )


def named_users(messages: Iterable[Message]) -> set[int]:
    """Everyone a view of these messages names: senders, mentions, moderators, the
    actors and subjects of system messages, quoted senders, forwards' authors."""
    ids: set[int] = set()
    for message in messages:
        ids.add(message.sender_id)
        ids.update(message.mentions)
        if message.deleted_by is not None:
            ids.add(message.deleted_by)
        if message.system:
            ids.add(message.system.get("actor_id", message.sender_id))
            ids.update(message.system.get("user_ids", ()))
        if message.reply_to:
            ids.add(message.reply_to["sender_id"])
        if message.forwarded_from and message.forwarded_from.get("user_id") is not None:
            ids.add(message.forwarded_from["user_id"])
    return ids


def message_views(
    uow: UnitOfWork,
    viewer: int | None,
    chat_id: int,
    messages: list[Message],
    *,
    members: Iterable[ChatMember] | None = None,
) -> list[MessageView]:
    """Views of messages of one chat as ``viewer`` sees them (None: as everyone does,
    for events), with senders, stickers, files, reactions, quotes and read state fetched
    once for the whole list; ``members``, the chat's members when the caller has them."""
    if not messages:
        return []
    ids = [m.id for m in messages]
    present = list(uow.chats.members(chat_id) if members is None else members)
    shown = receipts_shown(uow, chat_id, present)
    readers = Readers({m.user_id: m.last_read_message_id for m in present} if shown else {})
    reactions = uow.reactions.summaries(ids, -1 if viewer is None else viewer)
    reactors = {u for summaries in reactions.values() for r in summaries for u in r.user_ids}
    users = uow.users.get_many(named_users(messages) | reactors)
    attachments = uow.attachments.for_messages(ids)
    gone = _gone_originals(uow, viewer, messages)
    wanted = {m.sticker_id for m in messages if m.sticker_id is not None}
    stickers: Mapping[int, Sticker] = uow.stickers.get_stickers(wanted) if wanted else {}
    return [
        _message_view(
            m,
            users,
            stickers,
            attachments.get(m.id),
            readers.count(m),
            reactions.get(m.id, ()),
            gone,
        )
        for m in messages
    ]


def _gone_originals(uow: UnitOfWork, viewer: int | None, messages: list[Message]) -> set[int]:
    """Which messages the replies among ``messages`` quote are gone for the viewer:
    deleted for everyone, or hidden by them. ``messages`` are what the viewer sees, so an
    original among them is known without a read (a conversation mostly answers what is
    on the same page)."""
    on_page = {m.id: m for m in messages}
    quoted = {m.reply_to["id"] for m in messages if m.reply_to}
    gone = {i for i in quoted if i in on_page and on_page[i].is_deleted}
    elsewhere = quoted - on_page.keys()
    if elsewhere:
        found = uow.messages.get_many(elsewhere)
        gone |= {i for i in elsewhere if i not in found or found[i].is_deleted}
        if viewer is not None:
            gone |= uow.messages.hidden_among(viewer, elsewhere - gone)
    return gone


def _message_view(
    message: Message,
    users: Mapping[int, User],
    stickers: Mapping[int, Sticker | None],
    files: list[Attachment] | None,
    read_count: int,
    reactions: Iterable[ReactionSummary],
    gone: set[int],
) -> MessageView:
    sticker = stickers.get(message.sticker_id) if message.sticker_id is not None else None
    reply = message.reply_to
    return MessageView(
        id=message.id,
        chat_id=message.chat_id,
        sender_id=_public_id(message.sender_id, users) or "",
        text=message.text,
        sticker=sticker_view(sticker) if sticker else None,
        attachments=tuple(attachment_view(a) for a in files) if files else (),
        sending_date=message.sending_date,
        edited_date=message.edited_date,
        is_deleted=message.is_deleted,
        is_read=read_count > 0,
        kind=message.kind,
        system=system_view(message.system, users),
        mentions=_public_ids(message.mentions, users),
        read_count=read_count,
        deleted_by=_public_id(message.deleted_by, users),
        reply_to=reply_view(reply, users, gone=reply is not None and reply["id"] in gone),
        forwarded_from=forward_view(message.forwarded_from, users),
        reactions=tuple(
            [
                ReactionView(emoji=r.emoji, count=r.count, user_ids=_public_ids(r.user_ids, users), me=r.me)
                for r in reactions
            ]
        ),
    )


def receipts_shown(uow: UnitOfWork, chat_id: int, members: list[ChatMember] | None = None) -> bool:
    """Whether read marks show in the chat: always in groups; in a direct chat only while
    both people send read receipts (turning them off hides them both ways)."""
    chat = uow.chats.get(chat_id)
    if chat is None or chat.is_group:
        return True
    ids = [m.user_id for m in (members if members is not None else uow.chats.members(chat_id))]
    return all(u.read_receipts for u in uow.users.get_many(ids).values())


def reply_view(quote: Mapping[str, Any] | None, users: Mapping[int, User], *, gone: bool) -> ReplyView | None:
    if quote is None:
        return None
    if gone:
        return ReplyView(id=quote["id"], deleted=True)
    return ReplyView(
        id=quote["id"],
        sender_id=_public_id(quote["sender_id"], users),
        preview=quote["preview"],
        kind=quote["kind"],
    )


def forward_view(source: Mapping[str, Any] | None, users: Mapping[int, User]) -> ForwardView | None:
    if source is None:
        return None
    return ForwardView(
        user_id=_public_id(source.get("user_id"), users),
        name=source["name"],
        date=datetime.fromisoformat(source["date"]),
    )


def version_views(versions: Iterable[MessageVersion]) -> list[VersionView]:
    return [VersionView(text=v.text, date=v.written_date) for v in versions]


class Readers:
    """How many members other than its sender have read a message, from the read marks:
    sorted once, each message counted by bisection (a page of a big group stays cheap)."""

    def __init__(self, marks: Mapping[int, int]) -> None:
        self._marks = marks
        self._sorted = sorted(marks.values())

    def count(self, message: Message) -> int:
        at_or_past = len(self._sorted) - bisect.bisect_left(self._sorted, message.id)
        own = self._marks.get(message.sender_id)
        return at_or_past - (1 if own is not None and own >= message.id else 0)


def system_view(system: Mapping[str, Any] | None, users: Mapping[int, User]) -> SystemView | None:
    if not system:
        return None
    actor = users.get(system.get("actor_id", -1))
    named = tuple(user_view(users[i]) for i in system.get("user_ids", ()) if i in users)
    params = {k: v for k, v in system.items() if k not in ("action", "actor_id", "user_ids")}
    return SystemView(
        action=SystemAction(system["action"]),
        actor=user_view(actor) if actor else None,
        users=named,
        params=params,
    )


def chat_view(uow: UnitOfWork, actor: Actor, chat: Chat, audience: Audience | None = None) -> ChatView:
    """The chat as ``actor`` sees it: members (as ``audience`` shows them; by default with
    blocks applied and no presence), last message, latest pin, unread counts, read mark —
    leaving out what they hid and what came before their part of it — and whether they
    may send."""
    members = uow.chats.members(chat.id)
    users = uow.users.get_many(m.user_id for m in members)
    audience = audience or Audience.of(uow, actor.id)
    mine = next((m for m in members if m.user_id == actor.id), None)
    since = unread_after(mine)
    floor = mine.visible_after_message_id if mine else 0
    newest = uow.messages.page_before(chat.id, None, 1, hidden_for=actor.id) if chat.last_message_id else []
    last = newest[0] if newest and newest[0].id > floor else None
    pin = uow.pins.latest_for(chat.id, actor.id, floor)
    pinned = uow.messages.get(pin.message_id) if pin else None
    shown = [m for m in (last, pinned) if m is not None]
    views = {v.id: v for v in message_views(uow, actor.id, chat.id, shown)}
    member_views = tuple(
        MemberView(user=audience.show(users[m.user_id]), role=m.role) for m in members if m.user_id in users
    )
    peer = next((m.user_id for m in members if m.user_id != actor.id), None)
    return ChatView(
        id=chat.id,
        kind=chat.kind,
        title=chat.title or _names_of_others(member_views, actor.id),
        photo=chat.photo,
        members=member_views,
        last_message=views[last.id] if last else None,
        unread_count=uow.messages.count_unread(chat.id, actor.id, since),
        unread_mentions=uow.messages.count_unread_mentions(chat.id, actor.id, since) if chat.is_group else 0,
        last_read_message_id=mine.last_read_message_id if mine else 0,
        last_activity=chat.last_activity,
        my_role=mine.role if mine else MemberRole.MEMBER,
        history_visible=chat.history_visible,
        pinned_message=views[pinned.id] if pinned else None,
        muted_until=mine.muted_until if mine else None,
        cannot_send=None if chat.is_group or peer is None else direct_refusal(uow, actor.id, peer),
    )


def direct_refusal(uow: UnitOfWork, user_id: int, peer_id: int) -> str | None:
    """Why ``user_id`` may not write to ``peer_id`` in their direct chat, or None: a block
    either way (``blocked``, whoever made it), or no friendship (``no_longer_friends``)."""
    if uow.blocks.exists(user_id, peer_id) or uow.blocks.exists(peer_id, user_id):
        return "blocked"
    row = uow.friendships.get(user_id, peer_id)
    return None if row is not None and row.is_accepted else "no_longer_friends"


def unread_after(member: ChatMember | None) -> int:
    """The id after which the member's unread messages begin."""
    if member is None:
        return 0
    return max(member.last_read_message_id, member.visible_after_message_id)


def _names_of_others(members: tuple[MemberView, ...], me: int) -> str:
    others = [m.user for m in members if m.user.id != me]
    return ", ".join(f"{u.first_name} {u.second_name}" for u in others) or "—"


def _public_id(user_id: int | None, users: Mapping[int, User]) -> str | None:
    user = users.get(user_id) if user_id is not None else None
    return user.alternative_id if user else None


def _public_ids(user_ids: Iterable[int], users: Mapping[int, User]) -> tuple[str, ...]:
    if not user_ids:
        return ()
    return tuple([users[i].alternative_id for i in user_ids if i in users])
