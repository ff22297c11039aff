"""PostgreSQL units of work side by side: the locks that keep the domain's rules when
units run at once (docs/postgres.md), event ids that become visible in order, and the
schema its migrations build.

A unit that must wait is seen waiting in ``pg_stat_activity`` (polled, never slept
for); then the unit it waits for commits, and what the waiter read shows it saw that
commit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import psycopg
import pytest

from adapters.postgres import PostgresUnitOfWorkFactory, migrations
from messenger_core.model import ChatKind, EventType, FriendshipStatus, MemberRole, NewMember
from tests.conftest import START, build_messenger
from tests.contract.test_repositories import T0, add_message, add_user, at, new_attachment, request
from tests.postgres import empty, fresh_database
from tests.records import add_chat

WAIT = 20.0


@pytest.fixture(scope="module")
def database() -> str:
    return fresh_database()


@pytest.fixture
def factory(database: str) -> Iterator[PostgresUnitOfWorkFactory]:
    empty(database)
    made = PostgresUnitOfWorkFactory(database, pool_size=6)
    yield made
    made.close()


def lock_waiters(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock'"
        ).fetchone()
    return int(row[0]) if row else 0


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.005)


class Background(threading.Thread):
    """Runs ``work`` in its own unit of work and keeps what it returned."""

    def __init__(self, factory: PostgresUnitOfWorkFactory, work: Callable[[Any], Any]) -> None:
        super().__init__(daemon=True)
        self.factory, self.work = factory, work
        self.result: Any = None
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            with self.factory() as uow:
                self.result = self.work(uow)
                uow.commit()
        except BaseException as error:
            self.error = error

    def outcome(self) -> Any:
        self.join(WAIT)
        assert not self.is_alive()
        if self.error is not None:
            raise self.error
        return self.result


def waits_for_the_open_unit(factory: PostgresUnitOfWorkFactory, work: Callable[[Any], Any]) -> Background:
    """Start ``work`` beside the caller's open unit and return once it waits on a lock."""
    waiting_before = lock_waiters(factory.url)
    thread = Background(factory, work)
    thread.start()
    until(lambda: lock_waiters(factory.url) > waiting_before or not thread.is_alive(), "a lock wait")
    assert thread.is_alive(), "it did not wait for the open unit"
    return thread


def test_a_second_look_at_a_friendship_waits_for_the_first_and_sees_its_change(
    factory: PostgresUnitOfWorkFactory,
) -> None:
    with factory() as uow:
        alena, boris = add_user(uow, "Alena"), add_user(uow, "Boris")
        uow.friendships.add(request(alena, boris))
        uow.commit()
    with factory() as uow:
        row = uow.friendships.get(boris.id, alena.id)  # the first accept holds the pair
        assert row is not None
        second = waits_for_the_open_unit(factory, lambda u: u.friendships.get(alena.id, boris.id))
        uow.friendships.update(attrs.evolve(row, status=FriendshipStatus.ACCEPTED))
        uow.commit()
    seen = second.outcome()
    assert seen.status is FriendshipStatus.ACCEPTED  # so the second accept is refused


def test_two_first_messages_of_a_pair_make_one_direct_chat(factory: PostgresUnitOfWorkFactory) -> None:
    with factory() as uow:
        alena, boris = add_user(uow, "Alena"), add_user(uow, "Boris")
        uow.commit()

    def find_or_start(uow: Any) -> int:
        found = uow.chats.find_direct(boris.id, alena.id)
        return int(found.id if found else add_chat(uow, [boris.id, alena.id], T0).id)

    with factory() as uow:
        assert uow.chats.find_direct(alena.id, boris.id) is None
        second = waits_for_the_open_unit(factory, find_or_start)
        chat = add_chat(uow, [alena.id, boris.id], T0)
        uow.commit()
    assert second.outcome() == chat.id
    with factory(read_only=True) as uow:
        assert [c.id for c in uow.chats.list_for_user(alena.id)] == [chat.id]


