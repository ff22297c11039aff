"""The ``messenger`` command: serve the app, make demo data, clean up, add sticker packs."""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import logging
import os
import resource
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .config import ConfigError, Settings, load_settings

log = logging.getLogger("messenger")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="messenger", description="A small self-hosted messenger")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the web server (HOST, PORT and APP_CONFIG from the environment)")
    demo = commands.add_parser("demo-data", help="create the configured database filled with demo data")
    demo.add_argument("--force", action="store_true", help="replace an existing database")
    commands.add_parser("init-db", help="create or migrate the configured database")
    commands.add_parser("cleanup", help="remove uploads never sent and events past retention")
    pack = commands.add_parser("add-sticker-pack", help="add a sticker pack from a folder of images")
    pack.add_argument("title")
    pack.add_argument("folder", type=Path)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"messenger: configuration error: {error}", file=sys.stderr)
        return 2
    command = args.command or "serve"
    if command == "serve":
        return serve(settings)
    if command == "demo-data":
        return make_demo_data(settings, force=args.force)
    if command == "init-db":
        from .bootstrap import prepare_database

        prepare_database(settings)
        print(f"database ready: {settings.DATABASE_PATH}")
        return 0
    if command == "cleanup":
        from .bootstrap import build_messenger, prepare_database

        prepare_database(settings)
        messenger = build_messenger(settings)
        uploads, events = messenger.remove_orphan_uploads(), messenger.prune_events()
        print(f"removed {uploads} unsent uploads, {events} old events")
        return 0
    return add_sticker_pack(settings, args.title, args.folder)


def serve(settings: Settings) -> int:
    from waitress.server import create_server

    from .bootstrap import build_messenger, prepare_database
    from .web.app import create_app

    limit_malloc_arenas()  # before any worker thread exists
    prepare_database(settings)
    messenger = build_messenger(settings)
    app = create_app(messenger, settings)
    server = create_server(app, **waitress_options(settings))
    host, port = server.effective_host, server.effective_port  # type: ignore[union-attr]
    print(f"Messenger is running on http://{host}:{port}/ (database {settings.DATABASE_PATH})", flush=True)
    _start_maintenance(messenger, settings.MAINTENANCE_INTERVAL)
    with contextlib.suppress(KeyboardInterrupt):
        server.run()
    return 0


# Descriptors a server needs besides its connections: per worker thread a SQLite
# connection (database, -wal and -shm) and a file being served or uploaded; plus the
# listening socket, waitress's trigger pipe, logs and imports.
DESCRIPTORS_PER_THREAD = 5
DESCRIPTORS_BESIDES = 64


def waitress_options(settings: Settings) -> dict[str, Any]:
    """The waitress settings of ``serve``, with the connection limit fitted to the
    descriptors this process may open (the soft limit is raised toward the hard one)."""
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
    return {
        "host": settings.HOST,
        "port": settings.PORT,
        "threads": settings.THREADS,
        # Each waiting long-poll holds a connection, and so does every client past the
        # waiter cap between its polls; past the limit waitress stops accepting, and new
        # clients, however few requests they send, queue in the kernel's listen backlog.
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
        # waitress would accept 1 GiB bodies; allow the largest upload plus multipart framing
        "max_request_body_size": settings.MAX_CONTENT_LENGTH + 1024 * 1024,
        "ident": "messenger",
        "clear_untrusted_proxy_headers": True,
    }


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
M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def limit_malloc_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Cap glibc's malloc arenas, as ``MALLOC_ARENA_MAX`` would, unless the environment
    already sets that; returns whether the cap was set (False on another C library).

    glibc gives threads up to 8 arenas per core, and memory freed in one is not reused
    by a thread of another: after a burst of image decodes or password hashes on many
    of waitress's threads, hundreds of MB stay in the process. Measured with
    ``python -m bench.media_bench``: the Pillow adapter's ``malloc_trim`` after a big
    decode brings memory back; the cap keeps the rest (argon2's 19 MiB per hash, on any
    thread) from piling up between trims.
    """
    if "MALLOC_ARENA_MAX" in os.environ:
        return False
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(M_ARENA_MAX, arenas))


def _start_maintenance(messenger: object, interval: float) -> None:
    """Prune old events and unsent uploads at start and then every ``interval`` seconds,
    off the request threads (at start too, so a server restarted often still prunes)."""
    stop = threading.Event()

    def loop() -> None:
        while True:
            try:
                messenger.remove_orphan_uploads()  # type: ignore[attr-defined]
                messenger.prune_events()  # type: ignore[attr-defined]
            except Exception:
                log.exception("maintenance failed")
            if stop.wait(interval):
                return

    threading.Thread(target=loop, name="maintenance", daemon=True).start()


def make_demo_data(settings: Settings, *, force: bool) -> int:
    import attrs

    from .bootstrap import prepare_database, remove_database

    path = Path(settings.DATABASE_PATH)
    if path.exists():
        if not force:
            print(f"{path} exists; use --force to replace it", file=sys.stderr)
            return 1
        remove_database(path)
    prepare_database(attrs.evolve(settings, DEMO_DATA=True))
    print(f"demo data written to {path}")
    return 0


def add_sticker_pack(settings: Settings, title: str, folder: Path) -> int:
    from messenger_core import MessengerError
    from messenger_core.services import Upload

    from .bootstrap import build_messenger, prepare_database

    found = folder.iterdir() if folder.is_dir() else iter(())
    images = sorted(p for p in found if p.is_file() and not _pack_notes(p))
    if not images:
        print(f"{folder} holds no files", file=sys.stderr)
        return 1
    prepare_database(settings)
    messenger = build_messenger(settings)
    # Streamed, so the size limit holds before a huge stray file is read into memory.
    uploads = [Upload(name=p.name, chunks=_file_chunks(p)) for p in images]
    try:
        pack = messenger.add_sticker_pack(title, uploads)
    except MessengerError as error:
        print(f"refused: {error.message} {getattr(error, 'fields', '')}", file=sys.stderr)
        return 1
    print(f"added pack {pack.id} '{pack.title}' with {len(pack.stickers)} stickers")
    return 0


def _pack_notes(path: Path) -> bool:
    """Files that travel with a pack without being stickers: its licence and notes."""
    notes = ("LICENSE", "LICENCE", "ATTRIBUTION", "README", "COPYING")
    return path.name.startswith(".") or path.stem.upper().startswith(notes)


def _file_chunks(path: Path, size: int = 64 * 1024) -> Iterator[bytes]:
    with path.open("rb") as file:
        while chunk := file.read(size):
            yield chunk


if __name__ == "__main__":
    raise SystemExit(main())
