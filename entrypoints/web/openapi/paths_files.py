"""Paths of files: sticker packs and images, attachment uploads and downloads."""

from __future__ import annotations

from messenger_core import MessengerSettings

from .. import render
from .generate import Components, Schema, obj
from .parts import AUTH_ERRORS, CHANGE_ERRORS, array, errors, multipart, ok, one, op, path_id, string
from .responses import file_responses, image_responses

ATTACHMENT_ID = path_id("attachment_id", "The attachment's id")
# bootstrap leaves the thumbnail's side at the core's default
THUMBNAIL_SIDE = MessengerSettings().thumbnail_side


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/stickers": {
            "get": op(
                "listStickers",
                "stickers",
                "Every sticker pack",
                responses={
                    "200": ok(one("packs", array(c.answer(render.StickerPackOut)))),
                    **errors(*AUTH_ERRORS),
                },
            )
        },
        "/api/v1/stickers/{sticker_id}/image": {
            "parameters": [path_id("sticker_id", "The sticker's id")],
            "get": op(
                "stickerImage",
                "stickers",
                "A sticker's image",
                responses={**image_responses({"image/*": {"schema": string()}}), **errors(*AUTH_ERRORS, 404)},
            ),
        },
        "/api/v1/attachments": {"post": _upload(c)},
        "/api/v1/attachments/{attachment_id}": {"parameters": [ATTACHMENT_ID], "get": _download()},
        "/api/v1/attachments/{attachment_id}/thumbnail": {"parameters": [ATTACHMENT_ID], "get": _thumbnail()},
    }


def _upload(c: Components) -> Schema:
    most = c.settings.MAX_CONTENT_LENGTH
    upload = c.add(
        "Upload",
        obj(
            {
                "file": string(
                    contentMediaType="application/octet-stream", description=f"The file, at most {most} bytes"
                )
            },
            ["file"],
            closed=False,
        ),
    )
    return op(
        "uploadAttachment",
        "attachments",
        "Upload a file to send with a later message",
        description=f"multipart/form-data with the file in the field `file`, at most {most} bytes. The "
        "kind (photo, video, audio, file) comes from the content. An upload not sent within "
        f"{c.settings.ORPHAN_UPLOAD_HOURS} hours is removed. Your uploads not yet sent may hold "
        f"{c.settings.UNSENT_UPLOAD_BYTES} bytes (413 `unsent_uploads_full`); uploaded bytes are "
        "throttled per hour (429); a server short of disk space answers 503 `storage_full`, one whose "
        "upload folder or object store cannot be used 503 `storage_unavailable`.",
        requestBody=multipart(upload),
        responses={
            "201": ok(one("attachment", c.answer(render.AttachmentOut)), "The upload"),
            **errors(*CHANGE_ERRORS, 415, 422, 429, 503),
        },
    )


def _download() -> Schema:
    return op(
        "getAttachment",
        "attachments",
        "The file (for its uploader and the chat's members)",
        description="Photos, video and audio are served inline with their type; everything else "
        "as application/octet-stream with Content-Disposition: attachment. Single byte "
        "ranges are honoured.",
        responses={**file_responses(), **errors(*AUTH_ERRORS, 404, 503)},
    )


def _thumbnail() -> Schema:
    return op(
        "getThumbnail",
        "attachments",
        f"A photo's thumbnail (at most {THUMBNAIL_SIDE} px; JPEG, or PNG when transparent)",
        responses={
            **image_responses({"image/jpeg": {"schema": string()}, "image/png": {"schema": string()}}),
            **errors(*AUTH_ERRORS, 404, 503),
        },
    )
