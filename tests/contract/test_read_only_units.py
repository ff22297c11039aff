"""The contract of read-only units of work and of units on several threads, per adapter.

A read-only unit refuses every write before changing anything, takes no lock a writer
waits for and waits for no writer, and sees only committed units: at least all those
committed before it began. What it sees of a unit committed while it is open differs
(SQLite: one snapshot; memory: the latest commit per read) and is tested per adapter in
tests/integration/test_sqlite_read_only.py and tests/unit/test_memory_units.py.

Threads here wait on events with a generous timeout: an adapter that blocked where it
must not fails an assertion when the timeout passes, it never hangs the run.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import attrs
import pytest

from messenger_core.errors import MessengerError
from messenger_core.model import (
    Attachment,
    Chat,
    EventType,
    Friendship,
    FriendshipStatus,
    Message,
    User,
)
from messenger_core.ports import UnitOfWork, UnitOfWorkFactory
from tests.contract.test_repositories import (
    T0,
    add_message,
    add_user,
    all_users,
    at,
    new_attachment,
    request,
)
from tests.records import add_chat

WAIT = 10.0  # seconds; only ever reached when an adapter blocks where it must not


@attrs.frozen
class World:
    alena: User
    boris: User
    clara: User
    friendship: Friendship
    chat: Chat
    message: Message
    bound: Attachment
    orphan: Attachment


def build_world(uow_factory: UnitOfWorkFactory) -> World:
    with uow_factory() as uow:
        alena, boris, clara = add_user(uow, "Alena"), add_user(uow, "Boris"), add_user(uow, "Clara")
        friendship = attrs.evolve(request(alena, boris), status=FriendshipStatus.ACCEPTED)
        uow.friendships.add(friendship)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        message = add_message(uow, chat, alena, "hello", sent=at(1))
        uow.chats.touch(chat.id, last_message_id=message.id, at=at(1))
        bound = uow.attachments.add(new_attachment(alena, "bound.jpg"))
        orphan = uow.attachments.add(new_attachment(alena, "orphan.jpg"))
        uow.attachments.attach([bound.id], message.id)
        uow.stickers.add_pack("Cats", [("cat-1", "image/png")])
        uow.events.append(boris.id, EventType.MESSAGE_NEW, {"message_id": message.id}, at(1))
        uow.commit()
    return World(alena, boris, clara, friendship, chat, message, bound, orphan)


def fingerprint(uow: UnitOfWork, world: World) -> dict[str, Any]:
    """Everything the world's rows read back as."""
    ids = [world.alena.id, world.boris.id, world.clara.id]
    return {
        "users": all_users(uow),
        "friendships": [uow.friendships.list_for(i) for i in ids],
        "chats": [uow.chats.list_for_user(i) for i in ids],
        "members": uow.chats.members(world.chat.id),
        "messages": uow.messages.page_before(world.chat.id, None, 100),
        "attachments": [uow.attachments.get(world.bound.id), uow.attachments.get(world.orphan.id)],
        "packs": uow.stickers.list_packs(),
        "events": [uow.events.after(i, 0, 100) for i in ids],
        "latest_event": uow.events.latest_id(),
        "stored_files": uow.stored_files.referenced(["blob-bound.jpg", "thumb-orphan.jpg", "cat-1", "none"]),
    }


