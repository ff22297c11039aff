"""Real-time delivery against the real server on loopback; prints Markdown tables.

    python -m bench.realtime_bench [--quick] [--messages 1000] [--waiters 200]
                                   [--capacity 100,200,400,800] [--notifier threading|polling]
                                   [--synchronous FULL|NORMAL]

1. **Latency**: from the start of a send (``POST /api/v1/chats/{id}/messages``) to the
   moment a client long-polling ``GET /api/v1/events`` has the message, over 1,000 sends,
   with 1 waiting client and with 200 (each its own user, each a friend of the one sender,
   sends going round-robin so each wakes one waiter while 199 keep waiting). Before each
   send the target waiter has re-sent its poll, so the wake-up path is what is measured.
2. **Sends per second while 200 wait**: 4 sending connections, every send waking its waiter,
   which polls again at once; and the same with nobody waiting, for comparison.
3. **Capacity**: servers sized for 100, 200, 400, 800 waiting clients (``THREADS`` =
   waiters + 16 reserved); with all of them waiting, the server's memory (VmRSS), threads
   and file descriptors, how fast an ordinary request answers, and how fast a send wakes
   one of the waiters. Waiting clients reuse the 200 users (a user may have several tabs).

The server is ``python __main__.py`` on a temporary database (``DEMO_DATA=False``,
``RATE_LIMITS_ENABLED=False``) through ``scripts.live_server``. Clients are threads with
keep-alive ``http.client`` connections: a waiting client costs the generator one blocked
thread and no CPU. Everything is bounded: every wait has a timeout, every server is stopped.
Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from scripts.live_server import PASSWORD, LiveServer

RESERVED = 16
POLL_TIMEOUT = 30  # seconds a waiting client asks to wait; the server's maximum
TARGET_P99_MS = {1: 20.0, 200: 100.0}
PAUSE_BEFORE_SEND = 0.003  # after the waiter re-sent its poll: the server starts waiting


def progress(message: str) -> None:
    print(f"[realtime_bench] {message}", file=sys.stderr, flush=True)


# --- a tiny keep-alive client -----------------------------------------------------------


class Client:
    """One keep-alive connection, as one browser tab or app would hold."""

    def __init__(self, port: int, token: str | None = None, timeout: float = 60) -> None:
        self.port = port
        self.token = token
        self.timeout = timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def send_request(self, method: str, path: str, body: Any = None) -> None:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)

    def read_response(self) -> tuple[int, dict[str, str], Any]:
        response = self.conn.getresponse()
        data = response.read()
        return response.status, dict(response.getheaders()), json.loads(data) if data else None

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        self.send_request(method, path, body)
        status, _, data = self.read_response()
        return status, data

    def close(self) -> None:
        self.conn.close()


def expect(result: tuple[int, Any], *statuses: int) -> Any:
    status, data = result
    if status not in statuses:
        raise RuntimeError(f"unexpected {status}: {str(data)[:300]}")
    return data


# --- setup through the API --------------------------------------------------------------


@dataclass
class Member:
    user_id: str
    token: str
    chat_id: int = 0  # the chat with the sender


def sign_up_many(port: int, names: Sequence[str]) -> list[Member]:
    """Register and log in each name; in parallel, since each costs two argon2 hashes."""

    def one(name: str) -> Member:
        client = Client(port)
        try:
            email = f"{name}@bench.example.com"
            body = {"first_name": "Bench", "second_name": name, "email": email, "password": PASSWORD}
            user = expect(client.call("POST", "/api/v1/users", body), 201)["user"]
            tokens = expect(client.call("POST", "/api/v1/login", {"email": email, "password": PASSWORD}), 200)
            return Member(user["user_id"], tokens["access_token"])
        finally:
            client.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(one, names))


def befriend_all(port: int, sender: Member, members: Sequence[Member]) -> None:
    """The sender befriends every member and opens a chat with each."""

    def one(member: Member) -> None:
        mine, theirs = Client(port, sender.token), Client(port, member.token)
        try:
            expect(
                mine.call("POST", "/api/v1/users_friends", {"friend_id": member.user_id, "action": "add"}),
                200,
            )
            expect(
                theirs.call(
                    "POST", "/api/v1/users_friends", {"friend_id": sender.user_id, "action": "accept"}
                ),
                200,
            )
            chat = expect(mine.call("POST", "/api/v1/chats", {"user_id": member.user_id}), 200, 201)["chat"]
            member.chat_id = int(chat["id"])
        finally:
            mine.close()
            theirs.close()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, members))


# --- waiting clients --------------------------------------------------------------------


@dataclass
class Deliveries:
    """Arrival times of the bench's messages, by their number in the text."""

    arrived: dict[int, float] = field(default_factory=dict)
    events: dict[int, threading.Event] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    busy: int = 0
    errors: list[str] = field(default_factory=list)

    def expect(self, number: int) -> threading.Event:
        with self.lock:
            event = self.events.setdefault(number, threading.Event())
            return event

    def arrive(self, text: str, at: float) -> None:
        if not text.startswith("bench "):
            return
        number = int(text.split()[1])
        with self.lock:
            self.arrived.setdefault(number, at)
            event = self.events.setdefault(number, threading.Event())
        event.set()


