"""Lookups every capability needs inside a unit of work, with the error a miss means.

Outsiders learn nothing: a chat, message or attachment that exists but is not visible
to the actor is as missing as one that never existed.
"""

from __future__ import annotations

from ..errors import NotFound, Unauthorized
from ..model import Actor, Chat, Message, User
from ..policies import check_not_self
from ..ports import UnitOfWork


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
    return [m.user_id for m in uow.chats.members(chat_id)]


def member_chat(uow: UnitOfWork, actor: Actor, chat_id: int) -> Chat:
    """A chat the actor is a member of."""
    chat = uow.chats.get(chat_id)
    if chat is None or actor.id not in member_ids(uow, chat_id):
        raise NotFound("chat")
    return chat


def can_see_message(uow: UnitOfWork, actor: Actor, message_id: int | None) -> bool:
    message = uow.messages.get(message_id) if message_id is not None else None
    return message is not None and actor.id in member_ids(uow, message.chat_id)


def visible_message(uow: UnitOfWork, actor: Actor, message_id: int) -> Message:
    """A message of a chat the actor is a member of."""
    message = uow.messages.get(message_id)
    if message is None or actor.id not in member_ids(uow, message.chat_id):
        raise NotFound("message")
    return message


def contact_ids(uow: UnitOfWork, user_id: int) -> list[int]:
    """Everyone with a friendship or request row with the user."""
    return [row.other(user_id) for row in uow.friendships.list_for(user_id)]
