"""Privacy and account control: blocks, privacy settings, typing, usernames, the data
export."""

from __future__ import annotations

import falcon

from .. import render, schema
from ..auth import json_body
from ..media import send_file
from ..schema import fields_of
from .base import Resource, params


class BlocksResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = {"blocks": [render.block(b) for b in self.messenger.list_blocked(self.actor(req))]}

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        self.messenger.block_user(self.actor(req), user_id)
        resp.media = {"success": "OK"}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        self.messenger.unblock_user(self.actor(req), user_id)
        resp.media = {"success": "OK"}


class PrivacyResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.media = render.privacy(self.messenger.get_privacy(self.actor(req)))

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.PrivacyChange, json_body(req))
        resp.media = render.privacy(self.messenger.update_privacy(actor, **fields_of(body)))


class TypingResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        self.messenger.send_typing(self.actor(req), chat_id)
        resp.status = falcon.HTTP_204


class UsernameResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, username: str) -> None:
        user = self.messenger.get_user_by_username(self.actor(req), username)
        resp.media = {"user": render.short_user(user)}


class ExportResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        export = self.messenger.start_export(self.actor(req))
        resp.status = falcon.HTTP_202
        resp.media = {"export": render.export(export)}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = schema.parse(schema.ExportQuery, params(req))
        if not query.download:
            resp.media = {"export": render.export(self.messenger.export_status(actor))}
            return
        view, stream = self.messenger.open_export(actor)
        name = f"messenger-export-{view.created_date:%Y-%m-%d}.zip"
        send_file(req, resp, stream, mime="application/zip", name=name, inline=False)
