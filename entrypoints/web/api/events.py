"""The long-poll event stream."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator

import falcon

from messenger_core import Invalid, Messenger

from ...config import Settings
from .. import render, schema
from ..errors import edge_field
from ..limits import RateLimits
from .base import Resource, params


class EventsResource(Resource):
    """Long-poll: waits up to ``timeout`` for the user's next events.

    A waiting request holds a waitress thread, so waiters are capped below the thread
    count: the rest of the threads stay free for ordinary requests. One user (or one
    address) may hold only a few of those places, so nobody can take them all. Past a
    cap the answer comes at once (``X-Long-Poll: busy``) and the client polls again with
    its cursor, losing nothing.
    """

    def __init__(self, messenger: Messenger, settings: Settings, limits: RateLimits) -> None:
        super().__init__(messenger, settings, limits)
        self.waiters = threading.BoundedSemaphore(max(1, settings.THREADS - settings.RESERVED_THREADS))
        self.per_user = limits.long_polls_per_user
        self.per_address = limits.long_polls_per_address

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = schema.parse(schema.EventsQuery, params(req))
        if not 0 <= query.timeout <= self.settings.LONG_POLL_MAX_TIMEOUT:
            raise Invalid({"timeout": edge_field("seconds_range", max=self.settings.LONG_POLL_MAX_TIMEOUT)})
        timeout = query.timeout if query.since is not None else 0  # no cursor: answer at once
        with self._place(str(actor.id), req.remote_addr or "unknown", wanted=timeout > 0) as waiting:
            if timeout > 0 and not waiting:
                timeout = 0  # a cap is reached: answer now, the client polls again
                resp.set_header("X-Long-Poll", "busy")
            batch = self.messenger.events(
                actor, since=query.since, timeout=timeout, signals_since=query.signals_since
            )
        resp.media = {
            "events": [render.event(e) for e in batch.events],
            "cursor": batch.cursor,
            "signals": [render.signal(s) for s in batch.signals],
            "signal_cursor": batch.signal_cursor,
        }

    @contextlib.contextmanager
    def _place(self, user: str, address: str, *, wanted: bool) -> Iterator[bool]:
        """A waiter's place (True), or False when the user's, the address's or the
        server's places are all taken."""
        taken: list[Callable[[], None]] = []
        try:
            if wanted and self.per_user.acquire(user):
                taken.append(lambda: self.per_user.release(user))
                if self.per_address.acquire(address):
                    taken.append(lambda: self.per_address.release(address))
                    if self.waiters.acquire(blocking=False):
                        taken.append(self.waiters.release)
            yield len(taken) == 3
        finally:
            for release in reversed(taken):
                release()
