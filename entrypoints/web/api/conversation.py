"""The conversation around messages: forwards, reactions, edit history, pins, clearing."""

from __future__ import annotations

import falcon

from .. import render, schema
from ..auth import json_body
from .base import Resource


class ForwardResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.MessageForward, json_body(req))
        self.limits.message_sent(actor.id, len(set(body.chat_ids)))
        copies = self.messenger.forward_message(actor, message_id, chat_ids=body.chat_ids)
        resp.status = falcon.HTTP_201
        resp.media = {"messages": [render.message(m) for m in copies]}


class ReactionsResource(Resource):
    def on_put_item(self, req: falcon.Request, resp: falcon.Response, message_id: int, emoji: str) -> None:
        actor = self.actor(req)
        self.limits.message_sent(actor.id)
        resp.media = {"message": render.message(self.messenger.add_reaction(actor, message_id, emoji))}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, message_id: int, emoji: str) -> None:
        message = self.messenger.remove_reaction(self.actor(req), message_id, emoji)
        resp.media = {"message": render.message(message)}


class EditHistoryResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        resp.media = {"versions": render.versions(self.messenger.edit_history(self.actor(req), message_id))}


class PinsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        pins = self.messenger.list_pins(self.actor(req), chat_id)
        resp.media = {"messages": [render.message(m) for m in pins]}

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int, message_id: int) -> None:
        resp.media = {"chat": render.chat(self.messenger.pin_message(self.actor(req), chat_id, message_id))}

    def on_delete_item(
        self, req: falcon.Request, resp: falcon.Response, chat_id: int, message_id: int
    ) -> None:
        resp.media = {"chat": render.chat(self.messenger.unpin_message(self.actor(req), chat_id, message_id))}


class ChatClearResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        resp.media = {"chat": render.chat(self.messenger.clear_chat(self.actor(req), chat_id))}
