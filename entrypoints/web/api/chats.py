"""Chats, their messages and read marks."""

from __future__ import annotations

import falcon

from messenger_core import Invalid

from .. import render, schema
from ..auth import json_body
from ..errors import edge_field
from ..schema import fields_of
from .base import Resource, params, send_validated_json
from .groups import create_group


class ChatsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        select = schema.parse(schema.ChatSelect, params(req))
        if select.chat_id is not None:
            resp.media = {"chat": render.chat(self.messenger.get_chat(actor, select.chat_id))}
        elif select.chat_with is not None:
            resp.media = {"chat": render.chat(self.messenger.find_chat_with(actor, select.chat_with))}
        else:
            resp.media = {"chats": [render.chat(c) for c in self.messenger.list_chats(actor)]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = json_body(req)
        if {"title", "member_ids"} & data.keys():
            create_group(self, req, resp, data)
            return
        actor = self.actor(req)
        body = schema.parse(schema.ChatOpen, data)
        chat, created = self.messenger.open_chat(actor, body.user_id)
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = {"chat": render.chat(chat)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        select = schema.parse(schema.ChatSelect, params(req))
        if select.chat_id is not None:
            self.messenger.delete_chat(actor, select.chat_id)
        elif select.chat_with is not None:
            self.messenger.delete_chat_with(actor, select.chat_with)
        else:
            raise Invalid({"chat_id": edge_field("chat_or_peer")})
        resp.media = {"success": "OK"}

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        resp.media = {"chat": render.chat(self.messenger.get_chat(self.actor(req), chat_id))}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        self.messenger.delete_chat(self.actor(req), chat_id)
        resp.media = {"success": "OK"}

    def on_patch_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        body = schema.parse(schema.GroupChange, json_body(req))
        chat = self.messenger.update_group(self.actor(req), chat_id, **fields_of(body))
        resp.media = {"chat": render.chat(chat)}


class ChatReadResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.ReadMark, json_body(req))
        chat = self.messenger.mark_read(actor, chat_id, body.message_id)
        resp.media = {"chat": render.chat(chat)}


class MessagesResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int | None = None) -> None:
        actor = self.actor(req)
        data = json_body(req)
        if chat_id is not None:
            data = data | {"chat_id": chat_id}
        body = schema.parse(schema.MessageSend, data)
        self.limits.message_sent(actor.id)
        message = self.messenger.send_message(actor, **fields_of(body))
        resp.status = falcon.HTTP_201
        resp.media = {"message": render.message(message)}

    def on_get(self, req: falcon.Request, resp: falcon.Response, chat_id: int | None = None) -> None:
        actor = self.actor(req)
        data = params(req)
        if chat_id is not None:
            data = data | {"chat_id": chat_id}
        query = schema.parse(schema.MessageQuery, data)
        if query.chat_id is None and query.receiver_id is None:
            resp.media = {
                "messages": [render.latest_message(m) for m in self.messenger.latest_messages(actor)]
            }
            return
        paging = fields_of(query.page)
        if query.chat_id is not None:
            page = self.messenger.history_page(actor, query.chat_id, **paging)
        else:
            page = self.messenger.history_page_with(actor, query.receiver_id or "", **paging)
        media = {"messages": [render.message(m) for m in page.messages]}
        send_validated_json(req, resp, media, page.chat_version)

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.MessageEdit, json_body(req))
        message = self.messenger.edit_message(actor, message_id, text=body.text)
        resp.media = {"message": render.message(message)}

    on_patch_item = on_put_item

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        actor = self.actor(req)
        scope = schema.parse(schema.MessageDelete, params(req)).scope
        if scope is schema.DeleteScope.ME:
            self.messenger.hide_message(actor, message_id)
            resp.media = {"success": "OK"}
            return
        message = self.messenger.delete_message(actor, message_id)
        resp.media = {"success": "OK", "message": render.message(message)}
