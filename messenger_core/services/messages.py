"""Messages: sending (with mentions and replies), forwarding, history pages, editing
(with the texts it replaced), deleting for everyone or for oneself, read marks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import policies
from ..errors import FieldErrors, Invalid, NotFound, field
from ..limits import HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX
from ..message_views import message_views, new_message_view, receipts_shown, version_views
from ..model import (
    Actor,
    Attachment,
    Chat,
    EventType,
    Message,
    MessageVersion,
    NewMessage,
    User,
)
from ..payloads import message_data
from ..ports import UnitOfWork
from ..read_models import chat_view
from ..views import ChatView, HistoryPage, MessageView, UserView, VersionView, user_view
from .chats import start_direct_chat
from .context import Context
from .lookups import check_direct_send, member_ids, membership, other_user, visible_message, writable_chat


class Messages:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def send_message(
        self,
        actor: Actor,
        *,
        chat_id: int | None = None,
        receiver_id: str | None = None,
        text: str | None = None,
        sticker_id: int | None = None,
        attachment_ids: Sequence[int] = (),
        mentions: Sequence[str] = (),
        reply_to_id: int | None = None,
    ) -> MessageView:
        """Send text, a sticker and/or attachments to a chat or to a friend, mentioning
        members of the chat by their public ids, perhaps in reply to a message of the
        chat (which the reply quotes as it is now)."""
        errors = FieldErrors()
        text = policies.check_message_content(
            errors, text, sticker_id=sticker_id, attachment_ids=attachment_ids
        )
        if chat_id is None and receiver_id is None:
            errors.add("chat_id", "chat_or_receiver")
        errors.raise_if_any()
        with self._ctx.uow() as uow:
            chat, members = self._target_chat(uow, actor, chat_id, receiver_id)
            named = _mentioned(uow, members, mentions)
            # Who blocked the sender is never mentioned by them (nor counts it as unread).
            named = [u for u in named if not uow.blocks.exists(u.id, actor.id)]
            quote = _quote(uow, actor, chat, reply_to_id) if reply_to_id is not None else None
            sticker = uow.stickers.get_sticker(sticker_id) if sticker_id is not None else None
            if sticker_id is not None and sticker is None:
                raise Invalid({"sticker_id": field("no_such_sticker")})
            files = [_unsent_upload(uow, actor, i) for i in attachment_ids]
            message = uow.messages.add(
                NewMessage(
                    chat_id=chat.id,
                    sender_id=actor.id,
                    text=text,
                    sticker_id=sticker_id,
                    sending_date=self._ctx.now(),
                    mentions=tuple(u.id for u in named),
                    reply_to=quote,
                )
            )
            if attachment_ids:
                uow.attachments.attach(attachment_ids, message.id)
            people = {u.id: u for u in named}
            if quote is not None:
                people |= uow.users.get_many([quote["sender_id"]])
            # Everything the new message's view needs is at hand: no read-back.
            view = new_message_view(message, actor, sticker, files, people)
            self._delivered(uow, actor, message, view, members)
            uow.commit()
        self._ctx.notifier.notify(members)
        return view

    def forward_message(self, actor: Actor, message_id: int, *, chat_ids: Sequence[int]) -> list[MessageView]:
        """Send a copy of a message you can see to chats you may write in (the files are
        shared, not copied). The copy names where it came from: the first author (unless
        they keep their account out of forwards), their name and the original's date."""
        errors = FieldErrors()
        targets = policies.check_forward_targets(errors, chat_ids)
        errors.raise_if_any()
        with self._ctx.uow() as uow:
            original, _ = visible_message(uow, actor, message_id)
            policies.check_live_user_message(original)
            chats = [_forward_target(uow, actor, chat_id) for chat_id in targets]
            files = uow.attachments.for_messages([original.id]).get(original.id, [])
            source = original.forwarded_from or _forward_source(uow, original)
            sticker = uow.stickers.get_sticker(original.sticker_id) if original.sticker_id else None
            people = uow.users.get_many([source["user_id"]] if source["user_id"] is not None else [])
            views, woken = [], set()
            for chat, members in chats:
                message = uow.messages.add(
                    NewMessage(
                        chat_id=chat.id,
                        sender_id=actor.id,
                        text=original.text,
                        sticker_id=original.sticker_id,
                        sending_date=self._ctx.now(),
                        forwarded_from=source,
                    )
                )
                copies = uow.attachments.add_copies(files, message.id, actor.id)
                view = new_message_view(message, actor, sticker, copies, people)
                woken.update(self._delivered(uow, actor, message, view, members))
                views.append(view)
            uow.commit()
        self._ctx.notifier.notify(woken)
        return views

    def _delivered(
        self, uow: UnitOfWork, actor: Actor, message: Message, view: MessageView, members: list[int]
    ) -> list[int]:
        """A message just written to a chat of ``members``: the chat's latest, read by
        its sender, announced."""
        uow.chats.touch(message.chat_id, last_message_id=message.id, at=message.sending_date)
        uow.chats.set_last_read(message.chat_id, actor.id, message.id)
        return self.announce(uow, message.chat_id, EventType.MESSAGE_NEW, view, members)

    def history(
        self,
        actor: Actor,
        chat_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        since: datetime | None = None,
        around: int | None = None,
        limit: int = HISTORY_LIMIT_DEFAULT,
    ) -> list[MessageView]:
        """``history_page``'s messages."""
        page = self.history_page(
            actor, chat_id, before=before, after=after, since=since, around=around, limit=limit
        )
        return list(page.messages)

    def history_page(
        self,
        actor: Actor,
        chat_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        since: datetime | None = None,
        around: int | None = None,
        limit: int = HISTORY_LIMIT_DEFAULT,
    ) -> HistoryPage:
        """A page of the chat, oldest first: the newest by default, or the messages just
        before/after a message id, or sent after a moment, or centred on a message (to
        jump to it). Keyset paging, never offsets. A member sees their part of the chat
        (a group without visible history begins when they joined; clearing moves it)
        without what they hid."""
        errors = FieldErrors()
        policies.check_limit(errors, limit, HISTORY_LIMIT_MAX)
        errors.raise_if_any()
        if before is not None and after is not None:
            raise Invalid({"before": field("before_and_after")})
        if around is not None and (before is not None or after is not None or since is not None):
            raise Invalid({"around": field("around_alone")})
        with self._ctx.uow(read_only=True) as uow:
            # The members carry the read state the page shows, the reader's part among them.
            chat = uow.chats.get(chat_id)
            members = uow.chats.members(chat_id) if chat is not None else []
            mine = next((m for m in members if m.user_id == actor.id), None)
            if chat is None or mine is None:
                raise NotFound("chat")
            floor = mine.visible_after_message_id
            me = actor.id
            if around is not None:
                page = self._around(uow, actor, chat, around, limit)
            elif after is not None:
                page = uow.messages.page_after(chat.id, max(after, floor), limit, hidden_for=me)
            elif since is not None and before is None:
                page = uow.messages.page_since(chat.id, since, limit, hidden_for=me)
            else:
                page = uow.messages.page_before(chat.id, before, limit, hidden_for=me)[::-1]
                if since is not None:
                    page = [m for m in page if m.sending_date > since]
            shown = [m for m in page if m.id > floor]
            views = message_views(uow, me, chat.id, shown, members=members, chat=chat)
            return HistoryPage(messages=tuple(views), chat_version=uow.events.latest_of_chat(chat.id))

    def _around(
        self, uow: UnitOfWork, actor: Actor, chat: Chat, message_id: int, limit: int
    ) -> list[Message]:
        """The message with up to half the page before it and the rest after."""
        target, _ = visible_message(uow, actor, message_id)
        if target.chat_id != chat.id:
            raise NotFound("message_in_chat")
        older = uow.messages.page_before(chat.id, target.id + 1, (limit + 1) // 2, hidden_for=actor.id)
        newer = uow.messages.page_after(chat.id, target.id, limit - len(older), hidden_for=actor.id)
        return [*older[::-1], *newer]

    def history_with(self, actor: Actor, user_id: str, **paging: Any) -> list[MessageView]:
        """``history`` of your 1:1 chat with the user (empty when there is none yet)."""
        return list(self.history_page_with(actor, user_id, **paging).messages)

    def history_page_with(self, actor: Actor, user_id: str, **paging: Any) -> HistoryPage:
        """``history_page`` of your 1:1 chat with the user (empty when there is none yet)."""
        with self._ctx.uow(read_only=True) as uow:
            other = other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
        if chat is None:
            return HistoryPage(messages=(), chat_version=0)
        return self.history_page(actor, chat.id, **paging)

    def edit_message(self, actor: Actor, message_id: int, *, text: str) -> MessageView:
        """Replace the text of your own message (within the edit window) and mark it
        edited; the text it replaces stays in its history for every member."""
        errors = FieldErrors()
        cleaned = policies.check_message_content(errors, text)
        errors.raise_if_any()
        assert cleaned is not None  # a message with nothing else needs text
        with self._ctx.uow() as uow:
            message, _ = visible_message(uow, actor, message_id)
            now = self._ctx.now()
            policies.check_may_edit(message, actor.id, now, self._ctx.settings.edit_window)
            if cleaned == message.text:  # nothing changes: no version, no event
                return message_views(uow, actor.id, message.chat_id, [message])[0]
            earlier = MessageVersion(text=message.text or "", written_date=message.written_date)
            uow.messages.add_version(message.id, earlier)
            message = message.edited(cleaned, now)
            uow.messages.update(message)
            members = self._announce_change(uow, message, EventType.MESSAGE_EDITED)
            view = message_views(uow, actor.id, message.chat_id, [message])[0]
            uow.commit()
        self._ctx.notifier.notify(members)
        return view

    def edit_history(self, actor: Actor, message_id: int) -> list[VersionView]:
        """Every text the message has had, oldest first, the current one last; none for
        a deleted message (its history went with it)."""
        with self._ctx.uow(read_only=True) as uow:
            message, _ = visible_message(uow, actor, message_id)
            if message.is_deleted:
                return []
            current = MessageVersion(text=message.text or "", written_date=message.written_date)
            return version_views([*uow.messages.versions(message.id), current])

    def delete_message(self, actor: Actor, message_id: int) -> MessageView:
        """Delete a message for everyone, leaving a tombstone: your own, or in a group
        you run, anyone's (the tombstone names you). Its files, reactions, earlier
        texts and pin go with it. Repeating is harmless."""
        with self._ctx.uow() as uow:
            message, mine = visible_message(uow, actor, message_id)
            chat = uow.chats.get(message.chat_id)
            policies.check_may_delete(message, mine, in_group=chat is not None and chat.is_group)
            if message.is_deleted:
                return message_views(uow, actor.id, message.chat_id, [message])[0]
            message, members, doomed = self.erase(uow, message, actor)
            view = message_views(uow, actor.id, message.chat_id, [message])[0]
            uow.commit()
        self._ctx.delete_blobs(doomed)
        self._ctx.notifier.notify(members)
        return view

    def erase(self, uow: UnitOfWork, message: Message, actor: Actor) -> tuple[Message, list[int], list[str]]:
        """Make a live message a tombstone for everyone, in the caller's unit of work: its
        files, reactions, earlier texts and pin go. Returns the tombstone, whom to wake and
        the blobs to delete after the commit. (Also for an account deleted with its
        messages.)"""
        message = message.tombstoned(by=None if message.sender_id == actor.id else actor.id)
        uow.messages.update(message)
        files = uow.attachments.detach_all(message.id)
        doomed = self._ctx.unshared_keys(uow, files)
        uow.reactions.remove_all(message.id)
        uow.messages.remove_versions(message.id)
        if uow.pins.remove(message.chat_id, message.id):
            self._ctx.append_chat_event(
                uow,
                message.chat_id,
                EventType.CHAT_PINNED,
                {
                    "chat_id": message.chat_id,
                    "message_id": message.id,
                    "pinned": False,
                    "by": actor.alternative_id,
                },
                message_id=message.id,
            )
        members = self._announce_change(uow, message, EventType.MESSAGE_DELETED)
        return message, members, doomed

    def hide_message(self, actor: Actor, message_id: int) -> None:
        """Delete a message for yourself only ("delete for me"), whoever wrote it: it
        leaves your history, unread counts and chat list, and nobody else's."""
        with self._ctx.uow() as uow:
            message, _ = visible_message(uow, actor, message_id)
            uow.messages.hide(actor.id, message.id)
            data = {"chat_id": message.chat_id, "message_id": message.id}
            self._ctx.append_events(uow, [actor.id], EventType.MESSAGE_HIDDEN, data)
            uow.commit()
        self._ctx.notifier.notify([actor.id])

    def mark_read(self, actor: Actor, chat_id: int, message_id: int) -> ChatView:
        """Mark the chat read up to a message of it; a read mark never moves back."""
        with self._ctx.uow() as uow:
            chat, mine = membership(uow, actor, chat_id)
            message = uow.messages.get(message_id)
            if message is None or message.chat_id != chat.id:
                raise NotFound("message_in_chat")
            everyone = member_ids(uow, chat.id)
            if message_id > mine.last_read_message_id:
                uow.chats.set_last_read(chat.id, actor.id, message_id)
                data = {"chat_id": chat.id, "user_id": actor.alternative_id, "message_id": message_id}
                if receipts_shown(uow, chat.id, chat=chat):
                    self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_READ, data)
                else:  # read receipts are off in this direct chat: only your own tabs learn
                    self._ctx.append_events(uow, [actor.id], EventType.CHAT_READ, data)
                uow.commit()
            view = chat_view(uow, actor, uow.chats.get(chat.id) or chat)
        self._ctx.notifier.notify(everyone)
        return view

    def readers(self, actor: Actor, message_id: int) -> list[UserView]:
        """The members other than its sender who have read the message, by user id."""
        with self._ctx.uow(read_only=True) as uow:
            message, _ = visible_message(uow, actor, message_id)
            if not receipts_shown(uow, message.chat_id):
                return []
            marks = [
                m
                for m in uow.chats.members(message.chat_id)
                if m.user_id != message.sender_id and m.last_read_message_id >= message.id
            ]
            users = uow.users.get_many(m.user_id for m in marks)
        return [user_view(users[m.user_id]) for m in marks if m.user_id in users]

    def announce(
        self,
        uow: UnitOfWork,
        chat_id: int,
        type: EventType,
        view: MessageView,
        members: list[int] | None = None,
    ) -> list[int]:
        """Write a message event for the chat (its members, the author's other tabs too)
        and return whom to wake: ``members``, the chat's member ids when the caller read
        them in this unit already."""
        data = {"message": message_data(view, shared=True)}
        self._ctx.append_chat_event(uow, chat_id, type, data, message_id=view.id)
        return member_ids(uow, chat_id) if members is None else members

    def _announce_change(self, uow: UnitOfWork, message: Message, type: EventType) -> list[int]:
        """Announce a changed message as everyone sees it (a reader's own reactions are
        theirs to know)."""
        shared = message_views(uow, None, message.chat_id, [message])[0]
        return self.announce(uow, message.chat_id, type, shared)

    def _target_chat(
        self, uow: UnitOfWork, actor: Actor, chat_id: int | None, receiver_id: str | None
    ) -> tuple[Chat, list[int]]:
        """The chat a message goes to, with its members' ids (``writable_chat``)."""
        if chat_id is not None:
            return writable_chat(uow, actor, chat_id)
        other = other_user(uow, actor, receiver_id or "")
        found = uow.chats.find_direct(actor.id, other.id)
        if found is None:
            chat = start_direct_chat(self._ctx, uow, actor, other)
            return chat, uow.chats.member_ids(chat.id)
        members = uow.chats.member_ids(found.id)
        check_direct_send(uow, actor, found, members)
        return found, members


