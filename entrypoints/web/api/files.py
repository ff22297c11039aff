"""Stickers and attachments."""

from __future__ import annotations

import falcon

from .. import render
from ..media import send_file
from .base import Resource, upload_from


class StickersResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.actor(req)
        resp.media = {"packs": [render.sticker_pack(p) for p in self.messenger.list_sticker_packs()]}

    def on_get_image(self, req: falcon.Request, resp: falcon.Response, sticker_id: int) -> None:
        self.actor(req)
        sticker, stream = self.messenger.open_sticker(sticker_id)
        resp.cache_control = ["private", "max-age=31536000", "immutable"]
        send_file(req, resp, stream, mime=sticker.mime, name=f"sticker-{sticker.id}", inline=True)


class AttachmentsResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        self.limits.upload(actor.id, req.content_length or 0)
        attachment = self.messenger.upload_attachment(actor, upload_from(req, self.settings))
        resp.status = falcon.HTTP_201
        resp.media = {"attachment": render.attachment(attachment)}

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, attachment_id: int) -> None:
        view, stream = self.messenger.open_attachment(self.actor(req), attachment_id)
        send_file(req, resp, stream, mime=view.mime, name=view.name, inline=view.kind.value != "file")

    def on_get_thumbnail(self, req: falcon.Request, resp: falcon.Response, attachment_id: int) -> None:
        view, stream = self.messenger.open_attachment(self.actor(req), attachment_id, thumbnail=True)
        send_file(req, resp, stream, mime="image/jpeg", name=f"thumb-{view.name}", inline=True, sniff=True)