class Waiter(threading.Thread):
    """A client long-polling in a loop, as the web page does; notes when each message lands."""

    def __init__(self, port: int, member: Member, deliveries: Deliveries, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.member, self.deliveries, self.stop = port, member, deliveries, stop
        self.armed = threading.Event()  # set while a poll is out (sent, not yet answered)
        self.polls = 0

    def run(self) -> None:
        client = Client(self.port, self.member.token, timeout=POLL_TIMEOUT + 30)
        try:
            cursor = int(expect(client.call("GET", "/api/v1/events"), 200)["cursor"])
            while not self.stop.is_set():
                client.send_request("GET", f"/api/v1/events?since={cursor}&timeout={POLL_TIMEOUT}")
                self.armed.set()
                status, headers, data = client.read_response()
                at = time.perf_counter()
                self.armed.clear()
                self.polls += 1
                if status != 200:
                    raise RuntimeError(f"poll answered {status}: {data}")
                if headers.get("X-Long-Poll") == "busy":
                    with self.deliveries.lock:
                        self.deliveries.busy += 1
                    self.stop.wait(0.5)  # past the cap: poll again a little later
                for event in data["events"]:
                    if event["type"] == "message.new":
                        self.deliveries.arrive(event["data"]["message"]["text"] or "", at)
                cursor = int(data["cursor"])
        except Exception as error:  # a stopped server ends the waiters
            if not self.stop.is_set():
                with self.deliveries.lock:
                    self.deliveries.errors.append(repr(error))
        finally:
            self.armed.clear()
            client.close()


@contextmanager
def waiting(
    port: int, members: Sequence[Member], count: int, deliveries: Deliveries
) -> Iterator[list[Waiter]]:
    """``count`` waiting clients over the members (round-robin), all armed before yielding."""
    stop = threading.Event()
    waiters = [Waiter(port, members[i % len(members)], deliveries, stop) for i in range(count)]
    for waiter in waiters:
        waiter.start()
    try:
        deadline = time.monotonic() + 30 + count / 20
        for waiter in waiters:
            if not waiter.armed.wait(max(0.0, deadline - time.monotonic())):
                raise RuntimeError(
                    f"only {sum(w.armed.is_set() for w in waiters)} of {count} clients got to wait"
                )
        time.sleep(0.5)  # the last polls reach their worker threads
        yield waiters
    finally:
        stop.set()


# --- measurements -----------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


@dataclass
class LatencyResult:
    waiters: int
    latencies_ms: list[float]
    send_ms: list[float]
    lost: int


def measure_latency(
    port: int, sender: Member, targets: Sequence[Waiter], deliveries: Deliveries, messages: int, first: int
) -> LatencyResult:
    """Send ``messages`` one after another, each to the next waiter; time each to arrival."""
    client = Client(port, sender.token)
    latencies, send_times, lost = [], [], 0
    try:
        for k in range(messages):
            waiter = targets[k % len(targets)]
            number = first + k
            arrived = deliveries.expect(number)
            waiter.armed.wait(5)
            time.sleep(PAUSE_BEFORE_SEND)
            started = time.perf_counter()
            expect(
                client.call(
                    "POST", f"/api/v1/chats/{waiter.member.chat_id}/messages", {"text": f"bench {number}"}
                ),
                201,
            )
            sent = time.perf_counter()
            if not arrived.wait(10):
                lost += 1
                continue
            latencies.append((deliveries.arrived[number] - started) * 1000)
            send_times.append((sent - started) * 1000)
    finally:
        client.close()
    return LatencyResult(len({id(t) for t in targets}), latencies, send_times, lost)


@dataclass
class RateResult:
    label: str
    sends: int
    seconds: float
    delivered: int | None

    @property
    def per_second(self) -> float:
        return self.sends / self.seconds


def measure_send_rate(
    port: int,
    sender: Member,
    chats: Sequence[int],
    total: int,
    first: int,
    label: str,
    deliveries: Deliveries | None,
    connections: int = 4,
) -> RateResult:
    """``total`` sends over ``connections`` keep-alive connections as fast as answered."""
    counter = iter(range(total))
    lock = threading.Lock()

    def worker() -> int:
        client = Client(port, sender.token)
        done = 0
        try:
            while True:
                with lock:
                    k = next(counter, None)
                if k is None:
                    return done
                path = f"/api/v1/chats/{chats[k % len(chats)]}/messages"
                expect(client.call("POST", path, {"text": f"bench {first + k}"}), 201)
                done += 1
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=connections) as pool:
        sent = sum(pool.map(lambda _: worker(), range(connections)))
    seconds = time.perf_counter() - started
    delivered = None
    if deliveries is not None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with deliveries.lock:
                delivered = sum(1 for n in deliveries.arrived if first <= n < first + total)
            if delivered == total:
                break
            time.sleep(0.05)
    return RateResult(label, sent, seconds, delivered)