def _quote(uow: UnitOfWork, actor: Actor, chat: Chat, message_id: int) -> dict[str, Any]:
    """The snapshot a reply keeps of a live message of the same chat the sender sees."""
    original = uow.messages.get(message_id)
    mine = uow.chats.member(chat.id, actor.id)
    if (
        original is None
        or mine is None
        or original.chat_id != chat.id
        or original.id <= mine.visible_after_message_id
        or original.is_deleted
        or uow.messages.hidden_among(actor.id, [original.id])
    ):
        raise Invalid({"reply_to_id": field("no_such_message")})
    policies.check_live_user_message(original)
    files = uow.attachments.for_messages([original.id]).get(original.id, [])
    return original.quoted(files)


def _forward_target(uow: UnitOfWork, actor: Actor, chat_id: int) -> tuple[Chat, list[int]]:
    try:
        return writable_chat(uow, actor, chat_id)
    except NotFound:
        raise Invalid({"chat_ids": field("no_such_chat", id=chat_id)}) from None


def _forward_source(uow: UnitOfWork, original: Message) -> dict[str, Any]:
    """Where a first-hand message comes from, for its forwarded copies."""
    author = uow.users.get(original.sender_id)
    name = f"{author.first_name} {author.second_name}" if author else ""
    return {
        "user_id": author.id if author is not None and links_in_forwards(author) else None,
        "name": name,
        "date": original.sending_date.isoformat(),
    }


def links_in_forwards(user: User) -> bool:
    """Whether forwards of the user's messages may link to their account: not when their
    ``forward_link`` privacy setting is off (the forward then names them only, as
    Telegram's "Forwarded messages" setting does), nor once the account is deleted."""
    return user.forward_link and not user.is_deleted


def _mentioned(uow: UnitOfWork, members: list[int], public_ids: Sequence[str]) -> list[User]:
    """The users the mentions name, each one of the chat's ``members``, each once, in order."""
    named: list[User] = []
    present = set(members) if public_ids else set()
    for public_id in dict.fromkeys(public_ids):
        user = uow.users.get_by_alternative_id(public_id)
        if user is None or user.id not in present:
            raise Invalid({"mentions": field("not_a_member", user_id=public_id)})
        named.append(user)
    return named


def _unsent_upload(uow: UnitOfWork, actor: Actor, attachment_id: int) -> Attachment:
    attachment = uow.attachments.get(attachment_id)
    if attachment is None or attachment.uploader_id != actor.id or attachment.message_id is not None:
        raise Invalid({"attachment_ids": field("not_your_upload", id=attachment_id)})
    return attachment
