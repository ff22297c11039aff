"""Media through a real server: upload and download throughput, and memory under uploads.

    python -m bench.media_bench [--rounds 5]

Starts ``python __main__.py`` (waitress) on a free loopback port with a temporary
database and UPLOAD_FOLDER (``scripts.live_server.LiveServer``), every other setting its
default (``WORKERS`` = one per CPU: the server's memory is that of all its workers), then

1. peak memory: the server's resident set size while 4 clients upload 16 MiB each at
   once (the default MAX_CONTENT_LENGTH), against its idle size after a warm-up. The
   peak is the larger of VmRSS sampled every 5 ms and VmHWM (the kernel's high-water
   mark, reset through ``/proc/<pid>/clear_refs`` before the uploads start). Target:
   peak ≤ idle + 64 MiB. Measured first, so the throughput rounds cannot raise it;
2. big images: 8 clients at once upload the same 40-megapixel PNG (8000×5000, a few
   hundred KB compressed, ~150 MiB decoded) as an attachment, then as their avatar;
   then an 8000×8000 one (64 MP, over the server's cap). The server's peak RSS (as in 1)
   against its idle size before the burst, and its RSS once the burst is over (the
   lowest seen within 10 s of the last answer). Targets: peak ≤ idle + 400 MiB, and back
   within 50 MiB of idle afterwards;
3. upload and download throughput of a 10 MiB file, one request at a time: the median
   of ``--rounds`` rounds, in MB/s (10^6 bytes per second) of file bytes.

Request bodies are built before the clock starts, so the client's work is not timed.
Progress goes to stderr, the Markdown table to stdout.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
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
IMAGE_UPLOADS = 8
IMAGE_HEADROOM = 400 * MiB  # peak over idle while 8 big images are decoded
IMAGE_AFTER = 50 * MiB  # RSS over idle once they are done
SETTLE_SECONDS = 10.0


def multipart(name: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    head = (
        f"--{BOUNDARY}\r\n"
        f'Content-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    body = head + data + f"\r\n--{BOUNDARY}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


def memory(pids: list[int]) -> dict[str, int]:
    """VmRSS and VmHWM of the server's processes (every worker), summed, in bytes. The
    sum of high-water marks is an upper bound: the workers need not peak at once."""
    found = {"VmRSS": 0, "VmHWM": 0}
    for pid in pids:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in found:
                found[key] += int(value.split()[0]) * 1024
    return found


def reset_high_water_mark(pids: list[int]) -> bool:
    try:
        for pid in pids:
            Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:  # not allowed here: VmHWM then counts from the server's start
        return False


class Sampler:
    """Samples the server's VmRSS (all workers) on a thread until stopped; keeps the largest."""

    def __init__(self, pid: list[int], interval: float = 0.005) -> None:
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
    pid = server.worker_pids()  # every worker (WORKERS defaults to one per CPU)
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


