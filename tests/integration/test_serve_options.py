"""What ``messenger serve`` sets up: the waitress settings (connection limit and idle
timeout from the settings, a connection limit that fits the open-file limit of the
process) and glibc's malloc arenas.

The open-file limit is changed only in child processes, never in the test runner."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.bootstrap import image_decodes
from entrypoints.config import ConfigError, Settings, load_settings
from entrypoints.process import pin_worker, worker_cpu
from entrypoints.server import DESCRIPTORS_BESIDES, DESCRIPTORS_PER_THREAD, WorkGate, waitress_options
from scripts.live_server import ROOT


def options_in_a_child(soft: int, hard: int, **settings: object) -> dict[str, object]:
    """``waitress_options`` computed in a fresh process whose open-file limit is (soft, hard)."""
    code = textwrap.dedent(
        f"""
        import json, logging, resource, sys
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        resource.setrlimit(resource.RLIMIT_NOFILE, ({soft}, {hard}))
        from entrypoints.server import waitress_options
        from entrypoints.config import Settings
        options = waitress_options(Settings(**{settings!r}))
        soft_now = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        print(json.dumps({{"limit": options["connection_limit"], "soft": soft_now}}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60, check=True
    )
    result: dict[str, object] = json.loads(done.stdout)
    result["log"] = done.stderr
    return result


def test_defaults_size_the_connection_limit_from_threads() -> None:
    assert Settings().connection_limit == 1000  # THREADS = 32: far above 4 × 32
    assert Settings(THREADS=400, RESERVED_THREADS=16).connection_limit == 1600
    assert Settings(THREADS=400, RESERVED_THREADS=16, CONNECTION_LIMIT=50).connection_limit == 50


@pytest.mark.parametrize(("workers", "decodes"), [(1, 2), (2, 1), (8, 1)])
def test_the_servers_image_decodes_are_shared_out_among_its_workers(workers: int, decodes: int) -> None:
    # Two 40 MP decodes at once per server (~160 MB each), whatever WORKERS is: measured
    # with bench.media_bench, four at once (two per worker) peaked at idle + 634 MiB.
    assert image_decodes(Settings(SECRET_KEY="x" * 40, WORKERS=workers)) == decodes


def test_waitress_gets_the_limit_the_timeout_and_a_quick_cleanup() -> None:
    options = waitress_options(Settings(CONNECTION_LIMIT=300, CHANNEL_TIMEOUT=7))
    assert options["connection_limit"] == 300
    assert options["channel_timeout"] == 7
    assert options["cleanup_interval"] == 1  # idle connections are looked for every second
    assert options["asyncore_use_poll"] is True


def test_settings_come_from_the_environment() -> None:
    environ = {
        "APP_CONFIG": "entrypoints.config.EnvConfig",
        "APP_ENV_VARS": "SECRET_KEY,CONNECTION_LIMIT,CHANNEL_TIMEOUT",
        "SECRET_KEY": repr("k" * 40),
        "CONNECTION_LIMIT": "2500",
        "CHANNEL_TIMEOUT": "3",
    }
    settings = load_settings(environ)
    assert (settings.connection_limit, settings.CHANNEL_TIMEOUT) == (2500, 3)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CONNECTION_LIMIT", "0"),
        ("CHANNEL_TIMEOUT", "0"),
        ("CHANNEL_TIMEOUT", "2.5"),
        ("WORK_THREADS", "0"),
        ("WORK_THREADS", "33"),  # more than THREADS
    ],
)
def test_nonsense_values_are_refused(name: str, value: str) -> None:
    environ = {
        "APP_CONFIG": "entrypoints.config.EnvConfig",
        "APP_ENV_VARS": f"SECRET_KEY,{name}",
        "SECRET_KEY": repr("k" * 40),
        name: value,
    }
    with pytest.raises(ConfigError, match=name):
        load_settings(environ)


def test_a_low_soft_open_file_limit_is_raised_for_the_connections() -> None:
    # A systemd service or a login shell often starts with a soft limit of 1024.
    result = options_in_a_child(256, 4096)
    needed = 1000 + DESCRIPTORS_PER_THREAD * 32 + DESCRIPTORS_BESIDES
    assert result["limit"] == 1000
    assert result["soft"] == needed
    assert "lowered" not in str(result["log"])


