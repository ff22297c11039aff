"""Group chats: what a send costs as groups grow, and how fast it reaches waiting members.

    python -m bench.groups_bench [--quick]

1. **In process** (SQLite with the default ``SQLITE_SYNCHRONOUS=FULL``): a send to a group
   of 10, 200 and 1,000 members (``GROUP_MAX_MEMBERS`` raised for the run), and how many
   event rows each send writes (a chat's event is one row, however many members).
2. **Over HTTP** (the real server on loopback): the same sends, from one keep-alive client.
3. **Delivery**: 50 members of the 200-member group long-poll ``GET /api/v1/events``; the
   time from the start of a send to each waiter having the message. Before each send
   every waiter has re-sent its poll. Waiting 50 at once needs more than the default
   places (THREADS 32, 16 long-polls per address): the server runs with THREADS=80 and
   LONG_POLLS_PER_ADDRESS=100 here, which the table says.

Everyone is set up in process on the same database file (a cheap hasher), then the server
is started on it. Bounded: every wait has a timeout and the server is stopped. Progress
to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.memory import MemoryBlobStore
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.testing import ManualClock, SeededRandom
from bench.realtime_bench import Client, expect
from entrypoints import bootstrap
from entrypoints.config import Settings
from messenger_core import Messenger, MessengerSettings
from messenger_core.model import Actor
from scripts.live_server import PASSWORD, LiveServer

SIZES = (10, 200, 1000)
WAITERS = 50
DELIVERY_GROUP = 200
TARGET_SEND_MS = 3.0  # in process, 200 members, FULL
TARGET_DELIVERY_P99_MS = 50.0


def progress(message: str) -> None:
    print(f"[groups_bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def messenger_on(path: Path, synchronous: str) -> tuple[Messenger, SqliteUnitOfWorkFactory]:
    uow = SqliteUnitOfWorkFactory(path, synchronous=synchronous)
    uow.migrate()
    messenger = bootstrap.build_messenger(
        Settings(SECRET_KEY="bench" * 8),
        uow=uow,
        clock=ManualClock(datetime.now(UTC)),
        random=SeededRandom(7),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        blobs=MemoryBlobStore(),
        core=MessengerSettings(group_max_members=max(SIZES)),
    )
    return messenger, uow


def set_up(path: Path) -> tuple[dict[int, int], list[str]]:
    """The sender, 999 friends of theirs and a group of each size; returns
    {size: chat id} and the emails of the delivery group's members (sender first)."""
    messenger, uow = messenger_on(path, "NORMAL")  # setting up needs no durability
    people: list[Actor] = []
    emails = []
    for i in range(max(SIZES)):
        email = f"member{i}@bench.example.com"
        view = messenger.register(first_name="Bench", second_name=f"M{i}", email=email, password=PASSWORD)
        people.append(Actor(view.id, view.user_id))
        emails.append(email)
    sender, friends = people[0], people[1:]
    for friend in friends:
        messenger.send_friend_request(sender, friend.alternative_id)
        messenger.accept_friend_request(friend, sender.alternative_id)
    groups = {}
    for size in SIZES:
        members = [f.alternative_id for f in friends[: size - 1]]
        groups[size] = messenger.create_group(sender, title=f"Группа {size}", member_ids=members).id
    uow.close()
    return groups, emails[:DELIVERY_GROUP]


