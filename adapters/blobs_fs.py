"""BlobStore on a local directory.

Layout under ``root``::

    tmp/                 uploads being written (same filesystem, so the rename is atomic)
    ab/cd/abcd…(32 hex)  finished blobs, sharded by the first two byte pairs of the key

Folders are made 0700 and files 0600: uploads are readable by the server's user only.

``min_free_bytes`` is a reserve: while the disk holding the root has less free space (for
this user, as ``df`` shows it), writes are refused with ``Unavailable("storage_full")``
before a byte is written, so uploads never fill the disk the database may share. A disk
that fills during a write (ENOSPC, a quota) refuses it the same way. A folder the server
cannot use (not writable, a file where a folder should be, an I/O error) is
``Unavailable("storage_unavailable")``, on writes and reads alike: the operator's
business, never a client's error.

Keys are 128 random bits in hex. User file names never reach the disk, and a key is
checked against that shape before it becomes a path, so no key can leave the root.
A string that is not a well-formed key names no blob: ``open`` raises ``NotFound``,
``path``/``size`` return None and ``delete`` does nothing.

A blob's time is its file's modification time, which the rename into place keeps: when
its last bytes were written. ``scan`` lists only files of the shape above, in their own
shard folders; anything else under the root is not a blob and is left alone.
"""

from __future__ import annotations

import errno
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from messenger_core.errors import NotFound, TooLarge, Unavailable
from messenger_core.model import BlobInfo, StoredBlob

_KEY = re.compile(r"[0-9a-f]{32}")
_SHARD = re.compile(r"[0-9a-f]{2}")
_UNFINISHED_PREFIX = "upload-"
_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}


class FilesystemBlobStore:
    def __init__(self, root: str | Path, *, min_free_bytes: int = 0) -> None:
        # Directories are made on first write, not here: constructing touches nothing.
        self._root = Path(root)
        self._tmp = self._root / "tmp"
        self._min_free = min_free_bytes

    def free_bytes(self) -> int:
        """Free space on the disk holding the root (or the nearest folder above it that
        exists yet), as this user may use it."""
        folder = self._root
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        return shutil.disk_usage(folder).free

    def write(self, chunks: Iterable[bytes], *, max_size: int) -> BlobInfo:
        """Stream the chunks into a fresh blob. Past ``max_size`` bytes raise
        ``TooLarge`` and remove the partial upload; readers only ever see complete
        blobs because the file is renamed into place after an fsync. Refused with
        ``Unavailable("storage_full")`` under the free-space reserve or on a full disk,
        ``Unavailable("storage_unavailable")`` when the folder cannot be used."""
        try:
            if self._min_free and self.free_bytes() < self._min_free:
                raise Unavailable("storage_full")
            return self._write(_Source(chunks), max_size)
        except _SourceFailed as failed:  # the client's stream, not the disk (a reset, say)
            raise failed.error from None
        except OSError as error:
            code = "storage_full" if error.errno in _DISK_FULL else "storage_unavailable"
            raise Unavailable(code) from error

    def _write(self, chunks: Iterable[bytes], max_size: int) -> BlobInfo:
        _make_private_folders(self._tmp)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix=_UNFINISHED_PREFIX)  # a 0600 file
        try:
            size = 0
            with os.fdopen(fd, "wb") as file:
                for chunk in chunks:
                    size += len(chunk)
                    if size > max_size:
                        raise TooLarge(max=max_size)
                    file.write(chunk)
                file.flush()
                os.fsync(file.fileno())
            # 128 random bits: a collision is not worth a check.
            key = secrets.token_hex(16)
            final = self._blob_path(key)
            _make_private_folders(final.parent)
            os.replace(tmp_name, final)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return BlobInfo(key=key, size=size)

    def open(self, key: str) -> BinaryIO:
        """The blob opened for binary reading; ``NotFound`` when missing,
        ``Unavailable("storage_unavailable")`` when the folder cannot be read."""
        if _KEY.fullmatch(key):
            try:
                return self._blob_path(key).open("rb")
            except (FileNotFoundError, IsADirectoryError):
                pass
            except OSError as error:
                raise Unavailable("storage_unavailable") from error
        raise NotFound("stored_file")

    def path(self, key: str) -> str | None:
        """The blob's file path, None when missing."""
        path = self._existing_path(key)
        return str(path) if path is not None else None

    def size(self, key: str) -> int | None:
        """The blob's size in bytes, None when missing."""
        path = self._existing_path(key)
        if path is None:
            return None
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None
        except OSError as error:
            raise Unavailable("storage_unavailable") from error

    def delete(self, key: str) -> None:
        """Remove the blob; missing (or a malformed key) is fine."""
        if _KEY.fullmatch(key):
            self._blob_path(key).unlink(missing_ok=True)

    def scan(self) -> Iterator[StoredBlob]:
        """Every blob file with its modification time, shard by shard."""
        for first in _folders(self._root):
            for second in _folders(first):
                for entry in _entries(second):
                    in_place = _KEY.fullmatch(entry.name) and entry.name[:4] == first.name + second.name
                    if not (in_place and entry.is_file(follow_symlinks=False)):
                        continue
                    try:
                        modified = entry.stat().st_mtime
                    except FileNotFoundError:
                        continue  # deleted since the folder was read
                    yield StoredBlob(key=entry.name, written=datetime.fromtimestamp(modified, UTC))

    def remove_unfinished(self, before: datetime) -> int:
        """Remove uploads a killed process left in ``tmp/`` that were last written to
        before ``before``; a write in progress writes its file as it goes."""
        removed = 0
        for entry in _entries(self._tmp):
            if not entry.name.startswith(_UNFINISHED_PREFIX):
                continue
            try:
                if datetime.fromtimestamp(entry.stat().st_mtime, UTC) < before:
                    os.unlink(entry.path)
                    removed += 1
            except FileNotFoundError:
                continue  # finished (renamed into place) or removed meanwhile
        return removed

    def _blob_path(self, key: str) -> Path:
        return self._root / key[0:2] / key[2:4] / key

    def _existing_path(self, key: str) -> Path | None:
        if not _KEY.fullmatch(key):
            return None
        path = self._blob_path(key)
        return path if path.is_file() else None


class _SourceFailed(Exception):
    def __init__(self, error: BaseException) -> None:
        self.error = error


class _Source:
    """The chunks of a write, whose own failures are told apart from the disk's."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = iter(chunks)

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        try:
            return next(self._chunks)
        except StopIteration:
            raise
        except Exception as error:
            raise _SourceFailed(error) from error


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    """The folder's entries, none when it does not exist (yet, or any more)."""
    try:
        with os.scandir(folder) as found:
            return list(found)
    except (FileNotFoundError, NotADirectoryError):
        return []


def _folders(folder: Path) -> Iterator[Path]:
    """The shard folders in ``folder``: two hex digits each (``tmp`` is not one)."""
    for entry in _entries(folder):
        if _SHARD.fullmatch(entry.name) and entry.is_dir(follow_symlinks=False):
            yield Path(entry.path)


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by this user only (0700);
    folders that exist keep their mode."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
