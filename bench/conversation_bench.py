"""The conversation's read cost: a history page whose every message is a reply with
reactions, against a plain one; and jumping to a message deep in a big chat.

    python -m bench.conversation_bench [--quick]

1. **The newest-50 page**, plain (text only) and rich (every message a reply to the one
   before, with three reactions from three members, two emoji), in process through
   ``Messenger.history`` and over HTTP through the real server on loopback (one keep-alive
   client, ``GET /api/v1/chats/{id}/messages``). Target: rich ≤ 1.5 × plain, both ways.
2. **around=** in a chat of 1,000,000 messages (bulk-inserted into SQLite, never built
   through use cases): ``Messenger.history(around=…)`` centred on random messages.
   Target: p50 ≤ 2 ms in process.

SQLite with the defaults a user runs (``SQLITE_SYNCHRONOUS=FULL``; reads don't fsync).
Everything lives in a temporary folder; the server is stopped at the end. Progress goes to
stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.memory import MemoryBlobStore
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.sqlite.rows import dump_time
from adapters.testing import ManualClock, SeededRandom
from bench.realtime_bench import Client, expect
from entrypoints import bootstrap
from entrypoints.config import Settings
from messenger_core import Messenger
from messenger_core.model import Actor
from scripts.live_server import PASSWORD, LiveServer

PAGE = 50
RATIO_TARGET = 1.5
AROUND_TARGET_MS = 2.0
REACTIONS = ("👍", "❤️", "👍")  # three members, two emoji


def progress(message: str) -> None:
    print(f"[conversation_bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def timed(call: Callable[[], object], rounds: int) -> list[float]:
    for _ in range(10):  # warm caches
        call()
    took = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        took.append((time.perf_counter() - started) * 1000)
    return took


def messenger_on(path: Path) -> tuple[Messenger, SqliteUnitOfWorkFactory]:
    uow = SqliteUnitOfWorkFactory(path, synchronous="FULL")
    uow.migrate()
    messenger = bootstrap.build_messenger(
        Settings(SECRET_KEY="bench" * 8),
        uow=uow,
        clock=ManualClock(datetime.now(UTC)),
        random=SeededRandom(7),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        blobs=MemoryBlobStore(),
    )
    return messenger, uow


def set_up(path: Path, messages: int) -> tuple[int, int, str]:
    """Four people in two groups: one of plain messages, one where every message answers
    the one before and carries three reactions. Returns (plain chat, rich chat, email)."""
    messenger, uow = messenger_on(path)
    people = []
    for i in range(4):
        email = f"talker{i}@bench.example.com"
        view = messenger.register(first_name="Bench", second_name=f"T{i}", email=email, password=PASSWORD)
        people.append(Actor(view.id, view.user_id))
    owner, others = people[0], people[1:]
    for other in others:
        messenger.send_friend_request(owner, other.alternative_id)
        messenger.accept_friend_request(other, owner.alternative_id)
    ids = [o.alternative_id for o in others]
    plain = messenger.create_group(owner, title="Просто", member_ids=ids).id
    rich = messenger.create_group(owner, title="С ответами", member_ids=ids).id
    previous = None
    for i in range(messages):
        author = people[i % 4]
        messenger.send_message(author, chat_id=plain, text=f"Сообщение номер {i}, обычное")
        sent = messenger.send_message(
            author, chat_id=rich, text=f"Сообщение номер {i}, ответ", reply_to_id=previous
        )
        previous = sent.id
        for reactor, emoji in zip(others, REACTIONS, strict=True):
            messenger.add_reaction(reactor, sent.id, emoji)
        if i % 200 == 0:
            progress(f"  {i} of {messages} messages in each chat")
    uow.close()
    return plain, rich, "talker0@bench.example.com"


def page_rows(plain: list[float], rich: list[float], where: str) -> list[str]:
    ratio = statistics.median(rich) / statistics.median(plain)
    verdict = "PASS" if ratio <= RATIO_TARGET else "MISS"
    return [
        f"| {where} | plain | {statistics.median(plain):.2f} | {percentile(plain, 0.95):.2f} | | |",
        f"| {where} | replies + 3 reactions each | {statistics.median(rich):.2f} | "
        f"{percentile(rich, 0.95):.2f} | {ratio:.2f}× (≤ {RATIO_TARGET}×) | {verdict} |",
    ]


def pages(folder: Path, messages: int, rounds: int) -> list[str]:
    database = folder / "db" / "db.sqlite3"
    database.parent.mkdir(parents=True)
    progress(f"setting up two chats of {messages} messages")
    plain, rich, email = set_up(database, messages)
    rows = [
        "| where | page of 50 | p50 ms | p95 ms | rich / plain (p50) | |",
        "|---|---|---:|---:|---:|---|",
    ]
    messenger, uow = messenger_on(database)
    reader = messenger.authenticate(messenger.login(email=email, password=PASSWORD).access_token)
    in_plain = timed(lambda: messenger.history(reader, plain, limit=PAGE), rounds)
    in_rich = timed(lambda: messenger.history(reader, rich, limit=PAGE), rounds)
    assert all(m.reply_to and m.reactions for m in messenger.history(reader, rich, limit=PAGE)[1:])
    uow.close()
    rows += page_rows(in_plain, in_rich, "in process")
    progress("in process done; over HTTP")
    server = LiveServer(folder)
    server.start()
    try:
        login = Client(server.port)
        token = expect(login.call("POST", "/api/v1/login", {"email": email, "password": PASSWORD}), 200)
        login.close()
        client = Client(server.port, token["access_token"])
        try:
            http_plain = timed(
                lambda: expect(client.call("GET", f"/api/v1/chats/{plain}/messages"), 200), rounds
            )
            http_rich = timed(
                lambda: expect(client.call("GET", f"/api/v1/chats/{rich}/messages"), 200), rounds
            )
        finally:
            client.close()
    finally:
        server.stop()
    rows += page_rows(http_plain, http_rich, "over HTTP")
    return rows


def deep_chat(folder: Path, messages: int, rounds: int) -> list[str]:
    """A chat of ``messages`` messages, bulk-inserted; ``around=`` on random ones."""
    database = folder / "deep.sqlite3"
    messenger, uow = messenger_on(database)
    a = messenger.register(first_name="Deep", second_name="A", email="a@deep.example.com", password=PASSWORD)
    b = messenger.register(first_name="Deep", second_name="B", email="b@deep.example.com", password=PASSWORD)
    alice, bob = Actor(a.id, a.user_id), Actor(b.id, b.user_id)
    messenger.send_friend_request(alice, bob.alternative_id)
    messenger.accept_friend_request(bob, alice.alternative_id)
    chat = messenger.open_chat(alice, bob.alternative_id)[0].id
    uow.close()
    progress(f"bulk-inserting {messages:,} messages")
    conn = sqlite3.connect(database)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    with conn:
        conn.executemany(
            "INSERT INTO messages (chat_id, sender_id, text, sending_date) VALUES (?, ?, ?, ?)",
            (
                (
                    chat,
                    (alice, bob)[i % 2].id,
                    f"Сообщение {i} в длинной переписке",
                    dump_time(start + timedelta(seconds=i)),
                )
                for i in range(messages)
            ),
        )
        last = conn.execute("SELECT max(id) FROM messages").fetchone()[0]
        conn.execute("UPDATE chats SET last_message_id = ? WHERE id = ?", (last, chat))
    first = conn.execute("SELECT min(id) FROM messages WHERE chat_id = ?", (chat,)).fetchone()[0]
    conn.close()
    messenger, uow = messenger_on(database)
    picker = random.Random(11)
    took = timed(
        lambda: messenger.history(alice, chat, around=picker.randint(first, last), limit=PAGE), rounds
    )
    uow.close()
    verdict = "PASS" if statistics.median(took) <= AROUND_TARGET_MS else "MISS"
    return [
        "| chat size | calls | p50 ms | p95 ms | target (p50) | |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {messages:,} | {rounds} | {statistics.median(took):.2f} | {percentile(took, 0.95):.2f} | "
        f"≤ {AROUND_TARGET_MS:g} ms | {verdict} |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller chats, fewer calls (a smoke run)")
    args = parser.parse_args(argv)
    messages, deep, rounds = (300, 100_000, 100) if args.quick else (1_000, 1_000_000, 400)
    with tempfile.TemporaryDirectory(prefix="conversation-bench-") as folder:
        print(f"### The newest-50 page, plain and rich (SQLite FULL, chats of {messages:,})\n")
        print("\n".join(pages(Path(folder), messages, rounds)))
        print("\n### Jumping to a message: `around=` (SQLite FULL, in process)\n")
        print("\n".join(deep_chat(Path(folder), deep, rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
