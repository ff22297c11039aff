"""The sweep of stray files on the real adapters: SQLite rows and files on disk.

A process killed between storing an upload's bytes and committing its row, or in the
middle of writing them, leaves files no row names. The sweep (run by the server's
maintenance and by ``messenger cleanup``) removes them once they are older than the
grace period, and never a file a row names, whatever its age.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from adapters.blobs_fs import FilesystemBlobStore
from adapters.hashing_argon2 import Argon2PasswordHasher
from entrypoints.bootstrap import build_messenger, prepare_database
from entrypoints.config import Settings
from messenger_core import Messenger
from messenger_core.model import Actor
from messenger_core.services import Upload

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "stray files 1"


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(out, "PNG")
    return out.getvalue()


def files_under(folder: Path) -> set[Path]:
    return {Path(f, name) for f, _, names in os.walk(folder) for name in names}


def age(paths: set[Path], hours: float) -> None:
    then = time.time() - hours * 3600
    for path in paths:
        os.utime(path, (then, then))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    made = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db" / "messenger.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "upload"),
    )
    prepare_database(made)  # with the built-in sticker pack, whose images are files too
    return made


def people_with_every_kind_of_file(messenger: Messenger) -> None:
    """Rows naming each kind of stored file: stickers, an avatar, a group's photo, a sent
    photo and its thumbnail, an upload not sent yet."""
    alice, bob = (
        messenger.register(first_name=name, second_name="T", email=f"{name}@example.com", password=PASSWORD)
        for name in ("alice", "bob")
    )
    a, b = Actor(alice.id, alice.user_id), Actor(bob.id, bob.user_id)
    messenger.send_friend_request(a, b.alternative_id)
    messenger.accept_friend_request(b, a.alternative_id)
    messenger.set_avatar(a, Upload(name="me.png", chunks=[png()]))
    group = messenger.create_group(a, title="Group", member_ids=[b.alternative_id])
    messenger.set_group_photo(a, group.id, Upload(name="group.png", chunks=[png()]))
    photo = messenger.upload_attachment(a, Upload(name="photo.png", chunks=[png()]))
    messenger.send_message(a, chat_id=group.id, attachment_ids=[photo.id])
    messenger.upload_attachment(b, Upload(name="later.pdf", chunks=[b"%PDF-1.4 later"]))


def test_files_no_row_names_are_swept_and_named_or_young_ones_stay(settings: Settings) -> None:
    folder = Path(settings.UPLOAD_FOLDER)
    blobs = FilesystemBlobStore(folder)
    messenger = build_messenger(settings, blobs=blobs, hasher=Argon2PasswordHasher.fast_for_tests())
    people_with_every_kind_of_file(messenger)
    named = files_under(folder)
    # What a kill -9 leaves: bytes stored whose row never committed, and half a write.
    stray = Path(blobs.path(blobs.write([b"its row never came"], max_size=100).key) or "")
    (folder / "tmp" / "upload-killed").write_bytes(b"the first half")
    age(files_under(folder), hours=2)  # everything is old, the named files too
    young = Path(blobs.path(blobs.write([b"its row is on the way"], max_size=100).key) or "")
    (folder / "tmp" / "upload-writing").write_bytes(b"still coming")

    assert messenger.remove_stray_files() == 2

    assert files_under(folder) == named | {young, folder / "tmp" / "upload-writing"}
    assert not stray.exists()
    assert messenger.remove_stray_files() == 0


def test_the_cleanup_command_sweeps_stray_files(settings: Settings, tmp_path: Path) -> None:
    folder = Path(settings.UPLOAD_FOLDER)
    blobs = FilesystemBlobStore(folder)
    stray = Path(blobs.path(blobs.write([b"stray"], max_size=100).key) or "")
    age({stray}, hours=2)
    before = files_under(folder)
    config = tmp_path / "config.toml"
    config.write_text(
        f'SECRET_KEY = "{"x" * 40}"\n'
        f'DATABASE_PATH = "{settings.DATABASE_PATH}"\nUPLOAD_FOLDER = "{settings.UPLOAD_FOLDER}"\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "cleanup"],
        cwd=ROOT,
        env=os.environ | {"APP_CONFIG": str(config)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "1 stray files" in done.stdout
    assert files_under(folder) == before - {stray}
