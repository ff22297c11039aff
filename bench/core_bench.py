"""In-process benchmark of the Messenger core over each storage adapter; prints Markdown.

    python -m bench.core_bench [--quick] [--profile] [--only memory|sqlite-full|sqlite-normal]

For the memory adapter and for SQLite with ``synchronous`` FULL and NORMAL it measures:

1. sends per second through ``Messenger.send_message`` into a 1:1 chat;
2. the newest-50 ``Messenger.history`` page (median and p95) in chats of 1k, 100k and 1M
   messages (1k and 100k with ``--quick``);
3. ``Messenger.search_users`` over 100k users, with queries that match fewer users than
   one page, so the search cannot stop early;
4. for SQLite, the physical limit: bare one-row ``BEGIN IMMEDIATE; INSERT; COMMIT``
   transactions on a fresh file with the same pragmas, through the stdlib sqlite3 module.

Big chats and the user base are bulk-inserted, never built through use cases: for SQLite
straight into the tables with ``executemany`` in one transaction, for memory through the
repositories inside one unit of work. Databases live in temporary directories only.
Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.memory import MemoryBlobStore, MemoryTokenCodec, MemoryUnitOfWorkFactory
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.sqlite.rows import dump_time
from adapters.testing import ManualClock, SeededRandom
from entrypoints import bootstrap
from entrypoints.config import Settings
from messenger_core import Messenger
from messenger_core.limits import ALTERNATIVE_ID_ALPHABET, ALTERNATIVE_ID_LENGTH
from messenger_core.model import Actor, NewMessage, NewUser
from messenger_core.normalize import email_key, search_key
from messenger_core.ports import UnitOfWorkFactory

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PASSWORD = "bench password"
# Bulk users never log in: one placeholder of a real Argon2 hash's length stands in for
# their password hashes, so rows are as wide as real ones for the scans that read them.
BULK_PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$" + "b" * 22 + "$" + "h" * 43
HISTORY_PAGE = 50

# Targets, as stated under the table.
SEND_SHARE_TARGET = 0.60
HISTORY_MS_TARGET = 1.0
HISTORY_RATIO_TARGET = 1.5
SEARCH_MS_TARGET = 20.0
# The benchmark itself keeps about one CPU busy; beyond this, something else ran too.
BUSY_LOAD = 1.5


@dataclass(frozen=True)
class Plan:
    seconds: float  # per throughput measurement
    chat_sizes: tuple[int, ...]
    history_calls: int
    deep_history_calls: int
    users: int
    search_rounds: int  # calls per query


FULL_PLAN = Plan(2.0, (1_000, 100_000, 1_000_000), 200, 30, 100_000, 10)
QUICK_PLAN = Plan(1.0, (1_000, 100_000), 200, 20, 100_000, 5)


# --- the messenger, wired as tests/conftest.py wires it --------------------------------


def build_messenger(uow: UnitOfWorkFactory, clock: ManualClock, seed: int = 1) -> Messenger:
    return bootstrap.build_messenger(
        Settings(),
        uow=uow,
        clock=clock,
        random=SeededRandom(seed),
        hasher=Argon2PasswordHasher.fast_for_tests(),
        codec=MemoryTokenCodec(),
        blobs=MemoryBlobStore(),
    )


def register(messenger: Messenger, first: str, second: str, email: str) -> Actor:
    view = messenger.register(first_name=first, second_name=second, email=email, password=PASSWORD)
    return Actor(view.id, view.user_id)


@dataclass(frozen=True)
class Cast:
    """The acting user and one 1:1 chat with a friend per benchmark that needs a chat."""

    me: Actor
    send_chat: tuple[int, Actor]
    history_chats: tuple[tuple[int, Actor], ...]


def make_cast(messenger: Messenger, chats: int) -> Cast:
    me = register(messenger, "Bench", "Sender", "sender@bench.example")
    opened: list[tuple[int, Actor]] = []
    for i in range(chats + 1):
        friend = register(messenger, f"Friend {i}", "Receiver", f"friend{i}@bench.example")
        messenger.send_friend_request(me, friend.alternative_id)
        messenger.accept_friend_request(friend, me.alternative_id)
        chat, _ = messenger.open_chat(me, friend.alternative_id)
        opened.append((chat.id, friend))
    return Cast(me=me, send_chat=opened[0], history_chats=tuple(opened[1:]))


# --- generated users -------------------------------------------------------------------

_FIRST_LATIN = (
    *("Anna", "Alice", "Bob", "Carol", "Daniel", "Emma", "Frank", "Grace", "Henry", "Isla", "Jack"),
    *("Julia", "Kevin", "Laura", "Liam", "Maria", "Mark", "Nina", "Oliver", "Olivia", "Paul", "Rachel"),
    *("Sam", "Sophie", "Tom", "Victoria", "William", "Zoe", "Adam", "Ella"),
)
_FIRST_CYRILLIC = (
    *("Анна", "Алексей", "Борис", "Вера", "Виктор", "Галина", "Дмитрий", "Евгений", "Екатерина", "Елена"),
    *("Иван", "Ирина", "Кирилл", "Ксения", "Лариса", "Максим", "Мария", "Наталья", "Николай", "Ольга"),
    *("Павел", "Пётр", "Роман", "Светлана", "Сергей", "Татьяна", "Фёдор", "Юлия", "Яков", "Алёна"),
)
_SURNAME_LATIN = (
    ("Ander", "Bak", "Carl", "Dav", "Ell", "Fisch", "Gar", "Harr", "John", "Kell", "Lind", "Mill"),
    ("", "er", "in", "ton", "ing"),
    ("son", "sen", "ley", "man", "ford", "wood", "s"),
)
_SURNAME_CYRILLIC = (
    ("Бел", "Вол", "Гор", "Жук", "Зай", "Кам", "Ков", "Лис", "Мед", "Мор", "Нов", "Орл", "Пет", "Фёд"),
    ("", "ан", "ен", "ол", "ар", "ин", "уш"),
    ("ов", "ев", "ин", "ский", "енко", "ук"),
)
# A handful of users carry these names; the queries below find them and nobody else.
_PLANTED = (("Всеволод", "Ёжиков"), ("Quixote", "Delamancha"))
_PLANTED_EVERY = 12_500


@dataclass(frozen=True)
class BulkUser:
    alternative_id: str
    email: str
    first_name: str
    second_name: str


def generate_users(count: int, seed: int = 7) -> list[BulkUser]:
    rng = random.Random(seed)
    seen: set[str] = set()
    users = []
    for i in range(count):
        if i % _PLANTED_EVERY == _PLANTED_EVERY // 2:
            first, second = _PLANTED[(i // _PLANTED_EVERY) % len(_PLANTED)]
        elif rng.random() < 0.5:
            first = rng.choice(_FIRST_LATIN)
            second = "".join(rng.choice(part) for part in _SURNAME_LATIN)
        else:
            first = rng.choice(_FIRST_CYRILLIC)
            second = "".join(rng.choice(part) for part in _SURNAME_CYRILLIC)
            if first.endswith(("а", "я")) and second.endswith(("ов", "ев", "ин")):
                second += "а"
        while True:
            alternative_id = "".join(rng.choices(ALTERNATIVE_ID_ALPHABET, k=ALTERNATIVE_ID_LENGTH))
            if alternative_id not in seen:
                seen.add(alternative_id)
                break
        users.append(BulkUser(alternative_id, f"user{i}@bulk.example", first, second))
    return users


def search_queries(users: Sequence[BulkUser]) -> dict[str, str]:
    """Selective queries (fewer matches than one page of 20, so no early stop) by label."""
    someone = users[len(users) * 2 // 3]
    return {
        "rare Cyrillic surname, ё folded («ежиков»)": "ежиков",
        "rare Latin first name («quixote»)": "QUIXOTE",
        "public-id fragment (6 chars)": someone.alternative_id[4:10],
        "no match («щщщ»)": "щщщ",
    }


COMMON_QUERY = ("common Cyrillic fragment («ан», stops after 20)", "ан")


# --- storages --------------------------------------------------------------------------


class Storage(Protocol):
    name: str

    def factory(self) -> UnitOfWorkFactory: ...

    def fill_chat(self, chat_id: int, senders: tuple[int, int], count: int) -> None: ...

    def fill_users(self, users: Sequence[BulkUser]) -> None: ...

    def bare_commit(self) -> AbstractContextManager[Callable[[], None] | None]:
        """One bare one-row commit on a fresh file with the same pragmas (None: no file)."""
        ...

    def close(self) -> None: ...


Row = tuple[object, ...]


def _bulk_times(count: int) -> Iterator[datetime]:
    """One message a second, ending just before the clock's START."""
    first = START - timedelta(seconds=count)
    return (first + timedelta(seconds=i) for i in range(count))


