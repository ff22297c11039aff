"""Lookups every capability needs inside a unit of work, with the error a miss means.

Outsiders learn nothing: a chat, message or attachment that exists but is not visible
to the actor is as missing as one that never existed.
"""

from __future__ import annotations

from ..errors import Conflict, Forbidden, NotFound, Unauthorized
from ..model import Actor, Chat, ChatMember, Message, User
from ..policies import check_not_self
from ..ports import UnitOfWork
from ..read_models import direct_refusal


def current_user(uow: UnitOfWork, user_id: int) -> User:
    """The acting user; a token of a deleted account is revoked."""
    user = uow.users.get(user_id)
    if user is None:
        raise Unauthorized("token_revoked")
    return user


def other_user(uow: UnitOfWork, actor: Actor, user_id: str) -> User:
    """Another user by public id: not the actor, and existing."""
    check_not_self(actor.alternative_id, user_id)
    other = uow.users.get_by_alternative_id(user_id) if user_id else None
    if other is None:
        raise NotFound("user")
    return other


def member_ids(uow: UnitOfWork, chat_id: int) -> list[int]:
    return uow.chats.member_ids(chat_id)


def member_chat(uow: UnitOfWork, actor: Actor, chat_id: int) -> Chat:
    """A chat the actor is a member of."""
    return membership(uow, actor, chat_id)[0]


def membership(uow: UnitOfWork, actor: Actor, chat_id: int) -> tuple[Chat, ChatMember]:
    """A chat the actor is a member of, with the actor's membership."""
    chat = uow.chats.get(chat_id)
    mine = uow.chats.member(chat_id, actor.id) if chat is not None else None
    if chat is None or mine is None:
        raise NotFound("chat")
    return chat, mine


def group_membership(uow: UnitOfWork, actor: Actor, chat_id: int) -> tuple[Chat, ChatMember]:
    """A group the actor is a member of (a direct chat has no members to manage)."""
    chat, mine = membership(uow, actor, chat_id)
    if not chat.is_group:
        raise Conflict("not_a_group")
    return chat, mine


def can_see_message(uow: UnitOfWork, actor: Actor, message_id: int | None) -> bool:
    """Whether the message is in a chat the actor is a member of, in their part of it (a
    group without visible history hides what came before they joined; clearing a chat
    moves where it begins) and not hidden by them."""
    message = uow.messages.get(message_id) if message_id is not None else None
    if message is None:
        return False
    mine = uow.chats.member(message.chat_id, actor.id)
    return (
        mine is not None
        and message.id > mine.visible_after_message_id
        and not uow.messages.hidden_among(actor.id, [message.id])
    )


def visible_message(uow: UnitOfWork, actor: Actor, message_id: int) -> tuple[Message, ChatMember]:
    """A message the actor may see (see ``can_see_message``), with their membership."""
    message = uow.messages.get(message_id)
    mine = uow.chats.member(message.chat_id, actor.id) if message is not None else None
    if (
        message is None
        or mine is None
        or message.id <= mine.visible_after_message_id
        or uow.messages.hidden_among(actor.id, [message.id])
    ):
        raise NotFound("message")
    return message, mine


def writable_chat(uow: UnitOfWork, actor: Actor, chat_id: int) -> tuple[Chat, list[int]]:
    """A chat the actor may write in, with its members' ids (whom a message to it wakes):
    one they are a member of, and for a direct chat, with the friendship and no block
    (``check_direct_send``)."""
    chat = uow.chats.get(chat_id)
    members = uow.chats.member_ids(chat_id) if chat is not None else []
    if chat is None or actor.id not in members:
        raise NotFound("chat")
    check_direct_send(uow, actor, chat, members)
    return chat, members


def check_direct_send(uow: UnitOfWork, actor: Actor, chat: Chat, members: list[int]) -> None:
    """Writing in a direct chat (whose members' ids are ``members``) needs the
    friendship, and no block either way: an ex-friend's chat stays readable, not
    writable (``read_models.direct_refusal``)."""
    if chat.is_group:
        return
    peer = next((u for u in members if u != actor.id), None)
    refusal = direct_refusal(uow, actor.id, peer) if peer is not None else None
    if refusal is not None:
        raise Forbidden(refusal)


def contact_ids(uow: UnitOfWork, user_id: int) -> list[int]:
    """Everyone with a friendship or request row with the user."""
    return [row.other(user_id) for row in uow.friendships.list_for(user_id)]