def proc_status(pid: int) -> dict[str, str]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        found[key] = value.strip()
    return found


@dataclass
class CapacityResult:
    waiters: int
    threads_setting: int
    waiting_ok: bool
    rss_mb: float
    rss_idle_mb: float
    threads: int
    fds: int
    ordinary_ms: list[float]
    wake_ms: list[float]
    busy: int
    errors: list[str]
    note: str = ""


def measure_capacity(
    folder: Path, members: list[Member], sender: Member, count: int, first: int, settings: dict[str, str]
) -> CapacityResult:
    threads = count + RESERVED
    # One process (WORKERS=1): the table is what one process holds.
    env = settings | {"THREADS": str(threads), "RESERVED_THREADS": str(RESERVED), "WORKERS": "1"}
    server = LiveServer(folder, extra_env=env)
    server.start()
    assert server.process is not None
    pid = server.process.pid
    try:
        idle = proc_status(pid)
        deliveries = Deliveries()
        result = CapacityResult(
            waiters=count,
            threads_setting=threads,
            waiting_ok=False,
            rss_mb=float("nan"),
            rss_idle_mb=int(idle["VmRSS"].split()[0]) / 1024,
            threads=0,
            fds=0,
            ordinary_ms=[],
            wake_ms=[],
            busy=0,
            errors=[],
        )
        try:
            with waiting(server.port, members, count, deliveries) as waiters:
                result.waiting_ok = True
                status = proc_status(pid)
                result.rss_mb = int(status["VmRSS"].split()[0]) / 1024
                result.threads = int(status["Threads"])
                result.fds = len(os.listdir(f"/proc/{pid}/fd"))
                probe = Client(server.port, sender.token, timeout=10)
                try:
                    for _ in range(20):
                        started = time.perf_counter()
                        expect(probe.call("GET", "/api/v1/users/me"), 200)
                        result.ordinary_ms.append((time.perf_counter() - started) * 1000)
                finally:
                    probe.close()
                # A send still wakes its waiter promptly with everyone else waiting.
                targets = waiters[: min(20, len(waiters))]
                latency = measure_latency(server.port, sender, targets, deliveries, len(targets), first)
                result.wake_ms = latency.latencies_ms
                if latency.lost:
                    result.note = f"{latency.lost} sends not delivered within 10 s"
        except Exception as error:
            result.note = f"{type(error).__name__}: {error}"
        result.busy = deliveries.busy
        result.errors = deliveries.errors[:3]
        return result
    finally:
        server.stop()


