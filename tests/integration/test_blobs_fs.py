"""FilesystemBlobStore: atomic writes under random sharded keys that stay in the root.

What every blob store promises (round trips, TooLarge mid-stream, missing blobs, delete,
path, scan) is in tests/contract/test_blob_stores.py; here are the files behind it."""

from __future__ import annotations

import errno
import os
import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.blobs_fs import FilesystemBlobStore
from messenger_core.errors import NotFound, TooLarge, Unavailable


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "blobs"


@pytest.fixture
def store(root: Path) -> FilesystemBlobStore:
    return FilesystemBlobStore(root)


def _files_under(root: Path) -> list[Path]:
    return [Path(folder, name) for folder, _, names in os.walk(root) for name in names]


def test_keys_are_random_hex_and_paths_sharded_under_root(store: FilesystemBlobStore, root: Path) -> None:
    keys = {store.write([b"x"], max_size=1).key for _ in range(20)}
    assert len(keys) == 20
    for key in keys:
        assert len(key) == 32 and set(key) <= set("0123456789abcdef")
        path = store.path(key)
        assert path is not None
        assert Path(path) == root / key[:2] / key[2:4] / key
        assert Path(path).resolve().is_relative_to(root.resolve())
    assert not _files_under(root / "tmp")


def test_too_large_leaves_no_temporary_file(store: FilesystemBlobStore, root: Path) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"x" * 10

    with pytest.raises(TooLarge):
        store.write(chunks(), max_size=25)
    assert _files_under(root) == []


def test_a_failing_source_leaves_no_temporary_file(store: FilesystemBlobStore, root: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.write(chunks(), max_size=100)
    assert _files_under(root) == []


@pytest.mark.parametrize(
    "bad_key",
    [
        "../x",
        "../../etc/passwd",
        "/etc/passwd",
        "",
        "tmp",
        "ab/cd/" + "a" * 32,
        "A" * 32,
        "a" * 31,
        "a" * 33,
        "a" * 32 + "\n",
        "..",
        "ab\x00" + "a" * 29,
    ],
)
def test_malformed_keys_name_no_blob(store: FilesystemBlobStore, tmp_path: Path, bad_key: str) -> None:
    outside = tmp_path / "x"
    outside.write_bytes(b"secret")
    with pytest.raises(NotFound):
        store.open(bad_key)
    assert store.path(bad_key) is None
    assert store.size(bad_key) is None
    store.delete(bad_key)
    assert outside.read_bytes() == b"secret"


def test_temporary_uploads_are_not_blobs(store: FilesystemBlobStore, root: Path) -> None:
    store.write([b"x"], max_size=1)
    (root / "tmp" / ("a" * 32)).write_bytes(b"half")
    with pytest.raises(NotFound):
        store.open("a" * 32)


def test_constructing_touches_nothing(root: Path) -> None:
    FilesystemBlobStore(root)
    assert not root.exists()


def _age(path: Path, hours: float) -> None:
    """Set the file's times ``hours`` back, as if it had been written then."""
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_scan_takes_the_file_time_and_lists_nothing_but_blobs_in_place(
    store: FilesystemBlobStore, root: Path
) -> None:
    info = store.write([b"x"], max_size=1)
    path = Path(store.path(info.key) or "")
    _age(path, 5)
    (root / "tmp" / ("b" * 32)).write_bytes(b"half")  # an upload being written
    (root / "ab" / "cd").mkdir(parents=True)
    (root / "ab" / "cd" / ("ee" * 16)).write_bytes(b"misplaced")  # not in its own shard
    (root / "ab" / "cd" / ("abcd" + "0" * 27)).write_bytes(b"short")  # not a key
    (root / "ab" / "cd" / "notes.txt").write_bytes(b"an operator's")
    (root / "ab" / "cd" / ("abcd" + "1" * 28)).mkdir()  # a folder, not a file
    (root / "README").write_bytes(b"x")
    [blob] = store.scan()
    assert blob.key == info.key
    assert abs(blob.written - (datetime.now(UTC) - timedelta(hours=5))) < timedelta(minutes=1)


def _unfinished(root: Path, name: str, hours: float) -> Path:
    (root / "tmp").mkdir(parents=True, exist_ok=True)
    path = root / "tmp" / name
    path.write_bytes(b"the first half of an upload")
    _age(path, hours)
    return path


def test_remove_unfinished_takes_old_leftovers_of_killed_writes_only(
    store: FilesystemBlobStore, root: Path
) -> None:
    assert store.remove_unfinished(datetime.now(UTC)) == 0  # no tmp folder yet
    kept = store.write([b"kept"], max_size=10)
    _age(Path(store.path(kept.key) or ""), 5)
    old = _unfinished(root, "upload-old", hours=2)
    fresh = _unfinished(root, "upload-fresh", hours=0)
    foreign = _unfinished(root, "not-ours", hours=2)

    assert store.remove_unfinished(datetime.now(UTC) - timedelta(hours=1)) == 1

    assert not old.exists()
    assert fresh.exists() and foreign.exists()
    assert store.size(kept.key) == 4


def test_a_reserve_of_free_space_refuses_writes_and_stores_nothing(root: Path) -> None:
    store = FilesystemBlobStore(root, min_free_bytes=1)
    kept = store.write([b"kept"], max_size=10)  # a disk with a byte free takes it
    free = store.free_bytes()
    assert free == shutil.disk_usage(root).free > 0
    short = FilesystemBlobStore(root, min_free_bytes=free + 1024**4)
    with pytest.raises(Unavailable) as caught:
        short.write([b"refused"], max_size=10)
    assert caught.value.code == "storage_full"
    assert _files_under(root) == [Path(store.path(kept.key) or "")]


def test_free_bytes_are_those_of_the_nearest_folder_that_exists(tmp_path: Path) -> None:
    assert FilesystemBlobStore(tmp_path / "not" / "yet").free_bytes() == shutil.disk_usage(tmp_path).free


@pytest.mark.parametrize("number", [errno.ENOSPC, errno.EDQUOT])
def test_a_disk_that_fills_during_a_write_is_storage_full(
    store: FilesystemBlobStore, root: Path, monkeypatch: pytest.MonkeyPatch, number: int
) -> None:
    """The kernel's answer to a write on a full disk (or past a quota), which this machine
    cannot be made to give: os.fsync is where a full disk shows at the latest."""

    def full(fd: int) -> None:
        raise OSError(number, os.strerror(number))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(Unavailable) as caught:
        store.write([b"bytes"], max_size=10)
    assert caught.value.code == "storage_full"
    assert _files_under(root) == []


def test_a_folder_that_cannot_be_used_is_storage_unavailable(store: FilesystemBlobStore, root: Path) -> None:
    """A broken upload folder — here a file where the folders of uploads and of a blob's
    shard should be (permissions would not stop root) — is the storage's failure, not the
    client's: writes and reads say storage_unavailable."""
    key = store.write([b"kept"], max_size=10).key
    shutil.rmtree(root / "tmp")
    (root / "tmp").write_bytes(b"not a folder")
    with pytest.raises(Unavailable) as writing:
        store.write([b"bytes"], max_size=10)
    assert writing.value.code == "storage_unavailable"
    shard = root / key[0:2] / key[2:4]
    shutil.rmtree(shard)
    shard.write_bytes(b"not a folder")
    with pytest.raises(Unavailable) as reading:
        store.open(key)
    assert reading.value.code == "storage_unavailable"
