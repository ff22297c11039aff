"""The real server's files (``python __main__.py`` on a fresh ``user_data/``) are its
user's only: every folder it makes is 0700, every file 0600 — the secret key, the SQLite
database with its -wal and -shm, uploads and their thumbnails, avatars."""

from __future__ import annotations

import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from PIL import Image

from scripts.live_server import LiveServer, bearer, sign_up

pytestmark = pytest.mark.e2e


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[tuple[LiveServer, Path]]:
    data = tmp_path / "user_data"  # made by the server, as bin/run makes it
    settings = {
        "DATABASE_PATH": repr(str(data / "db" / "messenger.sqlite3")),
        "UPLOAD_FOLDER": repr(str(data / "upload")),
    }
    old = os.umask(0o022)  # the usual umask, inherited by the server
    try:
        with LiveServer(tmp_path / "run", extra_env=settings) as server:
            yield server, data
    finally:
        os.umask(old)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "#86c5ff").save(buffer, "PNG")
    return buffer.getvalue()


def test_everything_the_server_writes_is_private(fresh_server: tuple[LiveServer, Path]) -> None:
    server, data = fresh_server
    _, token = sign_up(server.url, "modes@example.com")
    for path, method in [("/api/v1/attachments", "POST"), ("/api/v1/users/me/avatar", "PUT")]:
        answer = requests.request(
            method,
            server.url + path,
            files={"file": ("photo.png", png(), "image/png")},
            headers=bearer(token),
            timeout=60,
        )
        assert answer.status_code in (200, 201), answer.text
    found = {p.relative_to(data.parent).as_posix(): p for p in [data, *data.rglob("*")]}
    names = set(found)
    assert {"user_data/secret_key", "user_data/db/messenger.sqlite3"} <= names
    assert {"user_data/db/messenger.sqlite3-wal", "user_data/db/messenger.sqlite3-shm"} <= names
    blobs = [p for p in found.values() if p.is_file() and "upload" in p.parts]
    assert len(blobs) >= 3  # the photo, its thumbnail, the avatar
    modes = {name: oct(stat.S_IMODE(p.stat().st_mode)) for name, p in found.items()}
    expected = {name: "0o700" if p.is_dir() else "0o600" for name, p in found.items()}
    assert modes == expected
