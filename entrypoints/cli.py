"""The ``messenger`` command: serve the app, make demo data, clean up, add sticker packs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from .config import ConfigError, Settings, StartError, load_settings

log = logging.getLogger("messenger")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="messenger", description="A small self-hosted messenger")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the web server (HOST, PORT and APP_CONFIG from the environment)")
    demo = commands.add_parser("demo-data", help="create the configured database filled with demo data")
    demo.add_argument("--force", action="store_true", help="replace an existing database")
    commands.add_parser("init-db", help="create or migrate the configured database")
    commands.add_parser(
        "cleanup", help="remove uploads never sent, stored files no row names and events past retention"
    )
    copy = commands.add_parser(
        "migrate-to-postgres", help="copy a SQLite database into PostgreSQL (re-run to go on after a failure)"
    )
    copy.add_argument("--from", dest="source", type=Path, required=True, help="the SQLite database file")
    copy.add_argument("--to", dest="target", required=True, help="postgresql://user@host/database")
    copy.add_argument("--force", action="store_true", help="empty a target that holds other data first")
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
    try:
        return _run(args, settings)
    except StartError as error:
        print(f"messenger: {error}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, settings: Settings) -> int:
    command = args.command or "serve"
    if command == "serve":
        return serve(settings)
    if command == "demo-data":
        return make_demo_data(settings, force=args.force)
    if command == "init-db":
        from .bootstrap import prepare_database

        prepare_database(settings)
        print(f"database ready: {settings.database_label}")
        return 0
    if command == "cleanup":
        from .bootstrap import build_messenger, prepare_database

        prepare_database(settings)
        messenger = build_messenger(settings)
        uploads, strays = messenger.remove_orphan_uploads(), messenger.remove_stray_files()
        events = messenger.prune_events()
        print(f"removed {uploads} unsent uploads, {strays} stray files, {events} old events")
        return 0
    if command == "migrate-to-postgres":
        return migrate_to_postgres(args.source, args.target, force=args.force)
    return add_sticker_pack(settings, args.title, args.folder)


def migrate_to_postgres(source: Path, target: str, *, force: bool) -> int:
    from .bootstrap import migrate_to_postgres as copy

    bar = ProgressBar(sys.stderr)
    reports = copy(source, target, force=force, progress=bar.show)
    bar.done()
    width = max(len(r.name) for r in reports)
    print(f"{'table':<{width}}  {'SQLite':>9}  {'PostgreSQL':>10}  checksum")
    for r in reports:
        verdict = "same" if r.agrees else f"DIFFERS {r.source_checksum[:12]} / {r.target_checksum[:12]}"
        print(f"{r.name:<{width}}  {r.source_rows:>9}  {r.target_rows:>10}  {verdict}")
    if all(r.agrees for r in reports):
        print(f"copied {sum(r.target_rows for r in reports)} rows; every table agrees")
        return 0
    print("the copy does not agree with the source: run the command again", file=sys.stderr)
    return 1


class ProgressBar:
    """One line per table, redrawn in place on a terminal (a line per table elsewhere)."""

    WIDTH = 30

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._table: str | None = None
        self._live = hasattr(stream, "isatty") and stream.isatty()

    def show(self, table: str, copied: int, total: int) -> None:
        if table != self._table and self._table is not None and self._live:
            self._stream.write("\n")
        self._table = table
        share = copied / total if total else 1.0
        filled = int(share * self.WIDTH)
        line = f"{table:<16} [{'#' * filled}{'.' * (self.WIDTH - filled)}] {copied}/{total}"
        if self._live:
            self._stream.write("\r" + line)
        elif copied == total:
            self._stream.write(line + "\n")
        self._stream.flush()

    def done(self) -> None:
        if self._live and self._table is not None:
            self._stream.write("\n")


def serve(settings: Settings) -> int:
    from .server import serve as run_server

    return run_server(settings)


def make_demo_data(settings: Settings, *, force: bool) -> int:
    import attrs

    from .bootstrap import build_database, check_blob_store, prepare_database

    if settings.uses_postgres:
        if not prepare_database(attrs.evolve(settings, DEMO_DATA=True)):
            print(
                f"{settings.database_label} already has a schema: demo data goes into a blank database",
                file=sys.stderr,
            )
            return 1
        print(f"demo data written to {settings.database_label}")
        return 0
    path = Path(settings.DATABASE_PATH)
    if path.exists() and not force:
        print(f"{path} exists; use --force to replace it", file=sys.stderr)
        return 1
    # Built aside and put in place when complete: a failed --force keeps the old database.
    check_blob_store(settings)
    build_database(attrs.evolve(settings, DEMO_DATA=True))
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
