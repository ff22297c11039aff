"""``messenger migrate-to-postgres``: the demo database and a generated 100k-message one
copied into PostgreSQL, checked table by table, and read back through the use cases
exactly as from SQLite; a target with other data refused unless forced; a copy that
failed half-way run again to the end."""

from __future__ import annotations

import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.postgres import PostgresUnitOfWorkFactory
from adapters.postgres.from_sqlite import CopyError, copy_sqlite_to_postgres
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.testing import ManualClock
from entrypoints import bootstrap
from entrypoints.config import Settings
from messenger_core import Messenger
from messenger_core.model import (
    MUTED_FOREVER,
    Actor,
    Export,
    ExportState,
    FriendListKind,
    NewSession,
    ProfileChanges,
    SessionEnd,
    Visibility,
)
from scripts.live_server import ROOT
from tests.conftest import START, build_messenger
from tests.postgres import cluster


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo")
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(folder / "db" / "demo.sqlite3"),
        UPLOAD_FOLDER=str(folder / "upload"),
        DEMO_DATA=True,
    )
    bootstrap.prepare_database(settings)
    return Path(settings.DATABASE_PATH)


_made = iter(range(1, 10**6))


def target() -> str:
    return cluster().create_database(f"copy_{os.getpid()}_{next(_made)}")


def actors(database: Path) -> list[Actor]:
    with sqlite3.connect(database) as conn:
        return [
            Actor(row[0], row[1]) for row in conn.execute("SELECT id, alternative_id FROM users ORDER BY id")
        ]


def views(messenger: Messenger, actor: Actor) -> dict[str, object]:
    """Everything a user sees, through the use cases."""
    chats = messenger.list_chats(actor)
    return {
        "me": messenger.get_user(actor),
        "chats": chats,
        "histories": [messenger.history(actor, c.id, limit=100) for c in chats],
        "friends": [messenger.list_friends(actor, kind) for kind in FriendListKind],
        "search": messenger.search_users(actor, text="а"),
        "events": messenger.events(actor, since=0, limit=100),
        "stickers": messenger.list_sticker_packs(),
        "found": [messenger.search_messages(actor, q=q) for q in ("ответ", "при", "д")],
        "pins": [messenger.list_pins(actor, c.id) for c in chats],
        "settings": messenger.notification_settings(actor),
        "privacy": messenger.get_privacy(actor),
        "blocked": messenger.list_blocked(actor),
        "sessions": messenger.list_sessions(actor),
    }


def converse(messenger: Messenger, database: Path) -> None:
    """Replies, reactions, an edit, a pin and a hidden message in the demo's chats, so
    the conversation's tables hold rows to copy."""
    everyone = actors(database)
    for actor in everyone[:3]:
        for chat in messenger.list_chats(actor)[:2]:
            page = messenger.history(actor, chat.id, limit=3)
            if not page:
                continue
            first = page[0]
            reply = messenger.send_message(actor, chat_id=chat.id, text="ответ на это", reply_to_id=first.id)
            messenger.add_reaction(actor, first.id, "👍")
            messenger.edit_message(actor, reply.id, text="ответ, исправленный")
            messenger.pin_message(actor, chat.id, reply.id)
            messenger.hide_message(actor, page[-1].id)
    # Mutes (one until a time, one for good) and notification settings turned off.
    for actor, until in zip(
        everyone[:2], (START + timedelta(days=2, microseconds=7), MUTED_FOREVER), strict=True
    ):
        messenger.mute_chat(actor, messenger.list_chats(actor)[0].id, until)
    messenger.update_notification_settings(everyone[0], notify_preview=False)
    messenger.update_notification_settings(everyone[1], notify_muted_mentions=False)
    # Privacy: a username, privacy settings, a block, a last-seen time.
    messenger.update_profile(everyone[0], ProfileChanges(username="first_one"))
    messenger.update_privacy(everyone[1], last_seen=Visibility.FRIENDS, read_receipts=False, typing=False)
    messenger.block_user(everyone[2], everyone[3].alternative_id)