def test_changes_inside_one_chat_run_one_at_a_time(factory: PostgresUnitOfWorkFactory) -> None:
    with factory() as uow:
        alena, boris, clara = add_user(uow, "Alena"), add_user(uow, "Boris"), add_user(uow, "Clara")
        group = add_chat(uow, [alena.id, boris.id], T0, ChatKind.GROUP)
        message = add_message(uow, group, alena)
        uow.commit()
    joining = NewMember(user_id=clara.id, role=MemberRole.MEMBER, joined_date=at(1))

    def count_members(uow: Any) -> int:
        assert uow.chats.get(group.id) is not None  # a second membership change holds the chat
        return len(uow.chats.members(group.id))

    with factory() as uow:
        assert uow.chats.get(group.id) is not None
        second = waits_for_the_open_unit(factory, count_members)
        # A unit changing a message of the chat waits too.
        third = waits_for_the_open_unit(factory, lambda u: u.messages.get(message.id))
        uow.chats.add_member(group.id, joining)
        uow.messages.update(message.edited("changed", at(2)))
        uow.commit()
    assert second.outcome() == 3  # the group's member limit is counted with Clara in it
    assert third.outcome().text == "changed"


def test_an_upload_being_sent_is_no_orphan_to_the_sweep(factory: PostgresUnitOfWorkFactory) -> None:
    with factory() as uow:
        alena = add_user(uow, "Alena")
        upload = uow.attachments.add(new_attachment(alena, created=T0))
        uow.commit()
    with factory() as uow:
        assert uow.attachments.get(upload.id) == upload  # a send holds it
        sweep = Background(factory, lambda u: u.attachments.orphans_before(at(60), 10))
        sweep.start()
        assert sweep.outcome() == []  # passed by, without waiting


def test_event_ids_become_visible_in_order(factory: PostgresUnitOfWorkFactory, database: str) -> None:
    with factory() as uow:
        alena = add_user(uow, "Alena")
        uow.commit()
    with factory() as uow:
        first = uow.events.append(alena.id, EventType.USER_UPDATED, {"n": 1}, T0)
        later = waits_for_the_open_unit(
            factory, lambda u: u.events.append(alena.id, EventType.USER_UPDATED, {"n": 2}, T0)
        )
        with _reader(factory) as seen:
            assert seen() == (0, [])  # the open unit's event and its id are not out yet
        uow.commit()
    second = later.outcome()
    assert second.id == first.id + 1
    with _reader(factory) as seen:
        assert seen() == (second.id, [first.id, second.id])


class _reader:
    """A read-only unit on another thread (this one has a unit open)."""

    def __init__(self, factory: PostgresUnitOfWorkFactory) -> None:
        self.factory = factory

    def __enter__(self) -> Callable[[], tuple[int, list[int]]]:
        def read() -> tuple[int, list[int]]:
            result: list[tuple[int, list[int]]] = []

            def work() -> None:
                with self.factory(read_only=True) as uow:
                    user = uow.users.get_by_alternative_id("user0001")
                    assert user is not None
                    result.append((uow.events.latest_id(), [e.id for e in uow.events.after(user.id, 0, 10)]))

            thread = threading.Thread(target=work)
            thread.start()
            thread.join(WAIT)
            return result[0]

        return read

    def __exit__(self, *exc: object) -> None:
        return None


