"""Stickers, attachments and the clean-up of uploads never sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import BinaryIO

import attrs

from .. import policies
from ..errors import FieldErrors, Invalid, NotFound, field
from ..model import Actor, AttachmentKind, NewAttachment
from ..read_models import (
    AttachmentView,
    StickerPackView,
    StickerView,
    attachment_view,
    sticker_pack_view,
    sticker_view,
)
from .context import Context, Upload
from .lookups import can_see_message


@attrs.frozen
class _Described:
    """What an upload turned out to be, and its thumbnail's blob key if it has one."""

    kind: AttachmentKind
    mime: str
    width: int | None = None
    height: int | None = None
    thumbnail_key: str | None = None


class Media:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    def list_sticker_packs(self) -> list[StickerPackView]:
        """Every sticker pack with its stickers, in order."""
        with self._ctx.uow(read_only=True) as uow:
            packs = uow.stickers.list_packs()
        return [sticker_pack_view(p) for p in packs]

    def add_sticker_pack(self, title: str, uploads: Sequence[Upload]) -> StickerPackView:
        """Create a pack from images (PNG, JPEG, WebP, GIF), each size-limited."""
        errors = FieldErrors()
        title = policies.check_name(errors, "title", title)
        if not uploads:
            errors.add("files", "pack_empty")
        errors.raise_if_any()
        stored: list[tuple[str, str]] = []
        try:
            for upload in uploads:
                blob = self._ctx.blobs.write(upload.chunks, max_size=self._ctx.settings.max_sticker_size)
                stored.append((blob.key, ""))
                with self._ctx.blobs.open(blob.key) as source:
                    info = self._ctx.images.inspect(source)
                if info is None:
                    name = policies.clean_file_name(upload.name)
                    raise Invalid({"files": field("file_not_an_image", name=name)})
                stored[-1] = (blob.key, info.mime)
            with self._ctx.uow() as uow:
                pack = uow.stickers.add_pack(title, stored)
                uow.commit()
        except BaseException:
            for key, _ in stored:
                self._ctx.blobs.delete(key)
            raise
        return sticker_pack_view(pack)

    def open_sticker(self, sticker_id: int) -> tuple[StickerView, BinaryIO]:
        """A sticker and a stream of its image."""
        with self._ctx.uow(read_only=True) as uow:
            sticker = uow.stickers.get_sticker(sticker_id)
        if sticker is None:
            raise NotFound("sticker")
        return sticker_view(sticker), self._ctx.blobs.open(sticker.image_key)

    def upload_attachment(self, actor: Actor, upload: Upload) -> AttachmentView:
        """Store a file for a later message. Its kind comes from its content."""
        blob = self._ctx.blobs.write(upload.chunks, max_size=self._ctx.settings.max_upload_size)
        described: _Described | None = None
        try:
            described = self._describe(blob.key)
            with self._ctx.uow() as uow:
                attachment = uow.attachments.add(
                    NewAttachment(
                        uploader_id=actor.id,
                        kind=described.kind,
                        name=policies.clean_file_name(upload.name),
                        size=blob.size,
                        mime=described.mime,
                        storage_key=blob.key,
                        created_date=self._ctx.now(),
                        width=described.width,
                        height=described.height,
                        thumbnail_key=described.thumbnail_key,
                    )
                )
                uow.commit()
        except BaseException:
            self._ctx.blobs.delete(blob.key)
            if described is not None and described.thumbnail_key:
                self._ctx.blobs.delete(described.thumbnail_key)
            raise
        return attachment_view(attachment)

    def open_attachment(
        self, actor: Actor, attachment_id: int, *, thumbnail: bool = False
    ) -> tuple[AttachmentView, BinaryIO]:
        """An attachment's bytes, for its uploader and the members of its chat only:
        everyone else gets NotFound, so ids reveal nothing."""
        with self._ctx.uow(read_only=True) as uow:
            attachment = uow.attachments.get(attachment_id)
            visible = attachment is not None and (
                attachment.uploader_id == actor.id or can_see_message(uow, actor, attachment.message_id)
            )
        if attachment is None or not visible:
            raise NotFound("attachment")
        key = attachment.thumbnail_key if thumbnail else attachment.storage_key
        if key is None:
            raise NotFound("thumbnail")
        return attachment_view(attachment), self._ctx.blobs.open(key)

    def remove_orphan_uploads(self, limit: int = 1000) -> int:
        """Delete uploads never attached to a message within the allowed time."""
        before = self._ctx.now() - self._ctx.settings.orphan_upload_lifetime
        with self._ctx.uow() as uow:
            orphans = uow.attachments.orphans_before(before, limit)
            for attachment in orphans:
                uow.attachments.remove(attachment.id)
            doomed = self._ctx.unshared_keys(uow, orphans)
            uow.commit()
        self._ctx.delete_blobs(doomed)
        return len(orphans)

    def _describe(self, key: str) -> _Described:
        """Sniff a stored upload; a photo gets its size and a thumbnail. A photo whose
        pixels cannot be decoded (a cut-off upload) is still a file the user may send."""
        with self._ctx.blobs.open(key) as source:
            kind, mime = policies.sniff_media(source.read(64))
            if kind is not AttachmentKind.PHOTO:
                return _Described(kind, mime)
            source.seek(0)
            info = self._ctx.images.inspect(source)
            if info is None:
                return _Described(AttachmentKind.FILE, "application/octet-stream")
            source.seek(0)
            try:
                thumbnail = self._ctx.images.thumbnail(source, self._ctx.settings.thumbnail_side)
                thumbnail_key = self._ctx.blobs.write(
                    thumbnail, max_size=self._ctx.settings.max_upload_size
                ).key
            except Invalid:
                return _Described(AttachmentKind.FILE, "application/octet-stream")
        return _Described(kind, mime, info.width, info.height, thumbnail_key)
