"""Message search."""

from __future__ import annotations

import falcon

from .. import render, schema
from ..schema import fields_of
from .base import Resource, params


class MessageSearchResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = schema.parse(schema.MessageSearchQuery, params(req))
        self.limits.search_attempt(actor.id)
        wanted = fields_of(query) | {"has": query.has.value if query.has else None}
        resp.media = render.search_page(self.messenger.search_messages(actor, **wanted))
