"""Group chats on the memory adapter: creating them, roles, members, mentions, read state."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from adapters.memory import MemoryUnitOfWorkFactory
from adapters.testing import ManualClock
from messenger_core import Conflict, Forbidden, Invalid, Messenger, MessengerSettings, NotFound
from messenger_core.model import Actor, ChatKind, ChatMember, EventType, MemberRole, MessageKind, SystemAction
from messenger_core.policies import check_may_remove, next_owner
from tests.conftest import build_messenger

PASSWORD = "correct horse"


def person(m: Messenger, name: str) -> Actor:
    view = m.register(
        first_name=name, second_name="Group", email=f"{name.lower()}@example.com", password=PASSWORD
    )
    return Actor(view.id, view.user_id)


def befriend(m: Messenger, a: Actor, b: Actor) -> None:
    m.send_friend_request(a, b.alternative_id)
    m.accept_friend_request(b, a.alternative_id)


@pytest.fixture
def people(messenger: Messenger) -> dict[str, Actor]:
    found = {name: person(messenger, name) for name in ("Olga", "Anna", "Boris", "Vera", "Gleb")}
    for name in ("Anna", "Boris", "Vera"):
        befriend(messenger, found["Olga"], found[name])
    return found


def group(m: Messenger, people: dict[str, Actor], *names: str, history_visible: bool = True) -> int:
    ids = [people[n].alternative_id for n in names]
    return m.create_group(
        people["Olga"], title="  Клуб  ", member_ids=ids, history_visible=history_visible
    ).id


def roles(m: Messenger, actor: Actor, chat_id: int) -> dict[str, MemberRole]:
    return {v.user.first_name: v.role for v in m.get_chat(actor, chat_id).members}


def test_creating_a_group_makes_its_creator_owner_and_says_so(
    messenger: Messenger, people: dict[str, Actor]
) -> None:
    chat = messenger.create_group(
        people["Olga"],
        title="  Клуб  ",
        member_ids=[people["Anna"].alternative_id, people["Boris"].alternative_id],
    )
    assert (chat.kind, chat.title, chat.my_role, chat.member_count) == (
        ChatKind.GROUP,
        "Клуб",
        MemberRole.OWNER,
        3,
    )
    assert roles(messenger, people["Anna"], chat.id) == {
        "Olga": MemberRole.OWNER,
        "Anna": MemberRole.MEMBER,
        "Boris": MemberRole.MEMBER,
    }
    [created] = messenger.history(people["Anna"], chat.id)
    assert created.kind is MessageKind.SYSTEM and created.system is not None
    assert created.system.action is SystemAction.GROUP_CREATED and created.system.params["title"] == "Клуб"
    assert {u.first_name for u in created.system.users} == {"Anna", "Boris"}
    assert messenger.get_chat(people["Anna"], chat.id).unread_count == 0  # system messages do not count


def test_only_friends_join_and_titles_are_checked(messenger: Messenger, people: dict[str, Actor]) -> None:
    with pytest.raises(Forbidden) as stranger:
        group(messenger, people, "Gleb")
    assert stranger.value.code == "add_only_friends"
    with pytest.raises(Invalid) as empty:
        messenger.create_group(people["Olga"], title="   ", member_ids=[people["Anna"].alternative_id])
    assert empty.value.fields["title"].code == "empty"
    with pytest.raises(Invalid) as nobody:
        messenger.create_group(people["Olga"], title="Клуб", member_ids=[])
    assert nobody.value.fields["member_ids"].code == "no_members"


def test_a_group_has_at_most_the_member_limit(clock: ManualClock) -> None:
    m = build_messenger(MemoryUnitOfWorkFactory(), clock, settings=MessengerSettings(group_max_members=3))
    owner, *friends = (person(m, n) for n in ("Olga", "Anna", "Boris", "Vera"))
    for friend in friends:
        befriend(m, owner, friend)
    with pytest.raises(Invalid) as too_many:
        m.create_group(owner, title="Четверо", member_ids=[f.alternative_id for f in friends])
    # Named by the field the request used, so a form can show it beside its member list.
    assert too_many.value.fields["member_ids"].code == "group_full"
    chat = m.create_group(owner, title="Трое", member_ids=[f.alternative_id for f in friends[:2]])
    with pytest.raises(Invalid) as full:
        m.add_members(owner, chat.id, [friends[2].alternative_id])
    assert (full.value.fields["user_ids"].code, full.value.fields["user_ids"].params) == (
        "group_full",
        {"max": 3},
    )


def test_roles_decide_who_runs_the_group(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna, boris = people["Olga"], people["Anna"], people["Boris"]
    with pytest.raises(Forbidden) as member:
        messenger.update_group(anna, chat_id, title="Моя")
    assert member.value.code == "not_group_admin"
    messenger.set_member_role(olga, chat_id, anna.alternative_id, MemberRole.ADMIN)
    assert messenger.update_group(anna, chat_id, title="Моя").title == "Моя"
    with pytest.raises(Forbidden) as not_owner:
        messenger.set_member_role(anna, chat_id, boris.alternative_id, MemberRole.ADMIN)
    assert not_owner.value.code == "not_group_owner"
    messenger.set_member_role(olga, chat_id, boris.alternative_id, MemberRole.ADMIN)
    with pytest.raises(Forbidden) as peer:
        messenger.remove_member(anna, chat_id, boris.alternative_id)
    assert peer.value.code == "cannot_remove_admin"
    with pytest.raises(Forbidden):
        messenger.remove_member(anna, chat_id, olga.alternative_id)
    messenger.remove_member(olga, chat_id, boris.alternative_id)  # the owner removes anyone
    assert "Boris" not in roles(messenger, olga, chat_id)


def test_handing_over_and_leaving_keep_exactly_one_owner(
    messenger: Messenger, people: dict[str, Actor], clock: ManualClock
) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna, boris, vera = people["Olga"], people["Anna"], people["Boris"], people["Vera"]
    clock.advance(timedelta(minutes=1))
    messenger.add_members(olga, chat_id, [vera.alternative_id])
    messenger.set_member_role(olga, chat_id, vera.alternative_id, MemberRole.ADMIN)
    # The owner leaves: the longest-standing admin (Vera, the only one) takes over.
    messenger.leave_group(olga, chat_id)
    assert roles(messenger, anna, chat_id) == {
        "Anna": MemberRole.MEMBER,
        "Boris": MemberRole.MEMBER,
        "Vera": MemberRole.OWNER,
    }
    with pytest.raises(NotFound):
        messenger.get_chat(olga, chat_id)
    # Handing over: the old owner becomes an admin.
    messenger.set_member_role(vera, chat_id, anna.alternative_id, MemberRole.OWNER)
    assert roles(messenger, boris, chat_id)["Vera"] is MemberRole.ADMIN
    assert roles(messenger, boris, chat_id)["Anna"] is MemberRole.OWNER
    # With no admin left, the longest-standing member takes over; the last one out ends it.
    messenger.set_member_role(anna, chat_id, vera.alternative_id, MemberRole.MEMBER)
    messenger.leave_group(anna, chat_id)
    assert roles(messenger, boris, chat_id) == {"Boris": MemberRole.OWNER, "Vera": MemberRole.MEMBER}
    messenger.leave_group(vera, chat_id)
    messenger.leave_group(boris, chat_id)
    for someone in (anna, boris, vera):
        assert all(c.id != chat_id for c in messenger.list_chats(someone))


def test_the_next_owner_is_the_longest_standing_admin_else_member() -> None:
    def member(user_id: int, role: MemberRole, minute: int) -> ChatMember:
        joined = datetime(2026, 1, 1, 12, minute, tzinfo=UTC)
        return ChatMember(chat_id=1, user_id=user_id, role=role, joined_date=joined)

    early, late = member(5, MemberRole.MEMBER, 0), member(3, MemberRole.MEMBER, 9)
    admin = member(9, MemberRole.ADMIN, 5)
    assert next_owner([late, admin, early]) == admin
    assert next_owner([late, early]) == early
    assert next_owner([]) is None
    with pytest.raises(Forbidden):
        check_may_remove(admin, member(4, MemberRole.ADMIN, 1))
    check_may_remove(member(1, MemberRole.OWNER, 0), admin)


def test_without_visible_history_a_newcomer_sees_only_what_follows(
    messenger: Messenger, people: dict[str, Actor]
) -> None:
    chat_id = group(messenger, people, "Anna", history_visible=False)
    olga, vera = people["Olga"], people["Vera"]
    before = messenger.send_message(olga, chat_id=chat_id, text="до Веры")
    messenger.add_members(olga, chat_id, [vera.alternative_id])
    after = messenger.send_message(olga, chat_id=chat_id, text="при Вере")
    seen = [m.id for m in messenger.history(vera, chat_id)]
    assert before.id not in seen and after.id in seen
    with pytest.raises(NotFound):
        messenger.readers(vera, before.id)
    assert messenger.get_chat(vera, chat_id).unread_count == 1


def test_a_removed_member_loses_the_group_at_once(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna = people["Olga"], people["Anna"]
    said = messenger.send_message(anna, chat_id=chat_id, text="я тут")
    cursor = messenger.events(anna).cursor
    messenger.remove_member(olga, chat_id, anna.alternative_id)
    messenger.send_message(olga, chat_id=chat_id, text="без Анны")
    batch = messenger.events(anna, since=cursor)
    assert [e.type for e in batch.events] == [EventType.CHAT_MEMBER_REMOVED]
    for look in (lambda: messenger.get_chat(anna, chat_id), lambda: messenger.history(anna, chat_id)):
        with pytest.raises(NotFound):
            look()
    with pytest.raises(NotFound):
        messenger.edit_message(anna, said.id, text="поздно")


def test_mentions_name_members_and_count_unread(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna, boris = people["Olga"], people["Anna"], people["Boris"]
    sent = messenger.send_message(olga, chat_id=chat_id, text="@Анна, смотри", mentions=[anna.alternative_id])
    assert sent.mentions == (anna.alternative_id,)
    assert messenger.get_chat(anna, chat_id).unread_mentions == 1
    assert messenger.get_chat(boris, chat_id).unread_mentions == 0
    with pytest.raises(Invalid) as outsider:
        messenger.send_message(olga, chat_id=chat_id, text="x", mentions=[people["Gleb"].alternative_id])
    assert outsider.value.fields["mentions"].code == "not_a_member"
    messenger.mark_read(anna, chat_id, sent.id)
    assert messenger.get_chat(anna, chat_id).unread_mentions == 0


def test_read_state_in_a_group(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna, boris = people["Olga"], people["Anna"], people["Boris"]
    sent = messenger.send_message(olga, chat_id=chat_id, text="кто прочитал?")
    assert (sent.is_read, sent.read_count) == (False, 0)
    messenger.mark_read(anna, chat_id, sent.id)
    [seen] = [m for m in messenger.history(boris, chat_id) if m.id == sent.id]
    assert (seen.is_read, seen.read_count) == (True, 1)
    assert [u.first_name for u in messenger.readers(boris, sent.id)] == ["Anna"]


def test_admins_moderate_but_nobody_edits_others(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris")
    olga, anna, boris = people["Olga"], people["Anna"], people["Boris"]
    rude = messenger.send_message(boris, chat_id=chat_id, text="грубость")
    with pytest.raises(Forbidden):
        messenger.delete_message(anna, rude.id)
    with pytest.raises(Forbidden):
        messenger.edit_message(olga, rude.id, text="вежливость")
    gone = messenger.delete_message(olga, rude.id)
    assert gone.is_deleted and gone.deleted_by == olga.alternative_id
    [system] = [m for m in messenger.history(olga, chat_id) if m.kind is MessageKind.SYSTEM]
    with pytest.raises(Conflict):
        messenger.delete_message(olga, system.id)


def test_a_direct_chat_is_never_a_group_of_two(messenger: Messenger, people: dict[str, Actor]) -> None:
    olga, anna = people["Olga"], people["Anna"]
    chat_id = group(messenger, people, "Anna")
    direct, created = messenger.open_chat(olga, anna.alternative_id)
    assert created and direct.id != chat_id and direct.kind is ChatKind.DIRECT
    with pytest.raises(Conflict) as not_a_group:
        messenger.add_members(olga, direct.id, [people["Boris"].alternative_id])
    assert not_a_group.value.code == "not_a_group"


def test_a_chat_event_is_one_row_for_every_member(messenger: Messenger, people: dict[str, Actor]) -> None:
    chat_id = group(messenger, people, "Anna", "Boris", "Vera")
    cursors = {n: messenger.events(people[n]).cursor for n in ("Olga", "Anna", "Boris", "Vera")}
    messenger.send_message(people["Anna"], chat_id=chat_id, text="всем")
    got = {n: messenger.events(people[n], since=c).events for n, c in cursors.items()}
    assert all([e.type for e in events] == [EventType.MESSAGE_NEW] for events in got.values())
    assert len({events[0].id for events in got.values()}) == 1  # the same event
