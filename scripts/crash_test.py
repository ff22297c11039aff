"""Crash safety: every acknowledged message survives ``kill -9`` exactly once.

    python -m scripts.crash_test [--rounds 5] [--seconds 2.5] [--clients 8] [--synchronous NORMAL]
                                 [--workers N] [--kill all|worker-then-supervisor]

Starts the real server (``python __main__.py``, ``--workers`` processes: the default is
one per CPU) on a temporary database, makes pairs of friends, and lets 8 client threads
send messages into their chats as fast as they can, each text unique, recording every
message answered with a 2xx and its id. After ``--seconds`` of load the server is killed
with SIGKILL (``all``: every process at once; ``worker-then-supervisor``: one worker
half-way, which the supervisor replaces while the load goes on, then the supervisor,
whose workers stop by themselves), restarted on the same database, and checked:

* every acknowledged message is stored exactly once, with its text (read from the SQLite
  file directly and through the API's history);
* ``PRAGMA integrity_check`` says ``ok``;
* the event stream has no gaps: each member of the chat has exactly one ``message.new``
  event for each acknowledged message, and event ids (and the message ids they carry)
  strictly increase.

Rounds repeat on the same database, so each round also re-checks everything the earlier
rounds acknowledged. A message whose request was cut off by the kill may or may not be
stored (it was never acknowledged); that column is informational.
"""

from __future__ import annotations

import argparse
import itertools
import os
import signal
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

import requests

from scripts.live_server import LiveServer, bearer, befriend, expect, sign_up

CLIENTS = 8


@dataclass(frozen=True)
class Client:
    """One sending thread: a user, its token, and the chat it writes into."""

    user_id: str
    token: str
    chat_id: int
    peer_id: str


@dataclass(frozen=True)
class Sent:
    id: int
    text: str
    chat_id: int


@dataclass
class Load:
    """What the clients saw during one round."""

    acknowledged: list[Sent] = field(default_factory=list)
    unanswered: int = 0  # requests the kill cut off
    statuses: Counter[int] = field(default_factory=Counter)
    texts_tried: set[str] = field(default_factory=set)


@dataclass
class RoundResult:
    round: int
    acknowledged: int
    found: int
    lost: int
    duplicates: int
    unacknowledged_stored: int
    integrity: str
    event_gaps: int
    bad_statuses: dict[int, int]
    log_problems: list[str]  # "database is locked" or a traceback in the server's output
    notes: list[str]

    @property
    def ok(self) -> bool:
        return (
            self.found == self.acknowledged
            and not self.lost
            and not self.duplicates
            and self.integrity == "ok"
            and not self.event_gaps
            and not self.bad_statuses
            and not self.log_problems
        )


def make_clients(url: str, count: int = CLIENTS) -> list[Client]:
    """count users in count/2 pairs of friends, each pair with its chat."""
    run = uuid.uuid4().hex[:6]
    users = [sign_up(url, f"crash-{run}-{i}@example.com", f"Crash{i}", "Tester") for i in range(count)]
    clients = []
    for (a_id, a_token), (b_id, b_token) in zip(users[0::2], users[1::2], strict=True):
        chat_id = befriend(url, a_token, b_id, b_token, a_id)
        clients += [Client(a_id, a_token, chat_id, b_id), Client(b_id, b_token, chat_id, a_id)]
    return clients


KILLS = ("all", "worker-then-supervisor")


def send_until_killed(
    server: LiveServer, clients: Sequence[Client], seconds: float, tag: str, kill: str = "all"
) -> Load:
    """Every client sends as fast as it can; the server is killed after ``seconds``."""
    load = Load()
    lock = threading.Lock()
    killed = threading.Event()
    url = server.url

    def client(number: int, me: Client) -> None:
        session = requests.Session()
        for n in itertools.count():
            if killed.is_set():
                return
            text = f"{tag} client {number} message {n} {uuid.uuid4().hex[:8]}"
            with lock:
                load.texts_tried.add(text)
            try:
                response = session.post(
                    f"{url}/api/v1/chats/{me.chat_id}/messages",
                    json={"text": text},
                    headers=bearer(me.token),
                    timeout=10,
                )
            except requests.RequestException:
                with lock:
                    load.unanswered += 1
                if killed.is_set():
                    return
                time.sleep(0.01)
                continue
            with lock:
                load.statuses[response.status_code] += 1
                if 200 <= response.status_code < 300:
                    message = response.json()["message"]
                    assert message["text"] == text, (message, text)
                    load.acknowledged.append(Sent(int(message["id"]), text, me.chat_id))

    threads = [threading.Thread(target=client, args=(i, c), daemon=True) for i, c in enumerate(clients)]
    for thread in threads:
        thread.start()
    if kill == "all":
        time.sleep(seconds)
        server.kill()  # SIGKILL of every process while the clients are mid-request
    else:
        time.sleep(seconds / 2)
        workers = server.worker_pids()
        os.kill(workers[0], signal.SIGKILL)  # one worker; the supervisor starts another
        time.sleep(seconds / 2)
        serving = server.worker_pids()
        server.kill_supervisor()  # and then the supervisor: its workers stop by themselves
        wait_until_gone(serving)
    killed.set()
    for thread in threads:
        thread.join(30)
    return load