def sign_in_and_export(uow_factory: SqliteUnitOfWorkFactory, user_id: int) -> None:
    """Sessions (one ended, one going on) and a ready export: rows of their own tables."""
    with uow_factory() as uow:
        made = [
            uow.sessions.add(NewSession(user_id=user_id, device=device, ip=ip, created_date=START))
            for device, ip in (("Firefox", "127.0.0.1"), ("phone", None))
        ]
        uow.sessions.update(made[1].rotated(START + timedelta(minutes=5)))
        uow.sessions.end_all(user_id, SessionEnd.LOGOUT, START + timedelta(hours=1), keep=made[1].id)
        uow.users.set_last_seen(user_id, START + timedelta(minutes=30))
        ready = START + timedelta(minutes=2)
        uow.exports.put(
            Export(
                user_id=user_id,
                state=ExportState.READY,
                created_date=START,
                blob_key="ab" * 16,
                size=3,
                ready_date=ready,
            )
        )
        uow.commit()


def test_the_demo_database_reads_the_same_from_postgres(demo: Path, tmp_path: Path) -> None:
    demo = Path(shutil.copy(demo, tmp_path / "demo.sqlite3"))  # this test writes to it
    before = SqliteUnitOfWorkFactory(demo)
    try:
        converse(build_messenger(before, ManualClock(START)), demo)
        sign_in_and_export(before, actors(demo)[0].id)
    finally:
        before.close()
    url = target()
    reports = copy_sqlite_to_postgres(demo, url)
    assert reports and all(r.agrees for r in reports), reports
    counted = {r.name: r.target_rows for r in reports}
    assert counted["users"] == 8 and counted["messages"] > 0 and counted["stickers"] > 10
    for table in (
        "message_versions",
        "reactions",
        "pins",
        "hidden_messages",
        "sessions",
        "blocks",
        "exports",
    ):
        assert counted[table] > 0, table

    sqlite_uow, postgres_uow = SqliteUnitOfWorkFactory(demo), PostgresUnitOfWorkFactory(url)
    try:
        clock = ManualClock(START)
        on_sqlite, on_postgres = build_messenger(sqlite_uow, clock), build_messenger(postgres_uow, clock)
        found = 0
        for actor in actors(demo):
            seen = views(on_postgres, actor)
            assert seen == views(on_sqlite, actor)
            found += len(on_postgres.search_messages(actor, q="ответ").messages)
        assert found >= 3  # the copy's search index holds the conversation's messages
        first, second = actors(demo)[:2]
        with postgres_uow(read_only=True) as uow:
            users = uow.users.get_many([first.id, second.id])
            muted = {
                m.muted_until
                for a in (first, second)
                for c in uow.chats.list_for_user(a.id)
                for m in uow.chats.members(c.id)
                if m.user_id == a.id and m.muted_until is not None
            }
        assert users[first.id].notify_preview is False and users[second.id].notify_muted_mentions is False
        assert muted == {START + timedelta(days=2, microseconds=7), MUTED_FOREVER}
        with postgres_uow(read_only=True) as uow, sqlite_uow(read_only=True) as source:
            assert uow.users.get_by_username("first_one") == source.users.get_by_username("first_one")
            assert uow.users.get(first.id) == source.users.get(first.id)
            assert uow.sessions.get(1) == source.sessions.get(1) and uow.sessions.get(1) is not None
            assert uow.sessions.get(2) == source.sessions.get(2)
            assert uow.exports.get(first.id) == source.exports.get(first.id) is not None
        # New rows get ids after the copied ones, in both.
        fresh = [
            m.register(first_name="New", second_name="User", email="new@example.org", password="x" * 12)
            for m in (on_sqlite, on_postgres)
        ]
        assert fresh[0] == fresh[1]
    finally:
        sqlite_uow.close()
        postgres_uow.close()


def test_a_target_with_other_data_is_refused_unless_forced(demo: Path) -> None:
    url = target()
    copy_sqlite_to_postgres(demo, url)
    with pytest.raises(CopyError, match="already holds data"):
        copy_sqlite_to_postgres(demo, url)
    assert all(r.agrees for r in copy_sqlite_to_postgres(demo, url, force=True))


