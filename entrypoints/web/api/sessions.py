"""Signed-in sessions: the list, ending one, ending all the others."""

from __future__ import annotations

import falcon

from messenger_core import Invalid

from .. import render, schema
from ..auth import clear_token_cookies
from ..errors import edge_field
from .base import Resource, params


class SessionsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        sessions = self.messenger.list_sessions(self.actor(req))
        resp.media = {"sessions": [render.session(s) for s in sessions]}

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.SessionsEnd, params(req))
        if not body.others:
            raise Invalid({"others": edge_field("one_of", options="true")})
        ended = self.messenger.end_other_sessions(actor)
        resp.media = {"success": "OK", "ended": ended}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, session_id: int) -> None:
        actor = self.actor(req)
        self.messenger.end_session(actor, session_id)
        if session_id == actor.session_id:  # this device signed itself out
            clear_token_cookies(resp, self.settings)
        resp.media = {"success": "OK"}
