"""Events: each user's stream of what happened, read by long-poll, and its pruning."""

from __future__ import annotations

from datetime import timedelta

from ..errors import Gone, Invalid, Unauthorized, field
from ..limits import EVENTS_LIMIT
from ..model import Actor
from ..read_models import EventBatch
from .context import Context
from .lookups import current_user


class Events:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def events(
        self, actor: Actor, *, since: int | None = None, timeout: float = 0.0, limit: int = EVENTS_LIMIT
    ) -> EventBatch:
        """Your events after the cursor ``since``, waiting up to ``timeout`` seconds for
        the first. Without ``since``: no events and the current cursor. Gone when the
        cursor is unknown or older than what is retained."""
        if since is None:
            with self._ctx.uow(read_only=True) as uow:
                return EventBatch(events=(), cursor=uow.events.latest_id())
        if since < 0:
            raise Invalid({"since": field("negative")})
        deadline = self._ctx.now() + timedelta(seconds=max(0.0, timeout))
        timed_out = timeout <= 0
        notifier = self._ctx.notifier
        while True:
            version = notifier.version(actor.id)
            with self._ctx.uow(read_only=True) as uow:
                # A wait outlives the check of its token: an identity rotated meanwhile
                # (a password change) ends it, and nothing after it is delivered.
                if current_user(uow, actor.id).alternative_id != actor.alternative_id:
                    raise Unauthorized("token_revoked")
                if since > uow.events.latest_id() or since < uow.events.oldest_retained_id():
                    raise Gone("resync")
                found = uow.events.after(actor.id, since, limit)
            # The notifier's own timeout ends the wait, so a clock that stands still (or
            # steps back) can never make a long-poll wait for longer than asked.
            remaining = min(timeout, (deadline - self._ctx.now()).total_seconds())
            if found or timed_out or remaining <= 0:
                cursor = found[-1].id if found else since
                return EventBatch(events=tuple(found), cursor=cursor)
            timed_out = not notifier.wait(actor.id, version, remaining)

    def prune_events(self) -> int:
        """Delete events older than the retention period."""
        with self._ctx.uow() as uow:
            removed = uow.events.prune_before(self._ctx.now() - self._ctx.settings.event_retention)
            uow.commit()
        return removed
