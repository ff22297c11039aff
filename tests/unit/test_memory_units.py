"""The memory adapter's read-only units: each read shows the latest whole commit.

Writing units journal their changes and ``commit`` replays them onto the committed store,
which is all that read-only units read, each read holding the lock a commit takes to
publish. So a read-only unit never waits for a writer's unit, never sees uncommitted
changes and never half a commit, but a commit may land between two of its reads (the
contract is in tests/contract/test_read_only_units.py).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import attrs

from adapters.memory import MemoryUnitOfWorkFactory
from messenger_core.model import EventType, Friendship, FriendshipStatus, NewMessage, NewUser, User
from messenger_core.ports import UnitOfWork
from tests.records import add_chat

WAIT = 10.0
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def add_user(uow: UnitOfWork, name: str) -> User:
    return uow.users.add(
        NewUser(
            alternative_id=name,
            email=f"{name}@example.org",
            password_hash="x",
            first_name=name,
            second_name="Test",
            created_date=T0,
        )
    )


def test_each_read_shows_the_latest_commit() -> None:
    factory = MemoryUnitOfWorkFactory()
    with factory(read_only=True) as uow:
        assert uow.users.count() == 0

        def write() -> None:
            with factory() as writer:
                add_user(writer, "during")
                writer.commit()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(WAIT)
        assert not thread.is_alive()
        assert uow.users.count() == 1  # unlike SQLite's one snapshot per unit
        assert uow.users.get_by_alternative_id("during") is not None


def test_the_committed_store_replays_commits_in_order() -> None:
    """Once a writer commits, readers see exactly what writers see: values, lookups,
    order, id counters and search keys, with rolled-back work left out."""
    factory = MemoryUnitOfWorkFactory()
    with factory() as uow:
        alena, boris = add_user(uow, "alena"), add_user(uow, "boris")
        chat = add_chat(uow, [alena.id, boris.id], T0)
        uow.commit()
        sent = [
            uow.messages.add(
                NewMessage(
                    chat_id=chat.id, sender_id=alena.id, text=f"m{n}", sticker_id=None, sending_date=T0
                )
            )
            for n in range(3)
        ]
        uow.events.append(boris.id, EventType.MESSAGE_NEW, {"n": 1}, T0)
        uow.users.update(attrs.evolve(alena, first_name="Алёна"))
        uow.commit()
        # Rolled back: a message into the same chat's id list, a user, an event.
        uow.messages.add(
            NewMessage(chat_id=chat.id, sender_id=boris.id, text="dropped", sticker_id=None, sending_date=T0)
        )
        add_user(uow, "dropped")
        uow.events.prune_before(datetime(2100, 1, 1, tzinfo=UTC))
        uow.rollback()

    def seen(uow: UnitOfWork) -> tuple[object, ...]:
        return (
            uow.users.count(),
            uow.users.get_by_email("ALENA@example.org"),
            uow.users.search(text="ален", first_name=None, second_name=None, start=0, limit=10),
            uow.messages.page_before(chat.id, None, 10),
            uow.chats.list_for_user(alena.id),
            uow.events.after(boris.id, 0, 10),
            uow.events.latest_id(),
        )

    with factory() as writer:
        expected = seen(writer)
    with factory(read_only=True) as reader:
        assert seen(reader) == expected
    assert expected[0] == 2 and expected[3] == sent[::-1]
    assert [u.first_name for u in expected[2]] == ["Алёна"]


def test_reads_never_see_half_a_commit() -> None:
    """A writer commits users in pairs and friendships made and dropped as it goes; a
    reader on another thread reading meanwhile always finds whole pairs, and its scans
    never trip over a commit being published."""
    factory = MemoryUnitOfWorkFactory()
    with factory() as uow:
        hub = add_user(uow, "hub")
        uow.commit()
    stop = threading.Event()
    odd_counts: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            while True:
                finished = stop.is_set()  # one more read after the writer's last commit
                with factory(read_only=True) as uow:
                    count = uow.users.count()
                    if count % 2 != 1:  # the hub plus whole pairs
                        odd_counts.append(count)
                    for friendship in uow.friendships.list_for(hub.id):
                        assert friendship.status is FriendshipStatus.PENDING
                if finished:
                    return
        except BaseException as error:  # reported below: a thread's error is otherwise lost
            errors.append(error)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for n in range(150):
            with factory() as uow:
                first, second = add_user(uow, f"a{n}"), add_user(uow, f"b{n}")
                uow.friendships.add(
                    Friendship(
                        requester_id=first.id,
                        addressee_id=hub.id,
                        status=FriendshipStatus.PENDING,
                        created_date=T0,
                    )
                )
                if n % 3 == 0:
                    uow.friendships.remove(second.id, hub.id)
                    uow.friendships.remove(first.id, hub.id)
                uow.commit()
    finally:
        stop.set()
        reader.join(WAIT)
    assert not reader.is_alive()
    assert errors == [] and odd_counts == []
    with factory(read_only=True) as uow:
        assert uow.users.count() == 301
        assert len(uow.friendships.list_for(hub.id)) == 100