def test_a_copy_that_failed_goes_on_where_it_stopped(demo: Path) -> None:
    url = target()
    seen: list[tuple[str, int]] = []

    class Interrupted(Exception):
        pass

    def fail_in_messages(table: str, copied: int, total: int) -> None:
        seen.append((table, copied))
        if table == "messages" and copied >= 10:
            raise Interrupted

    with pytest.raises(Interrupted):
        copy_sqlite_to_postgres(demo, url, batch=5, progress=fail_in_messages)
    resumed: list[tuple[str, int]] = []
    reports = copy_sqlite_to_postgres(demo, url, batch=5, progress=lambda t, c, _: resumed.append((t, c)))
    assert all(r.agrees for r in reports)
    assert ("messages", 10) in resumed and ("messages", 0) not in resumed  # went on, did not start over
    assert resumed[0] == ("users", 8)  # users were done: nothing copied twice


def test_the_command_prints_progress_and_the_checks(demo: Path) -> None:
    url = target()
    env = {**os.environ, "APP_CONFIG": "entrypoints.config.DevelopmentConfig"}
    command = [sys.executable, "__main__.py", "migrate-to-postgres", "--from", str(demo), "--to", url]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "every table agrees" in done.stdout
    assert "messages" in done.stderr and "[##############################]" in done.stderr
    again = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 2
    assert again.stderr.strip().splitlines() == [
        "messenger: the target database already holds data (not from an unfinished copy of this file):"
        " use --force to empty it first"
    ]


def test_a_generated_database_of_100k_messages(tmp_path: Path) -> None:
    database = tmp_path / "big.sqlite3"
    generate(database, users=200, chats=400, messages=100_000)
    reports = copy_sqlite_to_postgres(database, target())
    assert all(r.agrees for r in reports), reports
    counted = {r.name: r.target_rows for r in reports}
    assert counted["messages"] == 100_000 and counted["events"] == 100_000


def generate(path: Path, *, users: int, chats: int, messages: int) -> None:
    """A migrated SQLite database filled in bulk, the way years of use would fill it."""
    factory = SqliteUnitOfWorkFactory(path, synchronous="NORMAL")
    factory.migrate()
    factory.close()
    rng = random.Random(16)
    t0 = datetime(2025, 1, 1, tzinfo=UTC)

    def when(seconds: float) -> str:
        return (t0 + timedelta(seconds=seconds)).isoformat(timespec="microseconds")

    with sqlite3.connect(path) as conn:
        conn.executemany(
            "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash,"
            " first_name, second_name, first_name_key, second_name_key, created_date)"
            " VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    f"u{n:06d}",
                    f"u{n:06d}",
                    f"u{n}@example.org",
                    f"u{n}@example.org",
                    "h",
                    f"Имя{n}",
                    f"Фамилия{n}",
                    f"имя{n}",
                    f"фамилия{n}",
                    when(n),
                )
                for n in range(users)
            ],
        )
        pairs = set()
        while len(pairs) < chats:
            a, b = rng.sample(range(1, users + 1), 2)
            pairs.add((min(a, b), max(a, b)))
        conn.executemany(
            "INSERT INTO friendships (requester_id, addressee_id, status, created_date)"
            " VALUES (?, ?, 'accepted', ?)",
            [(a, b, when(n)) for n, (a, b) in enumerate(sorted(pairs))],
        )
        conn.executemany(
            "INSERT INTO chats (created_date, last_activity) VALUES (?, ?)",
            [(when(n), when(n)) for n in range(chats)],
        )
        conn.executemany(
            "INSERT INTO chat_members (chat_id, user_id, joined_date) VALUES (?, ?, ?)",
            [(chat, user, when(chat)) for chat, pair in enumerate(sorted(pairs), 1) for user in pair],
        )
        members = dict(enumerate(sorted(pairs), 1))
        rows = []
        for n in range(messages):
            chat = rng.randint(1, chats)
            rows.append(
                (chat, rng.choice(members[chat]), f"сообщение {n} " * rng.randint(1, 5), when(1000 + n))
            )
        conn.executemany(
            "INSERT INTO messages (chat_id, sender_id, text, sending_date) VALUES (?, ?, ?, ?)", rows
        )
        conn.executemany(
            "INSERT INTO events (chat_id, type, data, created_date) VALUES (?, 'message.new', ?, ?)",
            [
                (chat, json.dumps({"message": {"id": n + 1, "text": text}}, ensure_ascii=False), at)
                for n, (chat, _, text, at) in enumerate(rows)
            ],
        )
