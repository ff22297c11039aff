"""Slow and idle clients against the real server: does a fresh client still get an answer?

    python -m bench.slow_clients_bench [--sockets 300] [--hold 7] [--limit 100]

Starts ``python __main__.py`` (waitress with the defaults a user runs: THREADS = 32,
SQLITE_SYNCHRONOUS = FULL, CONNECTION_LIMIT and CHANNEL_TIMEOUT unset) on a free loopback
port with a temporary database (``scripts.live_server.LiveServer``) and holds ``--sockets``
connections of one kind at a time:

- **idle**: TCP connections that send nothing;
- **trickle every P s**: connections that send a request line and then one header line
  every ``P`` seconds, never finishing the headers (slowloris), with P = 5 and P = 2;
- **long-poll**: browser-like clients, each on one keep-alive connection, doing what
  ``static/js/events.js`` does: poll ``GET /api/v1/events`` with ``timeout=25``; when the
  answer came back at once with nothing (the waiter cap is reached, ``X-Long-Poll: busy``)
  wait 3 s and poll again; reconnect and retry when the server closed the connection.

Then a second server, one process (``WORKERS=1``: the limit is each worker's) with
``CONNECTION_LIMIT=--limit``, held by 1.5× as many idle and fast-trickling sockets: what
happens at the limit. The first server runs ``WORKERS`` workers (one per CPU); its sockets and
memory are those of every worker together.

While they are held, a fresh client opens a new connection and asks for
``GET /api/v1/stickers`` (401 without a token: no database, no argon2), every 0.5 s for
``--hold`` seconds. The table says how many connections the server had accepted (its
socket descriptors, from ``/proc``), how many it had closed by the end, how much its
memory grew, and whether the fresh client got answers and how fast (first answer, median,
worst; a probe with no answer within 15 s is a miss, "0/1"). Nothing leaves 127.0.0.1; at
most 300 connections at once; every scenario ends by itself (about 60 s in all).

Progress goes to stderr, the Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from scripts.live_server import LiveServer, sign_up

MAX_SOCKETS = 300
PROBE_EVERY = 0.5  # seconds between the fresh client's requests
PROBE_TIMEOUT = 15.0  # a probe with no answer by then is a miss
BUSY_PAUSE = 3.0  # what events.js waits after an answer that came back at once, empty


def progress(message: str) -> None:
    print(f"[slow_clients_bench] {message}", file=sys.stderr, flush=True)


def server_sockets(pid: int) -> int:
    """How many socket descriptors the server process holds (listening one included)."""
    count = 0
    for entry in Path(f"/proc/{pid}/fd").iterdir():
        try:
            if os.readlink(entry).startswith("socket:"):
                count += 1
        except OSError:  # closed while we looked
            pass
    return count


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def probe(port: int) -> float | None:
    """Milliseconds from connect to the first byte of an answer on a fresh connection;
    None when none came within PROBE_TIMEOUT."""
    started = time.perf_counter()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=PROBE_TIMEOUT) as sock:
            sock.settimeout(max(0.1, PROBE_TIMEOUT - (time.perf_counter() - started)))
            sock.sendall(b"GET /api/v1/stickers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            first = sock.recv(64)
    except OSError:
        return None
    if not first.startswith(b"HTTP/1.1 401"):
        return None
    return (time.perf_counter() - started) * 1000


# --- the held connections ----------------------------------------------------------------


class RawSockets:
    """``count`` connections that send nothing (interval None) or trickle header lines."""

    def __init__(self, port: int, count: int, interval: float | None) -> None:
        self.port, self.count, self.interval = port, count, interval
        self.sockets: list[socket.socket] = []
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def open(self) -> None:
        for _ in range(self.count):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.setblocking(False)
            if self.interval is not None:
                sock.send(b"GET /api/v1/stickers HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            self.sockets.append(sock)
        self._thread.start()

    def _run(self) -> None:
        line = 0
        while not self._stop.wait(self.interval or 0.5):
            line += 1
            for sock in list(self.sockets):
                try:
                    if sock.recv(1) == b"":  # the server closed it
                        self._drop(sock)
                        continue
                except BlockingIOError:
                    pass
                except OSError:
                    self._drop(sock)
                    continue
                if self.interval is not None:
                    try:
                        sock.send(f"X-Slow-{line}: x\r\n".encode())
                    except OSError:
                        self._drop(sock)

    def _drop(self, sock: socket.socket) -> None:
        self.sockets.remove(sock)
        self.closed_by_server += 1
        sock.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for sock in self.sockets:
            sock.close()


@dataclass
class PollStats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    polls: int = 0
    busy: int = 0
    reconnects: int = 0
    answered: set[int] = field(default_factory=set)  # clients that got at least one answer
    errors: list[str] = field(default_factory=list)


class LongPoller(threading.Thread):
    """A browser tab's event loop (static/js/events.js) on one keep-alive connection."""

    def __init__(self, port: int, token: str, stats: PollStats, stop: threading.Event) -> None:
        super().__init__(daemon=True)
        self.port, self.token, self.stats, self.stop = port, token, stats, stop
        self.conn = self._connect()

    def _connect(self) -> http.client.HTTPConnection:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=40)
        conn.connect()
        return conn

    def _get(self, path: str) -> tuple[int, dict[str, str], bytes]:
        for attempt in (1, 2):
            try:
                self.conn.request("GET", path, headers={"Authorization": f"Bearer {self.token}"})
                response = self.conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (http.client.RemoteDisconnected, ConnectionError, BrokenPipeError):
                # The server closed the idle connection: a browser opens a new one and retries.
                if attempt == 2:
                    raise
                with self.stats.lock:
                    self.stats.reconnects += 1
                self.conn.close()
                self.conn = self._connect()
        raise AssertionError("unreachable")

    def run(self) -> None:
        try:
            cursor = None
            while not self.stop.is_set():
                path = "/api/v1/events" if cursor is None else f"/api/v1/events?since={cursor}&timeout=25"
                began = time.monotonic()
                status, headers, body = self._get(path)
                if status != 200:
                    raise RuntimeError(f"events answered {status}")
                data = json.loads(body)
                with self.stats.lock:
                    self.stats.polls += 1
                    self.stats.answered.add(id(self))
                    self.stats.busy += headers.get("X-Long-Poll") == "busy"
                came_back_at_once = time.monotonic() - began < 1
                if cursor is not None and not data["events"] and came_back_at_once:
                    self.stop.wait(BUSY_PAUSE)
                cursor = data["cursor"]
        except Exception as error:
            if not self.stop.is_set():
                with self.stats.lock:
                    self.stats.errors.append(repr(error))
        finally:
            self.conn.close()


