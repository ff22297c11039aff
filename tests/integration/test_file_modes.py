"""What the server writes is readable by its own user only: folders 0700, files 0600.

Run under umask 022 (the usual one), which leaves files SQLite or ``mkdir`` create with
their defaults world-readable; the adapters must ask for the narrower modes themselves.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.blobs_fs import FilesystemBlobStore
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.system import SystemClock
from messenger_core.model import EventType


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_database_its_log_and_index_and_their_folders_are_private(tmp_path: Path) -> None:
    path = tmp_path / "user_data" / "db" / "messenger.sqlite3"
    factory = SqliteUnitOfWorkFactory(path)
    factory.migrate()
    try:
        factory.connection().execute("PRAGMA foreign_keys = OFF")  # an event with no user row
        with factory() as uow:  # a write: the -wal and -shm files exist from here on
            uow.events.append(1, EventType.USER_UPDATED, {}, SystemClock().now())
            uow.commit()
        files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
        assert all(f.exists() for f in files)
        assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o600" for f in files}
        assert oct(mode(tmp_path / "user_data")) == oct(mode(path.parent)) == "0o700"
    finally:
        factory.close()


def test_a_folder_that_exists_keeps_its_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o750)
    SqliteUnitOfWorkFactory(shared / "db.sqlite3").close()
    assert oct(mode(shared)) == "0o750"


def test_blobs_and_their_folders_are_private(tmp_path: Path) -> None:
    root = tmp_path / "user_data" / "upload"
    blobs = FilesystemBlobStore(root)
    key = blobs.write([b"a photo", b" and more"], max_size=1024).key
    blob = Path(blobs.path(key) or "")
    assert oct(mode(blob)) == "0o600"
    folders = [tmp_path / "user_data", root, root / "tmp", blob.parent, blob.parent.parent]
    assert {str(f.relative_to(tmp_path)): oct(mode(f)) for f in folders} == {
        str(f.relative_to(tmp_path)): "0o700" for f in folders
    }
