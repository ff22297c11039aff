"""Signing in and out, token renewal, email confirmation."""

from __future__ import annotations

from typing import Any

import falcon

from messenger_core.model import TokenType

from .. import render, schema
from ..auth import (
    check_csrf,
    clear_token_cookies,
    json_body,
    same_origin,
    set_token_cookies,
    signing_out_token,
    token_from,
)
from ..devices import device_label
from ..errors import CrossSite
from ..schema import fields_of
from .base import Resource, params


class LoginResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not same_origin(req):  # another site must not sign a browser into our app
            raise CrossSite("cross_site")
        body = schema.parse(schema.Login, json_body(req))
        device = device_label(req.get_header("User-Agent"))
        tokens = self.limits.guard_password_check(
            body.email,
            req.remote_addr,
            lambda: self.messenger.login(**fields_of(body), device=device, ip=req.remote_addr),
        )
        set_token_cookies(resp, self.settings, tokens)
        resp.media = {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


class RefreshResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token, _ = token_from(req, TokenType.REFRESH)
        body = schema.parse(schema.Refresh, {k: v for k, v in params(req).items() if k == "expires_in"})
        tokens = self.messenger.refresh(token, expires_in=body.expires_in)
        set_token_cookies(resp, self.settings, tokens)
        resp.media = {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


class LogoutResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        """End the session of the token sent (access or refresh, expired too), and clear
        the cookies; without a token, only the cookies."""
        token, type, from_cookie = signing_out_token(req)
        if from_cookie:
            check_csrf(req)  # another site must not sign our users out
        if token is not None:
            self.messenger.logout(token, type=type)
        clear_token_cookies(resp, self.settings)
        resp.media = {"success": "OK"}


class TokensResource(Resource):
    """Email confirmation: get a confirmation token (also mailed), then confirm with it."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The specification's form, with the password in the query string (and so in
        logs and history): kept for its clients, discouraged; POST the credentials."""
        self._request_token(req, resp, params(req))

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        data = json_body(req)
        if "token" not in data and ({"email", "password"} & data.keys()):  # ask for a token
            self._request_token(req, resp, data)
            return
        body = schema.parse(schema.Confirmation, data)
        resp.media = {"user": render.full_user(self.messenger.confirm_email(body.token))}

    def _request_token(self, req: falcon.Request, resp: falcon.Response, data: dict[str, Any]) -> None:
        body = schema.parse(schema.Credentials, data)
        token = self.limits.guard_password_check(
            body.email, req.remote_addr, lambda: self.messenger.request_confirmation(**fields_of(body))
        )
        resp.media = {"token": token}