class LongPollers:
    def __init__(self, port: int, count: int, token: str) -> None:
        self.stats = PollStats()
        self._stop = threading.Event()
        self.clients = [LongPoller(port, token, self.stats, self._stop) for _ in range(count)]
        self.closed_by_server = 0

    def open(self) -> None:
        for client in self.clients:
            client.start()

    def close(self) -> None:
        self._stop.set()
        for client in self.clients:
            sock = client.conn.sock
            if sock is not None:  # shutdown, unlike close, wakes a thread blocked reading it
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        for client in self.clients:
            client.join(10)


# --- scenarios -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    settings: str
    held: str
    count: int
    accepted: int
    closed: int
    rss_delta: float
    answered: int
    probes: int
    first_ms: float | None
    p50_ms: float | None
    max_ms: float | None
    note: str


def scenario(
    server: LiveServer,
    settings: str,
    held: str,
    count: int,
    make: Callable[[], RawSockets | LongPollers],
    hold: float,
) -> Row:
    pids = server.worker_pids()  # every worker: WORKERS defaults to one per CPU

    def sockets() -> int:
        return sum(server_sockets(pid) for pid in pids)

    def rss() -> float:
        return sum(rss_mib(pid) for pid in pids)

    baseline_sockets, baseline_rss = sockets(), rss()
    clients = make()
    progress(f"{settings}: {count} × {held}")
    clients.open()
    time.sleep(0.5)  # let the server accept what it will
    accepted = sockets() - baseline_sockets
    grown = rss() - baseline_rss
    times: list[float | None] = []
    deadline = time.monotonic() + hold
    while time.monotonic() < deadline:
        times.append(probe(server.port))
        time.sleep(PROBE_EVERY)
    answered = [t for t in times if t is not None]
    closed = clients.closed_by_server
    note = ""
    if isinstance(clients, LongPollers):
        stats = clients.stats
        closed = stats.reconnects
        note = (
            f"{len(stats.answered)}/{count} clients answered; {stats.polls} polls, "
            f"{stats.busy} busy, {stats.reconnects} reconnects"
        )
        if stats.errors:
            note += f", {len(stats.errors)} errors ({stats.errors[0][:60]})"
    clients.close()
    settle = time.monotonic() + 15  # the server lets go of them before the next scenario
    while sockets() > baseline_sockets and time.monotonic() < settle:
        time.sleep(0.1)
    return Row(
        settings=settings,
        held=held,
        count=count,
        accepted=accepted,
        closed=closed,
        rss_delta=grown,
        answered=len(answered),
        probes=len(times),
        first_ms=times[0],
        p50_ms=statistics.median(answered) if answered else None,
        max_ms=max(answered) if answered else None,
        note=note,
    )


