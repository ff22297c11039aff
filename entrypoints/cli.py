"""The ``messenger`` command: serve the app, make demo data, clean up, add sticker packs."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

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
    from .server import serve as run_server

    return run_server(settings)


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
