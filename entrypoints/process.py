"""What a server process sets up about itself: its limit on open files, glibc's malloc,
and the CPU its threads run on."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import resource
from collections.abc import Callable
from collections.abc import Set as AbstractSet

log = logging.getLogger("messenger")


def raise_open_file_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files to ``wanted`` when it is lower,
    as far as the hard limit allows; returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= wanted:
        return wanted if soft == resource.RLIM_INFINITY else soft
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    except (ValueError, OSError):
        return soft
    return target


MALLOC_ARENAS = 2
M_MMAP_THRESHOLD = -3  # mallopt's parameter numbers, from glibc's malloc.h
M_ARENA_MAX = -8
# Allocations from this size on get pages of their own, returned to the system on free.
MMAP_THRESHOLD = 1024 * 1024


def tune_malloc(arenas: int = MALLOC_ARENAS, mmap_threshold: int = MMAP_THRESHOLD) -> dict[str, bool]:
    """Make glibc's malloc give big blocks back: cap its arenas (as ``MALLOC_ARENA_MAX``
    would) and fix the size from which a block is mapped on its own (as
    ``MALLOC_MMAP_THRESHOLD_`` would), each unless the environment already sets it.
    Returns which were set (none on another C library).

    Measured (one process, 10 s of ``wrk -c4`` logins; before: 56–74 MiB idle and
    VmHWM 214–226 MiB through the logins): argon2id takes 19 MiB per hash from malloc.
    glibc maps the first such block on its own and unmaps it on free, but then raises its
    threshold to that size, so every later hash comes from an arena, whose freed memory
    stays in the process (the start-up's one dummy hash alone kept 19 MiB). A fixed
    threshold stops that rise: every 19 MiB block (and Pillow's 16 MB ones) is unmapped
    when freed (after: 56 MiB idle, VmHWM 141 MiB, back to 61 MiB). The arena cap keeps
    smaller freed memory of many threads from piling up apart.
    """
    done = {"arenas": False, "mmap_threshold": False}
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return done
    if "MALLOC_ARENA_MAX" not in os.environ:
        done["arenas"] = bool(mallopt(M_ARENA_MAX, arenas))
    if "MALLOC_MMAP_THRESHOLD_" not in os.environ:
        done["mmap_threshold"] = bool(mallopt(M_MMAP_THRESHOLD, mmap_threshold))
    return done


def worker_cpu(slot: int, allowed: AbstractSet[int]) -> int:
    """The CPU of worker ``slot`` among the ``allowed`` ones: taken in turn."""
    cpus = sorted(allowed)
    return cpus[slot % len(cpus)]


def pin_worker(slot: int) -> Callable[[], None] | None:
    """Put this thread, and every thread it starts from now on, on worker ``slot``'s CPU
    (``worker_cpu``); returns what lets a thread run on every CPU the process was allowed
    again, for the password-hashing threads (None where the system cannot pin, or there is
    one CPU anyway).

    Threads of one process that take the GIL in turns from two CPUs hand it across them,
    and each hand-over wakes a thread on the other CPU. Measured (``bench.scale_bench``,
    ``wrk -c8``, two workers on a 2-CPU machine), unpinned against pinned: a newest-50 page
    1.54–1.56 against 1.31–1.35 ms of CPU (1,078–1,096 against 1,421–1,458 pages/s), a
    ``users/me`` 0.53–0.55 against 0.32–0.33 ms. Hashing holds no GIL while it computes,
    so its threads may run on any CPU, as one worker's storm of sign-ins needs."""
    if not hasattr(os, "sched_setaffinity"):
        return None
    allowed = frozenset(os.sched_getaffinity(0))
    if len(allowed) < 2:
        return None
    cpu = worker_cpu(slot, allowed)
    try:
        os.sched_setaffinity(0, {cpu})
    except OSError as error:  # a sandbox that forbids it: serve unpinned
        log.warning("worker %d: cannot pin to CPU %d (%s); the kernel places its threads", slot, cpu, error)
        return None
    return functools.partial(os.sched_setaffinity, 0, allowed)