def big_png(width: int, height: int) -> bytes:
    """A flat picture with a few shapes: tiny compressed, huge decoded (a "bomb")."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), "#86c5ff")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, height * 2 // 3, width, height), fill="#3f9b4a")
    draw.ellipse((width - 2000, 400, width - 800, 1600), fill="#ffd23f")
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


@dataclass(frozen=True)
class Burst:
    what: str
    statuses: list[int]
    idle: int
    peak: int
    after: int
    seconds: float


def image_burst(
    server: LiveServer, tokens: list[str], what: str, data: bytes, avatar: bool, idle: int = 0
) -> Burst:
    """``len(tokens)`` clients upload ``data`` at once; the server's memory around it,
    against ``idle`` (the server's RSS right before, when not given)."""
    pid = server.worker_pids()  # every worker (WORKERS defaults to one per CPU)
    body, headers = multipart("big.png", data)
    headers = headers | {"Content-Type": headers["Content-Type"].replace("octet-stream", "png")}

    def send(token: str) -> int:
        if avatar:
            url = f"{server.url}/api/v1/users/me/avatar"
            return requests.put(url, data=body, headers=bearer(token) | headers, timeout=300).status_code
        return upload(server.url, token, body, headers).status_code

    idle = idle or memory(pid)["VmRSS"]
    reset_high_water_mark(pid)
    print(f"{what}: RSS {memory(pid)['VmRSS'] / MiB:.1f} MiB…", file=sys.stderr)
    with Sampler(pid) as sampler, ThreadPoolExecutor(len(tokens)) as pool:
        started = time.perf_counter()
        statuses = list(pool.map(send, tokens))
        seconds = time.perf_counter() - started
    peak = max(sampler.peak, memory(pid)["VmHWM"])
    after = memory(pid)["VmRSS"]
    deadline = time.monotonic() + SETTLE_SECONDS
    while after > idle + IMAGE_AFTER and time.monotonic() < deadline:
        time.sleep(0.25)
        after = min(after, memory(pid)["VmRSS"])
    return Burst(what, statuses, idle, peak, after, seconds)


def image_bursts(server: LiveServer, tokens: list[str]) -> list[Burst]:
    # Warm up the image code paths (Pillow's plugins, the avatar route) with small images.
    small = big_png(2400, 1800)
    for avatar in (False, True):
        image_burst(server, tokens[:1], "warm-up", small, avatar)
    forty, sixty_four = big_png(8000, 5000), big_png(8000, 8000)
    print(
        f"40 MP PNG: {len(forty) / 1024:.0f} KiB; 64 MP PNG: {len(sixty_four) / 1024:.0f} KiB",
        file=sys.stderr,
    )
    time.sleep(0.5)
    pid = server.worker_pids()  # every worker (WORKERS defaults to one per CPU)
    idle = memory(pid)["VmRSS"]  # every burst is held against the idle server, not the last burst
    bursts = [
        ("attachments, 40 MP PNG", forty, False),
        ("avatars, 40 MP PNG", forty, True),
        ("attachments, 64 MP PNG (over the cap)", sixty_four, False),
        ("avatars, 64 MP PNG (over the cap)", sixty_four, True),
    ]
    return [image_burst(server, tokens, what, data, avatar, idle) for what, data, avatar in bursts]


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
        others = [sign_up(server.url, f"bench{i}@example.com")[1] for i in range(1, IMAGE_UPLOADS)]
        bursts = image_bursts(server, [token, *others])
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
    verdicts = [verdict]
    if bursts:
        print(f"| server RSS before the image bursts | {bursts[0].idle / MiB:.1f} MiB | | |")
    for burst in bursts:
        peak_ok = burst.peak <= burst.idle + IMAGE_HEADROOM
        after_ok = burst.after <= burst.idle + IMAGE_AFTER
        verdicts += ["PASS" if peak_ok else "MISS", "PASS" if after_ok else "MISS"]
        answers = ", ".join(f"{n}× {s}" for s, n in sorted(Counter(burst.statuses).items()))
        print(
            f"| {len(burst.statuses)} concurrent {burst.what}: answers "
            f"| {answers} in {burst.seconds:.1f} s | | |"
        )
        print(
            f"| … server peak RSS | {burst.peak / MiB:.1f} MiB (+{(burst.peak - burst.idle) / MiB:.1f}) "
            f"| ≤ idle + 400 MiB ({(burst.idle + IMAGE_HEADROOM) / MiB:.1f}) | {verdicts[-2]} |"
        )
        print(
            f"| … server RSS after (lowest within {SETTLE_SECONDS:.0f} s) | {burst.after / MiB:.1f} MiB "
            f"(+{(burst.after - burst.idle) / MiB:.1f}) "
            f"| ≤ idle + 50 MiB ({(burst.idle + IMAGE_AFTER) / MiB:.1f}) | {verdicts[-1]} |"
        )
    return 0 if all(v == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    raise SystemExit(main())
