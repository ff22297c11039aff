"""Chats: opening a direct chat with a friend, reading chats, deleting them."""

from __future__ import annotations

from .. import policies
from ..errors import Forbidden, NotFound
from ..model import Actor, Chat, ChatKind, EventType, MemberRole, NewChat, User
from ..ports import UnitOfWork
from ..read_models import chat_view, direct_refusal
from ..views import ChatView, LatestMessage
from .context import Context
from .lookups import member_chat, member_ids, membership, other_user


class Chats:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def open_chat(self, actor: Actor, user_id: str) -> tuple[ChatView, bool]:
        """The 1:1 chat with a friend, created if missing; the flag says it was created."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            chat = uow.chats.find_direct(actor.id, other.id)
            created = chat is None
            if chat is None:
                chat = start_direct_chat(self._ctx, uow, actor, other)
                uow.commit()
            return chat_view(uow, actor, chat, self._ctx.audience(uow, actor.id)), created

    def get_chat(self, actor: Actor, chat_id: int) -> ChatView:
        """A chat you are a member of; NotFound otherwise."""
        with self._ctx.uow(read_only=True) as uow:
            return chat_view(uow, actor, member_chat(uow, actor, chat_id), self._ctx.audience(uow, actor.id))

    def find_chat_with(self, actor: Actor, user_id: str) -> ChatView:
        """Your existing 1:1 chat with the user; NotFound if there is none."""
        with self._ctx.uow(read_only=True) as uow:
            return chat_view(uow, actor, _direct_chat(uow, actor, user_id), self._ctx.audience(uow, actor.id))

    def list_chats(self, actor: Actor) -> list[ChatView]:
        """Your chats, latest activity first, each with its last message and unread count."""
        with self._ctx.uow(read_only=True) as uow:
            audience = self._ctx.audience(uow, actor.id)
            return [chat_view(uow, actor, c, audience) for c in uow.chats.list_for_user(actor.id)]

    def latest_messages(self, actor: Actor) -> list[LatestMessage]:
        """The last message of each of your chats, latest activity first, with the
        other member of a direct chat."""
        latest = []
        for chat in self.list_chats(actor):
            if chat.last_message is not None:
                peer = chat.peer(actor.alternative_id)
                latest.append(
                    LatestMessage(message=chat.last_message, chat_with=peer.user_id if peer else None)
                )
        return latest

    def delete_chat(self, actor: Actor, chat_id: int) -> None:
        """Delete the chat and every message in it, for every member: any member of a
        direct chat, only the owner of a group."""
        with self._ctx.uow() as uow:
            chat, mine = membership(uow, actor, chat_id)
            if chat.is_group:
                policies.check_owner(mine)
            members = member_ids(uow, chat.id)
            files = uow.attachments.for_chat(chat.id)
            uow.chats.remove(chat.id)
            doomed = [*self._ctx.unshared_keys(uow, files), *([chat.photo] if chat.photo else [])]
            self._ctx.append_events(uow, members, EventType.CHAT_DELETED, {"chat_id": chat.id})
            uow.commit()
        self._ctx.delete_blobs(doomed)
        self._ctx.notifier.notify(members)

    def clear_chat(self, actor: Actor, chat_id: int) -> ChatView:
        """Clear the chat for yourself: everything in it up to now leaves your history,
        unread counts and chat list, and nobody else's."""
        with self._ctx.uow() as uow:
            chat, mine = membership(uow, actor, chat_id)
            through = max(chat.last_message_id or 0, mine.visible_after_message_id)
            if through > mine.visible_after_message_id:
                uow.chats.set_visible_after(chat.id, actor.id, through)
                data = {"chat_id": chat.id, "through_message_id": through}
                self._ctx.append_events(uow, [actor.id], EventType.CHAT_CLEARED, data)
                uow.commit()
            view = chat_view(uow, actor, chat)
        self._ctx.notifier.notify([actor.id])
        return view

    def delete_chat_with(self, actor: Actor, user_id: str) -> None:
        """``delete_chat`` of your 1:1 chat with the user; NotFound if there is none."""
        with self._ctx.uow(read_only=True) as uow:
            chat = _direct_chat(uow, actor, user_id)
        self.delete_chat(actor, chat.id)


def start_direct_chat(ctx: Context, uow: UnitOfWork, actor: Actor, other: User) -> Chat:
    """A new 1:1 chat; only friends may start one."""
    if direct_refusal(uow, actor.id, other.id) == "blocked":
        raise Forbidden("blocked")
    row = uow.friendships.get(actor.id, other.id)
    if row is None or not row.is_accepted:
        raise Forbidden("not_friends")
    members = [ctx.new_member(uow, user_id, MemberRole.MEMBER) for user_id in (actor.id, other.id)]
    return uow.chats.add(NewChat(kind=ChatKind.DIRECT, created_date=ctx.now()), members)


def _direct_chat(uow: UnitOfWork, actor: Actor, user_id: str) -> Chat:
    chat = uow.chats.find_direct(actor.id, other_user(uow, actor, user_id).id)
    if chat is None:
        raise NotFound("chat_with_user")
    return chat
