"""Friends and friend requests."""

from __future__ import annotations

import falcon

from .. import render, schema
from ..auth import json_body
from .base import Resource, params


class FriendsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = schema.parse(schema.FriendList, params(req))
        found = self.messenger.list_friends(actor, query.kind)
        resp.media = {"friends": [render.friend(f.user, f.is_accepted) for f in found]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.FriendAction, json_body(req))
        if body.action is schema.FriendActionKind.ADD:
            self.limits.friend_request(actor.id)
        actions = {
            schema.FriendActionKind.ADD: self.messenger.send_friend_request,
            schema.FriendActionKind.ACCEPT: self.messenger.accept_friend_request,
            schema.FriendActionKind.DENY: self.messenger.deny_friend_request,
        }
        actions[body.action](actor, body.other)
        resp.media = {"success": "OK"}

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.FriendRemoval, params(req))
        self.messenger.remove_friend(actor, body.other)
        resp.media = {"success": "OK"}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        self.messenger.remove_friend(self.actor(req), user_id)
        resp.media = {"success": "OK"}
