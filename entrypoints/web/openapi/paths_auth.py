"""Paths of signing in: login, refresh, logout, email confirmation tokens."""

from __future__ import annotations

import attrs

from messenger_core.limits import REFRESH_REUSE_GRACE_SECONDS
from messenger_core.tokens import TokenPolicy

from .. import render, schema
from .generate import Components, Schema, obj
from .parts import body, errors, json_content, ok, one, op, string, success
from .responses import SET_COOKIE


def paths(c: Components) -> dict[str, Schema]:
    return {
        "/api/v1/login": {"post": _login(c)},
        "/api/v1/refresh": {"post": _refresh(c)},
        "/api/v1/logout": {"post": _logout(c)},
        "/api/v1/tokens": {"get": _request_confirmation(c), "post": _confirm_email(c)},
    }


def _login(c: Components) -> Schema:
    pair = c.add(
        "TokenPair",
        obj({"access_token": string(), "refresh_token": string()}, ["access_token", "refresh_token"]),
    )
    return op(
        "login",
        "auth",
        "Log in: tokens in the body and in cookies",
        public=True,
        description="A browser page of another site is refused (403 `cross_site`, judged by Fetch "
        "Metadata or Origin); API clients send neither header.",
        requestBody=body(c.request(schema.Login)),
        responses={
            "200": ok(
                pair,
                "Tokens; the cookies access_token_cookie, refresh_token_cookie and csrf_token are set too",
                headers=SET_COOKIE,
            ),
            **errors(400, 401, 403, 413, 415, 422, 429),
        },
    )


def _refresh(c: Components) -> Schema:
    pair = c.add(
        "TokenPair",
        obj({"access_token": string(), "refresh_token": string()}, ["access_token", "refresh_token"]),
    )
    return op(
        "refresh",
        "auth",
        "A new access token and the next refresh token; the one sent is retired",
        security=[{"refreshCookie": []}, {"jwtQuery": []}, {}],
        description="The refresh token comes from the JSON body (`refresh_token` or `jwt`), the "
        "query parameter `jwt` or the cookie `refresh_token_cookie` (not from Authorization). "
        "Refresh tokens rotate: each renewal answers with the next one and retires the one sent. "
        f"A retired one presented again (after a {REFRESH_REUSE_GRACE_SECONDS} s grace for tabs "
        "renewing at once) ends the whole session: 401 token_revoked with params.ended = refresh_reused.",
        parameters=c.parameters(schema.Refresh),
        # The resource reads expires_in alone: other fields are let through.
        requestBody=body(
            c.request(schema.Refresh, closed=False, description="Other fields are ignored"), required=False
        ),
        responses={
            "200": ok(pair, "The new tokens (the cookies are set too)", headers=SET_COOKIE),
            **errors(400, 401, 413, 415, 422),
        },
    )


def _logout(c: Components) -> Schema:
    return op(
        "logout",
        "auth",
        "End the current session on the server and clear the token cookies",
        public=True,
        description="The session of the token sent (the access token, else the refresh token; expired "
        "ones too) ends: its tokens stop working at once. Without a token only the cookies are "
        "cleared. With a cookie token, the same CSRF proof as any change is needed (403).",
        responses={"200": ok(success(c), headers=SET_COOKIE), **errors(403)},
    )


def _request_confirmation(c: Components) -> Schema:
    lifetime = attrs.fields(TokenPolicy).confirm_lifetime.default  # bootstrap keeps the default
    assert isinstance(lifetime, int)
    hours = lifetime // 3600
    return op(
        "requestConfirmation",
        "auth",
        "Get (and mail) an email confirmation token — discouraged: POST the credentials",
        public=True,
        deprecated=True,
        description="The specification's form. The password rides in the query string, and so in "
        "logs and browser history: POST `{email, password}` to the same path instead.",
        parameters=c.parameters(schema.Credentials),
        responses={
            "200": ok(one("token", string()), f"The confirmation token (valid {hours} h)"),
            **errors(400, 401, 422, 429),
        },
    )


def _confirm_email(c: Components) -> Schema:
    lifetime = attrs.fields(TokenPolicy).confirm_lifetime.default  # bootstrap keeps the default
    assert isinstance(lifetime, int)
    return op(
        "confirmEmail",
        "auth",
        "Ask for a confirmation token (email and password), or confirm the email with one",
        public=True,
        description="With `{email, password}`: the confirmation token (also mailed), checked under "
        "the sign-in limits. With `{token}`: the email is confirmed.",
        requestBody=body({"oneOf": [c.request(schema.Confirmation), c.request(schema.Credentials)]}),
        responses={
            "200": {"description": f"The user, now is_confirmed; or the token (valid {lifetime // 3600} h)"}
            | json_content({"oneOf": [one("user", c.answer(render.FullUser)), one("token", string())]}),
            **errors(400, 401, 413, 415, 422, 429),
        },
    )
