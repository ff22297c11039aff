"""The BlobStore contract, over the memory store, the filesystem one and S3 (moto's
standalone server on a loopback port, one per run, a fresh bucket per test).

Every property and web test keeps its uploads in MemoryBlobStore, so it must behave as
the real store does. Filesystem-only rules (the key shape, sharding, temporary files,
keys that try to leave the root) stay in tests/integration/test_blobs_fs.py.

Each adapter's fixture also says, from outside the port, which keys a reader could open
right now (``visible``): that is how the suite checks that a refused or failed write left
nothing behind, that no reader ever sees a blob being written, and that ``scan`` (the
port's own listing, for the sweep of stray files) lists exactly those.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.blobs_fs import FilesystemBlobStore
from adapters.blobs_s3 import S3BlobStore
from adapters.memory import MemoryBlobStore
from messenger_core.errors import NotFound, TooLarge
from messenger_core.ports import BlobStore
from scripts.throwaway_s3 import ThrowawayS3


@attrs.frozen
class Subject:
    store: BlobStore
    visible: Callable[[], set[str]]  # the keys of every finished blob


def _filesystem(root: Path) -> Subject:
    def visible() -> set[str]:
        found = set()
        for folder, dirs, names in os.walk(root):
            if Path(folder) == root and "tmp" in dirs:
                dirs.remove("tmp")  # uploads being written
            found.update(names)
        return found

    return Subject(FilesystemBlobStore(root), visible)


def _memory() -> Subject:
    store = MemoryBlobStore()
    return Subject(store, lambda: set(store.blobs))


def _s3(server: ThrowawayS3, bucket: str) -> Subject:
    server.create_bucket(bucket)
    store = S3BlobStore(bucket, prefix="uploads", client=server.client())
    return Subject(store, store.keys)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[ThrowawayS3]:
    with ThrowawayS3() as server:
        yield server


_buckets = iter(range(1, 10**6))


@pytest.fixture(params=["memory", "filesystem", "s3"])
def subject(request: pytest.FixtureRequest, tmp_path: Path) -> Subject:
    if request.param == "s3":
        return _s3(request.getfixturevalue("s3_server"), f"bucket-{next(_buckets)}")
    return _memory() if request.param == "memory" else _filesystem(tmp_path / "blobs")


@pytest.fixture
def store(subject: Subject) -> BlobStore:
    return subject.store


# One store for all examples of a test: every write takes a fresh key.
examples = settings(max_examples=30, suppress_health_check=[HealthCheck.function_scoped_fixture])


def read(store: BlobStore, key: str) -> bytes:
    with store.open(key) as file:
        return file.read()


def assert_missing(store: BlobStore, key: str) -> None:
    with pytest.raises(NotFound) as caught:
        store.open(key)
    assert caught.value.code == "not_found" and caught.value.params == {"what": "stored_file"}
    assert store.size(key) is None
    assert store.path(key) is None


# --- writing and reading ------------------------------------------------------------------


def test_round_trip_from_chunks(store: BlobStore) -> None:
    info = store.write([b"hello ", b"", b"world"], max_size=100)
    assert info.size == 11
    assert read(store, info.key) == b"hello world"
    assert store.size(info.key) == 11
    # Each open is a file of its own, from the start.
    with store.open(info.key) as first, store.open(info.key) as second:
        assert first.read(5) == b"hello"
        assert second.read() == b"hello world"
        assert first.read() == b" world"


@examples
@given(chunks=st.lists(st.binary(max_size=200), max_size=10))
def test_round_trip_of_any_chunks(store: BlobStore, chunks: list[bytes]) -> None:
    data = b"".join(chunks)
    info = store.write(iter(chunks), max_size=len(data))  # exactly max_size is allowed
    assert info.size == len(data) == store.size(info.key)
    assert read(store, info.key) == data


@pytest.mark.parametrize("chunks", [[], [b""], [b"", b""]], ids=["no-chunks", "one-empty", "two-empty"])
def test_an_empty_blob_is_a_blob(store: BlobStore, chunks: list[bytes]) -> None:
    info = store.write(chunks, max_size=0)
    assert info.size == 0
    assert store.size(info.key) == 0  # not None: it exists
    assert read(store, info.key) == b""


def test_keys_are_fresh_for_every_write(subject: Subject) -> None:
    store = subject.store
    infos = [store.write([b"same bytes"], max_size=100) for _ in range(20)]
    keys = {info.key for info in infos}
    assert len(keys) == 20  # the same bytes twice are two blobs
    assert all(isinstance(key, str) and key for key in keys)
    assert subject.visible() == keys
    store.delete(infos[0].key)
    assert read(store, infos[1].key) == b"same bytes"


def test_a_reader_never_sees_a_blob_being_written(subject: Subject) -> None:
    before = subject.visible()
    seen_while_writing: list[set[str]] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(3):
            yield b"x" * 10
            seen_while_writing.append(subject.visible())

    info = subject.store.write(chunks(), max_size=100)
    assert seen_while_writing == [before] * 3
    assert subject.visible() == before | {info.key}


# --- refused and failed writes ----------------------------------------------------------


def test_too_large_is_refused_mid_stream_and_leaves_nothing(subject: Subject) -> None:
    store = subject.store
    kept = store.write([b"kept"], max_size=10)
    before = subject.visible()
    consumed: list[int] = []

    def chunks() -> Iterator[bytes]:
        for i in range(100):
            consumed.append(i)
            yield b"x" * 10

    with pytest.raises(TooLarge) as caught:
        store.write(chunks(), max_size=25)
    assert caught.value.code == "too_large" and caught.value.params == {"max": 25}
    assert len(consumed) == 3  # stopped reading at the first chunk past the limit
    assert subject.visible() == before
    assert read(store, kept.key) == b"kept"
    # The store goes on working.
    assert read(store, store.write([b"after"], max_size=10).key) == b"after"


@pytest.mark.parametrize(("chunks", "max_size"), [([b"x"], 0), ([b"12345", b"6"], 5), ([b"123456"], 5)])
def test_one_byte_past_max_size_is_too_large(subject: Subject, chunks: list[bytes], max_size: int) -> None:
    with pytest.raises(TooLarge):
        subject.store.write(chunks, max_size=max_size)
    assert subject.visible() == set()


def test_a_failing_source_leaves_nothing_and_its_error_propagates(subject: Subject) -> None:
    gone = ConnectionResetError("client went away")

    def chunks() -> Iterator[bytes]:
        yield b"partial"
        raise gone

    with pytest.raises(ConnectionResetError) as caught:
        subject.store.write(chunks(), max_size=100)
    assert caught.value is gone
    assert subject.visible() == set()


# --- missing blobs, delete and path -------------------------------------------------------


def test_a_missing_blob_is_not_found_and_has_no_size_or_path(store: BlobStore) -> None:
    info = store.write([b"real"], max_size=10)
    for never_given in ("", "0" * 32, "../x", info.key.upper(), info.key + "0", info.key[:-1], "tmp"):
        if never_given != info.key:
            assert_missing(store, never_given)
    assert read(store, info.key) == b"real"


def test_delete_removes_one_blob_and_is_idempotent(subject: Subject) -> None:
    store = subject.store
    doomed = store.write([b"bye"], max_size=10)
    kept = store.write([b"stay"], max_size=10)

    store.delete(doomed.key)
    store.delete(doomed.key)
    store.delete("0" * 32)
    store.delete("")

    assert_missing(store, doomed.key)
    assert read(store, kept.key) == b"stay"
    assert subject.visible() == {kept.key}


def test_path_is_none_or_a_file_holding_the_blob(store: BlobStore) -> None:
    """``path`` is for tools that want a file name: a store without files says None."""
    info = store.write([b"\x89PNG", b"\r\n"], max_size=100)
    path = store.path(info.key)
    if path is not None:
        assert Path(path).is_file()
        assert Path(path).read_bytes() == b"\x89PNG\r\n"
    store.delete(info.key)
    assert store.path(info.key) is None


# --- scan and unfinished writes: what the sweep of stray files walks -----------------------

# File times come from the kernel's coarse clock, a few milliseconds behind Python's.
SLACK = timedelta(seconds=1)


def scanned(store: BlobStore) -> dict[str, datetime]:
    found = {blob.key: blob.written for blob in store.scan()}
    assert all(t.tzinfo is not None and t.utcoffset() == timedelta(0) for t in found.values())
    return found


def test_scan_lists_every_finished_blob_with_when_it_was_written(subject: Subject) -> None:
    store = subject.store
    assert scanned(store) == {}
    start = datetime.now(UTC)
    keys = {store.write([b"blob %d" % i], max_size=100).key for i in range(5)}
    empty = store.write([], max_size=0).key
    end = datetime.now(UTC)
    found = scanned(store)
    assert set(found) == keys | {empty} == subject.visible()
    assert all(start - SLACK <= t <= end + SLACK for t in found.values()), found
    assert len(list(store.scan())) == len(found)  # each blob once


def test_scan_follows_deletes_and_never_lists_a_refused_or_unfinished_write(subject: Subject) -> None:
    store = subject.store
    kept, doomed = store.write([b"kept"], max_size=10), store.write([b"doomed"], max_size=10)
    store.delete(doomed.key)
    with pytest.raises(TooLarge):
        store.write([b"x" * 20], max_size=10)
    while_writing: list[set[str]] = []

    def chunks() -> Iterator[bytes]:
        yield b"partial"
        while_writing.append(set(scanned(store)))
        yield b" and the rest"

    written = store.write(chunks(), max_size=100)
    assert while_writing == [{kept.key}]
    assert set(scanned(store)) == {kept.key, written.key} == subject.visible()


def test_a_blob_may_be_deleted_while_a_scan_walks(store: BlobStore) -> None:
    keys = [store.write([b"%d" % i], max_size=10).key for i in range(10)]
    walked = []
    for blob in store.scan():
        walked.append(blob.key)
        for key in keys:
            store.delete(key)  # all of them, the one just listed and those still ahead
    assert walked and set(walked) <= set(keys)
    assert scanned(store) == {}


def test_remove_unfinished_never_touches_a_finished_blob_or_a_write_in_progress(subject: Subject) -> None:
    store = subject.store
    kept = store.write([b"kept"], max_size=10)
    later = datetime.now(UTC) + timedelta(days=1)
    assert store.remove_unfinished(later) == 0
    assert read(store, kept.key) == b"kept"

    # A write begun after ``before``: its partial bytes stay while it goes on.
    before = datetime.now(UTC) - SLACK
    removed: list[int] = []

    def chunks() -> Iterator[bytes]:
        yield b"first half, "
        removed.append(store.remove_unfinished(before))
        yield b"second half"

    finished = store.write(chunks(), max_size=100)
    assert removed == [0]
    assert read(store, finished.key) == b"first half, second half"
    assert set(scanned(store)) == {kept.key, finished.key}
