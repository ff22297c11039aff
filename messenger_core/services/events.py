"""Events: each user's stream of what happened, read by long-poll, and its pruning."""

from __future__ import annotations

from datetime import timedelta

from ..errors import Gone, Invalid, Unauthorized, field
from ..limits import EVENTS_LIMIT
from ..model import Actor
from ..views import EventBatch
from .context import Context
from .lookups import current_user


class Events:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def events(
        self,
        actor: Actor,
        *,
        since: int | None = None,
        timeout: float = 0.0,
        limit: int = EVENTS_LIMIT,
        signals_since: int | None = None,
    ) -> EventBatch:
        """Your events after the cursor ``since``, waiting up to ``timeout`` seconds for
        the first, and the ephemeral signals (typing) after ``signals_since``. Without
        ``since``: no events and the current cursors. Gone when the cursor is unknown or
        older than what is retained. While it waits, you are online."""
        signals = self._ctx.signals
        if since is None:
            _, signal_cursor = signals.after(actor.id, None, self._ctx.now())
            with self._ctx.uow(read_only=True) as uow:
                return EventBatch(events=(), cursor=uow.events.latest_id(), signal_cursor=signal_cursor)
        if since < 0:
            raise Invalid({"since": field("negative")})
        signals.polling(actor.id, self._ctx.now(), waiting=True)
        try:
            return self._wait(actor, since, timeout, limit, signals_since)
        finally:
            signals.polling(actor.id, self._ctx.now(), waiting=False)

    def _wait(
        self, actor: Actor, since: int, timeout: float, limit: int, signals_since: int | None
    ) -> EventBatch:
        deadline = self._ctx.now() + timedelta(seconds=max(0.0, timeout))
        timed_out = timeout <= 0
        notifier = self._ctx.notifier
        while True:
            version = notifier.version(actor.id)
            with self._ctx.uow(read_only=True) as uow:
                # A wait outlives the check of its token: the end of its session (signed
                # out, ended from elsewhere, a password change) ends it, with the reason a
                # new request would be told, and nothing after it is delivered.
                session = uow.sessions.get(actor.session_id) if actor.session_id is not None else None
                if session is not None and session.end_reason is not None:
                    raise Unauthorized("token_revoked", ended=session.end_reason.value)
                # So does an identity rotated meanwhile (a token of no session, too).
                if current_user(uow, actor.id).alternative_id != actor.alternative_id:
                    raise Unauthorized("token_revoked")
                if since > uow.events.latest_id() or since < uow.events.oldest_retained_id():
                    raise Gone("resync")
                found = uow.events.after(actor.id, since, limit)
            # The notifier's own timeout ends the wait, so a clock that stands still (or
            # steps back) can never make a long-poll wait for longer than asked.
            remaining = min(timeout, (deadline - self._ctx.now()).total_seconds())
            held, signal_cursor = self._ctx.signals.after(actor.id, signals_since, self._ctx.now())
            if found or held or timed_out or remaining <= 0:
                cursor = found[-1].id if found else since
                return EventBatch(
                    events=tuple(found), cursor=cursor, signals=tuple(held), signal_cursor=signal_cursor
                )
            timed_out = not notifier.wait(actor.id, version, remaining)

    def prune_events(self) -> int:
        """Delete events older than the retention period."""
        with self._ctx.uow() as uow:
            removed = uow.events.prune_before(self._ctx.now() - self._ctx.settings.event_retention)
            uow.commit()
        return removed
