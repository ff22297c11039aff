"""HTTP throughput of the real waitress server, measured with wrk; prints Markdown tables.

    python -m bench.api_bench [--quick] [--duration 10] [--connections 8] [--no-pin] [--profile]
                            [--synchronous FULL|NORMAL]

Against ``python __main__.py`` (through ``scripts.live_server``: a temporary database,
``DEMO_DATA=False``, ``RATE_LIMITS_ENABLED=False``, default ``THREADS``), wrk from Debian
drives one endpoint at a time with the Lua scripts in ``bench/wrk/``:

- **sends**: ``POST /api/v1/chats/{id}/messages`` with a bearer token (a new message each);
- **history**: ``GET /api/v1/chats/{id}/messages?limit=50`` (the newest page, 50 messages);
- **logins**: ``POST /api/v1/login`` (argon2id on every request: expected low);
- the **ceiling** candidates: ``GET`` of an unknown ``/api/v1/…`` path (404: routing, the
  error handler and the security headers, no token, no database) and ``GET
  /api/v1/users/me`` (token check and one user lookup). The cheapest endpoint, the one with
  the most requests per second, is the framework ceiling the goals are judged against.

Goals: sends ≥ 50 % and history reads ≥ 60 % of the ceiling. wrk runs one thread with a
few connections, pinned to one CPU and the server to the other (``--no-pin`` leaves both
to the scheduler), so the generator does not starve the server on a 2-CPU machine.
``--profile`` adds where the server's time goes for each endpoint: the same WSGI app in this
process, on a copy of the database, first served by waitress with the server's options
(``wrk -c1``; how much of a request's CPU is spent in the app and how much around it), then
under cProfile, called directly (no sockets).
Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from scripts.live_server import PASSWORD, LiveServer, bearer, befriend, expect, free_port, sign_up

if TYPE_CHECKING:
    from entrypoints.config import Settings

WRK = shutil.which("wrk") or "/usr/bin/wrk"
WRK_DIR = Path(__file__).resolve().parent / "wrk"
HISTORY_SEED = 200  # messages in the chat before the history run, so every page is full
GOALS = {"sends": 0.50, "history": 0.60}


def progress(message: str) -> None:
    print(f"[api_bench] {message}", file=sys.stderr, flush=True)


@dataclass
class WrkResult:
    name: str
    what: str
    requests_per_second: float
    requests: int
    non_2xx: int
    errors: str
    p50_ms: float
    p99_ms: float


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    name: str,
    what: str,
    url: str,
    script: str,
    env: dict[str, str],
    duration: float,
    connections: int,
    cpu: int | None,
) -> WrkResult:
    command = [
        WRK,
        "-t1",
        f"-c{connections}",
        f"-d{duration:g}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(WRK_DIR / script),
        url,
    ]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    progress(f"{name}: {' '.join(command[-8:])}")
    done = subprocess.run(
        command,
        env=os.environ | env | {"BENCH_WRK_DIR": str(WRK_DIR)},
        capture_output=True,
        text=True,
        timeout=duration + 60,
        check=False,
    )
    out = done.stdout + done.stderr
    if done.returncode != 0 or "Requests/sec" not in out:
        raise RuntimeError(f"wrk failed for {name}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    non_2xx_match = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errors_match = re.search(r"Socket errors: (.*)", out)
    p50 = re.search(r"\s50%\s+([\d.]+\w+)", out)
    p99 = re.search(r"\s99%\s+([\d.]+\w+)", out)
    return WrkResult(
        name=name,
        what=what,
        requests_per_second=rps,
        requests=total,
        non_2xx=int(non_2xx_match.group(1)) if non_2xx_match else 0,
        errors=errors_match.group(1).strip() if errors_match else "",
        p50_ms=_ms(p50.group(1)) if p50 else float("nan"),
        p99_ms=_ms(p99.group(1)) if p99 else float("nan"),
    )


def pin_server(pid: int, cpu: int) -> None:
    """Every thread of the server onto one CPU (threads started later inherit it)."""
    subprocess.run(["taskset", "-a", "-p", "-c", str(cpu), str(pid)], check=True, capture_output=True)


@dataclass
class Setup:
    token: str
    chat_id: int
    email: str


def set_up(url: str) -> Setup:
    alice_id, alice_token = sign_up(url, "alice@bench.example.com", "Alice")
    bob_id, bob_token = sign_up(url, "bob@bench.example.com", "Bob")
    chat_id = befriend(url, alice_token, bob_id, bob_token, alice_id)
    with requests.Session() as session:
        session.headers.update(bearer(alice_token))
        for n in range(HISTORY_SEED):
            path = f"{url}/api/v1/chats/{chat_id}/messages"
            expect(session.post(path, json={"text": f"history {n}"}, timeout=10), 201)
    return Setup(alice_token, chat_id, "alice@bench.example.com")


def wrk_env(setup: Setup) -> dict[str, str]:
    """What the wrk scripts read: the token, the chat, and the credentials for logins."""
    return {
        "BENCH_TOKEN": setup.token,
        "BENCH_CHAT_ID": str(setup.chat_id),
        "BENCH_EMAIL": setup.email,
        "BENCH_PASSWORD": PASSWORD,
    }


# --- in-process profile -----------------------------------------------------------------


def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
    return lambda data: None


def profile_endpoints(database: Path, setup: Setup, seconds: float, synchronous: str, *, pin: bool) -> str:
    """cProfile of the WSGI app on a copy of the database, each endpoint called directly."""
    from falcon import testing

    from entrypoints.bootstrap import build_messenger, prepare_database
    from entrypoints.config import Settings, development_secret
    from entrypoints.web.app import create_app

    folder = Path(tempfile.mkdtemp(prefix="api-bench-profile-"))
    try:
        copy = folder / "db.sqlite3"
        source, target = sqlite3.connect(database), sqlite3.connect(copy)
        source.backup(target)
        source.close()
        target.close()
        secret = development_secret(database)  # the one the server made beside its data
        settings = Settings(
            SECRET_KEY=secret,
            DATABASE_PATH=str(copy),
            UPLOAD_FOLDER=str(folder / "upload"),
            RATE_LIMITS_ENABLED=False,
            SQLITE_SYNCHRONOUS=synchronous,
        )
        prepare_database(settings)
        app = create_app(build_messenger(settings), settings)
        auth = {"Authorization": f"Bearer {setup.token}"}

        def call(method: str, path: str, headers: dict[str, str] | None = None, body: Any = None) -> None:
            # Straight into the WSGI callable: falcon.testing's client would add wsgiref's
            # validator, whose checks would dominate the cheap endpoints' profiles.
            payload = json.dumps(body) if body is not None else ""
            headers = dict(headers or {})
            if body is not None:
                headers["Content-Type"] = "application/json"
            path, _, query = path.partition("?")
            environ = testing.create_environ(
                path=path, query_string=query, method=method, headers=headers, body=payload
            )
            for _ in app(environ, start_response):
                pass

        history = f"/api/v1/chats/{setup.chat_id}/messages?limit=50"
        calls: dict[str, Any] = {
            "404": lambda n: call("GET", "/api/v1/no-such-thing"),
            "users/me": lambda n: call("GET", "/api/v1/users/me", auth),
            "sends": lambda n: call(
                "POST", f"/api/v1/chats/{setup.chat_id}/messages", auth, {"text": f"profile {n}"}
            ),
            "history": lambda n: call("GET", history, auth),
        }
        sections = [served_split(app, settings, setup, seconds, pin=pin)]
        for name, endpoint in calls.items():
            endpoint(0)  # warm up
            # Unprofiled first: what one call costs in wall time and in this thread's CPU.
            count, started, cpu = 0, time.perf_counter(), time.thread_time()
            while time.perf_counter() - started < seconds / 2:
                count += 1
                endpoint(count)
            wall_ms = (time.perf_counter() - started) / count * 1e3
            cpu_ms = (time.thread_time() - cpu) / count * 1e3
            profiler = cProfile.Profile()
            calls_profiled, started = 0, time.perf_counter()
            profiler.enable()
            while time.perf_counter() - started < seconds:
                calls_profiled += 1
                endpoint(count + calls_profiled)
            profiler.disable()
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out)
            # Cumulative first (which layer costs what), then the hot spots themselves.
            stats.sort_stats("cumulative").print_stats(18)
            stats.sort_stats("tottime").print_stats(10)
            body = "\n".join(line for line in out.getvalue().splitlines() if line.strip())
            sections.append(
                f"### {name}: {wall_ms:.2f} ms a call ({cpu_ms:.2f} ms of CPU) without the profiler; "
                f"{calls_profiled} calls under it\n\n```\n{body}\n```"
            )
        return "\n\n".join(sections)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


SPLIT_SCRIPTS = {"users/me": "me.lua", "history": "history.lua", "sends": "send.lua"}


def served_split(app: Any, settings: Settings, setup: Setup, seconds: float, *, pin: bool) -> str:
    """The same WSGI app served by waitress in this process, with the server's own options
    (``waitress_options``), against wrk with one connection: this process's CPU a request
    (every thread, user and system), and how much of it is spent inside the app. The rest is
    waitress's: reading and parsing the request, handing it to a thread, writing the answer,
    the socket calls. With ``pin`` this process runs on its first CPU and wrk on its last while
    it lasts, as the server and wrk are pinned apart above."""
    from waitress.server import create_server

    from entrypoints.server import waitress_options

    inside = [0.0, 0]

    def timed(environ: dict[str, Any], start_response: Any) -> Any:
        started = time.thread_time()
        try:
            return app(environ, start_response)
        finally:
            inside[0] += time.thread_time() - started
            inside[1] += 1

    options = waitress_options(settings) | {"host": "127.0.0.1", "port": free_port()}
    server = create_server(timed, **options)
    thread = threading.Thread(target=server.run, name="split-server", daemon=True)
    affinity = os.sched_getaffinity(0)
    if pin:
        os.sched_setaffinity(0, {min(affinity)})
    thread.start()
    env = wrk_env(setup)
    rows = [
        "| endpoint | req/s | process CPU ms a request | of it in the app | the rest (waitress, sockets) "
        "| non-2xx |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    try:
        url = f"http://127.0.0.1:{options['port']}"
        for name, script in SPLIT_SCRIPTS.items():
            inside[:] = [0.0, 0]
            before = os.times()
            result = run_wrk(name, name, url, script, env, seconds, 1, max(affinity) if pin else None)
            after = os.times()
            spent = (after.user - before.user + after.system - before.system) * 1e3 / max(1, result.requests)
            in_app = inside[0] * 1e3 / max(1, inside[1])
            rows.append(
                f"| {name} | {result.requests_per_second:.0f} | {spent:.2f} | {in_app:.2f} "
                f"| {spent - in_app:.2f} | {result.non_2xx} |"
            )
    finally:
        server.close()
        thread.join(timeout=10)
        if pin:
            os.sched_setaffinity(0, affinity)
    return (
        "### The same app under waitress in this process (wrk -c1"
        f"{', this process on one CPU and wrk on another' if pin else ''})\n\n" + "\n".join(rows)
    )


# --- report -----------------------------------------------------------------------------


def table(results: Sequence[WrkResult], ceiling: WrkResult) -> str:
    lines = [
        "| endpoint | what | req/s | of ceiling | p50 ms | p99 ms | requests | non-2xx | goal | |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in results:
        share = r.requests_per_second / ceiling.requests_per_second
        goal = GOALS.get(r.name)
        verdict = "" if goal is None else ("PASS" if share >= goal and r.non_2xx == 0 else "MISS")
        if r is ceiling:
            verdict = "ceiling"
        lines.append(
            f"| {r.name} | {r.what} | {r.requests_per_second:.0f} | {share:.0%} "
            f"| {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {r.requests} | {r.non_2xx}{' ' + r.errors if r.errors else ''} "
            f"| {'' if goal is None else f'≥ {goal:.0%}'} | {verdict} |"
        )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.api_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 s per endpoint")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per endpoint")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument(
        "--no-pin", action="store_true", help="do not pin the server and wrk to separate CPUs"
    )
    parser.add_argument("--profile", action="store_true", help="add an in-process cProfile of each endpoint")
    parser.add_argument(
        "--synchronous", choices=["FULL", "NORMAL"], default="FULL", help="SQLITE_SYNCHRONOUS"
    )
    args = parser.parse_args(argv)
    duration = 3.0 if args.quick else args.duration
    if not Path(WRK).exists():
        raise SystemExit("wrk is missing: apt-get install -y wrk")
    pin = not args.no_pin and (os.cpu_count() or 1) >= 2 and shutil.which("taskset") is not None
    began, load_at_start = time.perf_counter(), os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        # One process (WORKERS=1), pinned to one CPU and wrk to the other: the per-process
        # figures (bench.scale_bench measures the default of one worker per CPU).
        server = LiveServer(
            Path(tmp), extra_env={"SQLITE_SYNCHRONOUS": repr(args.synchronous), "WORKERS": "1"}
        )
        server.start()
        try:
            assert server.process is not None
            if pin:
                pin_server(server.process.pid, 0)
            url = server.url
            progress(f"server on {url}; setting up two friends and {HISTORY_SEED} messages")
            setup = set_up(url)
            env = wrk_env(setup) | {"BENCH_PATH": "/api/v1/no-such-thing"}
            cpu = 1 if pin else None
            runs = [
                ("404", "GET unknown /api/v1 path", "get.lua"),
                ("users/me", "GET /api/v1/users/me", "me.lua"),
                ("history", "GET newest 50 of a chat", "history.lua"),
                ("sends", "POST a message", "send.lua"),
                ("logins", "POST /api/v1/login (argon2id)", "login.lua"),
            ]
            results = [
                run_wrk(name, what, url, script, env, duration, args.connections, cpu)
                for name, what, script in runs
            ]
            # The server must still be healthy after the runs.
            expect(requests.get(f"{url}/api/v1/users/me", headers=bearer(setup.token), timeout=10), 200)
        finally:
            server.stop()
        ceiling = max(
            (r for r in results if r.name in ("404", "users/me")), key=lambda r: r.requests_per_second
        )
        report = [
            f"## API throughput (wrk -t1 -c{args.connections}, {duration:g} s each, "
            f"SQLITE_SYNCHRONOUS={args.synchronous!r}; "
            f"{'server on CPU 0, wrk on CPU 1' if pin else 'unpinned'}; {os.cpu_count()} CPUs)\n\n"
            + table(results, ceiling)
            + f"\n\nCeiling: **{ceiling.name}** ({ceiling.what}), the cheapest endpoint measured."
        ]
        if args.profile:
            progress("profiling the endpoints in-process")
            report.append(
                "## Where the server's time goes (in this process, on a copy of the database)\n\n"
                + profile_endpoints(
                    server.database, setup, 2.0 if args.quick else 5.0, args.synchronous, pin=pin
                )
            )
    loads = (load_at_start, os.getloadavg()[0])
    took = time.perf_counter() - began
    report.append(f"_{took:.0f} s in all; load average {loads[0]:.2f} at start, {loads[1]:.2f} at end._")
    print("\n\n".join(report))


if __name__ == "__main__":
    main()
