"""Decompression bombs over HTTP, against the real server (``python __main__.py``).

An 8000×8000 PNG is ~65 KB on the wire and 64 megapixels decoded, over the server's
40 MP cap: as an avatar it is refused with a field error, as an attachment it is kept
as a plain file without a thumbnail; neither is ever decoded.
"""

from __future__ import annotations

import struct
import zlib

import pytest
import requests

from scripts.live_server import LiveServer, bearer, sign_up

pytestmark = pytest.mark.e2e


def bomb_png(width: int, height: int) -> bytes:
    """A grayscale PNG of zeros, written by hand: tiny, and huge once decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    pixels = b"".join(packer.compress(bytes(width + 1)) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


BOMB = bomb_png(8000, 8000)


def test_an_avatar_over_the_pixel_cap_is_a_field_error(live_server: LiveServer) -> None:
    _, token = sign_up(live_server.url, "bomb-avatar@example.com")
    answer = requests.put(
        f"{live_server.url}/api/v1/users/me/avatar",
        files={"file": ("big.png", BOMB, "image/png")},
        headers=bearer(token),
        timeout=60,
    )
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid"
    assert error["fields"] == {"file": "The image is too large: at most 40000000 pixels"}


def test_an_attachment_over_the_pixel_cap_is_kept_as_a_file(live_server: LiveServer) -> None:
    _, token = sign_up(live_server.url, "bomb-file@example.com")
    answer = requests.post(
        f"{live_server.url}/api/v1/attachments",
        files={"file": ("big.png", BOMB, "image/png")},
        headers=bearer(token),
        timeout=60,
    )
    assert answer.status_code == 201, answer.text
    attachment = answer.json()["attachment"]
    assert attachment["kind"] == "file"
    assert attachment["has_thumbnail"] is False and attachment["thumbnail_url"] is None
    assert attachment["size"] == len(BOMB)
    download = requests.get(live_server.url + attachment["url"], headers=bearer(token), timeout=60)
    assert download.status_code == 200 and download.content == BOMB
