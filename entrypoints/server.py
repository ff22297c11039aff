"""``messenger serve``: WORKERS processes serving one listening socket, under a supervisor.

One Python process is bound by the GIL to about one core, so the server runs a worker per
CPU by default, each pinned to a CPU of its own (``pin_worker``). The supervisor migrates
the database, binds the socket and forks the workers, which inherit it and accept from it
in turn (waitress serves a pre-bound socket, ``sockets=[...]``). It restarts a worker that
dies (pausing longer after each quick death, up to 5 s) and stops them all on SIGTERM,
SIGINT or SIGHUP; a worker whose supervisor is gone (even ``kill -9``) sees its end of a
pipe close and stops too.
``WORKERS=1`` is one process, as before: no supervisor, no fork.

What must hold across workers, and where it does:

- writes: every writer waits its turn in the database's write queue (a file lock), so
  writers of several workers take turns instead of sleeping in SQLite's busy handler;
- live delivery: one pipe per worker, made before the fork; a notification in one worker
  goes down its siblings' pipes (``WorkerEventNotifier``);
- rate limits: buckets in the database (``RateLimitStore``); token revocation: every
  request checks the token's identity in the database, so a revoked token fails on
  every worker at once (the token cache holds only verified signatures);
- long-poll places per user and per address: counted in memory every worker shares
  (``SharedPlaces``); a dead worker's places are cleared before its replacement starts;
- clean-up (unsent uploads, old events, full buckets) runs in worker 0 only;
- connections: each worker takes new ones only while it holds about as many as the least
  loaded one (``ConnectionShares``), so a burst of them is shared out.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import traceback
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import attrs

from .balance import ConnectionShares, balance
from .config import Settings
from .process import pin_worker, raise_open_file_limit, tune_malloc

if TYPE_CHECKING:
    from messenger_core import Messenger
    from messenger_core.ports import RateLimitStore

    from .web.limits import SharedPlaces

log = logging.getLogger("messenger")

BACKLOG = 1024  # connections the kernel queues for the workers to accept
STOP_TIMEOUT = 10.0  # seconds workers get to stop before they are killed
RESTART_PAUSE_MAX = 5.0  # seconds between restarts of a worker that keeps dying at once
QUICK_DEATH = 2.0  # a worker that dies sooner than this after its start is restarted later
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def serve(settings: Settings) -> int:
    """Run the server as the settings say; returns the exit status."""
    from .bootstrap import prepare_database

    tune_malloc()  # before any thread or worker exists: the workers inherit it
    # What the CPUs decide is counted once, here: a pinned worker sees only its own CPU.
    settings = attrs.evolve(settings, WORKERS=settings.workers, HASHING_THREADS=settings.hashing_threads)
    prepare_database(settings)
    listener = bind_listener(settings.HOST, settings.PORT)
    host, port = listener.getsockname()[:2]
    workers = settings.workers
    print(
        f"Messenger is running on http://{host}:{port}/ (database {settings.database_label}, "
        f"{workers} worker{'s' if workers > 1 else ''})",
        flush=True,
    )
    if workers == 1:
        return run_worker(settings, listener, None)
    return Supervisor(settings, listener, workers).run()


def bind_listener(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) and listening, for every worker to accept from."""
    family = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM)[0][0]
    listener = socket.create_server((host, port), family=family, backlog=BACKLOG)
    listener.setblocking(False)
    return listener


@attrs.frozen
class Place:
    """What a forked worker is given: its number, its pipe of wake-ups and its siblings',
    the places every worker counts in, and its end of the supervisor's life pipe."""

    slot: int
    inbox: int
    siblings: Sequence[int]
    places: SharedPlaces
    shares: ConnectionShares
    supervisor_alive: int