def wait_until_gone(pids: Sequence[int], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    for pid in pids:
        while Path(f"/proc/{pid}").exists() and _state(pid) != "Z":
            if time.monotonic() > deadline:
                raise AssertionError(f"worker {pid} outlived its supervisor by {timeout} s")
            time.sleep(0.05)


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "gone"


@dataclass
class Check:
    """What the restarted server holds of everything acknowledged so far."""

    found_ids: set[int]
    lost: int
    duplicates: int
    integrity: str
    event_gaps: int
    notes: list[str]


def verify(server: LiveServer, clients: Sequence[Client], acknowledged: Sequence[Sent]) -> Check:
    """Check the database file and the API against every acknowledged message."""
    notes: list[str] = []
    conn = sqlite3.connect(server.database)
    try:
        integrity = ", ".join(row[0] for row in conn.execute("PRAGMA integrity_check"))
        stored = conn.execute("SELECT id, text, chat_id FROM messages").fetchall()
    finally:
        conn.close()
    by_id = {row[0]: (row[1], row[2]) for row in stored}
    per_text = Counter(row[1] for row in stored)
    found: set[int] = set()
    lost = duplicates = 0
    for sent in acknowledged:
        if by_id.get(sent.id) == (sent.text, sent.chat_id):
            found.add(sent.id)
        else:
            lost += 1
            notes.append(f"message {sent.id} ({sent.text!r}) is missing or changed: {by_id.get(sent.id)}")
        if per_text[sent.text] > 1:
            duplicates += per_text[sent.text] - 1
            notes.append(f"{sent.text!r} is stored {per_text[sent.text]} times")

    # The same through the API: page every chat's history from the start.
    seen_by_api: dict[int, str] = {}
    for chat_id, token in {c.chat_id: c.token for c in clients}.items():
        after = 0
        while True:
            page = expect(
                requests.get(
                    f"{server.url}/api/v1/chats/{chat_id}/messages",
                    params={"after": after, "limit": 100},
                    headers=bearer(token),
                    timeout=30,
                ),
                200,
            )["messages"]
            if not page:
                break
            seen_by_api.update({m["id"]: m["text"] for m in page})
            after = page[-1]["id"]
    api_missing = [s for s in acknowledged if seen_by_api.get(s.id) != s.text]
    if api_missing:
        found -= {s.id for s in api_missing}
        lost = max(lost, len(api_missing))
        notes.append(f"{len(api_missing)} acknowledged messages are missing from the API's history")

    gaps = event_gaps(server, clients, acknowledged, notes)
    return Check(found, lost, duplicates, integrity, gaps, notes)


def event_gaps(
    server: LiveServer, clients: Sequence[Client], acknowledged: Sequence[Sent], notes: list[str]
) -> int:
    """Read every client's whole event stream; count what is missing, repeated or out of order."""
    gaps = 0
    for me in clients:
        events = []
        cursor = 0
        while True:
            batch = expect(
                requests.get(
                    f"{server.url}/api/v1/events",
                    params={"since": cursor, "timeout": 0},
                    headers=bearer(me.token),
                    timeout=30,
                ),
                200,
            )
            if not batch["events"]:
                break
            events += batch["events"]
            cursor = batch["cursor"]
        ids = [e["id"] for e in events]
        disorder = sum(1 for a, b in itertools.pairwise(ids) if b <= a)
        news = [e["data"]["message"]["id"] for e in events if e["type"] == "message.new"]
        news_disorder = sum(1 for a, b in itertools.pairwise(news) if b <= a)
        counts = Counter(news)
        mine = [s for s in acknowledged if s.chat_id == me.chat_id]
        missing = [s.id for s in mine if counts[s.id] == 0]
        repeated = [s.id for s in mine if counts[s.id] > 1]
        if disorder or news_disorder or missing or repeated:
            notes.append(
                f"user {me.user_id}: {disorder} event ids out of order, {news_disorder} message.new out of "
                f"order, missing events for {missing[:5]}…({len(missing)}), repeated {repeated[:5]}"
            )
        gaps += disorder + news_disorder + len(missing) + len(repeated)
    return gaps


def stored_unacknowledged(server: LiveServer, load: Load) -> int:
    """Messages cut off before their answer that were committed anyway (allowed)."""
    acknowledged = {s.text for s in load.acknowledged}
    conn = sqlite3.connect(server.database)
    try:
        texts = {row[0] for row in conn.execute("SELECT text FROM messages")}
    finally:
        conn.close()
    return len((load.texts_tried - acknowledged) & texts)


def run(
    rounds: int,
    seconds: float,
    folder: Path,
    *,
    clients: int = CLIENTS,
    synchronous: str = "FULL",
    workers: int | None = None,
    kill: str = "all",
    out: TextIO = sys.stdout,
) -> list[RoundResult]:
    env = {"SQLITE_SYNCHRONOUS": repr(synchronous)}
    if workers is not None:
        env["WORKERS"] = str(workers)
    server = LiveServer(folder, extra_env=env)
    server.start()
    results: list[RoundResult] = []
    everything: list[Sent] = []
    try:
        users = make_clients(server.url, clients)
        for number in range(1, rounds + 1):
            load = send_until_killed(server, users, seconds, tag=f"round {number}", kill=kill)
            server.start()  # the same database, after the crash
            everything += load.acknowledged
            check = verify(server, users, everything)
            notes = check.notes
            bad = {s: n for s, n in load.statuses.items() if not 200 <= s < 300}
            problems = [m for m in ("database is locked", "Traceback") if m in server.log()]
            if kill != "all" and "restarting it" not in server.log():
                problems.append("the supervisor never restarted the killed worker")
            results.append(
                RoundResult(
                    round=number,
                    acknowledged=len(load.acknowledged),
                    found=sum(1 for s in load.acknowledged if s.id in check.found_ids),
                    lost=check.lost,
                    duplicates=check.duplicates,
                    unacknowledged_stored=stored_unacknowledged(server, load),
                    integrity=check.integrity,
                    event_gaps=check.event_gaps,
                    bad_statuses=bad,
                    log_problems=problems,
                    notes=notes + [f"the server log mentions {m!r} ({server.log_path})" for m in problems],
                )
            )
            print_row(results[-1], out, header=number == 1)
    finally:
        server.stop()
    return results


COLUMNS = (
    "round",
    "acknowledged",
    "found",
    "lost",
    "duplicates",
    "cut off, stored",
    "integrity",
    "event gaps",
    "non-2xx",
)


def print_row(result: RoundResult, out: TextIO, *, header: bool) -> None:
    if header:
        print(" | ".join(COLUMNS), file=out)
        print(" | ".join("-" * len(c) for c in COLUMNS), file=out)
    cells = (
        result.round,
        result.acknowledged,
        result.found,
        result.lost,
        result.duplicates,
        result.unacknowledged_stored,
        result.integrity,
        result.event_gaps,
        ", ".join(f"{s}×{n}" for s, n in sorted(result.bad_statuses.items())) or "none",
    )
    print(" | ".join(str(c).rjust(len(h)) for c, h in zip(cells, COLUMNS, strict=True)), file=out, flush=True)
    for note in result.notes[:20]:
        print(f"    {note}", file=out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.crash_test", description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=2.5, help="load before each kill -9")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="sending threads (an even number)")
    parser.add_argument(
        "--synchronous",
        choices=("FULL", "NORMAL"),
        default="FULL",
        help="SQLITE_SYNCHRONOUS of the server: a process crash loses nothing acknowledged under either",
    )
    parser.add_argument("--workers", type=int, help="WORKERS of the server (default: one per CPU)")
    parser.add_argument("--kill", choices=KILLS, default="all", help="what is killed with SIGKILL")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary one)")
    args = parser.parse_args(argv)
    options = {
        "clients": args.clients,
        "synchronous": args.synchronous,
        "workers": args.workers,
        "kill": args.kill,
    }
    if args.keep:
        results = run(args.rounds, args.seconds, args.keep, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="crash-test-") as folder:
            results = run(args.rounds, args.seconds, Path(folder), **options)
    total = sum(r.acknowledged for r in results)
    failed = [r.round for r in results if not r.ok]
    print(
        f"\n{total} messages acknowledged over {len(results)} kill -9 rounds; "
        + (
            "every one found exactly once, integrity ok, no event gaps."
            if not failed
            else f"FAILED rounds: {failed}"
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
