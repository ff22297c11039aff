"""BlobStore on S3-compatible object storage (AWS S3, MinIO, Ceph, moto…), on boto3.

Objects are ``<prefix>/ab/cd/<key>`` in one bucket: the filesystem store's layout, so
``aws s3 sync user_data/upload/ s3://bucket/prefix/ --exclude 'tmp/*'`` moves an
installation's files as they are. Keys are 128 random bits in hex, and a string of
another shape names no blob. Credentials come from
boto3's usual chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, an
instance role); ``endpoint_url`` points at a store other than AWS.

Streaming both ways, never a whole file in memory: a write sends parts of
``PART_SIZE`` as a multipart upload (one PUT when it all fits in one part), which
stays invisible until it is completed and is aborted on any error, so a reader never
sees a partial blob and a refused upload leaves nothing. ``open`` gives a seekable file
that reads with ranged GETs from wherever it is, so Range requests and image tools
that seek cost one GET from the right offset, not the whole object.

The server keeps streaming the bytes itself rather than redirecting to a presigned
URL: authorization, the content type, ``Content-Disposition``, the sandboxing CSP and
Range handling stay exactly as they are for the filesystem (media.py), a URL that
works for anyone who holds it for its lifetime never leaves the server, and the
storage need not be reachable from the clients' network. The cost is the bytes
passing through the app process (see docs/postgres.md for when to change that).

Free space is unlimited as far as this store knows: a bucket has no disk to fill, so no
write is refused with ``storage_full`` and UPLOAD_MIN_FREE_BYTES (the filesystem
store's reserve) does not apply; the provider's own quota, if any, is an error of the
provider. A blob's time (``scan``) is its object's LastModified, when its upload was
completed. What a write leaves unfinished (``remove_unfinished``) is a multipart upload
never completed nor aborted (a process killed mid-way), which S3 keeps, and bills,
until it is aborted.
"""

from __future__ import annotations

import contextlib
import io
import re
import secrets
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, BinaryIO, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from messenger_core.errors import NotFound, TooLarge, Unavailable
from messenger_core.model import BlobInfo, StoredBlob

_KEY = re.compile(r"[0-9a-f]{32}")
PART_SIZE = 8 * 1024 * 1024  # S3 parts are at least 5 MiB, but for the last
READ_BUFFER = 256 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
# What the storage, not the client, got wrong: the service unreachable, the bucket gone,
# credentials refused. Uploads and downloads answer ``storage_unavailable`` for them.
_STORAGE_ERRORS = (BotoCoreError, ClientError)


