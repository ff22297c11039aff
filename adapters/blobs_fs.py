"""BlobStore on a local directory.

Layout under ``root``::

    tmp/                 uploads being written (same filesystem, so the rename is atomic)
    ab/cd/abcd…(32 hex)  finished blobs, sharded by the first two byte pairs of the key

Folders are made 0700 and files 0600: uploads are readable by the server's user only.

Keys are 128 random bits in hex. User file names never reach the disk, and a key is
checked against that shape before it becomes a path, so no key can leave the root.
A string that is not a well-formed key names no blob: ``open`` raises ``NotFound``,
``path``/``size`` return None and ``delete`` does nothing.
"""

from __future__ import annotations

import os
import re
import secrets
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

from messenger_core.errors import NotFound, TooLarge
from messenger_core.model import BlobInfo

_KEY = re.compile(r"[0-9a-f]{32}")


class FilesystemBlobStore:
    def __init__(self, root: str | Path) -> None:
        # Directories are made on first write, not here: constructing touches nothing.
        self._root = Path(root)
        self._tmp = self._root / "tmp"

    def write(self, chunks: Iterable[bytes], *, max_size: int) -> BlobInfo:
        """Stream the chunks into a fresh blob. Past ``max_size`` bytes raise
        ``TooLarge`` and remove the partial upload; readers only ever see complete
        blobs because the file is renamed into place after an fsync."""
        _make_private_folders(self._tmp)
        fd, tmp_name = tempfile.mkstemp(dir=self._tmp, prefix="upload-")  # a 0600 file
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
        """The blob opened for binary reading; ``NotFound`` when missing."""
        if _KEY.fullmatch(key):
            try:
                return self._blob_path(key).open("rb")
            except (FileNotFoundError, IsADirectoryError):
                pass
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

    def delete(self, key: str) -> None:
        """Remove the blob; missing (or a malformed key) is fine."""
        if _KEY.fullmatch(key):
            self._blob_path(key).unlink(missing_ok=True)

    def _blob_path(self, key: str) -> Path:
        return self._root / key[0:2] / key[2:4] / key

    def _existing_path(self, key: str) -> Path | None:
        if not _KEY.fullmatch(key):
            return None
        path = self._blob_path(key)
        return path if path.is_file() else None


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by this user only (0700);
    folders that exist keep their mode."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
