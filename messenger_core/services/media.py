"""Stickers, attachments and the clean-up of uploads never sent and of stray files."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import BinaryIO

import attrs

from .. import policies
from ..errors import FieldErrors, Invalid, NotFound, TooLarge, field
from ..model import Actor, AttachmentKind, NewAttachment
from ..views import (
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
        """Store a file for a later message. Its kind comes from its content. A user's
        uploads not yet sent may hold ``max_unsent_upload_bytes`` at most: past that the
        upload is refused (``TooLarge("unsent_uploads_full")``), before a byte is stored
        when the user is at the limit already."""
        quota = self._ctx.settings.max_unsent_upload_bytes
        with self._ctx.uow(read_only=True) as uow:
            if uow.attachments.unsent_bytes(actor.id) >= quota:
                raise TooLarge("unsent_uploads_full", max=quota)
        blob = self._ctx.blobs.write(upload.chunks, max_size=self._ctx.settings.max_upload_size)
        described: _Described | None = None
        try:
            described = self._describe(blob.key)
            with self._ctx.uow() as uow:
                # Counted again in the writing unit: uploads at once cannot pass it together.
                if uow.attachments.unsent_bytes(actor.id) + blob.size > quota:
                    raise TooLarge("unsent_uploads_full", max=quota)
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

    def remove_stray_files(self, batch: int = 500) -> int:
        """Delete stored files that no row names, once older than the grace period: bytes
        stored by a request that died before its row was committed (a process killed
        mid-way), a write a kill cut short, a file whose delete failed. Younger ones stay,
        as their rows may be on the way. Returns how many were deleted."""
        before = self._ctx.now() - self._ctx.settings.stray_file_grace
        removed = self._ctx.blobs.remove_unfinished(before)
        old = (blob.key for blob in self._ctx.blobs.scan() if blob.written < before)
        while keys := list(itertools.islice(old, batch)):
            with self._ctx.uow(read_only=True) as uow:
                named = uow.stored_files.referenced(keys)
            removed += sum(self._ctx.discard_blob(key) for key in keys if key not in named)
        return removed

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
