"""Shared wiring of the API resources: parameters, the actor, uploads."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from typing import Any, BinaryIO

import falcon
import orjson

from messenger_core import Invalid, Messenger, NotFound, TooLarge
from messenger_core.model import Actor
from messenger_core.services import Upload

from ...config import Settings
from ..auth import authenticate, json_body
from ..errors import BadRequest, UnsupportedMediaType, edge_field
from ..limits import RateLimits

CHUNK = 64 * 1024


def params(req: falcon.Request) -> dict[str, Any]:
    """Parameters of a request: the query string, overlaid by a JSON body if any."""
    return {**req.params, **json_body(req)}


class Resource:
    """Shared wiring of the API's resources."""

    def __init__(self, messenger: Messenger, settings: Settings, limits: RateLimits) -> None:
        self.messenger = messenger
        self.settings = settings
        self.limits = limits

    def actor(self, req: falcon.Request) -> Actor:
        if not hasattr(req.context, "actor"):
            req.context.actor = authenticate(self.messenger, req)
        actor: Actor = req.context.actor
        return actor


def send_validated_json(req: falcon.Request, resp: falcon.Response, media: Any, version: int) -> None:
    """Answer ``media`` as JSON with a strong ``ETag`` made of its exact bytes and
    ``version`` (what may change without changing them), or ``304 Not Modified`` and no
    body when the request's ``If-None-Match`` names that tag already. The body is the
    reader's own view, so any change they can see changes the tag."""
    body = orjson.dumps(media)
    digest = hashlib.blake2b(body, digest_size=15, person=b"history-page")
    digest.update(version.to_bytes(8, "big"))
    tag = base64.urlsafe_b64encode(digest.digest()).decode()
    resp.etag = tag
    if any(candidate in ("*", tag) for candidate in req.if_none_match or ()):
        resp.status = falcon.HTTP_304
        return
    resp.data = body
    resp.content_type = falcon.MEDIA_JSON


def upload_from(req: falcon.Request, settings: Settings) -> Upload:
    """The multipart part named ``file``, streamed: never more than a chunk in memory."""
    if not (req.content_type or "").startswith("multipart/form-data"):
        raise UnsupportedMediaType(expected="multipart/form-data, field 'file'")
    if req.content_length is not None and req.content_length > settings.MAX_CONTENT_LENGTH + CHUNK:
        raise TooLarge(max=settings.MAX_CONTENT_LENGTH)
    # Falcon streams each part (no MultipartParseOptions buffer applies to part.stream)
    # and decodes its headers as UTF-8, which is what browsers send, Cyrillic included;
    # part.filename keeps that name (part.secure_filename would reduce it to ASCII).
    try:
        for part in req.get_media():
            if part.name == "file":
                return Upload(name=part.filename, chunks=_chunks(part.stream))
    except UnicodeDecodeError:
        raise BadRequest("bad_multipart") from None
    raise Invalid({"file": edge_field("file_part_required")})


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


def not_found(_: Any) -> None:
    raise NotFound()