def in_process(path: Path, groups: dict[int, int], sends: int) -> list[str]:
    messenger, uow = messenger_on(path, "FULL")
    sender = messenger.authenticate(
        messenger.login(email="member0@bench.example.com", password=PASSWORD).access_token
    )
    rows = [
        "| members | sends | p50 ms | p99 ms | mean ms | event rows per send | target | |",
        "|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    conn = uow.connection()
    for size, chat_id in groups.items():
        for _ in range(5):  # warm caches
            messenger.send_message(sender, chat_id=chat_id, text="warm-up")
        before = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        took = []
        for i in range(sends):
            started = time.perf_counter()
            messenger.send_message(sender, chat_id=chat_id, text=f"message {i}")
            took.append((time.perf_counter() - started) * 1000)
        written = (conn.execute("SELECT count(*) FROM events").fetchone()[0] - before) / sends
        target = f"≤ {TARGET_SEND_MS:g} ms" if size == 200 else ""
        verdict = ("PASS" if statistics.median(took) <= TARGET_SEND_MS else "MISS") if size == 200 else ""
        rows.append(
            f"| {size} | {sends} | {statistics.median(took):.2f} | {percentile(took, 0.99):.2f} | "
            f"{statistics.fmean(took):.2f} | {written:g} | {target} | {verdict} |"
        )
        progress(f"in process, {size} members: p50 {statistics.median(took):.2f} ms")
    uow.close()
    return rows


def over_http(server: LiveServer, groups: dict[int, int], token: str, sends: int) -> list[str]:
    client = Client(server.port, token)
    rows = ["| members | sends | p50 ms | p99 ms | mean ms |", "|---:|---:|---:|---:|---:|"]
    try:
        for size, chat_id in groups.items():
            for _ in range(5):
                expect(client.call("POST", f"/api/v1/chats/{chat_id}/messages", {"text": "warm-up"}), 201)
            took = []
            for i in range(sends):
                started = time.perf_counter()
                expect(client.call("POST", f"/api/v1/chats/{chat_id}/messages", {"text": f"http {i}"}), 201)
                took.append((time.perf_counter() - started) * 1000)
            rows.append(
                f"| {size} | {sends} | {statistics.median(took):.2f} | {percentile(took, 0.99):.2f} | "
                f"{statistics.fmean(took):.2f} |"
            )
            progress(f"over HTTP, {size} members: p50 {statistics.median(took):.2f} ms")
    finally:
        client.close()
    return rows


class Waiter(threading.Thread):
    """A member long-polling for the group's messages; records when each one arrived."""

    def __init__(self, port: int, token: str) -> None:
        super().__init__(daemon=True)
        self.client = Client(port, token, timeout=60)
        self.cursor = expect(self.client.call("GET", "/api/v1/events"), 200)["cursor"]
        self.arrived: dict[int, float] = {}
        self.polling = threading.Event()
        self.stop = False

    def run(self) -> None:
        try:
            self.poll()
        except OSError:  # the server stopped under a waiting poll: the run is over
            if not self.stop:
                raise

    def poll(self) -> None:
        while not self.stop:
            self.client.send_request("GET", f"/api/v1/events?since={self.cursor}&timeout=30")
            self.polling.set()
            status, _, data = self.client.read_response()
            now = time.perf_counter()
            self.polling.clear()
            if status != 200:
                continue
            self.cursor = data["cursor"]
            for event in data["events"]:
                if event["type"] == "message.new":
                    self.arrived.setdefault(event["data"]["message"]["id"], now)


def delivery(
    server: LiveServer, chat_id: int, sender_token: str, tokens: Sequence[str], sends: int
) -> list[str]:
    waiters = [Waiter(server.port, token) for token in tokens]
    for waiter in waiters:
        waiter.start()
    sender = Client(server.port, sender_token)
    latencies: list[float] = []
    lost = 0
    try:
        for i in range(sends):
            for waiter in waiters:  # every waiter has re-sent its poll
                waiter.polling.wait(10)
            time.sleep(0.005)  # and the server has begun to wait on it
            started = time.perf_counter()
            message = expect(
                sender.call("POST", f"/api/v1/chats/{chat_id}/messages", {"text": f"d {i}"}), 201
            )
            message_id = message["message"]["id"]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not all(message_id in w.arrived for w in waiters):
                time.sleep(0.001)
            for waiter in waiters:
                if message_id in waiter.arrived:
                    latencies.append((waiter.arrived[message_id] - started) * 1000)
                else:
                    lost += 1
    finally:
        for waiter in waiters:
            waiter.stop = True
        sender.close()
    p99 = percentile(latencies, 0.99)
    verdict = "PASS" if p99 <= TARGET_DELIVERY_P99_MS and not lost else "MISS"
    progress(f"delivery: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, lost {lost}")
    return [
        "| group | waiting members | sends | deliveries | p50 ms | p99 ms | max ms | lost | target p99 | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
        f"| {DELIVERY_GROUP} | {len(waiters)} | {sends} | {len(latencies)} | "
        f"{statistics.median(latencies):.1f} | {p99:.1f} | {max(latencies):.1f} | "
        f"{lost} | ≤ {TARGET_DELIVERY_P99_MS:g} ms | {verdict} |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer sends (a smoke run)")
    args = parser.parse_args(argv)
    sends = 50 if args.quick else 300
    with tempfile.TemporaryDirectory(prefix="groups-bench-") as folder:
        database = Path(folder) / "db" / "db.sqlite3"
        database.parent.mkdir(parents=True)
        progress("setting up 1,000 people and three groups")
        groups, emails = set_up(database)
        print("### Sends to a group, in process (SQLite FULL)\n")
        print("\n".join(in_process(database, groups, sends)))
        server = LiveServer(
            Path(folder),
            extra_env={
                "THREADS": "80",
                "LONG_POLLS_PER_ADDRESS": "100",
                "GROUP_MAX_MEMBERS": str(max(SIZES)),
            },
        )
        server.start()
        try:
            tokens = []
            for email in emails[: WAITERS + 1]:
                login = Client(server.port)
                tokens.append(
                    expect(login.call("POST", "/api/v1/login", {"email": email, "password": PASSWORD}), 200)[
                        "access_token"
                    ]
                )
                login.close()
            print("\n### Sends to a group over HTTP (one keep-alive client)\n")
            print("\n".join(over_http(server, groups, tokens[0], sends // 2)))
            print(
                "\n### Delivery to members waiting on a 200-member group"
                " (THREADS=80, LONG_POLLS_PER_ADDRESS=100)\n"
            )
            print("\n".join(delivery(server, groups[DELIVERY_GROUP], tokens[0], tokens[1:], sends // 3)))
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
