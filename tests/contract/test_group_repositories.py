"""The repository methods of group chats, on every adapter: members and roles, mentions,
system messages in unread counts, and events of a chat read through membership."""

from __future__ import annotations

import attrs
import pytest

from messenger_core.errors import Conflict
from messenger_core.model import ChatKind, EventType, MemberRole, MessageKind, NewMember, NewMessage
from messenger_core.ports import UnitOfWorkFactory
from tests.contract.test_repositories import T0, add_message, add_user, at
from tests.records import add_chat


def joining(
    user_id: int, *, role: MemberRole = MemberRole.MEMBER, event: int = 0, floor: int = 0
) -> NewMember:
    return NewMember(
        user_id=user_id, role=role, joined_date=T0, joined_event_id=event, visible_after_message_id=floor
    )


def test_a_group_keeps_its_title_kind_and_roles(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id, boris.id], at(1), ChatKind.GROUP)
        assert (group.kind, group.title, group.history_visible, group.photo) == (
            ChatKind.GROUP,
            "Group",
            True,
            None,
        )
        assert [(m.user_id, m.role, m.joined_date) for m in uow.chats.members(group.id)] == [
            (alena.id, MemberRole.OWNER, at(1)),
            (boris.id, MemberRole.MEMBER, at(1)),
        ]
        assert uow.chats.member_ids(group.id) == [alena.id, boris.id]
        assert uow.chats.member(group.id, boris.id) == uow.chats.members(group.id)[1]
        assert uow.chats.member(group.id, 999) is None
        assert uow.chats.member_ids(12345) == []


def test_update_changes_title_photo_and_history_only(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        group = add_chat(uow, [alena.id], at(1), ChatKind.GROUP)
        uow.chats.touch(group.id, last_message_id=None, at=at(9))
        stale = attrs.evolve(group, title="Новое", photo="blob-key", history_visible=False)
        uow.chats.update(stale)  # its last_activity is older: update must not write it back
        stored = uow.chats.get(group.id)
        assert stored is not None
        assert (stored.title, stored.photo, stored.history_visible) == ("Новое", "blob-key", False)
        assert stored.last_activity == at(9)


def test_members_come_and_go_with_their_roles(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id], at(1), ChatKind.GROUP)
        uow.chats.add_member(group.id, joining(clara.id, event=7, floor=3))
        uow.chats.add_member(group.id, joining(boris.id))
        with pytest.raises(Conflict) as twice:
            uow.chats.add_member(group.id, joining(boris.id))
        assert twice.value.code == "already_member"
        assert uow.chats.member_ids(group.id) == [alena.id, boris.id, clara.id]
        late = uow.chats.member(group.id, clara.id)
        assert late is not None and (late.joined_event_id, late.visible_after_message_id) == (7, 3)
        uow.chats.set_role(group.id, boris.id, MemberRole.ADMIN)
        assert uow.chats.member(group.id, boris.id).role is MemberRole.ADMIN  # type: ignore[union-attr]
        uow.chats.remove_member(group.id, boris.id)
        uow.chats.remove_member(group.id, boris.id)  # missing is fine
        assert uow.chats.member_ids(group.id) == [alena.id, clara.id]
        assert [c.id for c in uow.chats.list_for_user(boris.id)] == []
        assert [c.id for c in uow.chats.list_for_user(clara.id)] == [group.id]


def test_a_direct_chat_is_found_and_a_group_of_the_same_two_is_not(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id, boris.id], at(1), ChatKind.GROUP)
        assert uow.chats.find_direct(alena.id, boris.id) is None
        direct = add_chat(uow, [alena.id, boris.id], at(2))
        found = uow.chats.find_direct(boris.id, alena.id)
        assert found is not None and found.id == direct.id != group.id


def test_unread_counts_leave_out_system_messages_and_count_mentions(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id, boris.id, clara.id], at(1), ChatKind.GROUP)
        uow.messages.add(
            NewMessage(
                chat_id=group.id,
                sender_id=alena.id,
                text=None,
                sticker_id=None,
                sending_date=at(2),
                kind=MessageKind.SYSTEM,
                system={"action": "title_changed", "actor_id": alena.id, "user_ids": [], "title": "X"},
            )
        )
        plain = add_message(uow, group, alena, "всем")
        mention = uow.messages.add(
            NewMessage(
                chat_id=group.id,
                sender_id=alena.id,
                text="@Борис",
                sticker_id=None,
                sending_date=at(3),
                mentions=(boris.id,),
            )
        )
        assert uow.messages.get(mention.id) == mention
        assert uow.messages.count_unread(group.id, boris.id, 0) == 2  # the system message is not news
        assert uow.messages.count_unread_mentions(group.id, boris.id, 0) == 1
        assert uow.messages.count_unread_mentions(group.id, clara.id, 0) == 0
        assert uow.messages.count_unread_mentions(group.id, boris.id, mention.id) == 0
        uow.messages.update(mention.tombstoned(by=alena.id))  # a tombstone mentions nobody
        assert uow.messages.count_unread_mentions(group.id, boris.id, plain.id) == 0
        gone = uow.messages.get(mention.id)
        assert gone is not None and (gone.mentions, gone.deleted_by) == ((), alena.id)


def test_a_chats_events_reach_members_after_they_joined_and_not_after_they_left(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        group = add_chat(uow, [alena.id, boris.id], at(1), ChatKind.GROUP)
        before = uow.events.append_to_chat(group.id, EventType.CHAT_UPDATED, {"n": 1}, at(2))
        own = uow.events.append(clara.id, EventType.USER_UPDATED, {"n": 2}, at(3))
        uow.chats.add_member(group.id, joining(clara.id, event=uow.events.latest_id()))
        after = uow.events.append_to_chat(group.id, EventType.CHAT_UPDATED, {"n": 3}, at(4))
        assert before.chat_id == group.id and before.user_id is None
        assert [e.id for e in uow.events.after(clara.id, 0, 10)] == [own.id, after.id]
        assert [e.id for e in uow.events.after(alena.id, 0, 10)] == [before.id, after.id]
        assert [e.id for e in uow.events.after(alena.id, before.id, 10)] == [after.id]
        assert [e.id for e in uow.events.after(alena.id, 0, 1)] == [before.id]  # the limit holds
        uow.chats.remove_member(group.id, boris.id)
        assert uow.events.after(boris.id, 0, 10) == []
        [read] = uow.events.after(clara.id, after.id - 1, 10)
        assert (read.type, read.data, read.chat_id, read.created_date) == (
            EventType.CHAT_UPDATED,
            {"n": 3},
            group.id,
            at(4),
        )