class S3BlobStore:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
        max_connections: int = 32,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region or "us-east-1",
            config=Config(
                max_pool_connections=max_connections, retries={"max_attempts": 3, "mode": "standard"}
            ),
        )

    def object_name(self, key: str) -> str:
        sharded = f"{key[0:2]}/{key[2:4]}/{key}"
        return f"{self.prefix}/{sharded}" if self.prefix else sharded

    def check(self) -> None:
        """Raise when the bucket cannot be reached (wrong endpoint, credentials, name)."""
        self._client.head_bucket(Bucket=self.bucket)

    def write(self, chunks: Iterable[bytes], *, max_size: int) -> BlobInfo:
        """Stream the chunks into a new object (multipart past one part); past
        ``max_size`` ``TooLarge``, a service that fails ``Unavailable``; either way no
        upload is left behind."""
        try:
            return self._write(chunks, max_size)
        except _STORAGE_ERRORS as error:
            raise Unavailable("storage_unavailable") from error

    def _write(self, chunks: Iterable[bytes], max_size: int) -> BlobInfo:
        key = secrets.token_hex(16)
        name = self.object_name(key)
        buffer = bytearray()
        size = 0
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        try:
            for chunk in chunks:
                size += len(chunk)
                if size > max_size:
                    raise TooLarge(max=max_size)
                buffer += chunk
                while len(buffer) >= PART_SIZE:
                    if upload_id is None:
                        upload_id = self._client.create_multipart_upload(Bucket=self.bucket, Key=name)[
                            "UploadId"
                        ]
                    parts.append(self._part(name, upload_id, len(parts) + 1, bytes(buffer[:PART_SIZE])))
                    del buffer[:PART_SIZE]
            if upload_id is None:
                self._client.put_object(Bucket=self.bucket, Key=name, Body=bytes(buffer))
            else:
                if buffer or not parts:
                    parts.append(self._part(name, upload_id, len(parts) + 1, bytes(buffer)))
                self._client.complete_multipart_upload(
                    Bucket=self.bucket, Key=name, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
        except BaseException:
            if upload_id is not None:
                with contextlib.suppress(*_STORAGE_ERRORS):  # else the sweep aborts it later
                    self._client.abort_multipart_upload(Bucket=self.bucket, Key=name, UploadId=upload_id)
            raise
        return BlobInfo(key=key, size=size)

    def _part(self, name: str, upload_id: str, number: int, data: bytes) -> dict[str, Any]:
        answer = self._client.upload_part(
            Bucket=self.bucket, Key=name, UploadId=upload_id, PartNumber=number, Body=data
        )
        return {"PartNumber": number, "ETag": answer["ETag"]}

    def open(self, key: str) -> BinaryIO:
        size = self.size(key)
        if size is None:
            raise NotFound("stored_file")
        raw = _ObjectReader(self._client, self.bucket, self.object_name(key), size)
        return cast(BinaryIO, io.BufferedReader(raw, buffer_size=READ_BUFFER))

    def path(self, key: str) -> str | None:
        return None  # objects are no files

    def size(self, key: str) -> int | None:
        if not _KEY.fullmatch(key):
            return None
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self.object_name(key))
        except ClientError as error:
            if _is_missing(error):
                return None
            raise Unavailable("storage_unavailable") from error
        except BotoCoreError as error:
            raise Unavailable("storage_unavailable") from error
        return int(head["ContentLength"])

    def delete(self, key: str) -> None:
        if _KEY.fullmatch(key):
            self._client.delete_object(Bucket=self.bucket, Key=self.object_name(key))

    def keys(self) -> set[str]:
        """Every finished blob's key (for tests)."""
        return {blob.key for blob in self.scan()}

    def scan(self) -> Iterator[StoredBlob]:
        """Every object under the prefix that is a blob, page by page of
        ``list_objects_v2`` (a thousand objects per request); other objects in the
        bucket are no blobs and are left alone. Uploads in progress are no objects yet."""
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._start()):
            for item in page.get("Contents", ()):
                key = item["Key"].rsplit("/", 1)[-1]
                if _KEY.fullmatch(key) and item["Key"] == self.object_name(key):
                    yield StoredBlob(key=key, written=_utc(item["LastModified"]))

    def remove_unfinished(self, before: datetime) -> int:
        """Abort the multipart uploads of blobs under the prefix that were begun before
        ``before`` and never completed nor aborted; a write begun since goes on."""
        removed = 0
        paginator = self._client.get_paginator("list_multipart_uploads")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=self._start()):
            for upload in page.get("Uploads", ()):
                key = upload["Key"].rsplit("/", 1)[-1]
                if not (_KEY.fullmatch(key) and upload["Key"] == self.object_name(key)):
                    continue
                if _utc(upload["Initiated"]) >= before:
                    continue
                try:
                    self._client.abort_multipart_upload(
                        Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                    )
                except ClientError as error:
                    if str(error.response.get("Error", {}).get("Code", "")) == "NoSuchUpload":
                        continue  # completed or aborted meanwhile
                    raise
                removed += 1
        return removed

    def _start(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""


def _utc(value: datetime) -> datetime:
    """An aware UTC time (botocore gives aware times; a naive one is taken as UTC)."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _is_missing(error: ClientError) -> bool:
    return str(error.response.get("Error", {}).get("Code", "")) in _MISSING


class _ObjectReader(io.RawIOBase):
    """A seekable read-only file over one object: a GET from the current offset,
    dropped and made again from the new offset when the file seeks elsewhere."""

    def __init__(self, client: Any, bucket: str, name: str, size: int) -> None:
        super().__init__()
        self._client, self._bucket, self._name, self._size = client, bucket, name, size
        self._position = 0
        self._body: Any = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}[whence]
        position = max(0, base + offset)
        if position != self._position:
            self._drop_body()
            self._position = position
        return position

    def readinto(self, buffer: Any) -> int:
        wanted = min(len(buffer), self._size - self._position)
        if wanted <= 0:
            return 0
        if self._body is None:
            answer = self._client.get_object(
                Bucket=self._bucket, Key=self._name, Range=f"bytes={self._position}-{self._size - 1}"
            )
            self._body = answer["Body"]
        data = self._body.read(wanted)
        if not data:  # the object is shorter than it was: it changed or went away
            raise OSError(f"object {self._name} ended early at byte {self._position}")
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)

    def close(self) -> None:
        self._drop_body()
        super().close()

    def _drop_body(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None
