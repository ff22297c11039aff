"""Memory and throughput of the whole server, default settings against WORKERS=1; one table.

    python -m bench.scale_bench [--quick] [--rounds 2] [--duration 10] [--connections 8]
                                [--before PATH] [--configs default,1] [--messages 10000]
                                [--configs default,THREADS=8+RESERVED_THREADS=4]

Each configuration is ``python __main__.py`` (through ``scripts.live_server``: a temporary
database, ``DEMO_DATA=False``, ``RATE_LIMITS_ENABLED=False``, every other setting its
default: ``SQLITE_SYNCHRONOUS=FULL``, ``THREADS``, ``WORKERS`` = one per CPU), or with
``WORKERS=1``, or (``--before PATH``) the code of another checkout, e.g. main exported
with ``git archive main | tar -x -C /tmp/before``. Configurations run interleaved,
``--rounds`` times, so a change of the machine's load hits them alike. Each run:

1. **sends**: wrk ``POST /api/v1/chats/{id}/messages`` (bench/wrk/send.lua);
2. **fill**: the chat topped up to ``--messages`` messages (4 client threads);
3. **reads**: wrk ``GET`` of the newest 50 messages of that chat (history.lua);
4. **ceiling**: wrk ``GET /api/v1/users/me`` (me.lua): routing, token check, one lookup;
5. **delivery**: 200 sends one at a time, each to a long-poll waiting for it, timed from
   the start of the send to the waiter's answer: waiter and sender on the same worker,
   and (several workers) on different ones (connections placed through /proc);
6. **logins**: wrk ``-c4`` ``POST /api/v1/login`` (argon2id each).

wrk runs ``-t1 -c{connections}`` for ``--duration`` seconds on the same machine as the
server, talking to 127.0.0.1 only; wrk is not pinned, and the workers pin themselves as the
server's defaults say (``PIN_WORKERS``).
Every worker's ``VmRSS`` is sampled through each phase and its ``VmHWM`` reset at the
phase's start (``/proc/<pid>/clear_refs``), so each phase reports its own peak; idle is
read after start-up. Each wrk phase also reports the server's CPU per request and the
busiest worker's share of it (50 % is an even split between two workers). Figures are
ranges over the rounds (min–max). Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shutil
import statistics
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

from bench.api_bench import WRK, WrkResult, run_wrk
from scripts.live_server import PASSWORD, LiveServer, befriend, serving_pid, sign_up

DELIVERIES = 200
PAUSE_BEFORE_SEND = 0.003  # after the waiter's poll went out: the server starts waiting
PHASES = ("idle", "sends", "fill", "reads", "ceiling", "delivery", "logins")


def progress(message: str) -> None:
    print(f"[scale_bench] {message}", file=sys.stderr, flush=True)


# --- memory -------------------------------------------------------------------------------


def status_kib(pid: int) -> dict[str, int]:
    values: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                values[name] = int(value.split()[0])
    except OSError:
        pass
    return values


class Sampler:
    """Peak VmRSS of each worker through a phase, and its VmHWM since the phase began."""

    def __init__(self, server: LiveServer, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        for pid in self.server.worker_pids():
            rss = status_kib(pid).get("VmRSS", 0)
            self.peaks[pid] = max(self.peaks.get(pid, 0), rss)

    def __enter__(self) -> Sampler:
        for pid in self.server.worker_pids():
            with contextlib.suppress(OSError):
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.sample()
        for pid in self.server.worker_pids():
            hwm = status_kib(pid).get("VmHWM", 0)
            self.peaks[pid] = max(self.peaks.get(pid, 0), hwm)

    def peak_mib(self) -> float:
        """The largest peak of any one worker, in MiB."""
        return max(self.peaks.values(), default=0) / 1024

    def total_mib(self) -> float:
        return sum(self.peaks.values()) / 1024


def cpu_seconds(pids: Sequence[int]) -> float:
    """User and system CPU time the processes have used (their threads included)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


# --- a keep-alive client ------------------------------------------------------------------


