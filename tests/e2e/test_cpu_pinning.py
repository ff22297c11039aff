"""Each worker's threads run on a CPU of its own (PIN_WORKERS, on by default), password
hashing aside, whose threads may run on every CPU; a replaced worker gets its slot's CPU
again; a lone process, and any with PIN_WORKERS=False, is left to the kernel. Read from
each thread's Cpus_allowed_list in /proc."""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.live_server import LiveServer, sign_up

ALLOWED = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(len(ALLOWED) < 2, reason="needs Linux and at least 2 CPUs to pin to"),
]

DEADLINE = 30.0
THREADS = 16  # waitress's request threads in each worker


def cpu_list(text: str) -> set[int]:
    """The CPUs of a list like ``0-2,5``."""
    cpus: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        cpus.update(range(int(first), int(last or first) + 1))
    return cpus


def thread_cpus(pid: int) -> list[frozenset[int]]:
    """The CPUs each thread of the process may run on."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            status = (task / "status").read_text()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        line = next(line for line in status.splitlines() if line.startswith("Cpus_allowed_list:"))
        found.append(frozenset(cpu_list(line.split()[1])))
    return found


def pinned_cpu(pid: int) -> tuple[int, Counter[frozenset[int]]]:
    """The one CPU most of the process's threads are pinned to, and every mask's count."""
    masks = Counter(thread_cpus(pid))
    narrow = [mask for mask in masks if len(mask) == 1]
    assert len(narrow) == 1, f"threads pinned to several CPUs: {masks}"
    return next(iter(narrow[0])), masks


def serve(tmp_path: Path, **env: str) -> LiveServer:
    return LiveServer(tmp_path, extra_env=env)


@pytest.fixture
def two_workers(tmp_path: Path) -> Iterator[LiveServer]:
    with serve(tmp_path, WORKERS="2", HASHING_THREADS="1", THREADS=str(THREADS)) as live:
        yield live


def sign_ins_until_hashed_on_every_cpu(server: LiveServer, pid: int) -> Counter[frozenset[int]]:
    """Sign-ins until the worker has started its hashing thread (a hash runs at start-up
    and on each sign-in, on whichever worker takes it)."""
    deadline = time.monotonic() + DEADLINE
    count = 0
    while True:
        _, masks = pinned_cpu(pid)
        if masks[frozenset(ALLOWED)]:
            return masks
        assert time.monotonic() < deadline, f"no hashing thread on every CPU: {masks}"
        count += 1
        sign_up(server.url, f"pin{count}@example.org")


def test_each_worker_runs_on_a_cpu_of_its_own_and_hashes_on_every_cpu(two_workers: LiveServer) -> None:
    pids = two_workers.worker_pids()
    assert len(pids) == 2
    cpus = {pid: pinned_cpu(pid)[0] for pid in pids}
    assert sorted(cpus.values()) == ALLOWED[:2]
    for pid in pids:
        sign_ins_until_hashed_on_every_cpu(two_workers, pid)
        deadline = time.monotonic() + DEADLINE
        while (masks := pinned_cpu(pid)[1])[frozenset({cpus[pid]})] < THREADS:
            assert time.monotonic() < deadline, f"the request threads never started: {masks}"
            time.sleep(0.05)
        # Besides the pinned request threads, only hashing (HASHING_THREADS=1) is free.
        assert set(masks) == {frozenset({cpus[pid]}), frozenset(ALLOWED)}, masks
        assert masks[frozenset(ALLOWED)] == 1, masks


def test_a_replaced_worker_gets_its_slots_cpu_again(two_workers: LiveServer) -> None:
    before = {pinned_cpu(pid)[0]: pid for pid in two_workers.worker_pids()}
    victim_cpu = ALLOWED[0]
    os.kill(before[victim_cpu], signal.SIGKILL)
    deadline = time.monotonic() + DEADLINE
    while True:
        pids = set(two_workers.worker_pids())
        if len(pids) == 2 and before[victim_cpu] not in pids:
            replacement = (pids - set(before.values())).pop()
            try:
                cpu = pinned_cpu(replacement)[0]
                break
            except (AssertionError, FileNotFoundError):  # still pinning itself, or gone again
                pass
        assert time.monotonic() < deadline, "the killed worker was not replaced"
        time.sleep(0.05)
    assert cpu == victim_cpu


def test_a_lone_process_is_left_where_it_runs(tmp_path: Path) -> None:
    """WORKERS=1 may be one of several servers on the host (one per port behind nginx):
    pinned, they would all share the first CPU."""
    with serve(tmp_path, WORKERS="1") as live:
        (pid,) = live.worker_pids()
        assert set(thread_cpus(pid)) == {frozenset(ALLOWED)}


def test_without_pinning_every_thread_may_run_on_every_cpu(tmp_path: Path) -> None:
    with serve(tmp_path, WORKERS="2", PIN_WORKERS="False") as live:
        for pid in live.worker_pids():
            assert set(thread_cpus(pid)) == {frozenset(ALLOWED)}
