"""Group chats: creating them, members and roles, title, photo and history settings.

Every change is a system message in the group's timeline (an action with user ids,
never prose) and an event for the members, written in the same transaction; a member
who leaves or is removed gets an event of their own and nothing of the group after it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, BinaryIO

import attrs

from .. import policies
from ..errors import Conflict, FieldErrors, Forbidden, Invalid, NotFound, field
from ..message_views import new_message_view
from ..model import (
    Actor,
    Chat,
    ChatKind,
    ChatMember,
    EventType,
    MemberRole,
    MessageKind,
    NewChat,
    NewMessage,
    SystemAction,
    User,
)
from ..ports import UnitOfWork
from ..read_models import chat_view
from ..views import ChatView
from . import lookups
from .context import Context, Upload
from .lookups import group_membership
from .messages import Messages


class Groups:
    def __init__(self, ctx: Context, messages: Messages) -> None:
        self._ctx = ctx
        self._messages = messages

    def create_group(
        self, actor: Actor, *, title: str, member_ids: Sequence[str], history_visible: bool = True
    ) -> ChatView:
        """A group of you (its owner) and friends of yours."""
        errors = FieldErrors()
        title = policies.check_group_title(errors, title)
        if not member_ids:
            errors.add("member_ids", "no_members")
        errors.raise_if_any()
        with self._ctx.uow() as uow:
            friends = self._friends_of(uow, actor, member_ids, field_name="member_ids")
            maximum = self._ctx.settings.group_max_members
            policies.check_group_size(1 + len(friends), maximum, field_name="member_ids")
            creator = self._ctx.new_member(uow, actor.id, MemberRole.OWNER)
            joining = [self._ctx.new_member(uow, u.id, MemberRole.MEMBER) for u in friends]
            chat = uow.chats.add(
                NewChat(
                    kind=ChatKind.GROUP,
                    created_date=self._ctx.now(),
                    title=title,
                    creator_id=actor.id,
                    history_visible=history_visible,
                ),
                [creator, *joining],
            )
            self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_CREATED, {"chat_id": chat.id})
            self._system(uow, chat, actor, SystemAction.GROUP_CREATED, friends, title=title)
            everyone = lookups.member_ids(uow, chat.id)
            view = chat_view(uow, actor, uow.chats.get(chat.id) or chat)
            uow.commit()
        self._ctx.notifier.notify(everyone)
        return view

    def update_group(
        self, actor: Actor, chat_id: int, *, title: str | None = None, history_visible: bool | None = None
    ) -> ChatView:
        """Rename the group or change whether later members see earlier messages."""
        errors = FieldErrors()
        new_title = policies.check_group_title(errors, title) if title is not None else None
        errors.raise_if_any()
        with self._ctx.uow() as uow:
            chat, mine = group_membership(uow, actor, chat_id)
            policies.check_manages(mine)
            if new_title is not None and new_title != chat.title:
                chat = self._save(uow, chat, title=new_title)
                self._system(uow, chat, actor, SystemAction.TITLE_CHANGED, title=new_title)
            if history_visible is not None and history_visible != chat.history_visible:
                chat = self._save(uow, chat, history_visible=history_visible)
                visible = SystemAction.HISTORY_VISIBILITY_CHANGED
                self._system(uow, chat, actor, visible, history_visible=history_visible)
            return self._finish(uow, actor, chat)

    def set_group_photo(self, actor: Actor, chat_id: int, upload: Upload | None) -> ChatView:
        """Replace the group's photo with a square re-encoding of the image, or remove it."""
        with self._ctx.uow(read_only=True) as uow:  # refuse before the work of encoding
            policies.check_manages(group_membership(uow, actor, chat_id)[1])
        photo = self._ctx.store_square_image(upload) if upload is not None else None
        try:
            with self._ctx.uow() as uow:
                chat, mine = group_membership(uow, actor, chat_id)
                policies.check_manages(mine)
                old = chat.photo
                chat = self._save(uow, chat, photo=photo)
                self._system(uow, chat, actor, SystemAction.PHOTO_CHANGED, removed=photo is None)
                view = self._finish(uow, actor, chat)
        except BaseException:
            if photo:
                self._ctx.blobs.delete(photo)
            raise
        if old:
            self._ctx.discard_blob(old)
        return view

    def open_group_photo(self, actor: Actor, chat_id: int) -> tuple[ChatView, BinaryIO | None]:
        """The group and a stream of its photo (None when it has none), for members."""
        with self._ctx.uow(read_only=True) as uow:
            chat, _ = group_membership(uow, actor, chat_id)
            view = chat_view(uow, actor, chat)
        return view, (self._ctx.blobs.open(chat.photo) if chat.photo else None)

    def add_members(self, actor: Actor, chat_id: int, user_ids: Sequence[str]) -> ChatView:
        """Add friends of yours to a group you run. Without visible history they see
        what is written from now on."""
        if not user_ids:
            raise Invalid({"user_ids": field("no_members")})
        with self._ctx.uow() as uow:
            chat, mine = group_membership(uow, actor, chat_id)
            policies.check_manages(mine)
            joining = self._friends_of(uow, actor, user_ids, field_name="user_ids")
            if any(uow.chats.member(chat.id, u.id) for u in joining):
                raise Conflict("already_member")
            size = len(lookups.member_ids(uow, chat.id)) + len(joining)
            policies.check_group_size(size, self._ctx.settings.group_max_members)
            floor = 0 if chat.history_visible else chat.last_message_id or 0
            for user in joining:
                member = self._ctx.new_member(uow, user.id, MemberRole.MEMBER, visible_after_message_id=floor)
                uow.chats.add_member(chat.id, member)
            public = [u.alternative_id for u in joining]
            data = {"chat_id": chat.id, "user_ids": public, "by": actor.alternative_id}
            self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_MEMBER_ADDED, data)
            self._system(uow, chat, actor, SystemAction.MEMBER_ADDED, joining)
            return self._finish(uow, actor, chat)

    def remove_member(self, actor: Actor, chat_id: int, user_id: str) -> ChatView | None:
        """Remove a member from a group you run; naming yourself leaves the group (and
        returns None: you no longer see it)."""
        if user_id in ("me", actor.alternative_id):
            self.leave_group(actor, chat_id)
            return None
        with self._ctx.uow() as uow:
            chat, mine = group_membership(uow, actor, chat_id)
            target, _ = self._member(uow, chat, user_id)
            policies.check_may_remove(mine, target)
            self._depart(uow, chat, target, SystemAction.MEMBER_REMOVED, by=actor)
            return self._finish(uow, actor, chat, also=[target.user_id])

    def leave_group(self, actor: Actor, chat_id: int) -> None:
        """Leave a group: its owner's place passes to the longest-standing admin, else
        member; the last one out deletes the group."""
        with self._ctx.uow() as uow:
            chat, mine = group_membership(uow, actor, chat_id)
            rest, doomed = self._depart(uow, chat, mine, SystemAction.MEMBER_LEFT, by=actor)
            uow.commit()
        self._ctx.delete_blobs(doomed)
        self._ctx.notifier.notify([actor.id, *rest])

    def set_member_role(self, actor: Actor, chat_id: int, user_id: str, role: MemberRole) -> ChatView:
        """The owner makes a member an admin or a member again; making someone the owner
        hands the group over (the old owner becomes an admin)."""
        with self._ctx.uow() as uow:
            chat, mine = group_membership(uow, actor, chat_id)
            policies.check_owner(mine)
            target, target_user = self._member(uow, chat, user_id)
            if target.user_id == actor.id:
                raise Invalid({"user_id": field("own_id")})
            if target.role is not role:
                uow.chats.set_role(chat.id, target.user_id, role)
                self._role_changed(uow, chat, actor, target_user, role)
                if role is MemberRole.OWNER:
                    uow.chats.set_role(chat.id, actor.id, MemberRole.ADMIN)
                    me = uow.users.get(actor.id)
                    if me is not None:
                        self._role_changed(uow, chat, actor, me, MemberRole.ADMIN)
            return self._finish(uow, actor, chat)

    def leave_every_group(self, uow: UnitOfWork, actor: Actor) -> tuple[list[int], list[str]]:
        """Take the actor out of every group they are in, in the caller's unit of work (an
        account being deleted): whom to wake, and the blobs of groups that ended."""
        woken: list[int] = []
        doomed: list[str] = []
        for chat in uow.chats.list_for_user(actor.id):
            mine = uow.chats.member(chat.id, actor.id) if chat.is_group else None
            if mine is not None:
                rest, files = self._depart(uow, chat, mine, SystemAction.MEMBER_LEFT, by=actor)
                woken += rest
                doomed += files
        return woken, doomed

    # --- the steps the use cases share ------------------------------------------------

    def _friends_of(
        self, uow: UnitOfWork, actor: Actor, public_ids: Sequence[str], *, field_name: str
    ) -> list[User]:
        """The users named, each once, each a friend of the actor."""
        users: list[User] = []
        for public_id in dict.fromkeys(public_ids):
            user = uow.users.get_by_alternative_id(public_id)
            if user is None:
                raise NotFound("user")
            if user.id == actor.id:
                raise Invalid({field_name: field("own_id")})
            row = uow.friendships.get(actor.id, user.id)
            if row is None or not row.is_accepted:
                raise Forbidden("add_only_friends")
            users.append(user)
        return users

    @staticmethod
    def _member(uow: UnitOfWork, chat: Chat, public_id: str) -> tuple[ChatMember, User]:
        user = uow.users.get_by_alternative_id(public_id)
        member = uow.chats.member(chat.id, user.id) if user else None
        if user is None or member is None:
            raise NotFound("member")
        return member, user

    def _depart(
        self, uow: UnitOfWork, chat: Chat, leaving: ChatMember, action: SystemAction, *, by: Actor
    ) -> tuple[list[int], list[str]]:
        """Take a member out of a group; returns the members who stay, and the blobs to
        delete after the commit when nobody does (the group is gone then)."""
        uow.chats.remove_member(chat.id, leaving.user_id)
        data = {"chat_id": chat.id, "user_id": _public(uow, leaving.user_id), "by": by.alternative_id}
        self._ctx.append_events(uow, [leaving.user_id], EventType.CHAT_MEMBER_REMOVED, data)
        rest = uow.chats.members(chat.id)
        if not rest:  # the last one out: nobody is left to see the group
            files = uow.attachments.for_chat(chat.id)
            uow.chats.remove(chat.id)
            return [], [*self._ctx.unshared_keys(uow, files), *([chat.photo] if chat.photo else [])]
        self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_MEMBER_REMOVED, data)
        left = uow.users.get(leaving.user_id)
        self._system(uow, chat, by, action, [left] if left else [])
        if leaving.role is MemberRole.OWNER:
            heir = policies.next_owner(rest)
            heir_user = uow.users.get(heir.user_id) if heir else None
            if heir is not None and heir_user is not None:
                uow.chats.set_role(chat.id, heir.user_id, MemberRole.OWNER)
                self._role_changed(uow, chat, by, heir_user, MemberRole.OWNER)
        return [m.user_id for m in rest], []

    def _role_changed(self, uow: UnitOfWork, chat: Chat, actor: Actor, user: User, role: MemberRole) -> None:
        data = {"chat_id": chat.id, "user_id": user.alternative_id, "role": role.value}
        self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_ROLE_CHANGED, data)
        self._system(uow, chat, actor, SystemAction.ROLE_CHANGED, [user], role=role.value)

    def _save(self, uow: UnitOfWork, chat: Chat, **changes: Any) -> Chat:
        chat = attrs.evolve(chat, **changes)
        uow.chats.update(chat)
        data = {"chat_id": chat.id, "title": chat.title, "history_visible": chat.history_visible}
        self._ctx.append_chat_event(uow, chat.id, EventType.CHAT_UPDATED, data | {"photo": bool(chat.photo)})
        return chat

    def _system(
        self,
        uow: UnitOfWork,
        chat: Chat,
        actor: Actor,
        action: SystemAction,
        users: Sequence[User] = (),
        **params: Any,
    ) -> None:
        """Write what happened into the group's timeline, as data."""
        now = self._ctx.now()
        system = {"action": action.value, "actor_id": actor.id, "user_ids": [u.id for u in users], **params}
        message = uow.messages.add(
            NewMessage(
                chat_id=chat.id,
                sender_id=actor.id,
                text=None,
                sticker_id=None,
                sending_date=now,
                kind=MessageKind.SYSTEM,
                system=system,
            )
        )
        uow.chats.touch(chat.id, last_message_id=message.id, at=now)
        if uow.chats.member(chat.id, actor.id) is not None:
            uow.chats.set_last_read(chat.id, actor.id, message.id)
        named = {u.id: u for u in users}
        actor_user = uow.users.get(actor.id)
        if actor_user is not None:
            named[actor.id] = actor_user
        view = new_message_view(message, actor, None, [], named)
        self._messages.announce(uow, chat.id, EventType.MESSAGE_NEW, view)

    def _finish(self, uow: UnitOfWork, actor: Actor, chat: Chat, *, also: Sequence[int] = ()) -> ChatView:
        """Commit the change and wake the members (and whoever just left)."""
        everyone = lookups.member_ids(uow, chat.id)
        view = chat_view(uow, actor, uow.chats.get(chat.id) or chat)
        uow.commit()
        self._ctx.notifier.notify([*everyone, *also])
        return view


def _public(uow: UnitOfWork, user_id: int) -> str | None:
    user = uow.users.get(user_id)
    return user.alternative_id if user else None
