"""Correct-password sign-ins as CPU exhaustion: other users' latency while 16 threads sign in.

    python -m bench.login_storm_bench [--threads 16] [--seconds 10] [--also 1]

Against ``python __main__.py`` (``scripts.live_server``: a temporary database,
``RATE_LIMITS_ENABLED=False`` so the sign-ins are not throttled away and only the
hashing bound is measured), once with ``HASHING_THREADS`` as high as the
threads (no bound in effect), once with the default and once with each ``--also``. Each signing-in thread uses
its own account. A probe client meanwhile asks ``GET /api/v1/users/me`` (a token check
and one lookup) in a loop, first with nobody signing in, then during the storm.
About (3 + seconds) s a row. Progress goes to stderr, the table to stdout.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import requests

from entrypoints.config import Settings
from scripts.live_server import PASSWORD, LiveServer, bearer, expect, sign_up

IDLE_SECONDS = 3.0


def progress(message: str) -> None:
    print(f"[login_storm_bench] {message}", file=sys.stderr, flush=True)


def probe(url: str, token: str, seconds: float) -> list[float]:
    """users/me latencies in ms, one request after another, for ``seconds``."""
    latencies: list[float] = []
    with requests.Session() as session:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            start = time.perf_counter()
            expect(session.get(f"{url}/api/v1/users/me", headers=bearer(token), timeout=30), 200)
            latencies.append((time.perf_counter() - start) * 1000)
    return latencies


def storm(url: str, emails: Sequence[str], stop: threading.Event, done: list[int]) -> list[threading.Thread]:
    def sign_in(email: str) -> None:
        with requests.Session() as session:
            while not stop.is_set():
                body = {"email": email, "password": PASSWORD}
                expect(session.post(f"{url}/api/v1/login", json=body, timeout=60), 200)
                done.append(1)

    threads = [threading.Thread(target=sign_in, args=(email,), daemon=True) for email in emails]
    for thread in threads:
        thread.start()
    return threads


def percentile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(folder: Path, at_once: int, threads: int, seconds: float) -> str:
    with LiveServer(folder, extra_env={"HASHING_THREADS": str(at_once)}) as server:
        _, token = sign_up(server.url, "probe@example.org")
        emails = [f"storm{n}@example.org" for n in range(threads)]
        for email in emails:
            sign_up(server.url, email)
        idle = probe(server.url, token, IDLE_SECONDS)
        stop, done = threading.Event(), list[int]()
        started = time.monotonic()
        workers = storm(server.url, emails, stop, done)
        busy = probe(server.url, token, seconds)
        stop.set()
        elapsed = time.monotonic() - started
        for worker in workers:
            worker.join(60)
    return (
        f"| {at_once} | {statistics.median(idle):.1f} | {statistics.median(busy):.1f} | "
        f"{percentile(busy, 0.95):.1f} | {max(busy):.1f} | {len(busy)} | {len(done) / elapsed:.1f} |"
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--also", type=int, action="append", default=[], help="another bound to measure")
    args = parser.parse_args(argv)
    default = Settings().hashing_threads
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for at_once in dict.fromkeys([args.threads, default, *args.also]):
            progress(f"HASHING_THREADS={at_once}, {args.threads} threads signing in")
            rows.append(run(Path(tmp) / f"at{at_once}", at_once, args.threads, args.seconds))
    print(f"{args.threads} threads sign in for {args.seconds:.0f} s; a probe asks users/me.\n")
    workers = Settings().workers
    print(f"HASHING_THREADS is per worker; the server runs WORKERS={workers} (the default: one per CPU).\n")
    print(
        "| HASHING_THREADS | users/me p50 ms, idle | p50 ms, storm | p95 ms, storm"
        " | max ms, storm | probes | sign-ins/s |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
