"""Authentication at the web edge: where tokens come from, cookies, and CSRF.

An access token is read from ``Authorization: Bearer``, the JSON body field
``access_token``, the query parameter ``jwt`` or the cookie ``access_token_cookie``;
a refresh token from ``refresh_token``, ``jwt`` or ``refresh_token_cookie``.
Requests that change state with a cookie token must prove they come from our pages.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import falcon

from messenger_core import Messenger
from messenger_core.model import Actor, TokenPair, TokenType

from ..config import Settings
from .errors import BadRequest, CrossSite, UnsupportedMediaType

ACCESS_COOKIE = "access_token_cookie"
REFRESH_COOKIE = "refresh_token_cookie"
CSRF_COOKIE = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
REFRESH_COOKIE_AGE = 10 * 365 * 24 * 3600  # refresh tokens never expire; the cookie lives long


def json_body(req: falcon.Request) -> dict[str, Any]:
    """The JSON object in the body, or {} when there is none (GET requests may carry one).

    A body without a Content-Type is read as JSON, as clients that forget it mean.
    Uploads (multipart) are read by their resources; any other type of body is refused
    with 415 where it would carry the request's data, and ignored on reads.
    """
    if not req.content_length and req.get_header("Transfer-Encoding") is None:
        return {}
    content_type = req.content_type or "application/json"
    if content_type.startswith("multipart/form-data"):
        return {}
    if not content_type.startswith("application/json"):
        if req.method in SAFE_METHODS:
            return {}
        raise UnsupportedMediaType(expected="application/json")
    media = req.get_media(default_when_empty=None)
    if media is None:
        return {}
    if not isinstance(media, dict):
        raise BadRequest("not_an_object")
    return media


def token_from(req: falcon.Request, type: TokenType) -> tuple[str | None, bool]:
    """The token of the type the request carries, and whether it came from a cookie."""
    if type is TokenType.ACCESS:
        auth = req.get_header("Authorization") or ""
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip(), False
    body_field = "access_token" if type is TokenType.ACCESS else "refresh_token"
    body = json_body(req)
    if isinstance(body.get(body_field), str):
        return body[body_field], False
    if isinstance(body.get("jwt"), str):
        return body["jwt"], False
    query = req.get_param("jwt")
    if query:
        return query, False
    cookie = req.get_cookie_values(ACCESS_COOKIE if type is TokenType.ACCESS else REFRESH_COOKIE)
    if cookie:
        return cookie[0], True
    return None, False


def signing_out_token(req: falcon.Request) -> tuple[str | None, TokenType, bool]:
    """The token whose session a sign-out ends: the access token if one is sent, else
    the refresh token; its type, and whether it came from a cookie."""
    token, from_cookie = token_from(req, TokenType.ACCESS)
    if token is not None:
        return token, TokenType.ACCESS, from_cookie
    token, from_cookie = token_from(req, TokenType.REFRESH)
    return token, TokenType.REFRESH, from_cookie


def check_csrf(req: falcon.Request) -> None:
    """A cookie-authenticated change must come from our own origin or echo the CSRF cookie."""
    if req.method in SAFE_METHODS:
        return
    origin = req.get_header("Origin")
    if origin and origin != "null" and urlsplit(origin).netloc == req.netloc:
        return
    cookie = req.get_cookie_values(CSRF_COOKIE)
    header = req.get_header(CSRF_HEADER)
    if cookie and header and hmac.compare_digest(cookie[0], header):
        return
    raise CrossSite("csrf_failed")


def same_origin(req: falcon.Request) -> bool:
    """Whether a request may come from our own pages (or from no page at all: a typed
    URL, an API client). Used where no token proves anything yet: sign-in and the
    pages' forms.

    Our pages send ``Referrer-Policy: no-referrer``, under which browsers post forms with
    ``Origin: null``; so the browser's Fetch Metadata decides first, then the Origin."""
    site = req.get_header("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = req.get_header("Origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == req.netloc


def authenticate(messenger: Messenger, req: falcon.Request) -> Actor:
    token, from_cookie = token_from(req, TokenType.ACCESS)
    actor = messenger.authenticate(token)
    if from_cookie:
        check_csrf(req)
    return actor


def set_token_cookies(
    resp: falcon.Response, settings: Settings, tokens: TokenPair | None = None, *, access: str | None = None
) -> None:
    """Set the access (and refresh) cookies, plus the CSRF cookie scripts echo back."""
    access_token = tokens.access_token if tokens else access
    if access_token:
        resp.set_cookie(ACCESS_COOKIE, access_token, **_cookie_options(settings, REFRESH_COOKIE_AGE))
    if tokens:
        resp.set_cookie(REFRESH_COOKIE, tokens.refresh_token, **_cookie_options(settings, REFRESH_COOKIE_AGE))
        options = _cookie_options(settings, REFRESH_COOKIE_AGE) | {"http_only": False}
        resp.set_cookie(CSRF_COOKIE, secrets.token_urlsafe(24), **options)


def clear_token_cookies(resp: falcon.Response, settings: Settings) -> None:
    # Expired copies with the attributes they were set with (Secure too: falcon's
    # unset_cookie would drop it, whatever secure_cookies_by_default says).
    for name in (ACCESS_COOKIE, REFRESH_COOKIE, CSRF_COOKIE):
        options = _cookie_options(settings, 0) | {"max_age": None, "http_only": name != CSRF_COOKIE}
        resp.set_cookie(name, "", expires=_LONG_AGO, **options)


_LONG_AGO = datetime(1970, 1, 1, tzinfo=UTC)


def _cookie_options(settings: Settings, max_age: int) -> dict[str, Any]:
    # The access cookie outlives its token on purpose: an expired token in the cookie
    # is what tells a page to go through /refresh rather than to /login.
    return {
        "max_age": max_age,
        "path": "/",
        "http_only": True,
        "secure": settings.JWT_COOKIE_SECURE,
        "same_site": "Lax",
    }
