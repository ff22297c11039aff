"""Message search: latency over a big database, and what the index adds to a send.

    python -m bench.search_bench [--quick]

1. **Latency.** 1,000,000 messages in 1,000 direct chats (1,000 each), written into SQLite
   in bulk with their search-index rows (the same ``search_index.write`` a send uses);
   the reader is a member of 50 of those chats. Texts are drawn from a vocabulary of
   Russian and English words with a Zipf-like frequency, so queries range from words in
   every tenth message to words in a few hundred. ``Messenger.search_messages`` in
   process, first page (20): one word, two words, and a 3–4 letter prefix, each drawn
   from the same vocabulary. Target: p50 ≤ 20 ms, p99 ≤ 100 ms.
2. **Send cost.** ``Messenger.send_message`` into one of the reader's chats of the same
   database, in interleaved rounds with the index written as always and with its writes
   replaced by a no-op. Target: indexing adds ≤ 15 % to a send (p50).

SQLite with the defaults a user runs (``SQLITE_SYNCHRONOUS=FULL``). Everything lives in
a temporary folder. Progress goes to stderr, the tables to stdout.
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from adapters.sqlite import search_index
from adapters.sqlite.rows import dump_time
from bench.conversation_bench import messenger_on
from messenger_core import Messenger
from messenger_core.model import Actor
from scripts.live_server import PASSWORD

CHATS = 1_000
READER_CHATS = 50
P50_TARGET_MS = 20.0
P99_TARGET_MS = 100.0
SEND_COST_TARGET = 0.15

_PARAGRAPH = (
    "привет сообщение встреча завтра сегодня проект документ отчёт договор счёт оплата "
    "доставка задача вопрос ответ работа команда клиент звонок письмо фото видео файл "
    "неделя пятница понедельник утро вечер обед кофе погода дорога машина поезд самолёт "
    "билет гостиница отпуск праздник подарок мама папа брат сестра друг ёлка ёжик "
    "hello meeting tomorrow today project report invoice payment delivery task question "
    "answer team client call letter photo video file week friday monday morning evening "
    "lunch coffee weather road train flight ticket hotel holiday present release deploy "
    "server database backup review merge branch ticket sprint deadline budget contract"
)
WORDS = _PARAGRAPH.split()


def progress(message: str) -> None:
    print(f"[search_bench] {message}", file=sys.stderr, flush=True)


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Vocabulary:
    """Words with Zipf-like weights (the n-th word is 1/n as likely as the first)."""

    def __init__(self, seed: int) -> None:
        self._random = random.Random(seed)
        self.words = list(WORDS)
        self._random.shuffle(self.words)
        self._weights = [1 / (n + 1) for n in range(len(self.words))]

    def text(self) -> str:
        count = self._random.randint(3, 12)
        return " ".join(self._random.choices(self.words, self._weights, k=count)).capitalize()

    def word(self) -> str:
        return self._random.choice(self.words)


def people(messenger: Messenger, count: int) -> list[Actor]:
    found = []
    for i in range(count):
        view = messenger.register(
            first_name="Search", second_name=f"P{i}", email=f"p{i}@search.example.com", password=PASSWORD
        )
        found.append(Actor(view.id, view.user_id))
    return found


def direct_chat(messenger: Messenger, a: Actor, b: Actor) -> int:
    messenger.send_friend_request(a, b.alternative_id)
    messenger.accept_friend_request(b, a.alternative_id)
    return messenger.open_chat(a, b.alternative_id)[0].id


def set_up(path: Path, per_chat: int) -> tuple[Actor, list[int]]:
    """The reader, 1,000 other people, 1,000 chats: 50 of them the reader's, 950 between
    the others in pairs. Returns the reader and the reader's chat ids."""
    messenger, uow = messenger_on(path)
    reader, *others = people(messenger, CHATS + 1)
    mine = [direct_chat(messenger, reader, other) for other in others[:READER_CHATS]]
    pairs = others[READER_CHATS:]
    theirs = [
        direct_chat(messenger, pairs[i], pairs[(i + 1) % len(pairs)]) for i in range(CHATS - READER_CHATS)
    ]
    uow.close()
    chats = mine + theirs
    progress(f"{len(chats)} chats; writing {per_chat * len(chats):,} messages with their index rows")
    conn = sqlite3.connect(path)
    members = dict(conn.execute("SELECT chat_id, min(user_id) FROM chat_members GROUP BY chat_id").fetchall())
    words = Vocabulary(3)
    start = datetime(2025, 1, 1, tzinfo=UTC)

    def rows() -> Iterator[tuple[int, int, str, str]]:
        # Chats interleave in time, as real ones do: the newest page of hits spans chats.
        for i in range(per_chat):
            for chat in chats:
                yield chat, members[chat], words.text(), dump_time(start + timedelta(seconds=i))

    next_id = 1 + (conn.execute("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0])
    batch: list[tuple[int, int, int, str, str]] = []
    with conn:
        for n, (chat, sender, text, date) in enumerate(rows()):
            batch.append((next_id + n, chat, sender, text, date))
            if len(batch) == 10_000:
                write_batch(conn, batch)
                batch = []
                if (n + 1) % 100_000 == 0:
                    progress(f"  {n + 1:,} messages")
        write_batch(conn, batch)
        conn.execute(
            "UPDATE chats SET last_message_id ="
            " (SELECT max(id) FROM messages WHERE messages.chat_id = chats.id)"
        )
    conn.execute("PRAGMA optimize")
    conn.close()
    return reader, mine


def found_in(path: Path) -> tuple[Actor, list[int]]:
    """The reader and their chats in a database set_up made."""
    messenger_on(path)[1].close()  # migrates it
    with sqlite3.connect(path) as conn:
        reader = Actor(*conn.execute("SELECT id, alternative_id FROM users ORDER BY id LIMIT 1").fetchone())
        mine = [
            c for (c,) in conn.execute("SELECT chat_id FROM chat_members WHERE user_id = ?", (reader.id,))
        ]
    return reader, sorted(mine)


def write_batch(conn: sqlite3.Connection, batch: list[tuple[int, int, int, str, str]]) -> None:
    conn.executemany(
        "INSERT INTO messages (id, chat_id, sender_id, text, sending_date) VALUES (?, ?, ?, ?, ?)", batch
    )
    for message_id, _, _, text, _ in batch:
        search_index.write(conn, message_id, text)


def queries(kind: str, words: Vocabulary, count: int) -> list[str]:
    if kind == "one word":
        return [words.word() for _ in range(count)]
    if kind == "two words":
        return [f"{words.word()} {words.word()}" for _ in range(count)]
    picker = random.Random(5)
    return [words.word()[: picker.randint(3, 4)] for _ in range(count)]


def latency(path: Path, reader: Actor, count: int) -> list[str]:
    messenger, uow = messenger_on(path)
    rows = [
        "| query | queries | found (mean of first page) | p50 ms | p99 ms | target | |",
        "|---|---:|---:|---:|---:|---|---|",
    ]
    words = Vocabulary(9)
    for kind in ("one word", "two words", "prefix"):
        took, found = [], []
        asked = queries(kind, words, count)
        for q in asked[:10]:  # warm the page cache
            messenger.search_messages(reader, q=q)
        for q in asked:
            started = time.perf_counter()
            page = messenger.search_messages(reader, q=q)
            took.append((time.perf_counter() - started) * 1000)
            found.append(len(page.messages))
        p50, p99 = statistics.median(took), percentile(took, 0.99)
        verdict = "PASS" if p50 <= P50_TARGET_MS and p99 <= P99_TARGET_MS else "MISS"
        rows.append(
            f"| {kind} | {count} | {statistics.mean(found):.1f} | {p50:.2f} | {p99:.2f} | "
            f"p50 ≤ {P50_TARGET_MS:g}, p99 ≤ {P99_TARGET_MS:g} | {verdict} |"
        )
    uow.close()
    return rows


def send_cost(path: Path, reader: Actor, chat: int, rounds: int) -> list[str]:
    messenger, uow = messenger_on(path)
    words = Vocabulary(21)
    real_write, real_index = search_index.write, search_index.index_message

    def sends(n: int) -> list[float]:
        took = []
        for _ in range(n):
            text = words.text()
            started = time.perf_counter()
            messenger.send_message(reader, chat_id=chat, text=text)
            took.append((time.perf_counter() - started) * 1000)
        return took

    def without_index(call: Callable[[], list[float]]) -> list[float]:
        search_index.write = lambda *args, **kwargs: None
        search_index.index_message = lambda *args, **kwargs: None
        try:
            return call()
        finally:
            search_index.write, search_index.index_message = real_write, real_index

    sends(20)  # warm up
    indexed: list[float] = []
    plain: list[float] = []
    for _ in range(10):  # interleaved rounds
        indexed += sends(rounds // 10)
        plain += without_index(lambda: sends(rounds // 10))
    uow.close()
    cost = statistics.median(indexed) / statistics.median(plain) - 1
    verdict = "PASS" if cost <= SEND_COST_TARGET else "MISS"
    return [
        "| send | sends | p50 ms | p95 ms | added by the index (p50) | |",
        "|---|---:|---:|---:|---:|---|",
        f"| without the index | {len(plain)} | {statistics.median(plain):.2f} | "
        f"{percentile(plain, 0.95):.2f} | | |",
        f"| with the index | {len(indexed)} | {statistics.median(indexed):.2f} | "
        f"{percentile(indexed, 0.95):.2f} | {cost:+.0%} (≤ {SEND_COST_TARGET:.0%}) | {verdict} |",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="100 messages per chat, fewer calls")
    parser.add_argument("--keep", type=Path, help="copy the generated database here (to study it)")
    parser.add_argument("--reuse", type=Path, help="measure a database --keep made (migrated first)")
    args = parser.parse_args(argv)
    per_chat, count, rounds = (100, 100, 200) if args.quick else (1_000, 300, 600)
    with tempfile.TemporaryDirectory(prefix="search-bench-") as folder:
        path = Path(folder) / "db.sqlite3"
        if args.reuse:
            with sqlite3.connect(args.reuse) as source, sqlite3.connect(path) as copy:
                source.backup(copy)
            reader, mine = found_in(path)
        else:
            reader, mine = set_up(path, per_chat)
        if args.keep:
            with sqlite3.connect(path) as source, sqlite3.connect(args.keep) as copy:
                source.backup(copy)
        with sqlite3.connect(path) as conn:
            total = conn.execute("SELECT count(*) FROM messages").fetchone()[0]
        print(
            f"### Message search: {total:,} messages in {CHATS:,} chats, the reader in "
            f"{READER_CHATS} (SQLite FULL, in process, first page of 20)\n"
        )
        print("\n".join(latency(path, reader, count)))
        print(f"\n### What the index adds to a send (SQLite FULL, {total:,} messages indexed)\n")
        print("\n".join(send_cost(path, reader, mine[0], rounds)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