class Connection:
    def __init__(self, port: int, token: str | None = None) -> None:
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        response = self.conn.getresponse()
        data = response.read()
        return response.status, json.loads(data) if data else None

    def worker(self, server: LiveServer) -> int | None:
        if self.conn.sock is None:
            self.call("GET", "/api/v1/stickers")
        client_port = self.conn.sock.getsockname()[1]
        for _ in range(100):
            pid = serving_pid(server.port, client_port, server.worker_pids())
            if pid is not None:
                return pid
            time.sleep(0.02)
        return None

    def close(self) -> None:
        self.conn.close()


def placed(server: LiveServer, token: str, *, same: bool) -> tuple[Connection, Connection] | None:
    """A waiter's and a sender's connection on the same worker or on two (None if the
    kernel never gave two workers within 60 tries). Connections that miss stay open until
    then: the kernel may give every new one to the same worker, and only connections held
    make the workers' sharing out send the next elsewhere."""
    first = Connection(server.port, token)
    where = first.worker(server)
    missed: list[Connection] = []
    try:
        for _ in range(60):
            other = Connection(server.port, token)
            if (other.worker(server) == where) == same:
                return first, other
            missed.append(other)
    finally:
        for connection in missed:
            connection.close()
    first.close()
    return None


# --- phases ---------------------------------------------------------------------------------


@dataclass
class Chat:
    alice: str
    bob: str
    chat_id: int
    email: str


def set_up(url: str) -> Chat:
    alice_id, alice = sign_up(url, "alice@bench.example.com", "Alice")
    bob_id, bob = sign_up(url, "bob@bench.example.com", "Bob")
    chat_id = befriend(url, alice, bob_id, bob, alice_id)
    return Chat(alice, bob, chat_id, "alice@bench.example.com")


