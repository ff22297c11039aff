"""Notifications: muting a chat for oneself, and one's notification settings."""

from __future__ import annotations

import falcon

from messenger_core.model import MUTED_FOREVER

from .. import render, schema
from ..auth import json_body
from ..schema import fields_of
from .base import Resource


class ChatMuteResource(Resource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        body = schema.parse(schema.MuteChange, json_body(req))
        until = MUTED_FOREVER if body.until is schema.Forever.FOREVER else body.until
        resp.media = {"chat": render.chat(self.messenger.mute_chat(self.actor(req), chat_id, until))}


class SettingsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        settings = self.messenger.notification_settings(self.actor(req))
        resp.media = {"settings": render.notification_settings(settings)}

    def on_patch(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = schema.parse(schema.SettingsChange, json_body(req))
        settings = self.messenger.update_notification_settings(self.actor(req), **fields_of(body))
        resp.media = {"settings": render.notification_settings(settings)}