# --- report -----------------------------------------------------------------------------


def fmt(value: float) -> str:
    return "–" if value != value else f"{value:.1f}"


def latency_table(results: Sequence[LatencyResult]) -> str:
    lines = [
        "| waiting clients | sends | p50 ms | p95 ms | p99 ms | max ms | send answered p50 ms | lost "
        "| target p99 | |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        target = TARGET_P99_MS.get(r.waiters)
        p99 = percentile(r.latencies_ms, 99)
        verdict = "" if target is None else ("PASS" if p99 <= target and not r.lost else "MISS")
        lines.append(
            f"| {r.waiters} | {len(r.latencies_ms) + r.lost} | {fmt(percentile(r.latencies_ms, 50))} "
            f"| {fmt(percentile(r.latencies_ms, 95))} | {fmt(p99)} "
            f"| {fmt(max(r.latencies_ms, default=float('nan')))} "
            f"| {fmt(percentile(r.send_ms, 50))} | {r.lost} | {'' if target is None else f'≤ {target:g} ms'} "
            f"| {verdict} |"
        )
    return "\n".join(lines)


def rate_table(results: Sequence[RateResult]) -> str:
    lines = ["| sends | while | sends/s | delivered |", "|---:|---|---:|---:|"]
    for r in results:
        delivered = "–" if r.delivered is None else f"{r.delivered}/{r.sends}"
        lines.append(f"| {r.sends} | {r.label} | {r.per_second:.0f} | {delivered} |")
    return "\n".join(lines)


def capacity_table(results: Sequence[CapacityResult]) -> str:
    lines = [
        "| waiting clients | THREADS | all waiting | server RSS idle → waiting MB | per waiter KB | threads "
        "| fds | users/me p50 / max ms | wake p50 / max ms | busy | note |",
        "|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        per_waiter = (r.rss_mb - r.rss_idle_mb) * 1024 / r.waiters if r.waiting_ok else float("nan")
        ordinary = f"{fmt(percentile(r.ordinary_ms, 50))} / {fmt(max(r.ordinary_ms, default=float('nan')))}"
        wake = f"{fmt(percentile(r.wake_ms, 50))} / {fmt(max(r.wake_ms, default=float('nan')))}"
        note = "; ".join(filter(None, [r.note, *r.errors]))[:160]
        lines.append(
            f"| {r.waiters} | {r.threads_setting} | {'yes' if r.waiting_ok else 'NO'} "
            f"| {r.rss_idle_mb:.0f} → {fmt(r.rss_mb)} | {fmt(per_waiter)} "
            f"| {r.threads or '–'} | {r.fds or '–'} "
            f"| {ordinary} | {wake} | {r.busy} | {note} |"
        )
    return "\n".join(lines)


# --- the run ----------------------------------------------------------------------------


def run(args: argparse.Namespace) -> str:
    began = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    sections: list[str] = []
    with tempfile.TemporaryDirectory(prefix="realtime-bench-") as tmp:
        folder = Path(tmp)
        threads = args.waiters + RESERVED
        settings = {"NOTIFIER": repr(args.notifier), "SQLITE_SYNCHRONOUS": repr(args.synchronous)}
        # One process (WORKERS=1): the tables are what one process holds and delivers.
        env = settings | {"THREADS": str(threads), "RESERVED_THREADS": str(RESERVED), "WORKERS": "1"}
        server = LiveServer(folder, extra_env=env)
        server.start()
        try:
            port = server.port
            progress(f"server on port {port}; registering {args.waiters + 1} users (argon2: takes a while)")
            t0 = time.perf_counter()
            sender, *members = sign_up_many(port, ["sender", *(f"w{i:04d}" for i in range(args.waiters))])
            befriend_all(port, sender, members)
            progress(f"setup took {time.perf_counter() - t0:.1f} s")

            latencies: list[LatencyResult] = []
            rates: list[RateResult] = []
            number = 0
            for count in (1, args.waiters):
                deliveries = Deliveries()
                progress(f"latency: {args.messages} sends with {count} waiting")
                with waiting(port, members, count, deliveries) as waiters:
                    latencies.append(
                        measure_latency(port, sender, waiters, deliveries, args.messages, number)
                    )
                    number += args.messages
                    if count == args.waiters:
                        progress(f"rate: {args.rate_sends} sends while {count} wait")
                        chats = [w.member.chat_id for w in waiters]
                        rates.append(
                            measure_send_rate(
                                port,
                                sender,
                                chats,
                                args.rate_sends,
                                number,
                                f"{count} clients wait",
                                deliveries,
                            )
                        )
                        number += args.rate_sends
                        if deliveries.errors:
                            progress(f"waiter errors: {deliveries.errors[:3]}")
                time.sleep(0.3)
            progress(f"rate: {args.rate_sends} sends with nobody waiting")
            chats = [m.chat_id for m in members]
            rates.insert(
                0, measure_send_rate(port, sender, chats, args.rate_sends, number, "nobody waits", None)
            )
            number += args.rate_sends
        finally:
            server.stop()

        capacity: list[CapacityResult] = []
        for count in args.capacity:
            progress(f"capacity: {count} waiting clients, THREADS={count + RESERVED}")
            capacity.append(measure_capacity(folder, members, sender, count, number, settings))
            number += 100

    loads = (load_at_start, os.getloadavg()[0])
    sections.append(
        f"## Real-time delivery (NOTIFIER={args.notifier!r}, SQLITE_SYNCHRONOUS={args.synchronous!r}, "
        f"{os.cpu_count()} CPUs, loopback)\n\n"
        "Latency: from the start of a send to its arrival at the waiting client.\n\n"
        + latency_table(latencies)
    )
    sections.append("## Sends per second (4 keep-alive connections, one sender)\n\n" + rate_table(rates))
    sections.append(
        f"## Waiting clients one process holds (THREADS = waiters + {RESERVED} reserved)\n\n"
        + capacity_table(capacity)
    )
    took = time.perf_counter() - began
    sections.append(f"_{took:.0f} s in all; load average {loads[0]:.2f} at start, {loads[1]:.2f} at end._")
    return "\n\n".join(sections)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.realtime_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--quick", action="store_true", help="200 sends, 20 waiters, capacity 40 and 80")
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--waiters", type=int, default=200)
    parser.add_argument("--rate-sends", type=int, default=1000)
    parser.add_argument("--capacity", default="100,200,400,800", help="comma-separated waiting-client counts")
    parser.add_argument("--notifier", choices=["threading", "polling"], default="threading")
    parser.add_argument(
        "--synchronous", choices=["FULL", "NORMAL"], default="FULL", help="SQLITE_SYNCHRONOUS"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.messages, args.waiters, args.rate_sends, args.capacity = 200, 20, 200, "40,80"
    args.capacity = [int(c) for c in str(args.capacity).split(",") if c.strip()]
    print(run(args))


if __name__ == "__main__":
    main()