class MemoryStorage:
    name = "memory"

    def __init__(self) -> None:
        self._factory = MemoryUnitOfWorkFactory()

    def factory(self) -> UnitOfWorkFactory:
        return self._factory

    def fill_chat(self, chat_id: int, senders: tuple[int, int], count: int) -> None:
        with self._factory() as uow:
            last = None
            for i, at in enumerate(_bulk_times(count)):
                sender = senders[i % 2]
                text = f"bulk message {i}"
                new = NewMessage(
                    chat_id=chat_id, sender_id=sender, text=text, sticker_id=None, sending_date=at
                )
                last = uow.messages.add(new)
                if i % 50_000 == 49_999:
                    uow.commit()  # empties the undo log; the unit stays open
            assert last is not None
            uow.chats.touch(chat_id, last_message_id=last.id, at=last.sending_date)
            uow.commit()

    def fill_users(self, users: Sequence[BulkUser]) -> None:
        with self._factory() as uow:
            for i, u in enumerate(users):
                uow.users.add(
                    NewUser(
                        alternative_id=u.alternative_id,
                        email=u.email,
                        password_hash=BULK_PASSWORD_HASH,
                        first_name=u.first_name,
                        second_name=u.second_name,
                        created_date=START,
                    )
                )
                if i % 50_000 == 49_999:
                    uow.commit()
            uow.commit()

    @contextmanager
    def bare_commit(self) -> Iterator[Callable[[], None] | None]:
        yield None

    def close(self) -> None:
        pass


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    """A connection with the adapter's pragmas (WAL, synchronous, foreign keys)."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA busy_timeout = 5000")
    return conn


class SqliteStorage:
    def __init__(self, synchronous: str) -> None:
        self.name = f"sqlite {synchronous}"
        self.synchronous = synchronous
        self._dir = tempfile.TemporaryDirectory(prefix="core-bench-")
        self.path = Path(self._dir.name) / "messenger.sqlite3"
        self._factory = SqliteUnitOfWorkFactory(self.path, synchronous=synchronous)
        self._factory.migrate()

    def factory(self) -> UnitOfWorkFactory:
        return self._factory

    def _bulk(self, statement: str, rows: Iterator[Row], after: Sequence[tuple[str, Row]] = ()) -> None:
        conn = _connect(self.path, self.synchronous)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(statement, rows)
            for sql, params in after:
                conn.execute(sql, params)
            conn.execute("COMMIT")
            # Leave the database as a long-running server would have it: checkpointed.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def fill_chat(self, chat_id: int, senders: tuple[int, int], count: int) -> None:
        rows = (
            (chat_id, senders[i % 2], f"bulk message {i}", dump_time(at))
            for i, at in enumerate(_bulk_times(count))
        )
        touch = (
            "UPDATE chats SET last_message_id = (SELECT max(id) FROM messages WHERE chat_id = ?),"
            " last_activity = ? WHERE id = ?",
            (chat_id, dump_time(START - timedelta(seconds=1)), chat_id),
        )
        self._bulk(
            "INSERT INTO messages (chat_id, sender_id, text, sending_date) VALUES (?, ?, ?, ?)", rows, [touch]
        )

    def fill_users(self, users: Sequence[BulkUser]) -> None:
        created = dump_time(START)
        rows = (
            (
                u.alternative_id,
                search_key(u.alternative_id),
                u.email,
                email_key(u.email),
                BULK_PASSWORD_HASH,
                u.first_name,
                u.second_name,
                search_key(u.first_name),
                search_key(u.second_name),
                created,
            )
            for u in users
        )
        self._bulk(
            "INSERT INTO users (alternative_id, alternative_id_key, email, email_key, password_hash,"
            " first_name, second_name, first_name_key, second_name_key, created_date)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows,
        )

    @contextmanager
    def bare_commit(self) -> Iterator[Callable[[], None] | None]:
        conn = _connect(Path(self._dir.name) / "bare.sqlite3", self.synchronous)
        try:
            conn.execute("CREATE TABLE bare (id INTEGER PRIMARY KEY, body TEXT NOT NULL)")

            def one() -> None:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO bare (body) VALUES (?)", ("hello",))
                conn.execute("COMMIT")

            yield one
        finally:
            conn.close()

    def close(self) -> None:
        self._factory.close()
        self._dir.cleanup()


# --- measuring -------------------------------------------------------------------------


def rates(calls: Mapping[str, Callable[[], object]], seconds: float, slices: int = 10) -> dict[str, float]:
    """Calls per second of each callable over about ``seconds`` each, taken in alternating
    slices so that a disk or CPU that changes speed during the run affects all alike."""
    for call in calls.values():
        for _ in range(20):
            call()
    gc.collect()
    counts = dict.fromkeys(calls, 0)
    spent = dict.fromkeys(calls, 0.0)
    for _ in range(slices):
        for name, call in calls.items():
            began = time.perf_counter()
            deadline = began + seconds / slices
            while True:
                for _ in range(5):
                    call()
                counts[name] += 5
                now = time.perf_counter()
                if now >= deadline:
                    break
            spent[name] += now - began
    return {name: counts[name] / spent[name] for name in calls}


def samples_ms(
    calls: Mapping[str, Callable[[], object]], rounds: int, warmup: int = 5
) -> dict[str, list[float]]:
    """Milliseconds of each call, called round-robin so that noise hits all of them alike."""
    for _ in range(warmup):
        for call in calls.values():
            call()
    gc.collect()
    taken: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(rounds):
        for name, call in calls.items():
            began = time.perf_counter_ns()
            call()
            taken[name].append((time.perf_counter_ns() - began) / 1e6)
    return taken


def p50(values: Sequence[float]) -> float:
    return statistics.median(values)


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def profile_text(call: Callable[[], object], seconds: float, title: str, top: int = 18) -> str:
    """cProfile of ``call`` repeated for about ``seconds``: the top functions by own time."""
    profiler = cProfile.Profile()
    deadline = time.perf_counter() + seconds
    calls = 0
    profiler.enable()
    while time.perf_counter() < deadline:
        call()
        calls += 1
    profiler.disable()
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
    stats.print_stats(top)
    body = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
    return f"#### {title} ({calls} calls, under cProfile)\n\n```\n{body}\n```\n"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass
class Result:
    name: str
    sends_per_second: float = 0.0
    bare_per_second: float | None = None
    history_ms: dict[int, list[float]] = field(default_factory=dict)
    deep_history_ms: tuple[int, list[float]] | None = None
    search_ms: dict[str, list[float]] = field(default_factory=dict)
    common_search_ms: list[float] = field(default_factory=list)
    fill_seconds: dict[str, float] = field(default_factory=dict)
    profiles: list[str] = field(default_factory=list)

    @property
    def send_share(self) -> float | None:
        return None if not self.bare_per_second else self.sends_per_second / self.bare_per_second

    @property
    def search_p50(self) -> float:
        return p50([t for taken in self.search_ms.values() for t in taken])

    def history_ratio(self, sizes: Sequence[int]) -> float:
        return p50(self.history_ms[sizes[-1]]) / p50(self.history_ms[sizes[0]])


def run(storage: Storage, plan: Plan, users: Sequence[BulkUser], profile: bool) -> Result:
    result = Result(storage.name)
    messenger = build_messenger(storage.factory(), ManualClock(START))
    cast = make_cast(messenger, len(plan.chat_sizes))
    me = cast.me

    send_chat, _ = cast.send_chat
    counter = iter(range(10**9))

    def send() -> None:
        messenger.send_message(me, chat_id=send_chat, text=f"benchmark message {next(counter)}")

    log(f"[{storage.name}] sends (and bare commits) for {plan.seconds:g} s each")
    with storage.bare_commit() as bare:
        measured = rates({"send": send} | ({"bare": bare} if bare else {}), plan.seconds)
    result.sends_per_second = measured["send"]
    result.bare_per_second = measured.get("bare")
    if profile:
        result.profiles.append(profile_text(send, 1.0, f"{storage.name}: send_message"))

    for size, (chat_id, friend) in zip(plan.chat_sizes, cast.history_chats, strict=True):
        log(f"[{storage.name}] bulk-inserting a chat of {size:,} messages")
        began = time.perf_counter()
        storage.fill_chat(chat_id, (me.id, friend.id), size)
        result.fill_seconds[f"chat of {size:,}"] = time.perf_counter() - began

    def newest_page(chat_id: int) -> Callable[[], None]:
        def call() -> None:
            page = messenger.history(me, chat_id, limit=HISTORY_PAGE)
            assert len(page) == HISTORY_PAGE

        return call

    log(f"[{storage.name}] newest-{HISTORY_PAGE} pages, {plan.history_calls} rounds")
    chats = zip(plan.chat_sizes, cast.history_chats, strict=True)
    pages = {str(size): newest_page(chat_id) for size, (chat_id, _) in chats}
    result.history_ms = {int(k): v for k, v in samples_ms(pages, plan.history_calls).items()}

    biggest, (big_chat, _) = plan.chat_sizes[-1], cast.history_chats[-1]
    middle = messenger.history(me, big_chat, limit=1)[-1].id - biggest // 2

    def deep_page() -> None:
        page = messenger.history(me, big_chat, before=middle, limit=HISTORY_PAGE)
        assert len(page) == HISTORY_PAGE

    log(f"[{storage.name}] a page before the middle of the {biggest:,} chat")
    deep = samples_ms({"deep": deep_page}, plan.deep_history_calls, warmup=2)["deep"]
    result.deep_history_ms = (biggest, deep)
    if profile:
        result.profiles.append(
            profile_text(pages[str(biggest)], 1.0, f"{storage.name}: newest-50 history, {biggest:,} messages")
        )

    log(f"[{storage.name}] bulk-inserting {len(users):,} users")
    began = time.perf_counter()
    storage.fill_users(users)
    result.fill_seconds[f"{len(users):,} users"] = time.perf_counter() - began

    def search(text: str, expected: Callable[[int], bool]) -> Callable[[], None]:
        def call() -> None:
            found = messenger.search_users(me, text=text)
            assert expected(len(found)), (text, len(found))

        return call

    selective = {label: search(text, lambda n: n < 20) for label, text in search_queries(users).items()}
    label, text = COMMON_QUERY
    log(f"[{storage.name}] searches, {plan.search_rounds} rounds")
    taken = samples_ms({**selective, label: search(text, lambda n: n == 20)}, plan.search_rounds, warmup=1)
    result.common_search_ms = taken.pop(label)
    result.search_ms = taken
    if profile:
        result.profiles.append(
            profile_text(next(iter(selective.values())), 1.0, f"{storage.name}: search_users, a rare name")
        )
    return result


# --- the report ------------------------------------------------------------------------


def size_label(size: int) -> str:
    return f"{size // 1_000_000}M" if size >= 1_000_000 else f"{size // 1_000}k"


def fmt_rate(value: float | None) -> str:
    return "—" if value is None else f"{value:,.0f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(results: Sequence[Result], plan: Plan, quick: bool, elapsed: float, loads: Sequence[float]) -> str:
    sizes = plan.chat_sizes
    first, last = size_label(sizes[0]), size_label(sizes[-1])
    users = size_label(plan.users)
    header = [
        "adapter",
        "sends/s",
        "bare commits/s",
        "sends % of bare",
        *(f"history p50 ms @{size_label(s)}" for s in sizes),
        f"ratio {last}/{first}",
        f"search {users} ms",
    ]
    lines = [
        f"## Core benchmark{' (--quick)' if quick else ''}",
        "",
        "| " + " | ".join(header) + " |",
        "|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|",
    ]
    for r in results:
        share = r.send_share
        cells = [
            r.name,
            fmt_rate(r.sends_per_second),
            fmt_rate(r.bare_per_second),
            "—" if share is None else f"{share:.0%}",
            *(f"{p50(r.history_ms[s]):.3f}" for s in sizes),
            f"{r.history_ratio(sizes):.2f}×",
            f"{r.search_p50:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")

    lines += ["", "### Targets", ""]
    for r in results:
        share = r.send_share
        if share is not None:
            lines.append(
                f"- {verdict(share >= SEND_SHARE_TARGET)} {r.name}: send ≥ {SEND_SHARE_TARGET:.0%} of the "
                f"bare commit rate — {share:.0%} ({r.sends_per_second:,.0f} of {r.bare_per_second:,.0f}/s)"
            )
    for r in results:
        worst = max(p50(r.history_ms[s]) for s in sizes)
        ratio = r.history_ratio(sizes)
        lines.append(
            f"- {verdict(worst <= HISTORY_MS_TARGET)} {r.name}: history p50 ≤ {HISTORY_MS_TARGET:g} ms at "
            f"every size — worst {worst:.3f} ms"
        )
        lines.append(
            f"- {verdict(ratio <= HISTORY_RATIO_TARGET)} {r.name}: history within {HISTORY_RATIO_TARGET:g}× "
            f"between {first} and {last} — {ratio:.2f}×"
        )
    for r in results:
        lines.append(
            f"- {verdict(r.search_p50 <= SEARCH_MS_TARGET)} {r.name}: search over {users} users ≤ "
            f"{SEARCH_MS_TARGET:g} ms — {r.search_p50:.1f} ms"
        )
    if quick:
        lines.append("- (--quick: the history target is judged at 100k instead of 1M)")

    lines += ["", "### Details", "", "History, newest 50 (ms):", ""]
    lines += ["| adapter | size | p50 | p95 |", "|---|---:|---:|---:|"]
    for r in results:
        for s in sizes:
            lines.append(f"| {r.name} | {s:,} | {p50(r.history_ms[s]):.3f} | {p95(r.history_ms[s]):.3f} |")
        if r.deep_history_ms:
            s, taken = r.deep_history_ms
            lines.append(
                f"| {r.name} | {s:,}, page before the middle | {p50(taken):.3f} | {p95(taken):.3f} |"
            )
    lines += ["", f"Search over {users} users, median ms per query (20 per page):", ""]
    labels = [*results[0].search_ms, COMMON_QUERY[0]]
    lines += ["| query | " + " | ".join(r.name for r in results) + " |"]
    lines += ["|---|" + "---:|" * len(results)]
    for label in labels:
        cells = [f"{p50(r.search_ms.get(label, r.common_search_ms)):.1f}" for r in results]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "Bulk fill (s): "
        + "; ".join(
            f"{r.name}: " + ", ".join(f"{k} {v:.1f}" for k, v in r.fill_seconds.items()) for r in results
        ),
    ]
    lines += [
        "",
        f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}, {os.cpu_count()} CPUs, "
        f"temp dir {tempfile.gettempdir()}; {plan.seconds:g} s per rate, {plan.history_calls} history calls "
        f"per size, {plan.search_rounds} calls per search query; total {elapsed:.0f} s; "
        f"1-minute load average {loads[0]:.1f} at start, {loads[1]:.1f} at end.",
    ]
    if max(loads) > BUSY_LOAD:
        lines += [
            "",
            f"**Warning:** the load average passed {BUSY_LOAD:g}: other processes shared the CPUs and"
            " the disk, so these numbers are pessimistic and noisy. Rerun on a quiet machine.",
        ]
    profiles = [p for r in results for p in r.profiles]
    if profiles:
        lines += ["", "### Profiles", "", *profiles]
    return "\n".join(lines)


STORAGES: dict[str, Callable[[], Storage]] = {
    "memory": MemoryStorage,
    "sqlite-full": lambda: SqliteStorage("FULL"),
    "sqlite-normal": lambda: SqliteStorage("NORMAL"),
}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.core_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 100k chats, 1 s rates (under a minute)")
    parser.add_argument("--profile", action="store_true", help="add cProfile tops of send, history, search")
    parser.add_argument("--only", action="append", choices=list(STORAGES), help="run only these storages")
    args = parser.parse_args(argv)
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    began = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    users = generate_users(plan.users)
    results = []
    for name in args.only or list(STORAGES):
        storage = STORAGES[name]()
        try:
            results.append(run(storage, plan, users, args.profile))
        finally:
            storage.close()
            del storage
            gc.collect()
    loads = (load_at_start, os.getloadavg()[0])
    print(report(results, plan, args.quick, time.perf_counter() - began, loads))


if __name__ == "__main__":
    main()
