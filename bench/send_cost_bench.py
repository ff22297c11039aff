"""What one send costs inside the write lock, on SQLite with the defaults a user runs.

    python -m bench.send_cost_bench [--sends N]

Every writer of a database file holds its write queue (``WriteQueue``: a thread lock and
a cross-process ``flock``) from ``BEGIN IMMEDIATE`` to ``COMMIT``, so the time a send holds
it bounds the sends per second of every worker together. For a text message into a 1:1
chat, into groups of 10 and 200 members, and a reply with a mention, through
``Messenger.send_message`` (``SQLITE_SYNCHRONOUS=FULL``, the default), it prints:

- the statements the send runs (counted by ``sqlite3``'s trace callback on the writing
  connection; the FTS5 index's own statements are counted apart);
- how long the write lock is held (p50/p99), split into the work before ``COMMIT`` (the
  use case's reads and writes, Python included) and the ``COMMIT`` itself (WAL append
  and fsync);
- the whole call (p50), which adds what runs outside the lock (validation, the wake-up).

The lock is timed by wrapping the factory's write queue, statements by the trace
callback: both only observe. Everything lives in a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.conversation_bench import messenger_on
from messenger_core import Messenger
from messenger_core.model import Actor
from scripts.live_server import PASSWORD


def progress(message: str) -> None:
    print(f"[send_cost_bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Watch:
    """Observes one factory's writes: when its write queue is taken and let go, and
    when ``COMMIT`` starts (the trace callback fires as a statement begins)."""

    def __init__(self, queue: Any) -> None:
        self.statements: list[str] = []
        self.held: list[tuple[float, float, float]] = []  # (acquired, commit began, released)
        self._acquired = self._commit = 0.0
        acquire, release = queue.acquire, queue.release

        def timed_acquire(*args: Any, **kwargs: Any) -> bool:
            taken: bool = acquire(*args, **kwargs)
            self._acquired, self._commit = time.perf_counter(), 0.0
            return taken

        def timed_release() -> None:
            release()
            self.held.append((self._acquired, self._commit or time.perf_counter(), time.perf_counter()))

        queue.acquire, queue.release = timed_acquire, timed_release

    def trace(self, statement: str) -> None:
        self.statements.append(statement)
        if statement == "COMMIT":
            self._commit = time.perf_counter()

    def reset(self) -> None:
        self.statements.clear()
        self.held.clear()


def people(messenger: Messenger, count: int, tag: str) -> list[Actor]:
    made = []
    for i in range(count):
        view = messenger.register(
            first_name="Send", second_name=f"{tag}{i}", email=f"{tag}{i}@bench.example.com", password=PASSWORD
        )
        made.append(Actor(view.id, view.user_id))
    return made


def befriend(messenger: Messenger, owner: Actor, others: Sequence[Actor]) -> None:
    for other in others:
        messenger.send_friend_request(owner, other.alternative_id)
        messenger.accept_friend_request(other, owner.alternative_id)


def cases(messenger: Messenger) -> dict[str, Callable[[int], object]]:
    """The sends to measure, each a call taking the send's number."""
    alice, bob = people(messenger, 2, "pair")
    befriend(messenger, alice, [bob])
    direct = messenger.open_chat(alice, bob.alternative_id)[0].id
    owner, *ten = people(messenger, 10, "ten")
    befriend(messenger, owner, ten)
    group10 = messenger.create_group(owner, title="Десять", member_ids=[p.alternative_id for p in ten]).id
    progress("registering 200 members (argon2 at the test cost)")
    host, *many = people(messenger, 200, "big")
    befriend(messenger, host, many)
    group200 = messenger.create_group(host, title="Двести", member_ids=[p.alternative_id for p in many]).id
    quoted = messenger.send_message(ten[0], chat_id=group10, text="Вопрос к группе").id
    text = "Привет! Как дела, что нового? Встречаемся в семь у входа"
    return {
        "1:1 chat, text": lambda n: messenger.send_message(alice, chat_id=direct, text=f"{text} {n}"),
        "group of 10, text": lambda n: messenger.send_message(owner, chat_id=group10, text=f"{text} {n}"),
        "group of 200, text": lambda n: messenger.send_message(host, chat_id=group200, text=f"{text} {n}"),
        "group of 10, reply + mention": lambda n: messenger.send_message(
            owner,
            chat_id=group10,
            text=f"@Send ten0 {text} {n}",
            reply_to_id=quoted,
            mentions=[ten[0].alternative_id],
        ),
    }


def measure(folder: Path, sends: int) -> list[str]:
    messenger, uow = messenger_on(folder / "db.sqlite3")
    watch = Watch(uow.write_queue)
    uow.connection().set_trace_callback(watch.trace)
    rows = [
        "| send | statements | of them FTS5's own | lock held p50 ms | p99 ms | before COMMIT p50 ms "
        "| COMMIT p50 ms | whole call p50 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    try:
        for name, send in cases(messenger).items():
            progress(f"{name}: {sends} sends")
            for n in range(20):  # warm the statement cache and the file
                send(n)
            watch.reset()
            send(0)
            ours = [s for s in watch.statements if not s.startswith("--")]
            fts = len(watch.statements) - len(ours)
            watch.reset()
            calls = []
            for n in range(sends):
                started = time.perf_counter()
                send(n)
                calls.append((time.perf_counter() - started) * 1000)
            held = [(end - begin) * 1000 for begin, _, end in watch.held]
            before = [(commit - begin) * 1000 for begin, commit, _ in watch.held]
            commit = [(end - commit) * 1000 for _, commit, end in watch.held]
            rows.append(
                f"| {name} | {len(ours)} | {fts} | {statistics.median(held):.3f} "
                f"| {percentile(held, 0.99):.3f} | {statistics.median(before):.3f} "
                f"| {statistics.median(commit):.3f} "
                f"| {statistics.median(calls):.3f} |"
            )
    finally:
        uow.close()
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sends", type=int, default=1000, help="sends per case (default 1000)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="send-cost-") as folder:
        rows = measure(Path(folder), args.sends)
    print("\n".join(rows))
    load = os.getloadavg()
    print(f"\nSQLite FULL, in process, {args.sends} sends a case; load average {load[0]:.1f}.")


if __name__ == "__main__":
    main()
