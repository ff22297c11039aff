"""Blocking: block and unblock anyone, the list of whom you blocked.

A block (either way) closes the direct chat for writing and friend requests, and hides
presence and avatars from each other (``read_models.Audience``); blocking ends a
friendship and cancels pending requests both ways. In groups both stay members.
"""

from __future__ import annotations

from ..model import Actor, Block
from ..read_models import block_view
from ..views import BlockView
from .context import Context
from .lookups import other_user


class Blocks:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def block_user(self, actor: Actor, user_id: str) -> None:
        """Block a user (again is harmless), ending your friendship or requests."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            uow.blocks.add(Block(blocker_id=actor.id, blocked_id=other.id, created_date=self._ctx.now()))
            row = uow.friendships.get(actor.id, other.id)
            if row is not None:
                uow.friendships.remove(actor.id, other.id)
                # The other side learns what any ending tells: removed, cancelled or denied.
                data = {"user_id": actor.alternative_id}
                self._ctx.append_events(uow, [other.id], row.ending(by=actor.id), data)
            uow.commit()
        self._ctx.notifier.notify([other.id, actor.id])

    def unblock_user(self, actor: Actor, user_id: str) -> None:
        """Lift your block of a user (none is fine); a friendship it ended stays ended."""
        with self._ctx.uow() as uow:
            other = other_user(uow, actor, user_id)
            if uow.blocks.remove(actor.id, other.id):
                uow.commit()

    def list_blocked(self, actor: Actor) -> list[BlockView]:
        """Whom you blocked, oldest block first."""
        with self._ctx.uow(read_only=True) as uow:
            blocks = uow.blocks.list_by(actor.id)
            users = uow.users.get_many(b.blocked_id for b in blocks)
        return [block_view(b, users[b.blocked_id]) for b in blocks if b.blocked_id in users]
