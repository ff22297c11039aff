"""Serving stored bytes safely: types, disposition, sandboxing and Range requests."""

from __future__ import annotations

import os
from typing import BinaryIO
from urllib.parse import quote

import falcon

# Types a browser would run or render as a document: always downloaded, never inline.
ACTIVE_TYPES = (
    "text/html",
    "image/svg+xml",
    "application/xml",
    "text/xml",
    "application/javascript",
    "text/javascript",
    "application/pdf",
    "application/xhtml+xml",
)
INLINE_PREFIXES = ("image/", "video/", "audio/")


def send_file(
    req: falcon.Request,
    resp: falcon.Response,
    stream: BinaryIO,
    *,
    mime: str,
    name: str,
    inline: bool,
    sniff: bool = False,
) -> None:
    """Stream a stored file, honouring a single byte Range. ``sniff`` corrects an
    ``image/jpeg`` guess to PNG from the first bytes (thumbnails are either)."""
    size = _size(stream)
    if sniff:
        head = stream.read(8)
        stream.seek(0)
        if head.startswith(b"\x89PNG"):
            mime = "image/png"
    byte_range = _byte_range(req)
    is_safe_media = mime.startswith(INLINE_PREFIXES) and not mime.startswith(ACTIVE_TYPES)
    show_inline = inline and is_safe_media
    resp.content_type = mime if show_inline else "application/octet-stream"
    resp.set_header(
        "Content-Disposition", content_disposition("inline" if show_inline else "attachment", name)
    )
    resp.set_header("X-Content-Type-Options", "nosniff")
    resp.set_header("Content-Security-Policy", "default-src 'none'; sandbox")
    resp.set_header("Accept-Ranges", "bytes")
    if byte_range is not None and size > 0:
        start, end = byte_range
        if start < 0:  # a suffix range: the last -start bytes
            start, end = max(0, size + start), size - 1
        end = size - 1 if end < 0 else min(end, size - 1)
        if start > end or start >= size:
            stream.close()
            resp.status = falcon.HTTP_416
            resp.set_header("Content-Range", f"bytes */{size}")
            return
        stream.seek(start)
        resp.status = falcon.HTTP_206
        resp.set_header("Content-Range", f"bytes {start}-{end}/{size}")
        resp.set_stream(_Limited(stream, end - start + 1), end - start + 1)
        return
    resp.set_stream(stream, size)


def _byte_range(req: falcon.Request) -> tuple[int, int] | None:
    """The single byte range asked for, or None. A Range header that is malformed,
    lists several ranges or uses another unit is ignored (RFC 9110, 14.2): the
    whole file is sent, as it would be to a client that never asked for a part."""
    try:
        return req.range if req.range_unit == "bytes" else None
    except falcon.HTTPInvalidHeader:
        return None


def content_disposition(kind: str, name: str) -> str:
    """RFC 6266: an ASCII fallback plus the UTF-8 name, so Cyrillic names survive."""
    fallback = "".join(c if 32 <= ord(c) < 127 and c not in '"\\' else "_" for c in name) or "file"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _size(stream: BinaryIO) -> int:
    try:
        return os.fstat(stream.fileno()).st_size
    except (AttributeError, OSError, ValueError):
        position = stream.tell()
        size = stream.seek(0, os.SEEK_END)
        stream.seek(position)
        return size


class _Limited:
    """A file object that ends after ``remaining`` bytes (for partial content)."""

    def __init__(self, stream: BinaryIO, remaining: int) -> None:
        self._stream = stream
        self._remaining = remaining

    def read(self, size: int | None = -1, /) -> bytes:
        if self._remaining <= 0:
            return b""
        size = self._remaining if size is None or size < 0 else min(size, self._remaining)
        data = self._stream.read(size)
        self._remaining -= len(data)
        return data

    def close(self) -> None:
        self._stream.close()