def test_a_low_hard_limit_lowers_the_connection_limit_and_says_so() -> None:
    result = options_in_a_child(400, 400)
    assert result["limit"] == 400 - DESCRIPTORS_PER_THREAD * 32 - DESCRIPTORS_BESIDES
    lowered = 400 - DESCRIPTORS_PER_THREAD * 32 - DESCRIPTORS_BESIDES
    assert f"connection limit lowered from 1000 to {lowered}" in str(result["log"])


ARENA_PROBE = """
import ctypes, ctypes.util, sys, tempfile, threading
from entrypoints.process import tune_malloc
capped = tune_malloc()["arenas"] if sys.argv[1] == "cap" else False
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
libc.fopen.restype = ctypes.c_void_p
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
together = threading.Barrier(8)
def work():  # 8 threads allocating at the same moment: glibc gives each its own arena
    blocks = [libc.malloc(4096) for _ in range(100)]
    together.wait()
    for block in blocks:
        libc.free(block)
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
with tempfile.NamedTemporaryFile("r") as report:
    stream = libc.fopen(report.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(capped, report.read().count("<heap nr="))
"""


def arenas_in_a_child(how: str, **environ: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | environ
    done = subprocess.run(
        [sys.executable, "-c", ARENA_PROBE, how],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    capped, heaps = done.stdout.split()
    return capped, int(heaps)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_serve_caps_the_malloc_arenas() -> None:
    assert arenas_in_a_child("cap") == ("True", 2)
    uncapped = arenas_in_a_child("no cap")
    assert uncapped[0] == "False" and uncapped[1] > 2  # what the cap prevents
    assert arenas_in_a_child("cap", MALLOC_ARENA_MAX="4") == ("False", 4)  # the operator's choice stands


HASH_PROBE = """
import ctypes, ctypes.util, sys, threading
from entrypoints.process import tune_malloc
tuned = tune_malloc()["mmap_threshold"] if sys.argv[1] == "tune" else False
libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def resident():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
def hashes():  # as argon2id does on a request thread: 19 MiB, written, freed, per hash
    for _ in range(3):
        block = libc.malloc(19 * 1024 * 1024)
        ctypes.memset(block, 1, 19 * 1024 * 1024)
        libc.free(block)
before = resident()
for _ in range(2):
    thread = threading.Thread(target=hashes)
    thread.start()
    thread.join()
print(tuned, (resident() - before) // (1024 * 1024))
"""


def kept_after_hashes(how: str, **environ: str) -> tuple[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")} | environ
    done = subprocess.run(
        [sys.executable, "-c", HASH_PROBE, how],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    tuned, kept = done.stdout.split()
    return tuned, int(kept)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_serve_gives_big_freed_blocks_back_to_the_system() -> None:
    tuned, kept = kept_after_hashes("tune")
    assert tuned == "True" and kept < 4
    untuned, kept_untuned = kept_after_hashes("as glibc is")
    assert untuned == "False" and kept_untuned >= 19  # the dynamic threshold keeps a hash's block
    assert kept_after_hashes("tune", MALLOC_MMAP_THRESHOLD_="131072")[0] == "False"  # the operator's choice


def test_the_work_gate_lets_so_many_work_at_once_and_long_polls_pass() -> None:
    """WORK_THREADS=2: of four requests, two work and two wait for a turn; a long-poll
    goes by while the turns are taken."""
    inside, release = threading.Semaphore(0), threading.Event()
    working = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        working.append(environ["PATH_INFO"])
        inside.release()
        if environ["PATH_INFO"] != "/api/v1/events/":
            release.wait()
        return [b"ok"]

    gate = WorkGate(app, 2)
    threads = [
        threading.Thread(target=gate, args=({"PATH_INFO": f"/api/v1/users/{n}"}, None), daemon=True)
        for n in range(4)
    ]
    try:
        for thread in threads:
            thread.start()
        for _ in range(2):
            assert inside.acquire(timeout=30)
        assert gate({"PATH_INFO": "/api/v1/events/"}, None) == [b"ok"]  # trailing slash: a long-poll too
        assert inside.acquire(timeout=30)  # the long-poll's own entry
        assert len(working) == 3 and not inside.acquire(blocking=False)
    finally:
        release.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(working) == ["/api/v1/events/", *(f"/api/v1/users/{n}" for n in range(4))]


@given(st.sets(st.integers(0, 255), min_size=1, max_size=16), st.integers(1, 64))
def test_workers_take_the_allowed_cpus_in_turn(allowed: set[int], workers: int) -> None:
    cpus = [worker_cpu(slot, allowed) for slot in range(workers)]
    assert set(cpus) <= allowed
    counts = [cpus.count(cpu) for cpu in allowed]
    assert max(counts) - min(counts) <= 1  # evenly: no CPU gets two more workers than another
    assert len(set(cpus)) == min(workers, len(allowed))


def test_a_worker_that_may_not_pin_itself_serves_unpinned(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refused(pid: int, cpus: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2})
    monkeypatch.setattr(os, "sched_setaffinity", refused)
    with caplog.at_level("WARNING", logger="messenger"):
        assert pin_worker(1) is None
    assert "cannot pin to CPU 1" in caplog.text


def test_one_cpu_is_nothing_to_pin_to(monkeypatch: pytest.MonkeyPatch) -> None:
    def unexpected(pid: int, cpus: object) -> None:
        raise AssertionError("pinned on a single CPU")

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {3})
    monkeypatch.setattr(os, "sched_setaffinity", unexpected)
    assert pin_worker(0) is None


def test_serve_counts_the_cpus_before_any_worker_pins_itself(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A pinned worker sees one CPU; the defaults that follow from the CPUs (WORKERS,
    HASHING_THREADS, image decodes) are counted once by ``serve``, on every CPU."""
    import entrypoints.config
    import entrypoints.server

    given: list[Settings] = []

    class Supervisor:
        def __init__(self, settings: Settings, listener: socket.socket, workers: int) -> None:
            given.append(settings)
            listener.close()

        def run(self) -> int:
            return 0

    monkeypatch.setattr(entrypoints.config, "available_cpus", lambda: 8)
    monkeypatch.setattr(entrypoints.server, "Supervisor", Supervisor)
    monkeypatch.setattr(entrypoints.server, "tune_malloc", dict)
    settings = Settings(
        SECRET_KEY="x" * 40,
        HOST="127.0.0.1",
        PORT=0,
        WORKERS=None,
        DATABASE_PATH=str(tmp_path / "db.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "up"),
    )
    assert entrypoints.server.serve(settings) == 0
    monkeypatch.setattr(entrypoints.config, "available_cpus", lambda: 1)  # as a pinned worker sees it
    (resolved,) = given
    assert (resolved.WORKERS, resolved.HASHING_THREADS) == (8, 1)
    assert (resolved.workers, resolved.hashing_threads) == (8, 1)
    assert image_decodes(resolved) == image_decodes(attrs.evolve(settings, WORKERS=8))
    assert image_decodes(resolved) < image_decodes(settings)  # what a worker would have counted


STOP_WHILE_STARTING = """
import os, signal, sys
from entrypoints import server
from entrypoints.balance import ConnectionShares
from entrypoints.bootstrap import prepare_database
from entrypoints.config import Settings
from entrypoints.web.limits import SharedPlaces
folder = sys.argv[1]
settings = Settings(
    SECRET_KEY="x" * 40, DATABASE_PATH=folder + "/db.sqlite3", UPLOAD_FOLDER=folder + "/up",
    WORKERS=2, PIN_WORKERS=False, DEMO_DATA=False,
)
prepare_database(settings)
alive, gone = os.pipe()
os.close(gone)  # the supervisor died before this worker got going
inbox, sibling = os.pipe()
arm = server._stop_with
def stop_while_arming(fd):
    # The stop the watch sends when it finds the pipe closed, landing before waitress's
    # loop runs: here the handler raises at once, as it may when the watch is that quick.
    os.kill(os.getpid(), signal.SIGTERM)
    arm(fd)
server._stop_with = stop_while_arming
place = server.Place(
    slot=1, inbox=inbox, siblings=[sibling], places=SharedPlaces(2), shares=ConnectionShares(2),
    supervisor_alive=alive,
)
print("returned", server.run_worker(settings, server.bind_listener("127.0.0.1", 0), place))
"""


def test_a_worker_told_to_stop_while_it_starts_stops_cleanly(tmp_path: Path) -> None:
    """A worker the supervisor started just before it died gets its stop before waitress's
    loop runs; that is a clean stop (status 0, no traceback in the log), as in the loop."""
    done = subprocess.run(
        [sys.executable, "-c", STOP_WHILE_STARTING, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert (done.returncode, done.stdout.split()) == (0, ["returned", "0"]), done.stderr
