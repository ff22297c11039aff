"""Attachments and avatars through the API, on SQLite and the filesystem blob store.

Every test runs the real Falcon app over a temporary database and UPLOAD_FOLDER, and
looks at the folder itself to check that bytes appear and disappear when they should.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import falcon
import falcon.testing
import pytest
from PIL import Image

from adapters.testing import ManualClock
from entrypoints.bootstrap import build_messenger, prepare_database
from entrypoints.config import Settings
from entrypoints.web.app import create_app
from entrypoints.web.media import send_file

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024 * 1024
BOUNDARY = "----messenger-test-boundary"
PASSWORD = "password123"


# --- the app and its users ---------------------------------------------------------------


class Api:
    """A test client with users who sign in and a look at the upload folder."""

    def __init__(self, tmp_path: Path, clock: ManualClock | None = None, **overrides: Any) -> None:
        self.settings = Settings(
            SECRET_KEY="x" * 40,
            DATABASE_PATH=str(tmp_path / "db.sqlite3"),
            UPLOAD_FOLDER=str(tmp_path / "up"),
            RATE_LIMITS_ENABLED=False,
            **overrides,
        )
        self.upload_folder = Path(self.settings.UPLOAD_FOLDER)
        prepare_database(self.settings)
        self.built_in = set(self._files())  # the sticker pack every database comes with
        self.messenger = build_messenger(self.settings, memory=False, clock=clock)
        self.client = falcon.testing.TestClient(create_app(self.messenger, self.settings))

    def user(self, name: str) -> User:
        email = f"{name}@example.com"
        body = {"first_name": name.title(), "second_name": "Test", "email": email, "password": PASSWORD}
        registered = self.client.simulate_post("/api/v1/users", json=body)
        assert registered.status_code == 201, registered.text
        # A token for days: the cleanup tests move a manual clock a day on.
        login = {"email": email, "password": PASSWORD, "expires_in": 7 * 24 * 3600}
        tokens = self.client.simulate_post("/api/v1/login", json=login)
        assert tokens.status_code == 200, tokens.text
        return User(self, registered.json["user"]["user_id"], tokens.json["access_token"])

    def friends(self, a: User, b: User) -> None:
        assert a.post("/api/v1/users_friends", json={"action": "add", "friend_id": b.id}).status_code == 200
        assert (
            b.post("/api/v1/users_friends", json={"action": "accept", "friend_id": a.id}).status_code == 200
        )

    def stored_files(self) -> list[Path]:
        """Every file under UPLOAD_FOLDER, temporary ones included, but the built-in stickers."""
        return sorted(set(self._files()) - self.built_in)

    def _files(self) -> list[Path]:
        return [Path(d, n) for d, _, names in os.walk(self.upload_folder) for n in names]


class User:
    def __init__(self, api: Api, user_id: str, token: str) -> None:
        self.api = api
        self.id = user_id
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str, **headers: str) -> falcon.testing.Result:
        return self.api.client.simulate_get(path, headers=self.headers | headers)

    def post(self, path: str, **kwargs: Any) -> falcon.testing.Result:
        return self.api.client.simulate_post(path, headers=self.headers, **kwargs)

    def delete(self, path: str) -> falcon.testing.Result:
        return self.api.client.simulate_delete(path, headers=self.headers)

    def upload(
        self, name: str, data: bytes, *, path: str = "/api/v1/attachments", method: str = "POST", **kw: Any
    ) -> falcon.testing.Result:
        body, content_type = multipart(name.encode(), data, **kw)
        return self.api.client.simulate_request(
            method, path, body=body, headers=self.headers | {"Content-Type": content_type}
        )

    def attach(self, name: str, data: bytes) -> dict[str, Any]:
        result = self.upload(name, data)
        assert result.status_code == 201, result.text
        attachment: dict[str, Any] = result.json["attachment"]
        return attachment

    def send(self, to: User, **body: Any) -> falcon.testing.Result:
        return self.post("/api/v1/messages", json={"receiver_id": to.id} | body)


def multipart(
    filename: bytes, data: bytes, *, field: bytes = b"file", part_type: bytes = b"application/octet-stream"
) -> tuple[bytes, str]:
    """A multipart/form-data body as a browser sends it: the file name as raw UTF-8."""
    head = (
        b"--" + BOUNDARY.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="note"\r\n\r\nhello\r\n'
        b"--" + BOUNDARY.encode() + b"\r\n"
        b'Content-Disposition: form-data; name="' + field + b'"; filename="' + filename + b'"\r\n'
        b"Content-Type: " + part_type + b"\r\n\r\n"
    )
    tail = b"\r\n--" + BOUNDARY.encode() + b"--\r\n"
    return head + data + tail, f"multipart/form-data; boundary={BOUNDARY}"


@pytest.fixture
def api(tmp_path: Path) -> Api:
    return Api(tmp_path)


@pytest.fixture
def alice(api: Api) -> User:
    return api.user("alice")


@pytest.fixture
def bob(api: Api, alice: User) -> User:
    bob = api.user("bob")
    api.friends(alice, bob)
    return bob


# --- tiny real files ---------------------------------------------------------------------


def image(format: str, size: tuple[int, int] = (48, 32), mode: str = "RGB", **options: Any) -> bytes:
    colour: Any = (200, 40, 40, 0) if mode == "RGBA" else "red"
    buffer = io.BytesIO()
    Image.new(mode, size, colour).save(buffer, format, **options)
    return buffer.getvalue()


MEDIA: dict[str, tuple[bytes, str, str]] = {
    # name: (bytes, kind, mime)
    "photo.png": (image("PNG"), "photo", "image/png"),
    "photo.jpg": (image("JPEG"), "photo", "image/jpeg"),
    "anim.gif": (image("GIF", mode="P"), "photo", "image/gif"),
    "photo.webp": (image("WEBP"), "photo", "image/webp"),
    "clip.mp4": (
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + bytes(64),
        "video",
        "video/mp4",
    ),
    "clip.webm": (
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\x82\x84webm" + bytes(64),
        "video",
        "video/webm",
    ),
    "song.mp3": (b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(64), "audio", "audio/mpeg"),
    "bare.mp3": (b"\xff\xfb\x90\x00" + bytes(64), "audio", "audio/mpeg"),
    "voice.ogg": (b"OggS\x00\x02" + bytes(20) + b"\x01\x1eOpusHead" + bytes(32), "audio", "audio/ogg"),
    "voice.m4a": (b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom" + bytes(64), "audio", "audio/mp4"),
    "notes.txt": (b"just some text\n", "file", "application/octet-stream"),
    "paper.pdf": (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "file", "application/pdf"),
    "iphone.heic": (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64), "file", "image/heic"),
}


# --- uploads: kinds, limits, names --------------------------------------------------------


@pytest.mark.parametrize("name", MEDIA)
def test_each_kind_is_told_by_its_content(alice: User, name: str) -> None:
    data, kind, mime = MEDIA[name]
    # The name and the client's type lie on purpose: only the bytes count.
    attachment = alice.attach(f"renamed-{name}.bin", data)
    assert (attachment["kind"], attachment["mime"], attachment["size"]) == (kind, mime, len(data))
    assert attachment["url"] == f"/api/v1/attachments/{attachment['id']}"

    served = alice.get(attachment["url"])
    assert served.status_code == 200
    assert served.content == data
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    disposition = served.headers["Content-Disposition"]
    if kind == "file":
        assert served.headers["Content-Type"] == "application/octet-stream"
        assert disposition.startswith("attachment;")
    else:
        assert served.headers["Content-Type"] == mime
        assert disposition.startswith("inline;")


@pytest.mark.parametrize(
    ("data", "thumbnail_type"),
    [
        (image("JPEG", (900, 600)), "image/jpeg"),
        (image("PNG", (900, 600), mode="RGBA"), "image/png"),  # transparency keeps a PNG
        (image("WEBP", (600, 900)), "image/jpeg"),
    ],
)
def test_photos_get_size_and_a_thumbnail_of_the_right_type(
    alice: User, data: bytes, thumbnail_type: str
) -> None:
    attachment = alice.attach("photo", data)
    with Image.open(io.BytesIO(data)) as original:
        assert (attachment["width"], attachment["height"]) == original.size
    assert attachment["thumbnail_url"] == attachment["url"] + "/thumbnail"
    served = alice.get(attachment["thumbnail_url"])
    assert served.status_code == 200
    assert served.headers["Content-Type"] == thumbnail_type
    with Image.open(io.BytesIO(served.content)) as thumbnail:
        assert Image.MIME[thumbnail.format or ""] == thumbnail_type
        assert max(thumbnail.size) == 320


def test_a_file_has_no_thumbnail(alice: User) -> None:
    attachment = alice.attach("notes.txt", b"text")
    assert attachment["thumbnail_url"] is None
    assert alice.get(attachment["url"] + "/thumbnail").status_code == 404


def test_a_cut_off_photo_is_still_a_file(alice: User) -> None:
    png = image("PNG", (200, 200))
    attachment = alice.attach("cut.png", png[: len(png) // 2])
    assert (attachment["kind"], attachment["thumbnail_url"]) == ("file", None)


def test_a_file_at_the_limit_is_streamed_in(api: Api, alice: User) -> None:
    # Larger than Falcon's multipart buffer (1 MiB): part.stream must not be buffered.
    data = os.urandom(16 * MiB)
    attachment = alice.attach("big.bin", data)
    assert attachment["size"] == 16 * MiB
    assert alice.get(attachment["url"]).content == data
    [stored] = api.stored_files()
    assert stored.stat().st_size == 16 * MiB


def test_a_17_mib_upload_is_refused_and_leaves_no_file(api: Api, alice: User) -> None:
    refused = alice.upload("huge.bin", bytes(17 * MiB))
    assert refused.status_code == 413
    assert refused.json["error"]["code"] == "too_large"
    assert api.stored_files() == []


def test_the_limit_is_also_enforced_while_streaming(api: Api, alice: User) -> None:
    # One byte over: the Content-Length is within the multipart slack, so the upload is
    # only found too large while it is written, and the partial file is removed.
    refused = alice.upload("over.bin", bytes(16 * MiB + 1))
    assert refused.status_code == 413
    assert api.stored_files() == []


def test_a_small_limit_applies_too(tmp_path: Path) -> None:
    api = Api(tmp_path, MAX_CONTENT_LENGTH=1000)
    alice = api.user("alice")
    assert alice.upload("ok.bin", bytes(1000)).status_code == 201
    assert alice.upload("over.bin", bytes(1001)).status_code == 413
    assert len(api.stored_files()) == 1


def test_uploads_must_be_multipart_with_a_file_part(alice: User) -> None:
    assert alice.post("/api/v1/attachments", json={"file": "x"}).status_code == 415
    missing = alice.upload("x.txt", b"x", field=b"other")
    assert missing.status_code == 422
    assert "file" in missing.json["error"]["fields"]


def test_uploads_need_a_signed_in_user(api: Api) -> None:
    body, content_type = multipart(b"x.txt", b"x")
    result = api.client.simulate_post(
        "/api/v1/attachments", body=body, headers={"Content-Type": content_type}
    )
    assert result.status_code == 401
    assert api.stored_files() == []


@pytest.mark.parametrize("name", ["Отчёт за май.pdf", "котик 🐱 «фото».txt", 'кавычки "и" ; точка.txt'])
def test_cyrillic_file_names_round_trip(alice: User, bob: User, name: str) -> None:
    wire_name = name.replace('"', "%22")  # what browsers send for a double quote (WHATWG)
    attachment = alice.attach(wire_name, b"%PDF-1.4 report")
    assert attachment["name"] == wire_name
    sent = alice.send(bob, attachment_ids=[attachment["id"]])
    assert sent.json["message"]["attachments"][0]["name"] == wire_name

    disposition = bob.get(attachment["url"]).headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="')
    fallback = disposition.split('filename="', 1)[1].split('"', 1)[0]
    assert fallback.isascii()
    assert unquote(disposition.split("filename*=UTF-8''", 1)[1]) == wire_name


def test_file_names_lose_folders_and_control_characters(alice: User) -> None:
    attachment = alice.attach("../../etc/pass\twd", b"x")
    assert attachment["name"] == "passwd"


def test_part_headers_that_are_not_utf8_are_a_bad_request(api: Api, alice: User) -> None:
    body, content_type = multipart("отчёт.txt".encode("cp1251"), b"x")
    result = api.client.simulate_post(
        "/api/v1/attachments", body=body, headers=alice.headers | {"Content-Type": content_type}
    )
    assert result.status_code == 400
    assert api.stored_files() == []


# --- what one user may keep unsent, and a disk running out -----------------------------------


def error_code(result: falcon.testing.Result, status: int) -> str:
    assert result.status_code == status, result.text
    code: str = result.json["error"]["code"]
    return code


def test_unsent_uploads_are_capped_per_user_until_they_are_sent(tmp_path: Path) -> None:
    api = Api(tmp_path, UNSENT_UPLOAD_BYTES=2500)
    alice, bob = api.user("alice"), api.user("bob")
    api.friends(alice, bob)
    first, second = alice.attach("1.bin", bytes(1000)), alice.attach("2.bin", bytes(1000))
    kept = api.stored_files()

    refused = alice.upload("3.bin", bytes(1000))  # 2000 + 1000 > 2500: stored, then dropped
    assert error_code(refused, 413) == "unsent_uploads_full"
    assert refused.json["error"]["params"] == {"max": 2500}
    assert api.stored_files() == kept
    assert alice.attach("small.bin", bytes(500))["size"] == 500  # exactly the limit is fine
    full = alice.upload("4.bin", b"x")  # at the limit: refused before a byte is stored
    assert error_code(full, 413) == "unsent_uploads_full"
    assert bob.attach("bob.bin", bytes(2000))["size"] == 2000  # each user has their own

    sent = alice.send(bob, attachment_ids=[first["id"], second["id"]])
    assert sent.status_code == 201, sent.text
    assert alice.attach("3.bin", bytes(1000))["size"] == 1000  # sent files no longer count


def test_uploads_are_refused_while_the_disk_is_short_of_the_reserve(tmp_path: Path) -> None:
    free = shutil.disk_usage(tmp_path).free
    api = Api(tmp_path, UPLOAD_MIN_FREE_BYTES=free + 1024**4)  # a terabyte more than there is
    alice, bob = api.user("alice"), api.user("bob")
    api.friends(alice, bob)
    chat = alice.post("/api/v1/chats", json={"member_ids": [bob.id], "title": "Group"})
    assert chat.status_code == 201, chat.text
    group = chat.json["chat"]["id"]

    assert error_code(alice.upload("a.bin", b"bytes"), 503) == "storage_full"
    avatar = alice.upload("me.png", image("PNG"), path="/api/v1/users/me/avatar", method="PUT")
    assert error_code(avatar, 503) == "storage_full"
    photo = alice.upload("g.png", image("PNG"), path=f"/api/v1/chats/{group}/photo", method="PUT")
    assert error_code(photo, 503) == "storage_full"
    assert api.stored_files() == []
    # What needs no new file goes on.
    assert alice.send(bob, text="the disk is nearly full").status_code == 201


def test_a_reserve_the_disk_has_lets_uploads_through(tmp_path: Path) -> None:
    api = Api(tmp_path, UPLOAD_MIN_FREE_BYTES=1024)
    assert api.user("alice").attach("a.bin", b"bytes")["size"] == 5


# --- serving safely ------------------------------------------------------------------------


def test_html_named_cat_jpg_is_a_download(alice: User) -> None:
    html = b"<!doctype html><html><script>alert(document.cookie)</script></html>"
    attachment = alice.attach("cat.jpg", html)
    assert (attachment["kind"], attachment["mime"]) == ("file", "application/octet-stream")
    served = alice.get(attachment["url"])
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith('attachment; filename="cat.jpg"')
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_an_svg_upload_is_never_inline(alice: User) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    attachment = alice.attach("drawing.svg", svg)
    assert attachment["kind"] == "file"
    served = alice.get(attachment["url"])
    assert served.headers["Content-Type"] == "application/octet-stream"
    assert served.headers["Content-Disposition"].startswith("attachment;")


@pytest.mark.parametrize(
    "mime", ["image/svg+xml", "text/html", "application/xhtml+xml", "text/xml", "application/pdf"]
)
def test_send_file_never_shows_active_types_inline(mime: str) -> None:
    req = falcon.testing.create_req()
    resp = falcon.Response()
    send_file(req, resp, io.BytesIO(b"<svg/>"), mime=mime, name="x.svg", inline=True)
    assert resp.content_type == "application/octet-stream"
    assert (resp.get_header("Content-Disposition") or "").startswith("attachment;")


# --- who may see what ----------------------------------------------------------------------


def test_only_the_uploader_and_the_chat_see_an_attachment(api: Api, alice: User, bob: User) -> None:
    carol = api.user("carol")
    attachment = alice.attach("photo.png", image("PNG"))
    assert bob.get(attachment["url"]).status_code == 404  # not sent yet
    assert carol.get(attachment["url"]).status_code == 404
    assert alice.send(bob, attachment_ids=[attachment["id"]]).status_code == 201
    assert bob.get(attachment["url"]).status_code == 200
    assert bob.get(attachment["thumbnail_url"]).status_code == 200
    stranger = carol.get(attachment["url"])
    assert stranger.status_code == 404
    assert carol.get(attachment["thumbnail_url"]).status_code == 404
    assert carol.get("/api/v1/attachments/999999").json == stranger.json  # no hint it exists


def test_a_sender_cannot_attach_someone_elses_upload(alice: User, bob: User) -> None:
    theirs = alice.attach("alice.txt", b"mine")
    stolen = bob.send(alice, text="look", attachment_ids=[theirs["id"]])
    assert stolen.status_code == 422
    assert "attachment_ids" in stolen.json["error"]["fields"]
    assert bob.get(theirs["url"]).status_code == 404
    # Nor can an upload be sent twice.
    assert alice.send(bob, attachment_ids=[theirs["id"]]).status_code == 201
    assert alice.send(bob, attachment_ids=[theirs["id"]]).status_code == 422


def test_up_to_ten_attachments_per_message(alice: User, bob: User) -> None:
    ids = [alice.attach(f"{i}.txt", str(i).encode())["id"] for i in range(11)]
    too_many = alice.send(bob, attachment_ids=ids)
    assert too_many.status_code == 422
    assert "attachment_ids" in too_many.json["error"]["fields"]
    sent = alice.send(bob, attachment_ids=ids[:10])
    assert sent.status_code == 201
    assert [a["id"] for a in sent.json["message"]["attachments"]] == ids[:10]


# --- range requests ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=1000-", 1000, 4095),
        ("bytes=-10", 4086, 4095),
        ("bytes=4000-9999", 4000, 4095),
    ],
)
def test_range_requests_give_partial_content(alice: User, header: str, start: int, end: int) -> None:
    data = os.urandom(4096)
    attachment = alice.attach("clip.mp4", MEDIA["clip.mp4"][0][:32] + data[32:])
    full = alice.get(attachment["url"])
    assert full.headers["Accept-Ranges"] == "bytes"
    part = alice.get(attachment["url"], Range=header)
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes {start}-{end}/4096"
    assert part.headers["Content-Length"] == str(end - start + 1)
    assert part.content == full.content[start : end + 1]
    assert part.headers["Content-Type"] == "video/mp4"


def test_a_range_past_the_end_is_416(alice: User) -> None:
    attachment = alice.attach("x.bin", bytes(100))
    result = alice.get(attachment["url"], Range="bytes=100-")
    assert result.status_code == 416
    assert result.headers["Content-Range"] == "bytes */100"


@pytest.mark.parametrize("header", ["bytes=5-2", "bytes=0-1,5-6", "items=0-1", "bytes=abc"])
def test_a_range_we_cannot_honour_gets_the_whole_file(alice: User, header: str) -> None:
    attachment = alice.attach("x.bin", bytes(range(100)))
    result = alice.get(attachment["url"], Range=header)
    assert result.status_code == 200
    assert result.content == bytes(range(100))


# --- bytes leave the disk with their rows -----------------------------------------------------


def test_deleting_a_message_removes_its_bytes(api: Api, alice: User, bob: User) -> None:
    photo = alice.attach("photo.jpg", image("JPEG", (640, 480)))
    doc = alice.attach("doc.pdf", b"%PDF-1.4 doc")
    kept = alice.attach("kept.txt", b"kept")
    assert len(api.stored_files()) == 4  # photo, its thumbnail, doc, kept
    message = alice.send(bob, text="files", attachment_ids=[photo["id"], doc["id"]]).json["message"]
    assert alice.delete(f"/api/v1/messages/{message['id']}").status_code == 200
    assert len(api.stored_files()) == 1
    assert bob.get(photo["url"]).status_code == 404
    assert alice.get(kept["url"]).status_code == 200


def test_deleting_a_chat_removes_its_bytes(api: Api, alice: User, bob: User) -> None:
    first = alice.attach("a.png", image("PNG"))
    second = bob.attach("b.txt", b"b")
    chat_id = alice.send(bob, attachment_ids=[first["id"]]).json["message"]["chat_id"]
    bob.send(alice, attachment_ids=[second["id"]])
    assert len(api.stored_files()) == 3
    assert bob.delete(f"/api/v1/chats/{chat_id}").status_code == 200
    assert api.stored_files() == []


def test_unsent_uploads_are_cleaned_up_after_a_day(tmp_path: Path) -> None:
    clock = ManualClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))
    api = Api(tmp_path, clock=clock)
    alice, bob = api.user("alice"), api.user("bob")
    api.friends(alice, bob)
    orphan = alice.attach("orphan.png", image("PNG"))
    sent = alice.attach("sent.txt", b"sent")
    alice.send(bob, attachment_ids=[sent["id"]])
    assert len(api.stored_files()) == 3

    clock.advance(timedelta(hours=23))
    assert api.messenger.remove_orphan_uploads() == 0
    assert alice.get(orphan["url"]).status_code == 200

    clock.advance(timedelta(hours=2))
    assert api.messenger.remove_orphan_uploads() == 1
    assert alice.get(orphan["url"]).status_code == 404
    assert [p.read_bytes() for p in api.stored_files()] == [b"sent"]
    assert bob.get(sent["url"]).status_code == 200


def test_the_cleanup_command_removes_old_unsent_uploads(tmp_path: Path) -> None:
    clock = ManualClock(datetime.now(UTC) - timedelta(days=2))  # uploaded two days ago
    api = Api(tmp_path, clock=clock)
    api.user("alice").attach("old.txt", b"old")
    clock.advance(timedelta(days=2))
    api.user("bob").attach("new.txt", b"new")
    env = os.environ | {
        "APP_CONFIG": "entrypoints.config.EnvConfig",
        "APP_ENV_VARS": "SECRET_KEY,DATABASE_PATH,UPLOAD_FOLDER,DEMO_DATA",
        "SECRET_KEY": repr(api.settings.SECRET_KEY),
        "DATABASE_PATH": repr(api.settings.DATABASE_PATH),
        "UPLOAD_FOLDER": repr(api.settings.UPLOAD_FOLDER),
        "DEMO_DATA": "False",
    }
    done = subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", "cleanup"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "removed 1 unsent uploads" in done.stdout
    assert [p.read_bytes() for p in api.stored_files()] == [b"new"]


# --- avatars -------------------------------------------------------------------------------


def photo_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Inc."  # Make
    exif[0x0110] = "Model-X"  # Model
    exif[0x8825] = {2: (55.0, 45.0, 0.0), 1: "N", 4: (37.0, 37.0, 0.0), 3: "E"}  # GPS: Moscow
    exif[0x0112] = 6  # Orientation: rotate 90° to stand upright
    buffer = io.BytesIO()
    Image.new("RGB", (400, 300), "blue").save(buffer, "JPEG", exif=exif)
    data = buffer.getvalue()
    assert b"SpyCam" in data
    return data


def test_an_avatar_is_re_encoded_without_exif(api: Api, alice: User) -> None:
    updated = alice.upload("me.jpg", photo_with_exif(), path="/api/v1/users/me/avatar", method="PUT")
    assert updated.status_code == 200, updated.text
    served = alice.get(updated.json["user"]["avatar"])
    assert served.status_code == 200
    assert served.headers["Content-Type"] == "image/png"
    assert b"SpyCam" not in served.content and b"Exif" not in served.content
    with Image.open(io.BytesIO(served.content)) as avatar:
        assert (avatar.format, avatar.size) == ("PNG", (256, 256))
        assert not avatar.getexif()
        assert not {"exif", "icc_profile", "XML:com.adobe.xmp"} & set(avatar.info)
    # Nothing of the upload itself is kept: one file, the re-encoded avatar.
    [stored] = api.stored_files()
    assert stored.read_bytes() == served.content


def test_a_new_avatar_replaces_the_old_bytes(api: Api, alice: User) -> None:
    path = "/api/v1/users/me/avatar"
    alice.upload("one.png", image("PNG", (300, 300)), path=path, method="PUT")
    [first] = api.stored_files()
    second = alice.upload("two.webp", image("WEBP", (500, 200)), path=path, method="PUT")
    assert second.status_code == 200
    [current] = api.stored_files()
    assert current != first and not first.exists()


def test_an_avatar_must_be_an_image(api: Api, alice: User) -> None:
    alice.upload("one.png", image("PNG"), path="/api/v1/users/me/avatar", method="PUT")
    before = api.stored_files()
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"/>'
    refused = alice.upload("x.svg", svg, path="/api/v1/users/me/avatar", method="PUT")
    assert refused.status_code == 422
    assert api.stored_files() == before  # the old avatar stays, the refused upload is gone


def test_users_without_an_avatar_get_a_default_one(alice: User) -> None:
    served = alice.get("/api/v1/users/me/avatar")
    assert served.status_code == 200
    assert served.headers["Content-Type"].startswith("image/svg+xml")
    assert b"AT" in served.content  # Alice Test's initials


@pytest.fixture(autouse=True)
def _no_stray_temporary_files(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test did, no half-written upload may stay in UPLOAD_FOLDER/tmp."""
    yield
    api = request.node.funcargs.get("api")
    if isinstance(api, Api):
        assert not [p for p in api.stored_files() if "tmp" in p.relative_to(api.upload_folder).parts]
