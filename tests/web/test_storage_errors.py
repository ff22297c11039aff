"""When the storage fails — a full disk, a read-only database, a file that cannot be
deleted — the answer is a clear 503 with a code, and a committed change is never
reported as failed."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import pytest
from falcon import testing

from adapters.blobs_fs import FilesystemBlobStore
from adapters.memory import MemoryBlobStore
from adapters.sqlite import SqliteUnitOfWorkFactory
from entrypoints.bootstrap import build_messenger, prepare_database
from entrypoints.config import Settings
from entrypoints.web.app import create_app

PASSWORD = "password123"


class Site:
    def __init__(self, tmp_path: Path, blobs: Any = None) -> None:
        self.settings = Settings(
            SECRET_KEY="x" * 40,
            DATABASE_PATH=str(tmp_path / "db.sqlite3"),
            UPLOAD_FOLDER=str(tmp_path / "up"),
            RATE_LIMITS_ENABLED=False,
        )
        prepare_database(self.settings)
        # The test client calls the app on this thread: this is the connection it uses.
        self.database = SqliteUnitOfWorkFactory(self.settings.DATABASE_PATH)
        messenger = build_messenger(self.settings, uow=self.database, blobs=blobs or MemoryBlobStore())
        self.client = testing.TestClient(create_app(messenger, self.settings))

    def person(self, email: str) -> tuple[dict[str, str], str]:
        body = {"first_name": "A", "second_name": "B", "email": email, "password": PASSWORD}
        user_id = self.client.simulate_post("/api/v1/users", json=body).json["user"]["user_id"]
        login = {"email": email, "password": PASSWORD}
        token = self.client.simulate_post("/api/v1/login", json=login).json["access_token"]
        return {"Authorization": f"Bearer {token}"}, user_id

    def friends(self) -> tuple[dict[str, str], dict[str, str], int]:
        a, _ = self.person("a@example.com")
        b, b_id = self.person("b@example.com")
        a_id = self.client.simulate_get("/api/v1/users/me", headers=a).json["user"]["user_id"]
        self.client.simulate_post(
            "/api/v1/users_friends", json={"action": "add", "friend_id": b_id}, headers=a
        )
        self.client.simulate_post(
            "/api/v1/users_friends", json={"action": "accept", "friend_id": a_id}, headers=b
        )
        chat = self.client.simulate_post("/api/v1/chats", json={"user_id": b_id}, headers=a).json["chat"]
        return a, b, chat["id"]

    def send(self, who: dict[str, str], chat_id: int, text: str) -> testing.Result:
        return self.client.simulate_post(
            f"/api/v1/chats/{chat_id}/messages", json={"text": text}, headers=who
        )

    def texts(self, who: dict[str, str], chat_id: int) -> list[str]:
        page = self.client.simulate_get(f"/api/v1/chats/{chat_id}/messages", headers=who).json
        return [m["text"] for m in page["messages"]]


def test_a_full_disk_is_503_storage_full_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    site = Site(tmp_path)
    a, b, chat_id = site.friends()
    conn = site.database.connection()
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: as a full disk
    with caplog.at_level(logging.ERROR, logger="messenger.web"):
        failed = site.send(a, chat_id, "x" * 4000)
    assert failed.status_code == 503, failed.text
    assert failed.json["error"]["code"] == "storage_full"
    assert [r.message for r in caplog.records if "storage unavailable" in r.message]
    conn.execute("PRAGMA max_page_count = 1073741823")
    assert site.texts(b, chat_id) == []  # nothing half-written
    assert site.send(a, chat_id, "now it fits").status_code == 201


def test_a_read_only_database_is_503_storage_unavailable(tmp_path: Path) -> None:
    site = Site(tmp_path)
    a, _, chat_id = site.friends()
    site.database.connection().execute("PRAGMA query_only = ON")
    failed = site.send(a, chat_id, "hello")
    assert failed.status_code == 503 and failed.json["error"]["code"] == "storage_unavailable"
    # Reads still answer.
    assert site.client.simulate_get("/api/v1/chats", headers=a).status_code == 200


class UndeletableBlobs(MemoryBlobStore):
    def delete(self, key: str) -> None:
        raise PermissionError("the upload folder is broken")


def test_a_committed_delete_is_reported_done_even_if_its_file_stays(tmp_path: Path) -> None:
    site = Site(tmp_path, blobs=UndeletableBlobs())
    a, b, chat_id = site.friends()
    boundary = "b0undary"
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n').encode()
        + b"bytes"
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = a | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    attachment = site.client.simulate_post("/api/v1/attachments", body=body, headers=headers).json[
        "attachment"
    ]
    sent = site.client.simulate_post(
        f"/api/v1/chats/{chat_id}/messages", json={"attachment_ids": [attachment["id"]]}, headers=a
    ).json["message"]
    deleted = site.client.simulate_delete(f"/api/v1/messages/{sent['id']}", headers=a)
    assert deleted.status_code == 200, deleted.text
    page = site.client.simulate_get(f"/api/v1/chats/{chat_id}/messages", headers=b).json["messages"]
    assert [m["is_deleted"] for m in page] == [True]


def upload(site: Site, who: dict[str, str], data: bytes) -> testing.Result:
    boundary = "b0undary"
    body = (
        (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f.bin"\r\n\r\n').encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    headers = who | {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return site.client.simulate_post("/api/v1/attachments", body=body, headers=headers)


def test_a_broken_upload_folder_is_503_storage_unavailable_with_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "up"
    site = Site(tmp_path, blobs=FilesystemBlobStore(root))
    a, _, _ = site.friends()
    stored = upload(site, a, b"kept bytes").json["attachment"]
    shutil.rmtree(root)
    root.write_bytes(b"a file where the upload folder was")
    with caplog.at_level(logging.ERROR):
        refused = upload(site, a, b"more bytes")
        unreadable = site.client.simulate_get(f"/api/v1/attachments/{stored['id']}", headers=a)
    for answer in (refused, unreadable):
        assert answer.status_code == 503, answer.text
        assert answer.json["error"]["code"] == "storage_unavailable"
    lines = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(lines) == 2 and all("storage unavailable" in r.getMessage() for r in lines)
    assert all(r.exc_info is None for r in lines)  # one line each, no traceback
