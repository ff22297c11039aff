"""Wake-ups across processes over LISTEN/NOTIFY: each "process" here is a unit-of-work
factory with notifications on and a notifier listening with the factory's origin, as
bootstrap wires them in one server process.

That a notification is *not* delivered is seen through a marker: NOTIFYs are delivered
in commit order, so once a later marker has arrived, an earlier one never will.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import psycopg
import pytest

from adapters.postgres import PostgresUnitOfWorkFactory
from adapters.postgres.notifier import PostgresEventNotifier
from adapters.postgres.uow import CHANNEL, IDS_PER_NOTIFICATION
from messenger_core.model import ChatKind, EventType, MemberRole, NewMember
from tests.contract.test_repositories import T0, add_user
from tests.postgres import empty, fresh_database
from tests.records import add_chat

MARKER_USER = 10**9
WAIT = 20.0


class Process:
    def __init__(self, url: str) -> None:
        self.uow = PostgresUnitOfWorkFactory(url, pool_size=2, notify=True)
        self.notifier = PostgresEventNotifier(url, origin=self.uow.origin)
        until(self.notifier.listening.is_set, "listening")

    def close(self) -> None:
        self.notifier.close()
        self.uow.close()


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT
    while not condition():
        assert time.monotonic() < deadline, f"never happened: {what}"
        time.sleep(0.002)


@pytest.fixture(scope="module")
def database() -> str:
    return fresh_database()


@pytest.fixture
def processes(database: str) -> Iterator[tuple[Process, Process]]:
    empty(database)
    pair = Process(database), Process(database)
    yield pair
    for process in pair:
        process.close()


def send_marker(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, f"marker:{MARKER_USER}"))


def after_marker(url: str, notifier: PostgresEventNotifier) -> None:
    """Return once everything NOTIFY'd before now has reached the notifier."""
    seen = notifier.version(MARKER_USER)
    send_marker(url)
    until(lambda: notifier.version(MARKER_USER) != seen, "the marker")


def test_a_commit_in_one_process_wakes_a_waiter_in_the_other(
    processes: tuple[Process, Process], database: str
) -> None:
    writer, reader = processes
    with writer.uow() as uow:
        alena = add_user(uow)
        uow.commit()
    seen = reader.notifier.version(alena.id)
    with writer.uow() as uow:
        uow.events.append(alena.id, EventType.USER_UPDATED, {}, T0)
        after_marker(database, reader.notifier)
        assert reader.notifier.version(alena.id) == seen  # not before the commit
        uow.commit()
    assert reader.notifier.wait(alena.id, seen, timeout=WAIT)


def test_a_rolled_back_unit_wakes_nobody(processes: tuple[Process, Process], database: str) -> None:
    writer, reader = processes
    with writer.uow() as uow:
        alena = add_user(uow)
        uow.commit()
    seen = reader.notifier.version(alena.id)
    with writer.uow() as uow:
        uow.events.append(alena.id, EventType.USER_UPDATED, {}, T0)
        uow.rollback()
        uow.commit()  # nothing left to send
    after_marker(database, reader.notifier)
    assert reader.notifier.version(alena.id) == seen


def test_the_own_process_skips_its_own_notifications(
    processes: tuple[Process, Process], database: str
) -> None:
    writer, _ = processes
    with writer.uow() as uow:
        alena = add_user(uow)
        uow.events.append(alena.id, EventType.USER_UPDATED, {}, T0)
        seen = writer.notifier.version(alena.id)
        uow.commit()
    after_marker(database, writer.notifier)
    assert writer.notifier.version(alena.id) == seen  # the use case's notify() wakes it here


def test_a_big_groups_event_reaches_every_member_in_several_notifications(
    processes: tuple[Process, Process], database: str
) -> None:
    writer, reader = processes
    members = 2 * IDS_PER_NOTIFICATION + 5
    with writer.uow() as uow:
        users = [add_user(uow, alternative_id=f"member{n:05d}") for n in range(members)]
        group = add_chat(uow, [users[0].id], T0, ChatKind.GROUP)
        for user in users[1:]:
            uow.chats.add_member(group.id, NewMember(user_id=user.id, role=MemberRole.MEMBER, joined_date=T0))
        uow.commit()
    seen = {user.id: reader.notifier.version(user.id) for user in users}
    with writer.uow() as uow:
        uow.events.append_to_chat(group.id, EventType.CHAT_UPDATED, {"chat_id": group.id}, T0)
        uow.commit()
    after_marker(database, reader.notifier)
    assert all(reader.notifier.version(u) != v for u, v in seen.items())


def test_a_dropped_listener_reconnects_and_wakes_every_waiter(
    processes: tuple[Process, Process], database: str
) -> None:
    _, reader = processes
    seen = reader.notifier.version(7)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'messenger-listener' AND datname = current_database()"
        )
    until(lambda: reader.notifier.version(7) != seen, "the wake-up after reconnecting")
    until(reader.notifier.listening.is_set, "listening again")
