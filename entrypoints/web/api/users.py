"""Users, profiles and avatars."""

from __future__ import annotations

import falcon

from messenger_core import Forbidden
from messenger_core.model import ProfileChanges

from .. import render, schema
from ..auth import clear_token_cookies, json_body, set_token_cookies
from ..media import send_file
from ..schema import fields_of
from .base import Resource, params, upload_from


class UsersResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        body = schema.parse(schema.Register, json_body(req))
        self.limits.registration_attempt(req.remote_addr or "unknown")
        user = self.messenger.register(**fields_of(body))
        resp.status = falcon.HTTP_201
        resp.media = {"user": render.full_user(user)}

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = params(req)
        # Falcon drops empty query values, so "?search_request=&start=0&limit=20" (list
        # everyone) arrives as paging alone: paging asks for a search too.
        if not {"search_request", "first_name", "second_name", "start", "limit"} & query.keys():
            resp.media = {"user": render.full_user(self.messenger.get_user(actor))}
            return
        search = schema.parse(schema.Search, query)
        self.limits.search_attempt(actor.id)
        found = self.messenger.search_users(actor, **fields_of(search))
        resp.media = {"users": [render.short_user(u) for u in found]}

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        actor = self.actor(req)
        if user_id in ("me", actor.alternative_id):
            resp.media = {"user": render.full_user(self.messenger.get_user(actor))}
        else:
            resp.media = {"user": render.short_user(self.messenger.get_user(actor, user_id))}

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        actor = self.actor(req)
        if user_id not in ("me", actor.alternative_id):
            raise Forbidden("not_yours")
        changes = schema.parse(ProfileChanges, json_body(req))
        if changes.email is None and changes.password is None:
            user, tokens = self.messenger.update_profile(actor, changes)
        else:  # the current password is checked: under the sign-in limits
            email = self.messenger.get_user(actor).email
            user, tokens = self.limits.guard_password_check(
                email, req.remote_addr, lambda: self.messenger.update_profile(actor, changes)
            )
        resp.media = {"user_id": user.user_id, "user": render.full_user(user)}
        if tokens is not None:
            set_token_cookies(resp, self.settings, tokens)
            resp.media |= {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}

    on_patch_item = on_put_item

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        """Delete your account: the password is checked under the sign-in limits."""
        actor = self.actor(req)
        if user_id not in ("me", actor.alternative_id):
            raise Forbidden("not_yours")
        body = schema.parse(schema.AccountDeletion, json_body(req))
        email = self.messenger.get_user(actor).email
        self.limits.guard_password_check(
            email, req.remote_addr, lambda: self.messenger.delete_account(actor, **fields_of(body))
        )
        clear_token_cookies(resp, self.settings)
        resp.media = {"success": "OK"}


class AvatarResource(Resource):
    def on_put(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        actor = self.actor(req)
        if user_id not in ("me", actor.alternative_id):
            raise Forbidden("not_yours")
        self.limits.upload(actor.id, req.content_length or 0)
        user = self.messenger.set_avatar(actor, upload_from(req, self.settings))
        resp.media = {"user": render.full_user(user)}

    on_post = on_put

    def on_get(self, req: falcon.Request, resp: falcon.Response, user_id: str) -> None:
        actor = self.actor(req)
        if user_id == "me":
            user_id = actor.alternative_id
        user, stream = self.messenger.open_avatar(actor, user_id)
        resp.cache_control = ["private", "max-age=86400"]
        if stream is None:
            resp.content_type = "image/svg+xml"
            resp.text = default_avatar(user.first_name, user.second_name, user.id)
            return
        send_file(req, resp, stream, mime="image/png", name="avatar.png", inline=True)


def default_avatar(first_name: str, second_name: str, seed: int) -> str:
    """Initials on a colour picked by the user's permanent id (escaped: names are user text)."""
    from xml.sax.saxutils import escape

    colours = ("#5b8def", "#e8715d", "#4bb38a", "#b06ad9", "#e0a23c", "#3aa6b9", "#d9577f", "#7c8796")
    initials = escape((first_name[:1] + second_name[:1]).upper())
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">'
        f'<rect width="256" height="256" fill="{colours[seed % len(colours)]}"/>'
        '<text x="50%" y="50%" dy=".35em" text-anchor="middle" font-family="sans-serif" '
        f'font-size="104" fill="#fff">{initials}</text></svg>'
    )
