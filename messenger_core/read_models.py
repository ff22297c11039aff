"""Read models: the frozen views use cases return, and their assembly from entities —
the one place that decides what a view holds.

Use cases call the assembly functions inside their unit of work; nothing here writes.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import attrs

from . import policies
from .message_views import message_views
from .model import (
    Actor,
    Block,
    Chat,
    ChatMember,
    Export,
    Friendship,
    MemberRole,
    Session,
    User,
)
from .ports import UnitOfWork
from .views import (
    BlockView,
    ChatView,
    ExportView,
    FriendView,
    MemberView,
    PresenceView,
    SessionView,
    UserView,
    user_view,
)

# --- assembly ---------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Audience:
    """Who is looking, and what that lets them see of other people: a user who blocked
    the viewer (or whom the viewer blocked) shows no avatar and no presence; presence
    otherwise follows both people's last-seen settings (``policies.sees_presence``).
    Without ``online`` (no presence wanted), only the blocks count."""

    viewer: User | None
    friends: frozenset[int] = frozenset()
    blocked: frozenset[int] = frozenset()  # either way
    online: Callable[[int], bool] | None = None
    now: datetime | None = None

    @classmethod
    def of(
        cls,
        uow: UnitOfWork,
        viewer_id: int,
        *,
        online: Callable[[int], bool] | None = None,
        now: datetime | None = None,
    ) -> Audience:
        blocks = uow.blocks.involving(viewer_id)
        blocked = frozenset(b.blocked_id if b.blocker_id == viewer_id else b.blocker_id for b in blocks)
        if online is None:
            return cls(viewer=None, blocked=blocked)
        friends = frozenset(r.other(viewer_id) for r in uow.friendships.list_for(viewer_id) if r.is_accepted)
        return cls(viewer=uow.users.get(viewer_id), friends=friends, blocked=blocked, online=online, now=now)

    def show(self, user: User) -> UserView:
        if self.viewer is not None and user.id == self.viewer.id:
            return user_view(user, presence=self._exact(user))
        if user.id in self.blocked or user.is_deleted:
            return user_view(user, hide_avatar=True)
        if self.viewer is None or self.online is None or self.now is None:
            return user_view(user)
        if policies.sees_presence(
            user.last_seen_visibility, self.viewer.last_seen_visibility, friends=user.id in self.friends
        ):
            return user_view(user, presence=self._exact(user))
        seen = self.now if self.online(user.id) else user.last_seen
        return user_view(user, presence=PresenceView(fuzzy=policies.fuzzy_last_seen(seen, self.now)))

    def _exact(self, user: User) -> PresenceView | None:
        if self.online is None:
            return None
        return PresenceView(online=self.online(user.id), last_seen=user.last_seen)


def session_view(session: Session, current_id: int | None) -> SessionView:
    return SessionView(
        id=session.id,
        device=session.device,
        ip=session.ip,
        created_date=session.created_date,
        last_used_date=session.last_used_date,
        current=session.id == current_id,
    )


def block_view(block: Block, user: User) -> BlockView:
    return BlockView(user=user_view(user), since=block.created_date)


def export_view(export: Export) -> ExportView:
    return ExportView(
        state=export.state, created_date=export.created_date, ready_date=export.ready_date, size=export.size
    )


def friend_view(row: Friendship, user: User) -> FriendView:
    return FriendView(user=user_view(user), is_accepted=row.is_accepted, since=row.created_date)


def chat_view(uow: UnitOfWork, actor: Actor, chat: Chat, audience: Audience | None = None) -> ChatView:
    """The chat as ``actor`` sees it: members (as ``audience`` shows them; by default with
    blocks applied and no presence), last message, latest pin, unread counts, read mark —
    leaving out what they hid and what came before their part of it — and whether they
    may send."""
    members = uow.chats.members(chat.id)
    users = uow.users.get_many(m.user_id for m in members)
    audience = audience or Audience.of(uow, actor.id)
    mine = next((m for m in members if m.user_id == actor.id), None)
    since = unread_after(mine)
    floor = mine.visible_after_message_id if mine else 0
    newest = uow.messages.page_before(chat.id, None, 1, hidden_for=actor.id) if chat.last_message_id else []
    last = newest[0] if newest and newest[0].id > floor else None
    pin = uow.pins.latest_for(chat.id, actor.id, floor)
    pinned = uow.messages.get(pin.message_id) if pin else None
    shown = [m for m in (last, pinned) if m is not None]
    views = {
        v.id: v for v in message_views(uow, actor.id, chat.id, shown, members=members, chat=chat, known=users)
    }
    member_views = tuple(
        MemberView(user=audience.show(users[m.user_id]), role=m.role) for m in members if m.user_id in users
    )
    peer = next((m.user_id for m in members if m.user_id != actor.id), None)
    return ChatView(
        id=chat.id,
        kind=chat.kind,
        title=chat.title or _names_of_others(member_views, actor.id),
        photo=chat.photo,
        members=member_views,
        last_message=views[last.id] if last else None,
        unread_count=uow.messages.count_unread(chat.id, actor.id, since),
        unread_mentions=uow.messages.count_unread_mentions(chat.id, actor.id, since) if chat.is_group else 0,
        last_read_message_id=mine.last_read_message_id if mine else 0,
        last_activity=chat.last_activity,
        my_role=mine.role if mine else MemberRole.MEMBER,
        history_visible=chat.history_visible,
        pinned_message=views[pinned.id] if pinned else None,
        muted_until=mine.muted_until if mine else None,
        cannot_send=None if chat.is_group or peer is None else direct_refusal(uow, actor.id, peer),
    )


def direct_refusal(uow: UnitOfWork, user_id: int, peer_id: int) -> str | None:
    """Why ``user_id`` may not write to ``peer_id`` in their direct chat, or None: a block
    either way (``blocked``, whoever made it), or no friendship (``no_longer_friends``)."""
    if uow.blocks.between(user_id, peer_id):
        return "blocked"
    row = uow.friendships.get(user_id, peer_id)
    return None if row is not None and row.is_accepted else "no_longer_friends"


def unread_after(member: ChatMember | None) -> int:
    """The id after which the member's unread messages begin."""
    if member is None:
        return 0
    return max(member.last_read_message_id, member.visible_after_message_id)


def _names_of_others(members: tuple[MemberView, ...], me: int) -> str:
    others = [m.user for m in members if m.user.id != me]
    return ", ".join(f"{u.first_name} {u.second_name}" for u in others) or "—"