def test_concurrent_openings_of_one_chat_make_one(database: str) -> None:
    """Eight threads open the same direct chat at once through the use case."""
    empty(database)
    factory = PostgresUnitOfWorkFactory(database, pool_size=8)
    try:
        from adapters.testing import ManualClock

        messenger = build_messenger(factory, ManualClock(START))
        alena = messenger.register(
            first_name="Alena", second_name="A", email="a@example.org", password="x" * 10
        )
        boris = messenger.register(
            first_name="Boris", second_name="B", email="b@example.org", password="x" * 10
        )
        actors = {
            view.id: messenger.authenticate(messenger.login(email=email, password="x" * 10).access_token)
            for view, email in ((alena, "a@example.org"), (boris, "b@example.org"))
        }
        messenger.send_friend_request(actors[alena.id], boris.user_id)
        messenger.accept_friend_request(actors[boris.id], alena.user_id)
        start = threading.Barrier(8, timeout=WAIT)
        opened: list[int] = []

        def open_it(n: int) -> None:
            actor, other = (actors[alena.id], boris.user_id) if n % 2 else (actors[boris.id], alena.user_id)
            start.wait()
            opened.append(messenger.open_chat(actor, other)[0].id)

        threads = [threading.Thread(target=open_it, args=(n,)) for n in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(WAIT)
        assert len(opened) == 8 and len(set(opened)) == 1
        assert [c.id for c in messenger.list_chats(actors[alena.id])] == opened[:1]
    finally:
        factory.close()


def test_a_read_only_unit_takes_no_lock_a_writer_waits_for(factory: PostgresUnitOfWorkFactory) -> None:
    with factory() as uow:
        alena, boris = add_user(uow, "Alena"), add_user(uow, "Boris")
        chat = add_chat(uow, [alena.id, boris.id], T0)
        uow.commit()
    with factory(read_only=True) as uow:
        assert uow.chats.get(chat.id) is not None
        assert uow.friendships.get(alena.id, boris.id) is None
        writer = Background(factory, lambda u: (u.chats.get(chat.id), u.friendships.get(alena.id, boris.id)))
        writer.start()
        assert writer.outcome()[0] == chat


# --- migrations ---------------------------------------------------------------------------


def test_migrating_twice_changes_nothing_and_records_each_step_once() -> None:
    url = fresh_database()
    assert migrations.migrate(url) == migrations.LATEST_VERSION
    with psycopg.connect(url) as conn:
        before = conn.execute(_SCHEMA).fetchall()
        versions = conn.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [v for (v,) in versions] == list(range(1, migrations.LATEST_VERSION + 1))
    with psycopg.connect(url) as conn:
        assert conn.execute(_SCHEMA).fetchall() == before


def test_migrations_build_a_blank_database_with_every_table_and_index() -> None:
    from tests.postgres import cluster

    url = cluster().create_database(f"blank_{time.monotonic_ns()}")
    threads = [threading.Thread(target=migrations.migrate, args=(url,)) for _ in range(3)]
    for thread in threads:  # three processes starting at once apply each step once
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    with psycopg.connect(url) as conn:
        tables = {
            name for (name,) in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
        indexes = {
            name for (name,) in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        }
        versions = conn.execute("SELECT count(*) FROM schema_migrations").fetchone()
    assert tables == {
        "users",
        "friendships",
        "chats",
        "chat_members",
        "sticker_packs",
        "stickers",
        "messages",
        "message_mentions",
        "attachments",
        "event_counter",
        "events",
        "schema_migrations",
        "rate_limits",
        "message_versions",
        "reactions",
        "pins",
        "hidden_messages",
        "message_search",
        "sessions",
        "blocks",
        "exports",
    }
    assert {
        "users_search",
        "friendships_pair",
        "friendships_user_high",
        "chat_members_user",
        "messages_chat",
        "attachments_message",
        "attachments_orphans",
        "events_user",
        "events_chat",
        "events_created",
        "stickers_pack",
        "message_mentions_message",
        "message_versions_message",
        "reactions_user",
        "pins_message",
        "hidden_messages_chat",
        "attachments_storage_key",
        "message_search_doc",
        "message_search_chat",
        "users_avatar",
        "chats_photo",
        "stickers_image_key",
        "users_username_unique",
        "sessions_user",
        "sessions_ended",
        "blocks_blocked",
        "messages_sender",
        "attachments_uploader",
        "exports_blob_key",
    } <= indexes
    assert versions == (migrations.LATEST_VERSION,)


_SCHEMA = (
    "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns"
    " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
)
