"""Media through a real server: upload and download throughput, and memory under uploads.

    python -m bench.media_bench [--rounds 5]

Starts ``python __main__.py`` (waitress) on a free loopback port with a temporary
database and UPLOAD_FOLDER (``scripts.live_server.LiveServer``), then

1. peak memory: the server's resident set size while 4 clients upload 16 MiB each at
   once (the default MAX_CONTENT_LENGTH), against its idle size after a warm-up. The
   peak is the larger of VmRSS sampled every 5 ms and VmHWM (the kernel's high-water
   mark, reset through ``/proc/<pid>/clear_refs`` before the uploads start). Target:
   peak ≤ idle + 64 MiB. Measured first, so the throughput rounds cannot raise it;
2. upload and download throughput of a 10 MiB file, one request at a time: the median
   of ``--rounds`` rounds, in MB/s (10^6 bytes per second) of file bytes.

Request bodies are built before the clock starts, so the client's work is not timed.
Progress goes to stderr, the Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

from scripts.live_server import LiveServer, bearer, sign_up

MiB = 1024 * 1024
BOUNDARY = "----media-bench-boundary"
THROUGHPUT_SIZE = 10 * MiB
CONCURRENT_SIZE = 16 * MiB
CONCURRENT_UPLOADS = 4
HEADROOM = 64 * MiB


def multipart(name: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM of a process, in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def reset_high_water_mark(pid: int) -> bool:
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:  # not allowed here: VmHWM then counts from the server's start
        return False


class Sampler:
    """Samples a process's VmRSS on a thread until stopped; keeps the largest."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, memory(self.pid)["VmRSS"])
            time.sleep(self.interval)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def upload(url: str, token: str, body: bytes, headers: dict[str, str]) -> requests.Response:
    return requests.post(f"{url}/api/v1/attachments", data=body, headers=bearer(token) | headers, timeout=300)


@dataclass(frozen=True)
class Memory:
    idle: int
    peak: int
    exact: bool  # VmHWM was reset right before the uploads
    seconds: float


def peak_memory(server: LiveServer, token: str) -> Memory:
    pid = server.process.pid if server.process else 0
    # Warm up: import and touch every code path of an upload and a download once.
    body, headers = multipart("warm-up.bin", os.urandom(256 * 1024))
    warm = upload(server.url, token, body, headers)
    warm.raise_for_status()
    requests.get(
        server.url + warm.json()["attachment"]["url"], headers=bearer(token), timeout=60
    ).raise_for_status()
    time.sleep(0.5)
    idle = memory(pid)["VmRSS"]
    bodies = [multipart(f"big-{i}.bin", os.urandom(CONCURRENT_SIZE)) for i in range(CONCURRENT_UPLOADS)]
    exact = reset_high_water_mark(pid)
    print(f"idle RSS {idle / MiB:.1f} MiB; {CONCURRENT_UPLOADS} × 16 MiB uploads…", file=sys.stderr)
    with Sampler(pid) as sampler, ThreadPoolExecutor(CONCURRENT_UPLOADS) as pool:
        started = time.perf_counter()
        results = list(pool.map(lambda b: upload(server.url, token, *b), bodies))
        seconds = time.perf_counter() - started
    statuses = sorted({r.status_code for r in results})
    if statuses != [201]:
        raise SystemExit(f"the concurrent uploads answered {statuses}: {results[0].text[:300]}")
    peak = max(sampler.peak, memory(pid)["VmHWM"])
    return Memory(idle=idle, peak=peak, exact=exact, seconds=seconds)


def throughput(server: LiveServer, token: str, rounds: int) -> tuple[list[float], list[float]]:
    data = os.urandom(THROUGHPUT_SIZE)
    body, headers = multipart("ten.bin", data)
    uploads, downloads = [], []
    for round in range(rounds):
        started = time.perf_counter()
        sent = upload(server.url, token, body, headers)
        uploads.append(THROUGHPUT_SIZE / (time.perf_counter() - started) / 1e6)
        sent.raise_for_status()
        url = server.url + sent.json()["attachment"]["url"]
        started = time.perf_counter()
        received = 0
        with requests.get(url, headers=bearer(token), stream=True, timeout=120) as response:
            response.raise_for_status()
            for chunk in response.iter_content(1024 * 1024):
                received += len(chunk)
        downloads.append(THROUGHPUT_SIZE / (time.perf_counter() - started) / 1e6)
        if received != THROUGHPUT_SIZE:
            raise SystemExit(f"downloaded {received} bytes, expected {THROUGHPUT_SIZE}")
        print(f"round {round + 1}: up {uploads[-1]:.0f} MB/s, down {downloads[-1]:.0f} MB/s", file=sys.stderr)
    return uploads, downloads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds (median is reported)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="media-bench-") as folder, LiveServer(Path(folder)) as server:
        _, token = sign_up(server.url, "bench@example.com")
        mem = peak_memory(server, token)
        ups, downs = throughput(server, token, args.rounds)
    idle, peak = mem.idle, mem.peak
    verdict = "PASS" if peak <= idle + HEADROOM else "MISS"
    how = "VmHWM reset before the uploads" if mem.exact else "VmHWM since start"
    print(f"\n### Media through the server (waitress, {os.cpu_count()} CPUs)\n")
    print("| measure | value | target | result |")
    print("| --- | ---: | --- | --- |")
    print(f"| upload 10 MiB, median of {len(ups)} | {statistics.median(ups):.0f} MB/s | | |")
    print(f"| download 10 MiB, median of {len(downs)} | {statistics.median(downs):.0f} MB/s | | |")
    print(f"| server RSS idle (after warm-up) | {idle / MiB:.1f} MiB | | |")
    print(
        f"| server peak RSS, {CONCURRENT_UPLOADS} concurrent 16 MiB uploads ({how}) "
        f"| {peak / MiB:.1f} MiB (+{(peak - idle) / MiB:.1f}) "
        f"| ≤ idle + 64 MiB ({(idle + HEADROOM) / MiB:.1f}) | {verdict} |"
    )
    print(f"| the {CONCURRENT_UPLOADS} uploads together | {mem.seconds:.2f} s | | |")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