def run_worker(settings: Settings, listener: socket.socket, place: Place | None) -> int:
    """Serve on the listener until told to stop (SIGTERM, or the supervisor's end)."""
    from waitress.server import create_server

    from .bootstrap import build_server, sibling_notifier
    from .web.app import create_app

    # A lone process is left where it runs: it may be one of several on the host (one per
    # port behind nginx), which pinned would all share the first CPU.
    unpin = pin_worker(place.slot) if settings.PIN_WORKERS and place is not None else None
    notifier = None
    if place is not None:
        place.places.row = place.slot
        # Polling and LISTEN/NOTIFY see every process on the database already.
        if settings.NOTIFIER == "threading":
            notifier = sibling_notifier(place.inbox, place.siblings)
    messenger, rate_limits = build_server(settings, notifier=notifier, hashing_thread_start=unpin)
    app = create_app(messenger, settings, rate_limits=rate_limits, places=place.places if place else None)
    served: Any = app if settings.WORK_THREADS is None else WorkGate(app, settings.WORK_THREADS)
    server = create_server(served, sockets=[listener], **waitress_options(settings))
    if place is not None:
        balance(server, place.shares, place.slot)
    if place is None or place.slot == 0:
        _start_maintenance(messenger, rate_limits, settings.MAINTENANCE_INTERVAL)
    # waitress's loop ends on SystemExit or KeyboardInterrupt and then lets the request
    # threads finish (up to 5 s). A stop may land before the loop runs, too: a worker
    # started just as the supervisor died finds its life pipe closed at once. From the
    # handler on, wherever the SystemExit lands, it is a clean stop.
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        signal.signal(signal.SIGTERM, _exit_loop)
        if place is not None:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the supervisor stops us
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            _stop_with(place.supervisor_alive)
        server.run()
    return 0


class WorkGate:
    """At most ``limit`` requests worked on at once in this process (``WORK_THREADS``):
    the other request threads wait their turn parked, instead of taking the GIL in turns.
    Long-polls pass (they wait for events, holding no turn); an answer's body is sent
    after the turn ends. Waitress has no way to park a request without a thread, so
    THREADS still counts the waiters; this bounds only the work."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app = app
        self._gate = threading.BoundedSemaphore(limit)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("PATH_INFO", "").rstrip("/") == "/api/v1/events":
            return self.app(environ, start_response)
        with self._gate:
            return self.app(environ, start_response)


def _exit_loop(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _stop_with(supervisor_alive: int) -> None:
    """Stop this worker when the supervisor's end of the pipe closes (it died)."""

    def watch() -> None:
        with contextlib.suppress(OSError):
            while os.read(supervisor_alive, 1):
                pass
        log.warning("worker %d: the supervisor is gone; stopping", os.getpid())
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="supervisor-watch", daemon=True).start()