def fmt(value: float | None) -> str:
    return "—" if value is None else f"{value:.0f}" if value >= 100 else f"{value:.1f}"


def table(rows: Sequence[Row]) -> str:
    lines = [
        "| server | held connections | N | accepted | closed by server | RSS +MiB "
        "| fresh client answered | first ms | p50 ms | max ms | note |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.settings} | {r.held} | {r.count} | {r.accepted} | {r.closed} | {r.rss_delta:.1f} "
            f"| {r.answered}/{r.probes} | {fmt(r.first_ms)} | {fmt(r.p50_ms)} | {fmt(r.max_ms)} | {r.note} |"
        )
    return "\n".join(lines)


def run_server(folder: Path, env: dict[str, str], plan: Sequence[str], count: int, hold: float) -> list[Row]:
    rows: list[Row] = []
    label = ", ".join(f"{k}={v}" for k, v in env.items()) or "defaults"
    with LiveServer(folder, extra_env=env) as server:
        port = server.port
        _, token = sign_up(server.url, "slow@example.com")
        kinds: dict[str, Callable[[], RawSockets | LongPollers]] = {
            "idle (send nothing)": lambda: RawSockets(port, count, None),
            "trickle a header line every 5 s": lambda: RawSockets(port, count, 5.0),
            "trickle a header line every 2 s": lambda: RawSockets(port, count, 2.0),
            "browser-like long-poll": lambda: LongPollers(port, count, token),
        }
        for held in plan:
            rows.append(scenario(server, label, held, count, kinds[held], hold))
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--sockets", type=int, default=MAX_SOCKETS, help=f"held connections (≤ {MAX_SOCKETS})"
    )
    parser.add_argument("--hold", type=float, default=7.0, help="seconds each scenario holds them (≤ 10)")
    parser.add_argument(
        "--limit",
        type=int,
        default=100,
        help="also run a server with this CONNECTION_LIMIT, held by 1.5× as many sockets (0: skip)",
    )
    args = parser.parse_args(argv)
    count, hold = min(args.sockets, MAX_SOCKETS), min(args.hold, 10.0)
    runs: list[tuple[dict[str, str], list[str], int]] = [
        (
            {},
            [
                "idle (send nothing)",
                "trickle a header line every 5 s",
                "trickle a header line every 2 s",
                "browser-like long-poll",
            ],
            count,
        ),
    ]
    if args.limit:
        beyond = min(MAX_SOCKETS, args.limit * 3 // 2)
        runs.append(
            (
                {"CONNECTION_LIMIT": str(args.limit), "WORKERS": "1"},  # the limit is per worker
                ["idle (send nothing)", "trickle a header line every 2 s"],
                beyond,
            )
        )
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="slow-clients-") as tmp:
        for n, (env, plan, held) in enumerate(runs):
            rows += run_server(Path(tmp) / f"server{n}", env, plan, held, hold)
    print(f"\n### Slow and idle clients (waitress, THREADS = 32, {os.cpu_count()} CPUs)\n")
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
