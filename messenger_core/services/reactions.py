"""Reactions: one emoji of a member on a message, shown to everyone in the chat."""

from __future__ import annotations

from .. import policies
from ..message_views import message_views
from ..model import Actor, EventType, Reaction
from ..payloads import reaction_data
from ..views import MessageView
from .context import Context
from .lookups import member_ids, visible_message


class Reactions:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def add_reaction(self, actor: Actor, message_id: int, emoji: str) -> MessageView:
        """React to a message you can see with one emoji; reacting twice is harmless.
        A message holds at most REACTIONS_MAX distinct emoji."""
        return self._change(actor, message_id, emoji, add=True)

    def remove_reaction(self, actor: Actor, message_id: int, emoji: str) -> MessageView:
        """Take your reaction back; taking back one you never gave is harmless."""
        return self._change(actor, message_id, emoji, add=False)

    def _change(self, actor: Actor, message_id: int, emoji: str, *, add: bool) -> MessageView:
        candidate = policies.reaction_candidate(emoji)
        canonical = policies.check_reaction(self._ctx.emoji.canonical(candidate) if candidate else None)
        with self._ctx.uow() as uow:
            message, _ = visible_message(uow, actor, message_id)
            policies.check_live_user_message(message)
            if add:
                policies.check_room_for_reaction(canonical, uow.reactions.emojis(message.id))
                reaction = Reaction(
                    message_id=message.id, user_id=actor.id, emoji=canonical, created_date=self._ctx.now()
                )
                changed = uow.reactions.add(reaction)
            else:
                changed = uow.reactions.remove(message.id, actor.id, canonical)
            view = message_views(uow, actor.id, message.chat_id, [message])[0]
            if not changed:
                return view
            data = {
                "chat_id": message.chat_id,
                "message_id": message.id,
                "user_id": actor.alternative_id,
                "emoji": canonical,
                "added": add,
                "reactions": [reaction_data(r, shared=True) for r in view.reactions],
            }
            self._ctx.append_chat_event(
                uow, message.chat_id, EventType.MESSAGE_REACTION, data, message_id=message.id
            )
            members = member_ids(uow, message.chat_id)
            uow.commit()
        self._ctx.notifier.notify(members)
        return view
