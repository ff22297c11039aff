"""Pins: messages a chat keeps at hand; the chat shows its latest."""

from __future__ import annotations

from .. import policies
from ..errors import NotFound
from ..message_views import message_views
from ..model import Actor, Chat, EventType, Message, Pin
from ..ports import UnitOfWork
from ..read_models import chat_view
from ..views import ChatView, MessageView
from .context import Context
from .lookups import member_ids, membership, visible_message


class Pins:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def pin_message(self, actor: Actor, chat_id: int, message_id: int) -> ChatView:
        """Pin a message of the chat: either member of a direct chat, a group's owner
        and admins. At most PINS_MAX per chat; pinning again is harmless."""
        return self._change(actor, chat_id, message_id, pin=True)

    def unpin_message(self, actor: Actor, chat_id: int, message_id: int) -> ChatView:
        """Unpin a message; unpinning one that is not pinned is harmless."""
        return self._change(actor, chat_id, message_id, pin=False)

    def list_pins(self, actor: Actor, chat_id: int) -> list[MessageView]:
        """The chat's pinned messages you can see, latest pinned first."""
        with self._ctx.uow(read_only=True) as uow:
            chat, mine = membership(uow, actor, chat_id)
            pins = uow.pins.list_for_chat(chat.id)
            found = uow.messages.get_many(p.message_id for p in pins)
            hidden = uow.messages.hidden_among(actor.id, found)
            shown = [
                found[p.message_id]
                for p in pins
                if p.message_id in found
                and p.message_id > mine.visible_after_message_id
                and p.message_id not in hidden
            ]
            return message_views(uow, actor.id, chat.id, shown, chat=chat)

    def _change(self, actor: Actor, chat_id: int, message_id: int, *, pin: bool) -> ChatView:
        with self._ctx.uow() as uow:
            chat, mine = membership(uow, actor, chat_id)
            policies.check_may_pin(chat, mine)
            message = _message_of(uow, actor, chat, message_id)
            if pin:
                policies.check_live_user_message(message)
                already = {p.message_id for p in uow.pins.list_for_chat(chat.id)}
                if message.id not in already:
                    policies.check_room_for_pin(len(already))
                entry = Pin(
                    chat_id=chat.id, message_id=message.id, pinned_by=actor.id, pinned_date=self._ctx.now()
                )
                changed = uow.pins.add(entry)
            else:
                changed = uow.pins.remove(chat.id, message.id)
            if not changed:
                return chat_view(uow, actor, chat)
            data = {"chat_id": chat.id, "message_id": message.id, "pinned": pin, "by": actor.alternative_id}
            self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_PINNED, data, message_id=message.id)
            members = member_ids(uow, chat.id)
            view = chat_view(uow, actor, chat)
            uow.commit()
        self._ctx.notifier.notify(members)
        return view


def _message_of(uow: UnitOfWork, actor: Actor, chat: Chat, message_id: int) -> Message:
    try:
        message, _ = visible_message(uow, actor, message_id)
    except NotFound:
        raise NotFound("message_in_chat") from None
    if message.chat_id != chat.id:
        raise NotFound("message_in_chat")
    return message
