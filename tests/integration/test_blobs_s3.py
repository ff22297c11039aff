"""The S3 blob store against moto's standalone server: multipart uploads that stream,
aborted uploads that leave nothing, and seekable reads that answer Range requests and
image tools with ranged GETs."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import boto3
import pytest
from botocore.config import Config

from adapters.blobs_s3 import PART_SIZE, S3BlobStore
from messenger_core.errors import TooLarge, Unavailable
from scripts.throwaway_s3 import ThrowawayS3


@pytest.fixture(scope="module")
def server() -> Iterator[ThrowawayS3]:
    with ThrowawayS3() as s3:
        s3.create_bucket("blobs")
        yield s3


@pytest.fixture
def store(server: ThrowawayS3) -> S3BlobStore:
    return S3BlobStore("blobs", prefix="test", client=server.client())


def test_a_blob_of_several_parts_streams_in_and_reads_back(store: S3BlobStore) -> None:
    data = os.urandom(2 * PART_SIZE + 12345)
    chunks = (data[i : i + 65536] for i in range(0, len(data), 65536))
    info = store.write(chunks, max_size=len(data))
    assert info.size == len(data) == store.size(info.key)
    with store.open(info.key) as file:
        assert file.read() == data


def test_a_refused_multipart_upload_is_aborted(store: S3BlobStore, server: ThrowawayS3) -> None:
    before = store.keys()
    with pytest.raises(TooLarge):
        store.write((b"x" * 65536 for _ in range(10**6)), max_size=PART_SIZE + 1)
    assert store.keys() == before
    assert server.client().list_multipart_uploads(Bucket="blobs").get("Uploads", []) == []


def test_a_bucket_that_is_gone_is_storage_unavailable(server: ThrowawayS3) -> None:
    gone = S3BlobStore("no-such-bucket", client=server.client())
    with pytest.raises(Unavailable) as small:
        gone.write([b"bytes"], max_size=100)
    with pytest.raises(Unavailable) as multipart:
        gone.write((b"x" * 65536 for _ in range(200)), max_size=PART_SIZE * 2)
    assert {small.value.code, multipart.value.code} == {"storage_unavailable"}


def test_a_service_that_cannot_be_reached_is_storage_unavailable() -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        endpoint = f"http://127.0.0.1:{closed.getsockname()[1]}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="key",
        aws_secret_access_key="secret",
        config=Config(retries={"max_attempts": 1}),
    )
    unreachable = S3BlobStore("blobs", client=client)
    for attempt in (lambda: unreachable.write([b"bytes"], max_size=100), lambda: unreachable.open("ab" * 16)):
        with pytest.raises(Unavailable) as failed:
            attempt()
        assert failed.value.code == "storage_unavailable"


def test_reads_seek_like_a_file(store: S3BlobStore) -> None:
    data = bytes(range(256)) * 1000
    info = store.write([data], max_size=len(data))
    with store.open(info.key) as file:
        assert file.seekable()
        assert file.seek(0, io.SEEK_END) == len(data)
        file.seek(1000)
        assert file.read(10) == data[1000:1010]
        file.seek(-5, io.SEEK_END)
        assert file.read() == data[-5:]
        file.seek(3)
        assert file.read(2) == data[3:5]
        assert file.tell() == 5


def test_remove_unfinished_aborts_an_abandoned_multipart_upload_and_only_that(
    store: S3BlobStore, server: ThrowawayS3
) -> None:
    client = server.client()
    name = store.object_name("ab" * 16)
    abandoned = client.create_multipart_upload(Bucket="blobs", Key=name)["UploadId"]
    elsewhere = client.create_multipart_upload(Bucket="blobs", Key="other/app/file")["UploadId"]
    kept = store.write([b"kept"], max_size=10)

    def uploads() -> set[str]:
        return {u["UploadId"] for u in client.list_multipart_uploads(Bucket="blobs").get("Uploads", [])}

    # moto reports every upload as begun in 2010, so "begun since" cannot be shown here
    # (the contract suite's write in progress is one PUT, no multipart upload).
    assert abandoned in uploads()
    assert store.remove_unfinished(datetime.now(UTC) + timedelta(days=1)) == 1
    assert uploads() == {elsewhere}  # not under the store's prefix: not the store's
    assert store.size(kept.key) == 4
    client.abort_multipart_upload(Bucket="blobs", Key="other/app/file", UploadId=elsewhere)


def test_scan_lists_only_the_stores_objects(store: S3BlobStore, server: ThrowawayS3) -> None:
    client = server.client()
    client.put_object(Bucket="blobs", Key="test/notes.txt", Body=b"not a blob")
    client.put_object(Bucket="blobs", Key=f"test/00/00/{'ab' * 16}", Body=b"in the wrong shard")
    info = store.write([b"mine"], max_size=10)
    found = {blob.key: blob.written for blob in store.scan()}
    assert info.key in found and "ab" * 16 not in found and len(found) == len(store.keys())
    assert found[info.key].utcoffset() == timedelta(0)