class Supervisor:
    """Forks the workers and keeps them running; stops them on a stop signal."""

    def __init__(self, settings: Settings, listener: socket.socket, workers: int) -> None:
        from .web.limits import SharedPlaces

        self.settings = settings
        self.listener = listener
        self.count = workers
        self.places = SharedPlaces(workers)
        self.shares = ConnectionShares(workers)
        self.pipes = [os.pipe() for _ in range(workers)]  # each worker's wake-ups
        for _, writer in self.pipes:
            os.set_blocking(writer, False)
        self.alive_reader, self.alive_writer = os.pipe()  # closes when the supervisor dies
        self.running: dict[int, int] = {}  # pid → slot
        self.started: dict[int, float] = {}  # slot → when
        self.quick_deaths: dict[int, int] = dict.fromkeys(range(workers), 0)
        self.restarts: dict[int, float] = {}  # slot → when to start it again

    def run(self) -> int:
        watched = {signal.SIGCHLD, *STOP_SIGNALS}
        self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, watched)
        try:
            for slot in range(self.count):
                self.start(slot)
            while True:
                info = self._next_signal(watched)
                if info is None:
                    self._restart_due()
                elif info.si_signo == signal.SIGCHLD:
                    self._reap()
                else:
                    log.info("supervisor: %s; stopping the workers", signal.Signals(info.si_signo).name)
                    break
            self.stop()
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
        return 0

    def start(self, slot: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            status = 1
            try:
                signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)
                os.close(self.alive_writer)
                for other, (reader, _) in enumerate(self.pipes):
                    if other != slot:
                        os.close(reader)
                place = Place(
                    slot=slot,
                    inbox=self.pipes[slot][0],
                    siblings=[writer for other, (_, writer) in enumerate(self.pipes) if other != slot],
                    places=self.places,
                    shares=self.shares,
                    supervisor_alive=self.alive_reader,
                )
                status = run_worker(self.settings, self.listener, place)
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(status)
        self.running[pid] = slot
        self.started[slot] = time.monotonic()
        log.info("supervisor: worker %d started (pid %d)", slot, pid)

    def stop(self) -> None:
        for pid in self.running:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while self.running and time.monotonic() < deadline:
            signal.sigtimedwait({signal.SIGCHLD}, max(0.01, min(0.5, deadline - time.monotonic())))
            self._reap(restart=False)
        for pid in list(self.running):
            log.warning("supervisor: worker pid %d did not stop in time; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            del self.running[pid]

    def _next_signal(self, watched: set[signal.Signals]) -> Any:
        if not self.restarts:
            return signal.sigwaitinfo(watched)
        wait = min(self.restarts.values()) - time.monotonic()
        return signal.sigtimedwait(watched, max(0.0, wait)) if wait > 0 else None

    def _reap(self, *, restart: bool = True) -> None:
        while self.running:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = self.running.pop(pid, None)
            if slot is None:
                continue
            self.places.clear(slot)  # its long-polls are gone with it
            self.shares.clear(slot)  # and its connections
            if not restart:
                continue
            lived = time.monotonic() - self.started[slot]
            self.quick_deaths[slot] = self.quick_deaths[slot] + 1 if lived < QUICK_DEATH else 0
            pause = (
                min(RESTART_PAUSE_MAX, 0.1 * 2 ** (self.quick_deaths[slot] - 1))
                if self.quick_deaths[slot]
                else 0
            )
            log.warning(
                "supervisor: worker %d (pid %d) ended (%s) after %.1f s; restarting it%s",
                slot,
                pid,
                _describe(status),
                lived,
                f" in {pause:.1f} s" if pause else "",
            )
            self.restarts[slot] = time.monotonic() + pause
        self._restart_due()

    def _restart_due(self) -> None:
        now = time.monotonic()
        for slot, when in list(self.restarts.items()):
            if when <= now:
                del self.restarts[slot]
                self.start(slot)


def _describe(status: int) -> str:
    if os.WIFSIGNALED(status):
        return f"signal {signal.Signals(os.WTERMSIG(status)).name}"
    return f"exit status {os.waitstatus_to_exitcode(status)}"


# Descriptors a worker needs besides its connections: per request thread two SQLite
# connections (database, -wal and -shm each) and a file being served or uploaded; plus
# the listening socket, waitress's trigger pipe, the pipes to the siblings, the lock
# files, logs and imports.
DESCRIPTORS_PER_THREAD = 8
DESCRIPTORS_BESIDES = 64


def waitress_options(settings: Settings) -> dict[str, Any]:
    """The waitress settings of a worker (the listening socket is handed in beside them),
    with the connection limit fitted to the descriptors this process may open (the soft
    limit is raised toward the hard one)."""
    besides = DESCRIPTORS_PER_THREAD * settings.THREADS + DESCRIPTORS_BESIDES
    wanted = settings.connection_limit
    available = raise_open_file_limit(wanted + besides) - besides
    limit = max(1, min(wanted, available))
    if limit < wanted:
        log.warning(
            "connection limit lowered from %d to %d: the process may open only %d files (ulimit -n)",
            wanted,
            limit,
            limit + besides,
        )
    proxy: dict[str, Any] = {}
    if settings.TRUSTED_PROXY:
        # The client's address (and scheme) from the proxy's headers, and from no one else's.
        proxy = {
            "trusted_proxy": settings.TRUSTED_PROXY,
            "trusted_proxy_count": 1,
            "trusted_proxy_headers": {"x-forwarded-for", "x-forwarded-proto", "x-forwarded-host"},
        }
    return proxy | {
        "threads": settings.THREADS,
        # Each waiting long-poll holds a connection, and so does every client past the
        # waiter cap between its polls; past the limit waitress stops accepting, and new
        # clients, however few requests they send, queue in the kernel's listen backlog
        # (or are accepted by another worker).
        "connection_limit": limit,
        # Idle connections (no request in flight: waitress never times out a request being
        # served, so a waiting long-poll stays) close after CHANNEL_TIMEOUT seconds, checked
        # every second rather than waitress's 30, so idle and stalled sockets do not hold
        # slots for minutes. A client that trickles a header line faster than that still
        # holds its slot: waitress has no deadline for a whole request; a reverse proxy does.
        "channel_timeout": settings.CHANNEL_TIMEOUT,
        "cleanup_interval": 1,
        # poll() because select() cannot watch descriptors past 1024.
        "asyncore_use_poll": True,
        "backlog": BACKLOG,
        # waitress would accept 1 GiB bodies; allow the largest upload plus multipart framing
        "max_request_body_size": settings.MAX_CONTENT_LENGTH + 1024 * 1024,
        "ident": "messenger",
        "clear_untrusted_proxy_headers": True,
    }


def _start_maintenance(messenger: Messenger, rate_limits: RateLimitStore, interval: float) -> None:
    """Prune old events, unsent uploads, stray files and full rate-limit buckets at start and then
    every ``interval`` seconds, off the request threads (at start too, so a server
    restarted often still prunes)."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                messenger.remove_orphan_uploads()
                messenger.remove_stray_files()
                messenger.prune_events()
                rate_limits.prune(time.time())
            except Exception:
                log.exception("maintenance failed")
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="maintenance", daemon=True).start()
