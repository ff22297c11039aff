"""SQLite in one process against PostgreSQL in one and in two processes behind nginx,
side by side in one run, on loopback; prints a Markdown table.

    python -m bench.cluster_bench [--sends 400] [--reads 1000] [--deliveries 300] [--clients 4]

For each setup:

* **sends/s**: ``--clients`` keep-alive connections sending text messages as fast as they
  are answered, ``--sends`` in all (through nginx they spread over the processes);
* **newest-50 reads/s**: as many connections reading the newest 50 messages of a chat
  (``GET /api/v1/chats/{id}/messages?limit=50``), ``--reads`` in all;
* **delivery p50/p99**: one message at a time from the start of its send to the moment a
  client long-polling ``/api/v1/events`` has it; with two processes the sender is pinned
  to one and the waiting client to the other (an ``X-Pin`` header nginx maps), so every
  delivery crosses processes through LISTEN/NOTIFY. Target: p99 ≤ 25 ms.

Both databases sync every commit (SQLite ``SYNCHRONOUS=FULL``, PostgreSQL's defaults), so
neither is given durability the other lacks. Everything is bounded by counts and
timeouts, talks only to 127.0.0.1, and stops every process it started.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.realtime_bench import (
    POLL_TIMEOUT,
    Client,
    Deliveries,
    Member,
    befriend_all,
    expect,
    percentile,
    sign_up_many,
)
from scripts.live_server import LiveServer
from scripts.nginx_config import NginxProxy
from scripts.throwaway_postgres import ThrowawayPostgres

TARGET_P99_MS = 25.0
SECRET = "bench-cluster-secret-" + "x" * 40


def progress(message: str) -> None:
    print(f"[cluster_bench] {message}", file=sys.stderr, flush=True)


class PinnedClient(Client):
    """A keep-alive connection that asks nginx for one process (``X-Pin``)."""

    def __init__(
        self, port: int, token: str | None = None, pin: str | None = None, timeout: float = 60
    ) -> None:
        super().__init__(port, token, timeout)
        self.pin = pin

    def send_request(self, method: str, path: str, body: Any = None) -> None:
        if self.pin is None:
            super().send_request(method, path, body)
            return
        import json

        headers = {"X-Pin": self.pin}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)


@dataclass
class Setup:
    label: str
    port: int  # where clients connect: the server, or nginx
    sender_pin: str | None = None
    waiter_pin: str | None = None


@dataclass
class Row:
    label: str
    sends_per_second: float
    reads_per_second: float
    p50_ms: float
    p99_ms: float
    lost: int


# --- measurements ---------------------------------------------------------------------


def sends_per_second(setup: Setup, pairs: Sequence[tuple[Member, Member]], total: int) -> float:
    each = max(50, total // len(pairs))  # every chat ends with a full newest-50 page

    def run(pair: tuple[Member, Member]) -> None:
        sender, _ = pair
        client = PinnedClient(setup.port, sender.token)
        try:
            for number in range(each):
                expect(
                    client.call("POST", f"/api/v1/chats/{sender.chat_id}/messages", {"text": f"s {number}"}),
                    201,
                )
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        list(pool.map(run, pairs))
    return each * len(pairs) / (time.perf_counter() - started)


def reads_per_second(setup: Setup, pairs: Sequence[tuple[Member, Member]], total: int) -> float:
    counter = iter(range(total))
    lock = threading.Lock()

    def run(pair: tuple[Member, Member]) -> None:
        _, reader = pair
        client = PinnedClient(setup.port, reader.token)
        try:
            while True:
                with lock:
                    number = next(counter, None)
                if number is None:
                    return
                page = expect(client.call("GET", f"/api/v1/chats/{reader.chat_id}/messages?limit=50"), 200)
                assert len(page["messages"]) == 50
        finally:
            client.close()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(pairs)) as pool:
        list(pool.map(run, pairs))
    return total / (time.perf_counter() - started)


class Waiter(threading.Thread):
    def __init__(self, setup: Setup, member: Member, deliveries: Deliveries, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.setup, self.member, self.deliveries, self.stop = setup, member, deliveries, stop
        self.armed = threading.Event()

    def run(self) -> None:
        client = PinnedClient(
            self.setup.port, self.member.token, self.setup.waiter_pin, timeout=POLL_TIMEOUT + 30
        )
        try:
            cursor = int(expect(client.call("GET", "/api/v1/events"), 200)["cursor"])
            while not self.stop.is_set():
                client.send_request("GET", f"/api/v1/events?since={cursor}&timeout={POLL_TIMEOUT}")
                self.armed.set()
                status, _, data = client.read_response()
                at = time.perf_counter()
                self.armed.clear()
                if status != 200:
                    raise RuntimeError(f"poll answered {status}: {data}")
                for event in data["events"]:
                    if event["type"] == "message.new":
                        self.deliveries.arrive(event["data"]["message"]["text"] or "", at)
                cursor = int(data["cursor"])
        except Exception as error:
            if not self.stop.is_set():
                self.deliveries.errors.append(repr(error))
        finally:
            client.close()


def delivery(setup: Setup, sender: Member, receiver: Member, count: int) -> tuple[list[float], int]:
    deliveries, stop = Deliveries(), threading.Event()
    waiter = Waiter(setup, receiver, deliveries, stop)
    waiter.start()
    client = PinnedClient(setup.port, sender.token, setup.sender_pin)
    latencies, lost = [], 0
    try:
        for number in range(count):
            arrived = deliveries.expect(number)
            if not waiter.armed.wait(10):
                raise RuntimeError(f"the waiting client stopped: {deliveries.errors}")
            time.sleep(0.003)  # the re-sent poll reaches the server and waits there
            started = time.perf_counter()
            expect(
                client.call("POST", f"/api/v1/chats/{sender.chat_id}/messages", {"text": f"bench {number}"}),
                201,
            )
            if not arrived.wait(10):
                lost += 1
                continue
            latencies.append((deliveries.arrived[number] - started) * 1000)
    finally:
        stop.set()
        client.close()
    return latencies, lost


# --- setups ------------------------------------------------------------------------------


def people(port: int, clients: int, tag: str) -> list[tuple[Member, Member]]:
    """``clients`` pairs of friends, each with their chat (both members know its id)."""
    members = sign_up_many(port, [f"{tag}{n}" for n in range(2 * clients)])
    pairs = []
    for n in range(clients):
        first, second = members[2 * n], members[2 * n + 1]
        befriend_all(port, first, [second])
        first.chat_id = second.chat_id
        pairs.append((first, second))
    return pairs


def measure(setup: Setup, args: argparse.Namespace) -> Row:
    progress(f"{setup.label}: signing up")
    pairs = people(setup.port, args.clients, setup.label.split()[0].lower()[:2] + str(os.getpid() % 1000))
    progress(f"{setup.label}: {args.sends} sends")
    sends = sends_per_second(setup, pairs, args.sends)
    progress(f"{setup.label}: {args.reads} reads")
    reads = reads_per_second(setup, pairs, args.reads)
    progress(f"{setup.label}: {args.deliveries} deliveries")
    latencies, lost = delivery(setup, *pairs[0], args.deliveries)
    return Row(setup.label, sends, reads, percentile(latencies, 50), percentile(latencies, 99), lost)


@contextmanager
def sqlite_setup(folder: Path) -> Iterator[Setup]:
    with LiveServer(folder / "sqlite", extra_env={"SECRET_KEY": repr(SECRET)}) as server:
        yield Setup("SQLite, 1 process", server.port)


@contextmanager
def postgres_setup(folder: Path, url: str, processes: int) -> Iterator[Setup]:
    settings = {
        "SECRET_KEY": repr(SECRET),
        "DATABASE_URL": repr(url),
        "NOTIFIER": "'postgres'",
        "TRUSTED_PROXY": "'127.0.0.1'",
    }
    with ExitStack() as stack:
        servers = []
        for n in range(processes):
            server = stack.enter_context(LiveServer(folder / f"pg{processes}-{n}", extra_env=settings))
            servers.append(server)
        pins = {chr(ord("a") + n): s.port for n, s in enumerate(servers)}
        proxy = stack.enter_context(NginxProxy([s.port for s in servers], pins=pins))
        two = processes > 1
        label = f"PostgreSQL, {processes} process{'es' if two else ''} + nginx"
        yield Setup(label, proxy.port, sender_pin="a" if two else None, waiter_pin="b" if two else None)


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| setup | sends/s | newest-50 reads/s | delivery p50 | delivery p99 | lost |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in rows:
        lines.append(
            f"| {r.label} | {r.sends_per_second:.0f} | {r.reads_per_second:.0f} | {r.p50_ms:.1f} ms"
            f" | {r.p99_ms:.1f} ms | {r.lost} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> str:
    rows = []
    with (
        tempfile.TemporaryDirectory(prefix="cluster-bench-") as tmp,
        ThrowawayPostgres(durable=True) as cluster,
    ):
        folder = Path(tmp)
        with sqlite_setup(folder) as setup:
            rows.append(measure(setup, args))
        for processes in (1, 2):
            url = cluster.create_database(f"bench{processes}")
            with postgres_setup(folder, url, processes) as setup:
                rows.append(measure(setup, args))
    cross = rows[-1]
    verdict = "meets" if cross.p99_ms <= TARGET_P99_MS else "misses"
    return (
        f"## SQLite against PostgreSQL ({args.clients} clients; {os.cpu_count()} cores, shared)\n\n"
        f"{table(rows)}\n\n"
        f"Cross-process delivery p99 {cross.p99_ms:.1f} ms {verdict} the {TARGET_P99_MS:.0f} ms target.\n"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sends", type=int, default=400)
    parser.add_argument("--reads", type=int, default=1000)
    parser.add_argument("--deliveries", type=int, default=300)
    parser.add_argument("--clients", type=int, default=4)
    print(run(parser.parse_args(argv)))


if __name__ == "__main__":
    main()
