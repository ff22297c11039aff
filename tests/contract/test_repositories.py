"""The contract of every repository port and of the unit of work.

Each test runs once per adapter (see conftest.py). An adapter is done when it passes
this suite unchanged. Records are built through the repositories, never by hand,
except the Friendship value the port itself asks for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import attrs
import pytest

from messenger_core.errors import Conflict
from messenger_core.model import (
    AttachmentKind,
    Chat,
    ChatKind,
    EventType,
    Export,
    ExportState,
    Friendship,
    FriendshipStatus,
    Message,
    NewAttachment,
    NewMessage,
    NewUser,
    User,
)
from messenger_core.normalize import search_key
from messenger_core.ports import UnitOfWork, UnitOfWorkFactory
from tests.records import add_chat

T0 = datetime(2024, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def add_user(
    uow: UnitOfWork,
    first_name: str = "Alena",
    second_name: str = "Smith",
    *,
    alternative_id: str | None = None,
    email: str | None = None,
) -> User:
    number = uow.users.count() + 1
    return uow.users.add(
        NewUser(
            alternative_id=alternative_id or f"user{number:04d}",
            email=email or f"user{number}@example.org",
            password_hash="argon2$hash",
            first_name=first_name,
            second_name=second_name,
            created_date=at(number),
        )
    )


def add_message(
    uow: UnitOfWork, chat: Chat, sender: User, text: str = "hi", *, sent: datetime = T0
) -> Message:
    return uow.messages.add(
        NewMessage(chat_id=chat.id, sender_id=sender.id, text=text, sticker_id=None, sending_date=sent)
    )


def new_attachment(uploader: User, name: str = "photo.jpg", *, created: datetime = T0) -> NewAttachment:
    return NewAttachment(
        uploader_id=uploader.id,
        kind=AttachmentKind.PHOTO,
        name=name,
        size=1234,
        mime="image/jpeg",
        storage_key=f"blob-{name}",
        created_date=created,
        width=640,
        height=480,
        thumbnail_key=f"thumb-{name}",
    )


def search(
    uow: UnitOfWork,
    text: str | None = None,
    *,
    first_name: str | None = None,
    second_name: str | None = None,
    start: int = 0,
    limit: int = 100,
) -> list[str]:
    """First names found; criteria are folded here as the core folds them."""
    found = uow.users.search(
        text=None if text is None else search_key(text),
        first_name=None if first_name is None else search_key(first_name),
        second_name=None if second_name is None else search_key(second_name),
        start=start,
        limit=limit,
    )
    return [u.first_name for u in found]


# --- users ---------------------------------------------------------------------------


def test_users_get_ids_that_grow_and_read_back_as_added(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", "Smith", alternative_id="alena1", email="alena@example.org")
        boris = add_user(uow, "Boris", "Ivanov")

        assert boris.id > alena.id
        assert uow.users.get(alena.id) == alena
        assert alena.alternative_id == "alena1"
        assert alena.email == "alena@example.org"
        assert alena.created_date == at(1)
        assert alena.is_confirmed is False
        assert alena.phone_number is None and alena.avatar is None
        assert uow.users.count() == 2


def test_missing_users_are_none(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)

        assert uow.users.get(alena.id + 100) is None
        assert uow.users.get_by_alternative_id("nobody") is None
        assert uow.users.get_by_email("nobody@example.org") is None
        assert uow.users.get_many([alena.id + 100]) == {}


def test_get_many_returns_existing_users_by_id(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow, "Alena"), add_user(uow, "Boris")

        assert uow.users.get_many([boris.id, alena.id, boris.id, 999]) == {
            alena.id: alena,
            boris.id: boris,
        }
        assert uow.users.get_many([]) == {}


def test_alternative_id_lookup_is_exact(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, alternative_id="AbC123")

        assert uow.users.get_by_alternative_id("AbC123") == alena
        assert uow.users.get_by_alternative_id("abc123") is None
        assert uow.users.get_by_alternative_id("AbC12") is None


def test_email_lookup_ignores_case(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, email="Alena.Smith@Example.ORG")

        assert uow.users.get_by_email("alena.smith@example.org") == alena
        assert uow.users.get_by_email("ALENA.SMITH@EXAMPLE.ORG") == alena
        assert uow.users.get_by_email("alena.smith@example.com") is None


def test_update_replaces_the_user_and_its_search_keys(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", "Smith", email="alena@example.org")
        changed = attrs.evolve(
            alena,
            first_name="Борис",
            email="Boris@Example.org",
            phone_number="+7 900 000-00-00",
            age=33,
            city="Казань",
            additional_inf="hello",
            avatar="avatar-key",
            is_confirmed=True,
        )
        uow.users.update(changed)

        assert uow.users.get(alena.id) == changed
        assert uow.users.get_by_email("boris@example.org") == changed
        assert uow.users.get_by_email("alena@example.org") is None
        assert search(uow, "alena") == []
        assert search(uow, "БОРИС") == ["Борис"]
        assert uow.users.count() == 1


def test_search_folds_case_for_cyrillic_and_latin(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        add_user(uow, "Алёна", "Иванова")
        add_user(uow, "Alena", "Smith")
        add_user(uow, "Борис", "Петров")

        assert search(uow, "алёна") == ["Алёна"]
        assert search(uow, "АЛЕНА") == ["Алёна"]  # ё and е are the same letter here
        assert search(uow, "ALENA") == ["Alena"]
        assert search(uow, "иван") == ["Алёна"]
        assert search(uow, "ПЕТ") == ["Борис"]
        assert search(uow, "nobody") == []


def test_search_finds_a_partial_alternative_id(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        add_user(uow, "Alena", alternative_id="Xk42Qz")
        add_user(uow, "Boris", alternative_id="Pp77Rr")

        assert search(uow, "K42q") == ["Alena"]
        assert search(uow, "77") == ["Boris"]
        # The alternative id is only searched by ``text``, not as a name.
        assert search(uow, first_name="k42") == []


def test_search_treats_wildcards_literally(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        add_user(uow, "100%", "Sure")
        add_user(uow, "a_b", "Under")
        add_user(uow, "ab", "Plain")
        add_user(uow, "aXb", "Other")

        assert search(uow, "%") == ["100%"]
        assert search(uow, "_") == ["a_b"]
        assert search(uow, "a_b") == ["a_b"]
        assert search(uow, "a%b") == []
        assert search(uow, first_name="%") == ["100%"]
        assert search(uow, second_name="_") == []


def test_search_criteria_must_all_match(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        add_user(uow, "Anna", "Smith")
        add_user(uow, "Anna", "Jones")
        add_user(uow, "Hanna", "Smithson")
        add_user(uow, "Boris", "Smith")

        assert search(uow) == ["Anna", "Anna", "Hanna", "Boris"]
        assert search(uow, first_name="anna", second_name="smith") == ["Anna", "Hanna"]
        assert search(uow, "smith", first_name="bor") == ["Boris"]
        assert search(uow, "jones", second_name="smith") == []


def test_search_pages_by_start_and_limit_in_id_order(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        users = [add_user(uow, f"Olga{n}", "Page") for n in range(5)]
        add_user(uow, "Ivan", "Other")

        def page(start: int, limit: int) -> list[int]:
            found = uow.users.search(
                text=search_key("olga"), first_name=None, second_name=None, start=start, limit=limit
            )
            return [u.id for u in found]

        ids = [u.id for u in users]
        assert page(0, 2) == ids[0:2]
        assert page(2, 2) == ids[2:4]
        assert page(4, 2) == ids[4:5]
        assert page(5, 2) == []
        assert page(0, 100) == ids


# --- friendships -----------------------------------------------------------------------


def request(a: User, b: User, when: datetime = T0) -> Friendship:
    return Friendship(
        requester_id=a.id, addressee_id=b.id, status=FriendshipStatus.PENDING, created_date=when
    )


def test_friendship_is_found_from_either_side(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        pending = request(alena, boris)
        uow.friendships.add(pending)

        assert uow.friendships.get(alena.id, boris.id) == pending
        assert uow.friendships.get(boris.id, alena.id) == pending
        assert uow.friendships.get(alena.id, clara.id) is None


def test_friendship_keeps_one_row_per_pair(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.friendships.add(request(alena, boris))
        accepted = Friendship(
            requester_id=alena.id,
            addressee_id=boris.id,
            status=FriendshipStatus.ACCEPTED,
            created_date=at(60),
        )
        uow.friendships.update(accepted)

        assert uow.friendships.get(boris.id, alena.id) == accepted
        assert uow.friendships.list_for(alena.id) == [accepted]
        assert uow.friendships.list_for(boris.id) == [accepted]

        # Replacing the row may turn it around: still the same pair, still one row.
        reversed_request = request(boris, alena, at(90))
        uow.friendships.update(reversed_request)
        assert uow.friendships.get(alena.id, boris.id) == reversed_request
        assert uow.friendships.list_for(alena.id) == [reversed_request]


def test_removing_a_friendship_reports_whether_there_was_one(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.friendships.add(request(alena, boris))

        assert uow.friendships.remove(boris.id, alena.id) is True
        assert uow.friendships.get(alena.id, boris.id) is None
        assert uow.friendships.remove(alena.id, boris.id) is False
        assert uow.friendships.list_for(alena.id) == []

        # The pair may start over.
        again = request(boris, alena, at(5))
        uow.friendships.add(again)
        assert uow.friendships.get(alena.id, boris.id) == again


def test_friendships_of_a_user_are_listed_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara, dmitry = (add_user(uow) for _ in range(4))
        newest = request(alena, boris, at(30))
        oldest = request(clara, alena, at(10))
        middle = request(alena, dmitry, at(20))
        unrelated = request(boris, clara, at(0))
        for friendship in (newest, oldest, middle, unrelated):
            uow.friendships.add(friendship)

        assert uow.friendships.list_for(alena.id) == [oldest, middle, newest]
        assert uow.friendships.list_for(clara.id) == [unrelated, oldest]
        assert uow.friendships.list_for(dmitry.id + 100) == []


# --- refused writes: one account per email and public id, one row per pair ---------------
#
# A refused write raises Conflict with its code and changes nothing; the unit stays open
# and usable with its earlier changes, and rolling back is the caller's choice.


def all_users(uow: UnitOfWork) -> list[User]:
    return uow.users.search(text=None, first_name=None, second_name=None, start=0, limit=1000)


def refused(code: str, write: Callable[[], object]) -> None:
    with pytest.raises(Conflict) as caught:
        write()
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("email", "taken"),
    [
        ("alena@example.org", "alena@example.org"),
        ("A@x.io", "a@X.IO"),  # the same address: normalize.email_key
        ("Straße@Example.org", "STRASSE@example.ORG"),  # casefold: ß is ss
        ("alena@example.org", "  alena@example.org "),
    ],
)
def test_adding_a_user_with_a_taken_email_is_refused(
    uow_factory: UnitOfWorkFactory, email: str, taken: str
) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", email=email)
        before = all_users(uow)

        refused("email_taken", lambda: add_user(uow, "Intruder", email=taken))

        assert all_users(uow) == before and uow.users.count() == 1
        assert uow.users.get_by_email(taken) == alena
        assert search(uow, "intruder") == []


def test_adding_a_user_with_a_taken_alternative_id_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", alternative_id="Xk42Qz")
        before = all_users(uow)

        refused("alternative_id_taken", lambda: add_user(uow, "Intruder", alternative_id="Xk42Qz"))

        assert all_users(uow) == before
        assert uow.users.get_by_alternative_id("Xk42Qz") == alena
        assert uow.users.get_by_email("user2@example.org") is None
        assert search(uow, "intruder") == []
        # Public ids are exact: another case is another id.
        assert add_user(uow, "Other", alternative_id="xk42qz").id > alena.id


def test_when_both_are_taken_the_email_is_named(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        add_user(uow, alternative_id="Xk42Qz", email="alena@example.org")

        refused("email_taken", lambda: add_user(uow, alternative_id="Xk42Qz", email="ALENA@example.org"))


def test_updating_a_user_onto_another_users_email_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", email="alena@example.org")
        boris = add_user(uow, "Boris", email="boris@example.org")
        before = all_users(uow)
        # The names change too: the refused update must not move the search keys either.
        moved = attrs.evolve(boris, email="ALENA@Example.org", first_name="Renamed", age=40)

        refused("email_taken", lambda: uow.users.update(moved))

        assert all_users(uow) == before
        assert uow.users.get_by_email("alena@example.org") == alena
        assert uow.users.get_by_email("boris@example.org") == boris
        assert search(uow, "renamed") == [] and search(uow, "boris") == ["Boris"]


def test_updating_a_user_onto_another_users_alternative_id_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", alternative_id="alena1")
        boris = add_user(uow, "Boris", alternative_id="boris1")
        before = all_users(uow)
        moved = attrs.evolve(boris, alternative_id="alena1", first_name="Renamed")

        refused("alternative_id_taken", lambda: uow.users.update(moved))

        assert all_users(uow) == before
        assert uow.users.get_by_alternative_id("alena1") == alena
        assert uow.users.get_by_alternative_id("boris1") == boris
        assert search(uow, "renamed") == [] and search(uow, "boris1") == ["Boris"]


def test_a_user_may_keep_or_recase_their_own_email_and_id(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", alternative_id="alena1", email="alena@example.org")
        recased = attrs.evolve(alena, email="ALENA@Example.ORG", first_name="Alyona")
        uow.users.update(recased)

        assert uow.users.get_by_email("alena@example.org") == recased
        assert uow.users.get_by_alternative_id("alena1") == recased
        # Freed by the change: another account may now take the old public id.
        uow.users.update(attrs.evolve(recased, alternative_id="alena2"))
        assert add_user(uow, "Boris", alternative_id="alena1").alternative_id == "alena1"


def test_a_refused_user_leaves_the_unit_usable_and_uses_up_no_id(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", alternative_id="alena1", email="alena@example.org")
        uow.commit()
    with uow_factory() as uow:
        boris = add_user(uow, "Boris", alternative_id="boris1", email="boris@example.org")
        refused("email_taken", lambda: add_user(uow, "X", email="Alena@example.org"))
        refused("alternative_id_taken", lambda: add_user(uow, "X", alternative_id="boris1"))
        refused("email_taken", lambda: uow.users.update(attrs.evolve(alena, email="boris@example.org")))
        clara = add_user(uow, "Clara", alternative_id="clara1", email="clara@example.org")
        uow.commit()

    assert (boris.id, clara.id) == (alena.id + 1, alena.id + 2)
    with uow_factory() as uow:
        assert all_users(uow) == [alena, boris, clara]
        assert search(uow, "x") == []


def test_a_refused_user_does_not_undo_the_units_earlier_changes(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena", email="alena@example.org")
        renamed = attrs.evolve(alena, first_name="Alyona")
        uow.users.update(renamed)
        refused("email_taken", lambda: add_user(uow, "X", email="alena@example.org"))

        assert uow.users.get(alena.id) == renamed and search(uow, "alyona") == ["Alyona"]
        uow.rollback()  # the caller's choice: everything of the unit goes
        assert uow.users.count() == 0


@pytest.mark.parametrize("reversed_pair", [False, True], ids=["same-way", "other-way-round"])
def test_a_second_friendship_row_for_a_pair_is_refused(
    uow_factory: UnitOfWorkFactory, reversed_pair: bool
) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        first = request(alena, boris, at(1))
        uow.friendships.add(first)
        accepted = attrs.evolve(request(boris, alena, at(2)), status=FriendshipStatus.ACCEPTED)
        second = (
            accepted
            if reversed_pair
            else attrs.evolve(accepted, requester_id=alena.id, addressee_id=boris.id)
        )

        refused("friendship_exists", lambda: uow.friendships.add(second))

        assert uow.friendships.get(boris.id, alena.id) == first
        assert uow.friendships.list_for(alena.id) == [first]
        assert uow.friendships.list_for(boris.id) == [first]
        # The unit goes on: other pairs may still be added, and the first row kept.
        other = request(clara, alena, at(3))
        uow.friendships.add(other)
        uow.commit()
    with uow_factory() as uow:
        assert uow.friendships.list_for(alena.id) == [first, other]


# --- chats --------------------------------------------------------------------------------


def test_chats_get_ids_that_grow_and_members_with_read_marks_at_zero(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        first = add_chat(uow, [boris.id, alena.id], at(5))
        second = add_chat(uow, [clara.id, alena.id], at(6))

        assert second.id > first.id
        assert first.created_date == at(5)
        assert first.last_activity == at(5)
        assert first.last_message_id is None
        assert uow.chats.get(first.id) == first
        assert [(m.chat_id, m.user_id, m.last_read_message_id) for m in uow.chats.members(first.id)] == [
            (first.id, alena.id, 0),
            (first.id, boris.id, 0),
        ]


def test_missing_chats_are_none_or_empty(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)

        assert uow.chats.get(1) is None
        assert uow.chats.members(1) == []
        assert uow.chats.find_direct(alena.id, boris.id) is None
        assert uow.chats.list_for_user(alena.id) == []


def test_find_direct_matches_exactly_the_two_members(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        with_clara = add_chat(uow, [alena.id, clara.id], T0)
        direct = add_chat(uow, [alena.id, boris.id], T0)

        assert uow.chats.find_direct(alena.id, boris.id) == direct
        assert uow.chats.find_direct(boris.id, alena.id) == direct
        assert uow.chats.find_direct(clara.id, alena.id) == with_clara
        assert uow.chats.find_direct(boris.id, clara.id) is None


def test_chats_of_a_user_are_listed_latest_activity_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara, dmitry = (add_user(uow) for _ in range(4))
        quiet = add_chat(uow, [alena.id, boris.id], at(1))
        tie_low = add_chat(uow, [alena.id, clara.id], at(2))
        tie_high = add_chat(uow, [dmitry.id, alena.id], at(2))
        busy = add_chat(uow, [alena.id, dmitry.id], at(3))
        others = add_chat(uow, [boris.id, clara.id], at(100))
        uow.chats.touch(quiet.id, last_message_id=None, at=at(50))

        listed = [c.id for c in uow.chats.list_for_user(alena.id)]
        assert listed == [quiet.id, busy.id, tie_high.id, tie_low.id]
        assert [c.id for c in uow.chats.list_for_user(boris.id)] == [others.id, quiet.id]


def test_touch_and_read_marks_are_stored(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena, sent=at(7))
        uow.chats.touch(chat.id, last_message_id=message.id, at=at(7))
        uow.chats.set_last_read(chat.id, boris.id, message.id)

        assert uow.chats.get(chat.id) == attrs.evolve(chat, last_message_id=message.id, last_activity=at(7))
        marks = {m.user_id: m.last_read_message_id for m in uow.chats.members(chat.id)}
        assert marks == {alena.id: 0, boris.id: message.id}


def test_removing_a_chat_removes_its_members_messages_and_attachments(
    uow_factory: UnitOfWorkFactory,
) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        doomed = add_chat(uow, [alena.id, boris.id], T0)
        kept = add_chat(uow, [alena.id, clara.id], T0)
        doomed_message = add_message(uow, doomed, alena)
        kept_message = add_message(uow, kept, alena)
        doomed_file = uow.attachments.add(new_attachment(alena, "a.jpg"))
        kept_file = uow.attachments.add(new_attachment(alena, "b.jpg"))
        uow.attachments.attach([doomed_file.id], doomed_message.id)
        uow.attachments.attach([kept_file.id], kept_message.id)

        uow.chats.remove(doomed.id)

        assert uow.chats.get(doomed.id) is None
        assert uow.chats.members(doomed.id) == []
        assert uow.chats.find_direct(alena.id, boris.id) is None
        assert [c.id for c in uow.chats.list_for_user(alena.id)] == [kept.id]
        assert uow.chats.list_for_user(boris.id) == []
        assert uow.messages.get(doomed_message.id) is None
        assert uow.messages.page_before(doomed.id, None, 10) == []
        assert uow.attachments.get(doomed_file.id) is None
        assert uow.attachments.for_chat(doomed.id) == []
        # The other chat is untouched.
        assert uow.messages.get(kept_message.id) == kept_message
        assert [a.id for a in uow.attachments.for_chat(kept.id)] == [kept_file.id]
        assert len(uow.chats.members(kept.id)) == 2


# --- messages ------------------------------------------------------------------------------


def test_message_ids_grow_across_chats(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        one = add_chat(uow, [alena.id, boris.id], T0)
        two = add_chat(uow, [alena.id, clara.id], T0)
        first = add_message(uow, one, alena, "first", sent=at(1))
        second = add_message(uow, two, clara, "second", sent=at(2))
        third = add_message(uow, one, boris, "third", sent=at(3))

        assert first.id < second.id < third.id
        assert uow.messages.get(second.id) == second
        assert second.chat_id == two.id and second.sender_id == clara.id
        assert second.text == "second" and second.sending_date == at(2)
        assert second.edited_date is None and second.is_deleted is False
        assert uow.messages.get(third.id + 100) is None


def test_messages_can_carry_a_sticker(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        pack = uow.stickers.add_pack("Cats", [("cat-1", "image/png")])
        sticker_id = pack.stickers[0].id
        message = uow.messages.add(
            NewMessage(chat_id=chat.id, sender_id=alena.id, text=None, sticker_id=sticker_id, sending_date=T0)
        )

        assert uow.messages.get(message.id) == message
        assert message.text is None and message.sticker_id == sticker_id


def test_update_replaces_a_message(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena, "draft")
        edited = attrs.evolve(message, text="final", edited_date=at(30))
        uow.messages.update(edited)
        assert uow.messages.get(message.id) == edited

        tombstone = attrs.evolve(edited, text=None, is_deleted=True)
        uow.messages.update(tombstone)
        assert uow.messages.get(message.id) == tombstone


def _conversation(uow: UnitOfWork) -> tuple[Chat, list[Message]]:
    """Five messages in one chat, interleaved with messages of another chat."""
    alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
    chat = add_chat(uow, [alena.id, boris.id], T0)
    noise = add_chat(uow, [alena.id, clara.id], T0)
    messages = []
    for n in range(5):
        messages.append(add_message(uow, chat, (alena, boris)[n % 2], f"m{n}", sent=at(n)))
        add_message(uow, noise, clara, f"noise{n}", sent=at(n))
    return chat, messages


def test_page_before_lists_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        chat, messages = _conversation(uow)
        tombstone = attrs.evolve(messages[1], text=None, is_deleted=True)
        uow.messages.update(tombstone)
        ids = [m.id for m in messages]

        assert [m.id for m in uow.messages.page_before(chat.id, None, 2)] == [ids[4], ids[3]]
        assert [m.id for m in uow.messages.page_before(chat.id, ids[3], 2)] == [ids[2], ids[1]]
        assert uow.messages.page_before(chat.id, ids[2], 10) == [tombstone, messages[0]]
        assert uow.messages.page_before(chat.id, ids[0], 10) == []
        assert [m.id for m in uow.messages.page_before(chat.id, None, 100)] == ids[::-1]


def test_page_after_lists_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        chat, messages = _conversation(uow)
        ids = [m.id for m in messages]

        assert uow.messages.page_after(chat.id, 0, 100) == messages
        assert [m.id for m in uow.messages.page_after(chat.id, ids[1], 2)] == [ids[2], ids[3]]
        assert uow.messages.page_after(chat.id, ids[4], 10) == []


def test_page_since_lists_messages_sent_strictly_after(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        chat, messages = _conversation(uow)

        assert uow.messages.page_since(chat.id, at(1), 10) == messages[2:]
        assert uow.messages.page_since(chat.id, at(1), 2) == messages[2:4]
        assert uow.messages.page_since(chat.id, at(0.5), 1) == messages[1:2]
        assert uow.messages.page_since(chat.id, at(4), 10) == []
        assert uow.messages.page_since(chat.id, T0 - timedelta(days=1), 100) == messages


def test_count_unread_skips_own_and_deleted_messages(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        other = add_chat(uow, [alena.id, clara.id], T0)
        mine = add_message(uow, chat, alena, "mine")
        first = add_message(uow, chat, boris, "one")
        deleted = add_message(uow, chat, boris, "oops")
        add_message(uow, other, clara, "elsewhere")
        last = add_message(uow, chat, boris, "two")
        uow.messages.update(attrs.evolve(deleted, text=None, is_deleted=True))

        assert uow.messages.count_unread(chat.id, alena.id, 0) == 2
        assert uow.messages.count_unread(chat.id, alena.id, first.id) == 1
        assert uow.messages.count_unread(chat.id, alena.id, last.id) == 0
        assert uow.messages.count_unread(chat.id, boris.id, 0) == 1
        assert uow.messages.count_unread(chat.id, boris.id, mine.id) == 0


# --- attachments --------------------------------------------------------------------------


def test_attachments_start_unbound_with_growing_ids(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        first = uow.attachments.add(new_attachment(alena, "a.jpg", created=at(1)))
        second = uow.attachments.add(new_attachment(alena, "b.jpg"))

        assert second.id > first.id
        assert uow.attachments.get(first.id) == first
        assert first.message_id is None and first.position == 0
        assert (first.kind, first.name, first.size, first.mime) == (
            AttachmentKind.PHOTO,
            "a.jpg",
            1234,
            "image/jpeg",
        )
        assert (first.width, first.height, first.thumbnail_key) == (640, 480, "thumb-a.jpg")
        assert first.created_date == at(1)
        assert uow.attachments.get(second.id + 100) is None


def test_attach_keeps_the_given_order(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        with_files, plain = add_message(uow, chat, alena), add_message(uow, chat, boris)
        x1, x2, x3 = (uow.attachments.add(new_attachment(alena, f"{n}.jpg")) for n in range(3))

        uow.attachments.attach([x3.id, x1.id, x2.id], with_files.id)

        found = uow.attachments.for_messages([with_files.id, plain.id, plain.id + 100])
        assert list(found) == [with_files.id]
        assert [(a.id, a.position, a.message_id) for a in found[with_files.id]] == [
            (x3.id, 0, with_files.id),
            (x1.id, 1, with_files.id),
            (x2.id, 2, with_files.id),
        ]
        assert uow.attachments.get(x1.id) == attrs.evolve(x1, message_id=with_files.id, position=1)
        assert uow.attachments.for_messages([]) == {}


def test_for_chat_lists_attachments_of_the_chats_messages(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow), add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        other = add_chat(uow, [alena.id, clara.id], T0)
        m1, m2 = add_message(uow, chat, alena), add_message(uow, chat, boris)
        elsewhere = add_message(uow, other, clara)
        a, b, c, d = (uow.attachments.add(new_attachment(alena, f"{n}.jpg")) for n in range(4))
        unbound = uow.attachments.add(new_attachment(alena, "unbound.jpg"))
        uow.attachments.attach([a.id], m1.id)
        uow.attachments.attach([c.id, b.id], m2.id)
        uow.attachments.attach([d.id], elsewhere.id)

        assert sorted(x.id for x in uow.attachments.for_chat(chat.id)) == [a.id, b.id, c.id]
        assert [x.id for x in uow.attachments.for_chat(other.id)] == [d.id]
        assert unbound.id not in {x.id for x in uow.attachments.for_chat(chat.id)}


def test_detach_all_removes_and_returns_the_rows(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message, other = add_message(uow, chat, alena), add_message(uow, chat, alena)
        a, b, c = (uow.attachments.add(new_attachment(alena, f"{n}.jpg")) for n in range(3))
        uow.attachments.attach([b.id, a.id], message.id)
        uow.attachments.attach([c.id], other.id)

        gone = uow.attachments.detach_all(message.id)

        assert gone == [
            attrs.evolve(b, message_id=message.id, position=0),
            attrs.evolve(a, message_id=message.id, position=1),
        ]
        assert uow.attachments.get(a.id) is None and uow.attachments.get(b.id) is None
        assert uow.attachments.for_messages([message.id, other.id]) == {
            other.id: [attrs.evolve(c, message_id=other.id, position=0)]
        }
        assert uow.attachments.detach_all(message.id) == []


def test_orphans_are_unbound_attachments_older_than_a_time(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena)
        old1 = uow.attachments.add(new_attachment(alena, "old1.jpg", created=at(1)))
        bound = uow.attachments.add(new_attachment(alena, "bound.jpg", created=at(2)))
        old2 = uow.attachments.add(new_attachment(alena, "old2.jpg", created=at(3)))
        at_cutoff = uow.attachments.add(new_attachment(alena, "cutoff.jpg", created=at(10)))
        uow.attachments.add(new_attachment(alena, "fresh.jpg", created=at(20)))
        uow.attachments.attach([bound.id], message.id)

        assert uow.attachments.orphans_before(at(10), 100) == [old1, old2]
        assert uow.attachments.orphans_before(at(10), 1) == [old1]
        assert at_cutoff in uow.attachments.orphans_before(at(10.5), 100)
        assert uow.attachments.orphans_before(at(0), 100) == []


def test_unsent_bytes_sum_a_users_uploads_not_bound_to_a_message(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena)
        assert uow.attachments.unsent_bytes(alena.id) == 0
        sizes = (100, 20, 3)
        added = [uow.attachments.add(attrs.evolve(new_attachment(alena, f"{n}"), size=n)) for n in sizes]
        uow.attachments.add(attrs.evolve(new_attachment(boris, "boris"), size=5000))
        assert uow.attachments.unsent_bytes(alena.id) == 123
        uow.attachments.attach([added[0].id], message.id)
        assert uow.attachments.unsent_bytes(alena.id) == 23
        uow.attachments.remove(added[1].id)
        assert uow.attachments.unsent_bytes(alena.id) == 3
        assert uow.attachments.unsent_bytes(boris.id) == 5000
        assert uow.attachments.unsent_bytes(999) == 0


def test_remove_deletes_an_attachment_and_ignores_missing(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        kept, doomed = (uow.attachments.add(new_attachment(alena, f"{n}.jpg")) for n in range(2))

        uow.attachments.remove(doomed.id)
        uow.attachments.remove(doomed.id)
        uow.attachments.remove(doomed.id + 100)

        assert uow.attachments.get(doomed.id) is None
        assert uow.attachments.get(kept.id) == kept


# --- stickers ------------------------------------------------------------------------------


def test_sticker_packs_keep_pack_and_sticker_order(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        cats = uow.stickers.add_pack("Cats", [("cat-1", "image/png"), ("cat-2", "image/webp")])
        empty = uow.stickers.add_pack("Empty", [])
        dogs = uow.stickers.add_pack("Dogs", [("dog-1", "image/gif")])

        assert cats.id < empty.id < dogs.id
        assert cats.title == "Cats"
        assert [(s.pack_id, s.position, s.image_key, s.mime) for s in cats.stickers] == [
            (cats.id, 0, "cat-1", "image/png"),
            (cats.id, 1, "cat-2", "image/webp"),
        ]
        assert cats.stickers[0].id < cats.stickers[1].id < dogs.stickers[0].id
        assert empty.stickers == ()
        assert uow.stickers.list_packs() == [cats, empty, dogs]


def test_get_sticker(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.stickers.list_packs() == []
        pack = uow.stickers.add_pack("Cats", [("cat-1", "image/png"), ("cat-2", "image/png")])

        assert uow.stickers.get_sticker(pack.stickers[1].id) == pack.stickers[1]
        assert uow.stickers.get_sticker(pack.stickers[1].id + 100) is None
        first, second = pack.stickers
        assert uow.stickers.get_stickers([second.id, first.id, second.id + 100]) == {
            first.id: first,
            second.id: second,
        }
        assert uow.stickers.get_stickers([]) == {}


# --- stored files ---------------------------------------------------------------------------


def test_referenced_names_the_keys_some_row_holds(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.users.update(attrs.evolve(alena, avatar="avatar-alena"))
        group = add_chat(uow, [alena.id, boris.id], T0, ChatKind.GROUP)
        uow.chats.update(attrs.evolve(group, photo="photo-group"))
        uow.stickers.add_pack("Cats", [("cat-1", "image/png")])
        message = add_message(uow, group, alena)
        sent = uow.attachments.add(new_attachment(alena, "sent.jpg"))
        uow.attachments.attach([sent.id], message.id)
        unsent = uow.attachments.add(attrs.evolve(new_attachment(boris, "unsent.pdf"), thumbnail_key=None))
        uow.exports.put(
            Export(user_id=alena.id, state=ExportState.READY, created_date=T0, blob_key="export-zip")
        )
        uow.commit()
    named = {
        "export-zip",
        "avatar-alena",
        "photo-group",
        "cat-1",
        "blob-sent.jpg",
        "thumb-sent.jpg",
        "blob-unsent.pdf",
    }
    for read_only in (False, True):
        with uow_factory(read_only=read_only) as uow:
            asked = [*sorted(named), "stray", "thumb-unsent.pdf", "CAT-1", ""]
            assert uow.stored_files.referenced(asked) == named
            assert uow.stored_files.referenced([]) == set()
            assert uow.stored_files.referenced(["stray", "cat-1", "cat-1"]) == {"cat-1"}
    assert unsent.thumbnail_key is None


def test_a_key_is_no_longer_referenced_once_its_row_lets_go(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        uow.users.update(attrs.evolve(alena, avatar="avatar-old"))
        group = add_chat(uow, [alena.id, boris.id], T0, ChatKind.GROUP)
        uow.chats.update(attrs.evolve(group, photo="photo-old"))
        message = add_message(uow, group, alena)
        sent = uow.attachments.add(new_attachment(alena, "sent.jpg"))
        uow.attachments.attach([sent.id], message.id)
        orphan = uow.attachments.add(new_attachment(alena, "orphan.jpg"))
        old = ["avatar-old", "photo-old", "blob-sent.jpg", "thumb-sent.jpg", "blob-orphan.jpg"]
        assert uow.stored_files.referenced(old) == set(old)

        current = uow.users.get(alena.id)
        assert current is not None
        uow.users.update(attrs.evolve(current, avatar="avatar-new"))
        chat = uow.chats.get(group.id)
        assert chat is not None
        uow.chats.update(attrs.evolve(chat, photo=None))
        uow.attachments.detach_all(message.id)
        uow.attachments.remove(orphan.id)

        assert uow.stored_files.referenced([*old, "avatar-new"]) == {"avatar-new"}


def test_referenced_answers_many_keys_at_once(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow)
        kept = [uow.attachments.add(new_attachment(alena, f"{i}.bin")).storage_key for i in range(0, 3000, 7)]
        asked = [f"blob-{i}.bin" for i in range(3000)]
        assert uow.stored_files.referenced(asked) == set(kept)


# --- events --------------------------------------------------------------------------------


def test_event_ids_grow_across_users_and_data_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        data = {"chat_id": 7, "text": "привет", "ids": [1, 2], "nested": {"ok": True, "none": None}}
        first = uow.events.append(alena.id, EventType.MESSAGE_NEW, data, at(1))
        second = uow.events.append(boris.id, EventType.CHAT_READ, {}, at(2))

        assert second.id > first.id
        assert (first.user_id, first.type, first.data, first.created_date) == (
            alena.id,
            EventType.MESSAGE_NEW,
            data,
            at(1),
        )
        assert uow.events.after(alena.id, 0, 10) == [first]
        assert uow.events.after(boris.id, 0, 10) == [second]


def test_events_after_a_cursor_are_the_users_own_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        mine = []
        for n in range(4):
            mine.append(uow.events.append(alena.id, EventType.USER_UPDATED, {"n": n}, at(n)))
            uow.events.append(boris.id, EventType.USER_UPDATED, {"n": n}, at(n))

        assert uow.events.after(alena.id, 0, 100) == mine
        assert uow.events.after(alena.id, mine[0].id, 2) == mine[1:3]
        assert uow.events.after(alena.id, mine[3].id, 100) == []


def test_latest_id_survives_pruning(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        assert uow.events.latest_id() == 0
        assert uow.events.oldest_retained_id() == 0
        alena = add_user(uow)
        events = [uow.events.append(alena.id, EventType.FRIEND_REQUEST, {}, at(n)) for n in range(4)]
        assert uow.events.latest_id() == events[-1].id
        assert uow.events.oldest_retained_id() == events[0].id - 1

        assert uow.events.prune_before(at(2)) == 2
        assert uow.events.after(alena.id, 0, 100) == events[2:]
        assert uow.events.latest_id() == events[-1].id
        assert uow.events.oldest_retained_id() == events[2].id - 1
        assert uow.events.prune_before(at(2)) == 0

        assert uow.events.prune_before(at(100)) == 2
        assert uow.events.latest_id() == events[-1].id
        assert uow.events.oldest_retained_id() == events[-1].id
        assert uow.events.append(alena.id, EventType.FRIEND_REQUEST, {}, at(200)).id > events[-1].id


# --- the unit of work ----------------------------------------------------------------------


def test_leaving_without_commit_discards_every_change(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena = add_user(uow, "Alena")
        uow.commit()
    with uow_factory() as uow:
        boris = add_user(uow, "Boris")
        chat = add_chat(uow, [alena.id, boris.id], T0)
        add_message(uow, chat, alena)
        uow.events.append(alena.id, EventType.MESSAGE_NEW, {}, T0)
        uow.users.update(attrs.evolve(alena, first_name="Changed"))

    with uow_factory() as uow:
        assert uow.users.get(alena.id) == alena
        assert uow.users.count() == 1
        assert uow.chats.list_for_user(alena.id) == []
        assert uow.events.after(alena.id, 0, 10) == []
        assert uow.events.latest_id() == 0


def test_an_error_in_the_block_rolls_back_and_propagates(uow_factory: UnitOfWorkFactory) -> None:
    with pytest.raises(RuntimeError, match="boom"), uow_factory() as uow:
        add_user(uow)
        raise RuntimeError("boom")

    with uow_factory() as uow:
        assert uow.users.count() == 0


def test_commit_makes_changes_visible_to_later_units(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow, "Alena"), add_user(uow, "Boris")
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena)
        event = uow.events.append(boris.id, EventType.MESSAGE_NEW, {"message_id": message.id}, T0)
        uow.commit()

    with uow_factory() as uow:
        assert uow.users.get(alena.id) == alena
        assert uow.chats.find_direct(alena.id, boris.id) == chat
        assert uow.messages.get(message.id) == message
        assert uow.events.after(boris.id, 0, 10) == [event]


def test_rollback_discards_changes_since_the_last_commit(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        kept = add_user(uow, "Kept")
        uow.commit()
        dropped = add_user(uow, "Dropped")
        uow.rollback()
        assert uow.users.get(dropped.id) is None
        late = add_user(uow, "Late")  # after rollback, not committed: dropped on exit

    with uow_factory() as uow:
        assert uow.users.get(kept.id) == kept
        assert uow.users.get(late.id) is None
        assert uow.users.count() == 1


def test_times_in_other_zones_come_back_as_the_same_instant(uow_factory: UnitOfWorkFactory) -> None:
    moscow = timezone(timedelta(hours=3))
    local = datetime(2024, 3, 1, 15, 0, 0, 1, tzinfo=moscow)
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        chat = add_chat(uow, [alena.id, boris.id], local)
        uow.commit()

    with uow_factory() as uow:
        stored = uow.chats.get(chat.id)
        assert stored is not None
        assert stored.created_date == local == datetime(2024, 3, 1, 12, 0, 0, 1, tzinfo=UTC)


def test_search_terms_each_match_some_field(uow_factory) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from messenger_core.model import NewUser
    from messenger_core.normalize import search_key

    with uow_factory() as uow:
        for i, (first, second) in enumerate([("Иван", "Петров"), ("Иван", "Сидоров"), ("Пётр", "Иванов")]):
            uow.users.add(
                NewUser(
                    alternative_id=f"terms_user_{i}",
                    email=f"t{i}@example.com",
                    password_hash="x",
                    first_name=first,
                    second_name=second,
                    created_date=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )
        found = uow.users.search(
            text=search_key("иван петров"), first_name=None, second_name=None, start=0, limit=20
        )
        assert [(u.first_name, u.second_name) for u in found] == [("Иван", "Петров")]
        both = uow.users.search(text=search_key("ИВАН"), first_name=None, second_name=None, start=0, limit=20)
        assert len(both) == 3


def test_search_short_terms_and_quotes(uow_factory) -> None:  # type: ignore[no-untyped-def]
    from datetime import datetime

    from messenger_core.model import NewUser
    from messenger_core.normalize import search_key

    with uow_factory() as uow:
        for i, (first, second) in enumerate([("Анна", "О'Нил"), ("Иван", 'Кв"ас')]):
            uow.users.add(
                NewUser(
                    alternative_id=f"quote_user_{i}",
                    email=f"q{i}@example.com",
                    password_hash="x",
                    first_name=first,
                    second_name=second,
                    created_date=datetime(2026, 1, 1, tzinfo=UTC),
                )
            )

        def names(text: str) -> list[str]:
            found = uow.users.search(
                text=search_key(text), first_name=None, second_name=None, start=0, limit=20
            )
            return [u.first_name for u in found]

        assert names("нн") == ["Анна"]  # shorter than a trigram
        assert names('в"а') == ["Иван"]
        assert names("о'нил") == ["Анна"]
        assert names("ана иван") == []


def test_search_never_matches_across_two_users(uow_factory) -> None:  # type: ignore[no-untyped-def]
    from messenger_core.model import NewUser

    with uow_factory() as uow:
        for i, first in enumerate(["Ann", "Bob"]):
            uow.users.add(
                NewUser(
                    alternative_id=f"edge_user_{i}",
                    email=f"e{i}@example.com",
                    password_hash="x",
                    first_name=first,
                    second_name="Edge",
                    created_date=T0,
                )
            )
        query = {"first_name": None, "second_name": None, "start": 0, "limit": 20}
        assert uow.users.search(text=search_key("1\0bob"), **query) == []
        assert [u.first_name for u in uow.users.search(text="bob", **query)] == ["Bob"]
        uow.rollback()
        assert uow.users.search(text="bob", **query) == []


def test_latest_of_chat_is_the_newest_of_that_chats_own_events(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory() as uow:
        alena, boris = add_user(uow), add_user(uow)
        first, second = add_chat(uow, [alena.id, boris.id], at(0)), add_chat(uow, [alena.id], at(0))
        assert uow.events.latest_of_chat(first.id) == 0
        pinned = uow.events.append_to_chat(first.id, EventType.CHAT_PINNED, {}, at(1), message_id=None)
        uow.events.append_to_chat(second.id, EventType.CHAT_PINNED, {}, at(2))
        uow.events.append(alena.id, EventType.USER_UPDATED, {}, at(3))  # a user's event: not the chat's
        assert uow.events.latest_of_chat(first.id) == pinned.id
        reacted = uow.events.append_to_chat(first.id, EventType.MESSAGE_REACTION, {}, at(4))
        assert uow.events.latest_of_chat(first.id) == reacted.id > pinned.id

        uow.events.prune_before(at(100))
        assert uow.events.latest_of_chat(first.id) == 0
