"""Messages: sending (with mentions), history pages, editing, deleting, read marks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from .. import policies
from ..errors import FieldErrors, Invalid, NotFound, field
from ..limits import HISTORY_LIMIT_DEFAULT, HISTORY_LIMIT_MAX
from ..model import Actor, Attachment, Chat, ChatMember, EventType, NewMessage, User
from ..payloads import message_data
from ..ports import UnitOfWork
from ..read_models import (
    ChatView,
    MessageView,
    UserView,
    chat_view,
    message_views,
    new_message_view,
    receipts_shown,
    user_view,
)
from .chats import check_direct_send, start_direct_chat
from .context import Context
from .lookups import member_ids, membership, other_user, visible_message


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
    ) -> MessageView:
        """Send text, a sticker and/or attachments to a chat or to a friend, mentioning
        members of the chat by their public ids."""
        errors = FieldErrors()
        text = policies.check_message_content(
            errors, text, sticker_id=sticker_id, attachment_ids=attachment_ids
        )
        if chat_id is None and receiver_id is None:
            errors.add("chat_id", "chat_or_receiver")
        errors.raise_if_any()
        with self._ctx.uow() as uow:
            chat = self._target_chat(uow, actor, chat_id, receiver_id)
            named = _mentioned(uow, chat.id, mentions)
            # Who blocked the sender is never mentioned by them (nor counts it as unread).
            named = [u for u in named if not uow.blocks.exists(u.id, actor.id)]
            sticker = uow.stickers.get_sticker(sticker_id) if sticker_id is not None else None
            if sticker_id is not None and sticker is None:
                raise Invalid({"sticker_id": field("no_such_sticker")})
            files = [_unsent_upload(uow, actor, i) for i in attachment_ids]
            now = self._ctx.now()
            message = uow.messages.add(
                NewMessage(
                    chat_id=chat.id,
                    sender_id=actor.id,
                    text=text,
                    sticker_id=sticker_id,
                    sending_date=now,
                    mentions=tuple(u.id for u in named),
                )
            )
            if attachment_ids:
                uow.attachments.attach(attachment_ids, message.id)
            uow.chats.touch(chat.id, last_message_id=message.id, at=now)
            uow.chats.set_last_read(chat.id, actor.id, message.id)
            # Everything the new message's view needs is at hand: no read-back.
            view = new_message_view(message, actor, sticker, files, {u.id: u for u in named})
            members = self.announce(uow, chat.id, EventType.MESSAGE_NEW, view)
            uow.commit()
        self._ctx.notifier.notify(members)
        return view

    def history(
        self,
        actor: Actor,
        chat_id: int,
        *,
        before: int | None = None,
        after: int | None = None,
        since: datetime | None = None,
        limit: int = HISTORY_LIMIT_DEFAULT,
    ) -> list[MessageView]:
        """A page of the chat, oldest first: the newest by default, or the messages just
        before/after a message id, or sent after a moment. Keyset paging, never offsets.
        A member of a group without visible history sees what came after they joined."""
        errors = FieldErrors()
        policies.check_limit(errors, limit, HISTORY_LIMIT_MAX)
        errors.raise_if_any()
        if before is not None and after is not None:
            raise Invalid({"before": field("before_and_after")})
        with self._ctx.uow(read_only=True) as uow:
            chat, mine = membership(uow, actor, chat_id)
            floor = mine.visible_after_message_id
            if after is not None:
                page = uow.messages.page_after(chat.id, max(after, floor), limit)
            elif since is not None and before is None:
                page = uow.messages.page_since(chat.id, since, limit)
            else:
                page = uow.messages.page_before(chat.id, before, limit)[::-1]
                if since is not None:
                    page = [m for m in page if m.sending_date > since]
            return message_views(uow, chat.id, [m for m in page if m.id > floor])

    def history_with(self, actor: Actor, user_id: str, **paging: Any) -> list[MessageView]:
        """``history`` of your 1:1 chat with the user (empty when there is none yet)."""
        with self._ctx.uow(read_only=True) as uow:
            other = other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
        return [] if chat is None else self.history(actor, chat.id, **paging)

    def edit_message(self, actor: Actor, message_id: int, *, text: str) -> MessageView:
        """Replace the text of your own message and mark it edited."""
        errors = FieldErrors()
        cleaned = policies.check_message_content(errors, text)
        errors.raise_if_any()
        assert cleaned is not None  # a message with nothing else needs text
        with self._ctx.uow() as uow:
            message, _ = visible_message(uow, actor, message_id)
            policies.check_may_change(message, actor.id)
            message = message.edited(cleaned, self._ctx.now())
            uow.messages.update(message)
            view = message_views(uow, message.chat_id, [message])[0]
            members = self.announce(uow, message.chat_id, EventType.MESSAGE_EDITED, view)
            uow.commit()
        self._ctx.notifier.notify(members)
        return view

    def delete_message(self, actor: Actor, message_id: int) -> MessageView:
        """Delete a message for everyone, leaving a tombstone: your own, or in a group
        you run, anyone's (the tombstone names you). Repeating is harmless."""
        with self._ctx.uow() as uow:
            message, mine = visible_message(uow, actor, message_id)
            chat = uow.chats.get(message.chat_id)
            policies.check_may_delete(message, mine, in_group=chat is not None and chat.is_group)
            if message.is_deleted:
                return message_views(uow, message.chat_id, [message])[0]
            message = message.tombstoned(by=None if message.sender_id == actor.id else actor.id)
            uow.messages.update(message)
            doomed = uow.attachments.detach_all(message.id)
            view = message_views(uow, message.chat_id, [message])[0]
            members = self.announce(uow, message.chat_id, EventType.MESSAGE_DELETED, view)
            uow.commit()
        self._ctx.delete_blobs(doomed)
        self._ctx.notifier.notify(members)
        return view

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
                if receipts_shown(uow, chat.id):
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

    def announce(self, uow: UnitOfWork, chat_id: int, type: EventType, view: MessageView) -> list[int]:
        """Write a message event for the chat (its members, the author's other tabs too)
        and return whom to wake."""
        self._ctx.append_chat_event(uow, chat_id, type, {"message": message_data(view)})
        return member_ids(uow, chat_id)

    def _target_chat(
        self, uow: UnitOfWork, actor: Actor, chat_id: int | None, receiver_id: str | None
    ) -> Chat:
        if chat_id is not None:
            chat = membership(uow, actor, chat_id)[0]
        else:
            other = other_user(uow, actor, receiver_id or "")
            found = uow.chats.find_direct(actor.id, other.id)
            if found is None:
                return start_direct_chat(self._ctx, uow, actor, other)
            chat = found
        check_direct_send(uow, actor, chat)
        return chat


def _mentioned(uow: UnitOfWork, chat_id: int, public_ids: Sequence[str]) -> list[User]:
    """The users the mentions name, each a member of the chat, each once, in order."""
    named: list[User] = []
    for public_id in dict.fromkeys(public_ids):
        user = uow.users.get_by_alternative_id(public_id)
        member: ChatMember | None = uow.chats.member(chat_id, user.id) if user else None
        if user is None or member is None:
            raise Invalid({"mentions": field("not_a_member", user_id=public_id)})
        named.append(user)
    return named


def _unsent_upload(uow: UnitOfWork, actor: Actor, attachment_id: int) -> Attachment:
    attachment = uow.attachments.get(attachment_id)
    if attachment is None or attachment.uploader_id != actor.id or attachment.message_id is not None:
        raise Invalid({"attachment_ids": field("not_your_upload", id=attachment_id)})
    return attachment
