"""Notifications: muting a chat for oneself, and how one's notifications behave.

The browser shows the notifications; the server keeps what decides them (each member's
mute, each user's settings) so that every tab and device of the user agrees.
"""

from __future__ import annotations

from datetime import datetime

import attrs

from ..errors import Invalid, field
from ..model import MUTED_FOREVER, Actor, EventType, User
from ..read_models import chat_view
from ..views import ChatView, NotificationSettings
from .context import Context
from .lookups import current_user, membership


class Notifications:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def mute_chat(self, actor: Actor, chat_id: int, until: datetime | None) -> ChatView:
        """Mute the chat for yourself until ``until`` (``MUTED_FOREVER``: for good;
        None: unmute). Only you are told (your other tabs), by a ``chat.muted`` event.
        A time not in the future is Invalid ``not_in_future``."""
        if until is not None and until <= self._ctx.now():
            raise Invalid({"until": field("not_in_future")})
        if until is not None:
            until = min(until, MUTED_FOREVER)
        with self._ctx.uow() as uow:
            chat, mine = membership(uow, actor, chat_id)
            if mine.muted_until != until:
                uow.chats.set_muted_until(chat.id, actor.id, until)
                data = {"chat_id": chat.id, "muted_until": mute_time(until)}
                self._ctx.append_events(uow, [actor.id], EventType.CHAT_MUTED, data)
                uow.commit()
            view = chat_view(uow, actor, chat)
        self._ctx.notifier.notify([actor.id])
        return view

    def notification_settings(self, actor: Actor) -> NotificationSettings:
        """Your notification settings."""
        with self._ctx.uow(read_only=True) as uow:
            return _settings(current_user(uow, actor.id))

    def update_notification_settings(
        self,
        actor: Actor,
        *,
        notify_preview: bool | None = None,
        notify_muted_mentions: bool | None = None,
    ) -> NotificationSettings:
        """Change the settings given (None: unchanged); your other tabs hear of it by a
        ``settings.updated`` event."""
        with self._ctx.uow() as uow:
            user = current_user(uow, actor.id)
            updated = attrs.evolve(
                user,
                notify_preview=user.notify_preview if notify_preview is None else notify_preview,
                notify_muted_mentions=(
                    user.notify_muted_mentions if notify_muted_mentions is None else notify_muted_mentions
                ),
            )
            if updated != user:
                uow.users.update(updated)
                data = attrs.asdict(_settings(updated))
                self._ctx.append_events(uow, [actor.id], EventType.SETTINGS_UPDATED, data)
                uow.commit()
        self._ctx.notifier.notify([actor.id])
        return _settings(updated)


def mute_time(until: datetime | None) -> float | None:
    """A mute's end as events give it: unix seconds (MUTED_FOREVER's for good) or None."""
    return None if until is None else until.timestamp()


def _settings(user: User) -> NotificationSettings:
    return NotificationSettings(
        notify_preview=user.notify_preview, notify_muted_mentions=user.notify_muted_mentions
    )
