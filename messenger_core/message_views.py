"""Message views: a page of messages as one reader may see it — quotes, forwards,
reactions, read state, system lines — assembled in a few reads per page."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from .model import (
    Actor,
    Attachment,
    Chat,
    ChatMember,
    Message,
    MessageVersion,
    ReactionSummary,
    Sticker,
    SystemAction,
    User,
)
from .ports import UnitOfWork

# --- assembly ---------------------------------------------------------------------
from .views import (
    ForwardView,
    MessageView,
    ReactionView,
    ReplyView,
    SystemView,
    VersionView,
    attachment_view,
    sticker_view,
    user_view,
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
    chat: Chat | None = None,
    known: Mapping[int, User] | None = None,
) -> list[MessageView]:
    """Views of messages of one chat as ``viewer`` sees them (None: as everyone does,
    for events), with senders, stickers, files, reactions, quotes and read state fetched
    once for the whole list; ``members``, ``chat`` and ``known`` (users by id), what the
    caller has read already."""
    if not messages:
        return []
    ids = [m.id for m in messages]
    present = list(uow.chats.members(chat_id) if members is None else members)
    reactions = uow.reactions.summaries(ids, -1 if viewer is None else viewer)
    reactors = {u for summaries in reactions.values() for r in summaries for u in r.user_ids}
    # One read for everyone the page names and, in a chat of two (where their settings
    # decide whether receipts show), its members; a group's members are never all read.
    deciders = {m.user_id for m in present} if len(present) <= 2 else set()
    known = known or {}
    missing = (named_users(messages) | reactors | deciders) - known.keys()
    users: Mapping[int, User] = {**known, **uow.users.get_many(missing)} if missing else known
    shown = receipts_shown(uow, chat_id, present, users, chat=chat)
    readers = Readers({m.user_id: m.last_read_message_id for m in present} if shown else {})
    attachments = uow.attachments.for_messages(ids)
    gone = _gone_originals(uow, viewer, messages)
    sticker_ids = {m.sticker_id for m in messages if m.sticker_id is not None}
    stickers: Mapping[int, Sticker] = uow.stickers.get_stickers(sticker_ids) if sticker_ids else {}
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
    # Built for every message of every page: the parts most messages lack (a sticker,
    # files, a system line, mentions, a quote, a forward, reactions) are tested here
    # rather than in a call each.
    sticker = stickers.get(message.sticker_id) if message.sticker_id is not None else None
    sender = users.get(message.sender_id)
    reply = message.reply_to
    return MessageView(
        id=message.id,
        chat_id=message.chat_id,
        sender_id=sender.alternative_id if sender else "",
        text=message.text,
        sticker=sticker_view(sticker) if sticker else None,
        attachments=tuple([attachment_view(a) for a in files]) if files else (),
        sending_date=message.sending_date,
        edited_date=message.edited_date,
        is_deleted=message.is_deleted,
        is_read=read_count > 0,
        kind=message.kind,
        system=system_view(message.system, users) if message.system else None,
        mentions=_public_ids(message.mentions, users) if message.mentions else (),
        read_count=read_count,
        deleted_by=_public_id(message.deleted_by, users) if message.deleted_by is not None else None,
        reply_to=reply_view(reply, users, gone=reply["id"] in gone) if reply is not None else None,
        forwarded_from=forward_view(message.forwarded_from, users) if message.forwarded_from else None,
        reactions=tuple(
            [
                ReactionView(emoji=r.emoji, count=r.count, user_ids=_public_ids(r.user_ids, users), me=r.me)
                for r in reactions
            ]
        )
        if reactions
        else (),
    )


def receipts_shown(
    uow: UnitOfWork,
    chat_id: int,
    members: list[ChatMember] | None = None,
    users: Mapping[int, User] | None = None,
    *,
    chat: Chat | None = None,
) -> bool:
    """Whether read marks show in the chat: always in groups; in a direct chat only while
    both people send read receipts (turning them off hides them both ways). ``members``,
    ``users`` and ``chat`` hold what the caller has read already."""
    if chat is None or chat.id != chat_id:
        chat = uow.chats.get(chat_id)
    if chat is None or chat.is_group:
        return True
    ids = [m.user_id for m in (members if members is not None else uow.chats.members(chat_id))]
    if users is None or not all(i in users for i in ids):
        users = uow.users.get_many(ids)
    return all(users[i].read_receipts for i in ids if i in users)


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


def _public_id(user_id: int | None, users: Mapping[int, User]) -> str | None:
    user = users.get(user_id) if user_id is not None else None
    return user.alternative_id if user else None


def _public_ids(user_ids: Iterable[int], users: Mapping[int, User]) -> tuple[str, ...]:
    if not user_ids:
        return ()
    return tuple([users[i].alternative_id for i in user_ids if i in users])