def fill(server: LiveServer, chat: Chat, total: int) -> int:
    """Top the chat up to ``total`` messages; returns how many it holds."""
    probe = Connection(server.port, chat.alice)
    _, page = probe.call("GET", f"/api/v1/chats/{chat.chat_id}/messages?limit=1")
    probe.close()
    newest = page["messages"][-1]["id"] if page["messages"] else 0
    # Message ids grow across chats; this bench has one chat, so the newest id is its count.
    missing = max(0, total - newest)

    def sender(count: int) -> None:
        connection = Connection(server.port, chat.alice)
        for n in range(count):
            connection.call("POST", f"/api/v1/chats/{chat.chat_id}/messages", {"text": f"fill {n}"})
        connection.close()

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(sender, [missing // 4 + (1 if i < missing % 4 else 0) for i in range(4)]))
    return newest + missing


def delivery(server: LiveServer, chat: Chat, *, same: bool, count: int) -> list[float] | None:
    """Latencies (ms) of ``count`` sends, each to a long-poll already waiting for it."""
    pair = placed(server, chat.bob, same=same)
    if pair is None:
        return None
    waiter, _ = pair
    sender = pair[1]
    sender.token = chat.alice
    _, start = waiter.call("GET", "/api/v1/events")
    cursor = start["cursor"]
    latencies: list[float] = []
    with ThreadPoolExecutor(1) as pool:
        for n in range(count):
            poll = pool.submit(_poll, waiter, cursor)
            time.sleep(PAUSE_BEFORE_SEND)
            began = time.perf_counter()
            status, _ = sender.call("POST", f"/api/v1/chats/{chat.chat_id}/messages", {"text": f"live {n}"})
            assert status == 201, status
            body, got = poll.result(timeout=60)
            cursor = body["cursor"]
            latencies.append((got - began) * 1000)
    waiter.close()
    sender.close()
    return latencies


def _poll(waiter: Connection, cursor: int) -> tuple[dict[str, Any], float]:
    while True:
        status, body = waiter.call("GET", f"/api/v1/events?since={cursor}&timeout=10")
        assert status == 200, status
        if body["events"]:
            return body, time.perf_counter()
        cursor = body["cursor"]


# --- one configuration ------------------------------------------------------------------------


@dataclass
class Run:
    config: str
    workers: int = 0
    wrk: dict[str, WrkResult] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # wrk phase → server CPU per request
    busiest: dict[str, float] = field(default_factory=dict)  # wrk phase → busiest worker's CPU share, %
    delivery: dict[str, list[float]] = field(default_factory=dict)
    peak_mib: dict[str, float] = field(default_factory=dict)  # phase → largest worker peak
    total_mib: dict[str, float] = field(default_factory=dict)  # phase → all workers' peaks


@contextmanager
def server_for(config: str, before: Path | None, folder: Path) -> Iterator[LiveServer]:
    env: dict[str, str] = {}
    root: dict[str, Any] = {}
    if config == "1":
        env["WORKERS"] = "1"
    elif "=" in config:  # settings of its own, e.g. THREADS=8+RESERVED_THREADS=4
        env |= dict(item.split("=", 1) for item in config.split("+"))
    elif config == "before":
        assert before is not None
        root["root"] = before
    server = LiveServer(folder, extra_env=env, **root)
    server.start(timeout=60)
    try:
        yield server
    finally:
        server.stop()


def run_config(config: str, args: argparse.Namespace, folder: Path) -> Run:
    run = Run(config)
    with server_for(config, args.before, folder) as server:
        time.sleep(1)  # let start-up settle before idle is read
        with Sampler(server) as idle:
            time.sleep(0.5)
        run.workers = len(server.worker_pids())
        run.peak_mib["idle"], run.total_mib["idle"] = idle.peak_mib(), idle.total_mib()
        chat = set_up(server.url)
        env = {
            "BENCH_TOKEN": chat.alice,
            "BENCH_CHAT_ID": str(chat.chat_id),
            "BENCH_EMAIL": chat.email,
            "BENCH_PASSWORD": PASSWORD,
        }

        def phase(name: str, work: Any) -> Any:
            progress(f"{config}: {name}")
            with Sampler(server) as sampler:
                result = work()
            run.peak_mib[name], run.total_mib[name] = sampler.peak_mib(), sampler.total_mib()
            return result

        def wrk(name: str, script: str, connections: int) -> WrkResult:
            pids = server.worker_pids()
            used = [cpu_seconds([pid]) for pid in pids]
            result = run_wrk(name, name, server.url, script, env, args.duration, connections, None)
            run.wrk[name] = result
            spent = [cpu_seconds([pid]) - before for pid, before in zip(pids, used, strict=True)]
            # CPU per request is what other load on the machine changes least.
            run.cpu_ms[name] = sum(spent) * 1000 / max(1, result.requests)
            # How evenly the connections were shared out: 50 % is even with two workers.
            run.busiest[name] = 100 * max(spent) / max(sum(spent), 1e-9)
            return result

        phase("sends", lambda: wrk("sends", "send.lua", args.connections))
        phase("fill", lambda: fill(server, chat, args.messages))
        phase("reads", lambda: wrk("reads", "history.lua", args.connections))
        phase("ceiling", lambda: wrk("ceiling", "me.lua", args.connections))

        def deliveries() -> None:
            for where, same in (("same worker", True), ("across workers", False)):
                if not same and run.workers < 2:
                    continue
                found = delivery(server, chat, same=same, count=args.deliveries)
                if found is not None:
                    run.delivery[where] = found

        phase("delivery", deliveries)
        phase("logins", lambda: wrk("logins", "login.lua", 4))
    return run


# --- the report ---------------------------------------------------------------------------------


def span(values: Sequence[float], digits: int = 0) -> str:
    if not values:
        return "–"
    low, high = min(values), max(values)
    text = (
        f"{low:,.{digits}f}"
        if round(low, digits) == round(high, digits)
        else f"{low:,.{digits}f}–{high:,.{digits}f}"
    )
    return text


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def report(runs: Sequence[Run], configs: Sequence[str], args: argparse.Namespace) -> str:
    by = {c: [r for r in runs if r.config == c] for c in configs}
    names = {"before": "before (--before)", "1": "WORKERS=1"}

    def title(config: str) -> str:
        workers = by[config][0].workers if by[config] else 0
        if "=" in config:
            return f"{config.replace('+', ' ')} ({workers} workers)"
        return names.get(config, f"default ({workers} workers)")

    lines = [
        "| measure | " + " | ".join(title(c) for c in configs) + " |",
        "|---|" + "---|" * len(configs),
    ]

    def row(label: str, cell: Any) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(by[c]) for c in configs) + " |")

    row(
        "server RSS, largest process (VmHWM per phase), MiB: idle",
        lambda rs: span([r.peak_mib["idle"] for r in rs]),
    )
    for phase_name in PHASES[1:]:
        row(f"… {phase_name}", lambda rs, p=phase_name: span([r.peak_mib.get(p, 0) for r in rs]))
    row(
        "all processes together, through logins, MiB",
        lambda rs: span([r.total_mib.get("logins", 0) for r in rs]),
    )
    for name, label in (
        ("sends", "POST a message, req/s"),
        ("reads", "GET newest 50 messages, req/s"),
        ("ceiling", "GET /api/v1/users/me, req/s"),
        ("logins", "POST /api/v1/login (wrk -c4), req/s"),
    ):
        row(label, lambda rs, n=name: span([r.wrk[n].requests_per_second for r in rs if n in r.wrk]))
        row(
            "… p50 / p99 ms",
            lambda rs, n=name: (
                span([r.wrk[n].p50_ms for r in rs if n in r.wrk], 1)
                + " / "
                + span([r.wrk[n].p99_ms for r in rs if n in r.wrk], 1)
            ),
        )
        row(
            "… server CPU ms per request",
            lambda rs, n=name: span([r.cpu_ms[n] for r in rs if n in r.cpu_ms], 2),
        )
        row(
            "… busiest worker's share of that CPU, %",
            lambda rs, n=name: span([r.busiest[n] for r in rs if n in r.busiest]),
        )
        row("… non-2xx", lambda rs, n=name: span([float(r.wrk[n].non_2xx) for r in rs if n in r.wrk]))
    for where in ("same worker", "across workers"):
        row(
            f"delivery p50 / p99 ms, 1 waiter, {where}",
            lambda rs, w=where: (
                (
                    span([statistics.median(r.delivery[w]) for r in rs if w in r.delivery], 1)
                    + " / "
                    + span([percentile(r.delivery[w], 0.99) for r in rs if w in r.delivery], 1)
                )
                if any(w in r.delivery for r in rs)
                else "–"
            ),
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.scale_bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="3 s per wrk phase, 2,000 messages, 50 deliveries"
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per wrk phase")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (logins use 4)")
    parser.add_argument("--messages", type=int, default=10_000, help="messages in the chat for the reads")
    parser.add_argument("--deliveries", type=int, default=DELIVERIES)
    parser.add_argument(
        "--configs",
        default="default,1",
        help="default, 1 (WORKERS=1), before, or settings such as THREADS=8+RESERVED_THREADS=4",
    )
    parser.add_argument("--before", type=Path, help="a checkout to run as 'before' (adds it to --configs)")
    args = parser.parse_args(argv)
    if args.quick:
        args.duration, args.messages, args.deliveries = 3.0, 2_000, 50
    if not Path(WRK).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    configs = [c.strip() for c in args.configs.split(",") if c.strip()]
    if args.before is not None and "before" not in configs:
        configs.insert(0, "before")
    began, load_at_start = time.perf_counter(), os.getloadavg()
    runs: list[Run] = []
    for number in range(1, args.rounds + 1):
        for config in configs:
            progress(f"round {number}: {config}")
            folder = Path(tempfile.mkdtemp(prefix="scale-bench-"))
            try:
                runs.append(run_config(config, args, folder))
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    took, load_at_end = time.perf_counter() - began, os.getloadavg()
    print(
        f"## Memory and throughput ({args.rounds} interleaved rounds; wrk -t1 -c{args.connections}, "
        f"{args.duration:g} s a phase; {args.messages:,} messages in the chat; {os.cpu_count()} CPUs)\n"
    )
    print(report(runs, configs, args))
    print(
        f"\n_{took:.0f} s in all; load average {load_at_start[0]:.2f} at start, {load_at_end[0]:.2f} at end "
        "(other work on the machine counts in every figure)._"
    )


if __name__ == "__main__":
    main()
