"""Group chats: their photo, members and roles, and who has read a message."""

from __future__ import annotations

import falcon

from .. import render, schema
from ..auth import json_body
from ..media import send_file
from ..schema import fields_of
from .base import Resource, upload_from
from .users import default_avatar


class ChatPhotoResource(Resource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        actor = self.actor(req)
        self.limits.upload(actor.id, req.content_length or 0)
        chat = self.messenger.set_group_photo(actor, chat_id, upload_from(req, self.settings))
        resp.media = {"chat": render.chat(chat)}

    on_post = on_put

    def on_delete(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        chat = self.messenger.set_group_photo(self.actor(req), chat_id, None)
        resp.media = {"chat": render.chat(chat)}

    def on_get(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        chat, stream = self.messenger.open_group_photo(self.actor(req), chat_id)
        resp.cache_control = ["private", "max-age=86400"]
        if stream is None:
            first, _, rest = chat.title.partition(" ")
            resp.content_type = "image/svg+xml"
            resp.text = default_avatar(first, rest, chat.id)
            return
        send_file(req, resp, stream, mime="image/png", name="group.png", inline=True)


class ChatMembersResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        body = schema.parse(schema.MembersAdd, json_body(req))
        resp.media = {
            "chat": render.chat(self.messenger.add_members(self.actor(req), chat_id, body.user_ids))
        }

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int, user_id: str) -> None:
        chat = self.messenger.remove_member(self.actor(req), chat_id, user_id)
        resp.media = {"success": "OK"} if chat is None else {"success": "OK", "chat": render.chat(chat)}

    def on_patch_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int, user_id: str) -> None:
        body = schema.parse(schema.RoleChange, json_body(req))
        chat = self.messenger.set_member_role(self.actor(req), chat_id, user_id, body.role)
        resp.media = {"chat": render.chat(chat)}


class ReadersResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        resp.media = {"readers": render.readers(self.messenger.readers(self.actor(req), message_id))}


def create_group(
    resource: Resource, req: falcon.Request, resp: falcon.Response, data: dict[str, object]
) -> None:
    """POST /api/v1/chats with a title: a new group (the form with user_id opens a direct chat)."""
    body = schema.parse(schema.GroupCreate, data)
    chat = resource.messenger.create_group(resource.actor(req), **fields_of(body))
    resp.status = falcon.HTTP_201
    resp.media = {"chat": render.chat(chat)}
