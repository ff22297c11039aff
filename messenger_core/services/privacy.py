"""Privacy settings (last seen, read receipts, typing, forward link) and typing signals.

Last seen and online follow ``policies.sees_presence`` (reciprocal); read receipts, when
either person turns them off, show in their direct chat neither way
(``read_models.receipts_shown``); typing is an ephemeral signal, never stored.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import attrs

from ..limits import TYPING_INTERVAL_SECONDS, TYPING_TTL_SECONDS
from ..model import Actor, PrivacySettings, Signal, Visibility
from ..read_models import direct_refusal
from .context import Context
from .lookups import current_user, membership

TYPING = "chat.typing"


class Privacy:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def get_privacy(self, actor: Actor) -> PrivacySettings:
        """Your privacy settings."""
        with self._ctx.uow(read_only=True) as uow:
            return PrivacySettings.of(current_user(uow, actor.id))

    def update_privacy(
        self,
        actor: Actor,
        *,
        last_seen: Visibility | None = None,
        read_receipts: bool | None = None,
        typing: bool | None = None,
        forward_link: bool | None = None,
    ) -> PrivacySettings:
        """Change the settings given (None leaves one as it is)."""
        changes: dict[str, Any] = {
            "last_seen_visibility": last_seen,
            "read_receipts": read_receipts,
            "typing_indicator": typing,
            "forward_link": forward_link,
        }
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            user = attrs.evolve(user, **{k: v for k, v in changes.items() if v is not None})
            uow.users.update(user)
            uow.commit()
        return PrivacySettings.of(user)

    def send_typing(self, actor: Actor, chat_id: int) -> None:
        """Tell the chat's other members you are typing, for TYPING_TTL_SECONDS; at most
        once per TYPING_INTERVAL_SECONDS per chat, never to whom a block separates you
        from, never when your typing setting is off or you may not write there."""
        now = self._ctx.now()
        with self._ctx.uow(read_only=True) as uow:
            chat, _ = membership(uow, actor, chat_id)
            me = current_user(uow, actor.id)
            if not me.typing_indicator:
                return
            others = [u for u in uow.chats.member_ids(chat.id) if u != actor.id]
            if not chat.is_group and others and direct_refusal(uow, actor.id, others[0]) is not None:
                return
            blocked = {b.blocker_id + b.blocked_id - actor.id for b in uow.blocks.involving(actor.id)}
        recipients = [u for u in others if u not in blocked]
        gate = f"typing:{actor.id}:{chat.id}"
        if not recipients or not self._ctx.signals.claim(gate, now, TYPING_INTERVAL_SECONDS):
            return
        data = {"chat_id": chat.id, "user_id": actor.alternative_id}
        expires = now + timedelta(seconds=TYPING_TTL_SECONDS)
        self._ctx.signals.publish(recipients, Signal(type=TYPING, data=data, expires=expires))
        self._ctx.notifier.notify(recipients)