WRITES: dict[str, Callable[[UnitOfWork, World], object]] = {
    "users.add": lambda uow, w: add_user(uow, "Dmitry"),
    "users.update": lambda uow, w: uow.users.update(attrs.evolve(w.alena, first_name="Changed")),
    "friendships.add": lambda uow, w: uow.friendships.add(request(w.clara, w.alena)),
    "friendships.update": lambda uow, w: uow.friendships.update(request(w.boris, w.alena)),
    "friendships.remove": lambda uow, w: uow.friendships.remove(w.alena.id, w.boris.id),
    "friendships.remove-missing": lambda uow, w: uow.friendships.remove(w.alena.id, w.clara.id),
    "chats.add": lambda uow, w: add_chat(uow, [w.alena.id, w.clara.id], T0),
    "chats.set_last_read": lambda uow, w: uow.chats.set_last_read(w.chat.id, w.boris.id, w.message.id),
    "chats.touch": lambda uow, w: uow.chats.touch(w.chat.id, last_message_id=None, at=at(99)),
    "chats.remove": lambda uow, w: uow.chats.remove(w.chat.id),
    "messages.add": lambda uow, w: add_message(uow, w.chat, w.boris, "sneaky"),
    "messages.update": lambda uow, w: uow.messages.update(w.message.edited("changed", at(5))),
    "attachments.add": lambda uow, w: uow.attachments.add(new_attachment(w.alena, "new.jpg")),
    "attachments.attach": lambda uow, w: uow.attachments.attach([w.orphan.id], w.message.id),
    "attachments.detach_all": lambda uow, w: uow.attachments.detach_all(w.message.id),
    "attachments.detach_all-none": lambda uow, w: uow.attachments.detach_all(w.message.id + 100),
    "attachments.remove": lambda uow, w: uow.attachments.remove(w.orphan.id),
    "attachments.remove-missing": lambda uow, w: uow.attachments.remove(w.orphan.id + 100),
    "stickers.add_pack": lambda uow, w: uow.stickers.add_pack("Dogs", [("dog-1", "image/png")]),
    "events.append": lambda uow, w: uow.events.append(w.alena.id, EventType.CHAT_READ, {}, at(2)),
    "events.prune_before": lambda uow, w: uow.events.prune_before(at(1000)),
    "events.prune_before-none": lambda uow, w: uow.events.prune_before(T0 - timedelta(days=1)),
}


def assert_refused_as_read_only(write: Callable[[], object]) -> None:
    with pytest.raises(Exception) as caught:
        write()
    assert not isinstance(caught.value, MessengerError)
    assert re.search(r"read-?only", str(caught.value)), caught.value


# --- a read-only unit refuses writes -------------------------------------------------------


@pytest.mark.parametrize("write", list(WRITES))
def test_a_write_in_a_read_only_unit_raises_and_changes_nothing(
    uow_factory: UnitOfWorkFactory, write: str
) -> None:
    world = build_world(uow_factory)
    with uow_factory(read_only=True) as uow:
        before = fingerprint(uow, world)
        assert_refused_as_read_only(lambda: WRITES[write](uow, world))
        assert fingerprint(uow, world) == before  # the unit still reads, and reads the same
        uow.commit()  # nothing to make durable, and nothing made
    with uow_factory(read_only=True) as uow:
        assert fingerprint(uow, world) == before
    with uow_factory() as uow:
        assert fingerprint(uow, world) == before


def test_a_refused_write_leaving_the_unit_stays_a_bug(uow_factory: UnitOfWorkFactory) -> None:
    """Not turned into a MessengerError (such as Unavailable) on the way out."""
    assert_refused_as_read_only(lambda: leave_with_a_write(uow_factory))
    with uow_factory() as uow:
        assert uow.users.count() == 0


def leave_with_a_write(uow_factory: UnitOfWorkFactory) -> None:
    with uow_factory(read_only=True) as uow:
        add_user(uow, "Dmitry")


def test_the_threads_next_unit_writes_as_usual(uow_factory: UnitOfWorkFactory) -> None:
    world = build_world(uow_factory)
    with uow_factory(read_only=True) as uow:
        assert_refused_as_read_only(lambda: add_user(uow, "Dmitry"))
    with pytest.raises(RuntimeError, match="boom"), uow_factory(read_only=True):
        raise RuntimeError("boom")
    with uow_factory() as uow:
        dmitry = add_user(uow, "Dmitry")
        uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.users.get(dmitry.id) == dmitry
        assert uow.users.count() == 4
        assert_refused_as_read_only(lambda: WRITES["users.update"](uow, world))


def test_a_read_only_unit_sees_every_earlier_commit_and_nothing_rolled_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build_world(uow_factory)
    with uow_factory() as uow:
        renamed = attrs.evolve(world.alena, first_name="Alyona")
        uow.users.update(renamed)
        uow.commit()
        add_user(uow, "Dropped")  # after the commit: rolled back on exit
    with uow_factory(read_only=True) as uow:
        assert uow.users.get(world.alena.id) == renamed
        assert [u.first_name for u in all_users(uow)] == ["Alyona", "Boris", "Clara"]


# --- one unit per thread -----------------------------------------------------------------


@pytest.mark.parametrize(("outer", "inner"), [(False, False), (False, True), (True, False), (True, True)])
def test_a_thread_with_a_unit_open_opens_no_other(
    uow_factory: UnitOfWorkFactory, outer: bool, inner: bool
) -> None:
    with uow_factory(read_only=outer) as uow:
        with pytest.raises(Exception) as caught:
            uow_factory(read_only=inner).__enter__()
        assert not isinstance(caught.value, MessengerError)
        # The open unit goes on as it was.
        if outer:
            assert uow.users.count() == 0
            assert_refused_as_read_only(lambda: add_user(uow))
        else:
            add_user(uow, "Alena")
            uow.commit()
    with uow_factory(read_only=True) as uow:
        assert uow.users.count() == (0 if outer else 1)


# --- readers beside writers -----------------------------------------------------------


def test_a_read_only_unit_neither_waits_for_an_open_writer_nor_sees_its_changes(
    uow_factory: UnitOfWorkFactory,
) -> None:
    world = build_world(uow_factory)
    writing, may_commit = threading.Event(), threading.Event()

    def writer() -> None:
        with uow_factory() as uow:
            add_user(uow, "Dmitry")
            uow.users.update(attrs.evolve(world.alena, first_name="Changed"))
            uow.friendships.remove(world.alena.id, world.boris.id)
            add_message(uow, world.chat, world.boris, "not yet")
            writing.set()
            may_commit.wait(WAIT)
            uow.commit()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert writing.wait(WAIT)
        with uow_factory(read_only=True) as uow:  # the writer holds its unit open meanwhile
            seen = fingerprint(uow, world)
        committed = may_commit.is_set()
    finally:
        may_commit.set()
        thread.join(WAIT)
    assert not thread.is_alive()
    assert not committed  # the reader was served while the writer still held its unit
    assert [u.first_name for u in seen["users"]] == ["Alena", "Boris", "Clara"]
    assert seen["friendships"][0] == [world.friendship]
    assert [m.text for m in seen["messages"]] == ["hello"]
    with uow_factory(read_only=True) as uow:
        assert [u.first_name for u in all_users(uow)] == ["Changed", "Boris", "Clara", "Dmitry"]


def test_a_writer_commits_while_a_read_only_unit_is_open(uow_factory: UnitOfWorkFactory) -> None:
    world = build_world(uow_factory)
    committed = threading.Event()
    added: list[User] = []

    def writer() -> None:
        with uow_factory() as uow:
            added.append(add_user(uow, "Dmitry"))
            uow.commit()
        committed.set()

    with uow_factory(read_only=True) as uow:
        assert uow.users.count() == 3  # the unit has read: SQLite's snapshot has begun
        thread = threading.Thread(target=writer)
        thread.start()
        done = committed.wait(WAIT)
        assert fingerprint(uow, world)["chats"][0] == [uow.chats.get(world.chat.id)]  # still reads
    thread.join(WAIT)
    assert done and not thread.is_alive()
    with uow_factory(read_only=True) as uow:
        assert uow.users.get(added[0].id) == added[0]


def test_read_only_units_on_many_threads_read_beside_each_other(uow_factory: UnitOfWorkFactory) -> None:
    world = build_world(uow_factory)
    all_inside = threading.Barrier(4, timeout=WAIT)
    seen: list[list[User]] = []

    def reader() -> None:
        with uow_factory(read_only=True) as uow:
            all_inside.wait()  # every reader holds its unit open at once
            seen.append(all_users(uow))

    threads = [threading.Thread(target=reader) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert seen == [[world.alena, world.boris, world.clara]] * 4
