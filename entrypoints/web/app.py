"""The Falcon WSGI app: ``create_app`` only wires; ``get_app`` reads config and bootstraps."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import falcon
import orjson

from messenger_core import Messenger, MessengerError, NotFound, Throttled, TooLarge, Unavailable
from messenger_core.ports import RateLimitStore

from ..config import Settings
from . import WebApp, api
from .access_log import AccessLog
from .errors import BadRequest, MethodNotAllowed, ServerError, error_body, status_of
from .limits import RateLimits, SharedPlaces
from .schema import loads_json

log = logging.getLogger("messenger.web")

STATIC = Path(__file__).parent / "static"

API_ROUTES: tuple[tuple[str, type[api.Resource], str | None], ...] = (
    ("/api/v1/login", api.LoginResource, None),
    ("/api/v1/refresh", api.RefreshResource, None),
    ("/api/v1/logout", api.LogoutResource, None),
    ("/api/v1/tokens", api.TokensResource, None),
    ("/api/v1/users", api.UsersResource, None),
    ("/api/v1/users/{user_id}", api.UsersResource, "item"),
    ("/api/v1/users/{user_id}/avatar", api.AvatarResource, None),
    ("/api/v1/users_friends", api.FriendsResource, None),
    ("/api/v1/users_friends/{user_id}", api.FriendsResource, "item"),
    ("/api/v1/chats", api.ChatsResource, None),
    ("/api/v1/chats/{chat_id:int}", api.ChatsResource, "item"),
    ("/api/v1/chats/{chat_id:int}/messages", api.MessagesResource, None),
    ("/api/v1/chats/{chat_id:int}/read", api.ChatReadResource, None),
    ("/api/v1/chats/{chat_id:int}/photo", api.ChatPhotoResource, None),
    ("/api/v1/chats/{chat_id:int}/members", api.ChatMembersResource, None),
    ("/api/v1/chats/{chat_id:int}/members/{user_id}", api.ChatMembersResource, "item"),
    ("/api/v1/chats/{chat_id:int}/pins", api.PinsResource, None),
    ("/api/v1/chats/{chat_id:int}/pins/{message_id:int}", api.PinsResource, "item"),
    ("/api/v1/chats/{chat_id:int}/clear", api.ChatClearResource, None),
    ("/api/v1/chats/{chat_id:int}/mute", api.ChatMuteResource, None),
    ("/api/v1/messages", api.MessagesResource, None),
    ("/api/v1/messages/{message_id:int}", api.MessagesResource, "item"),
    ("/api/v1/messages/{message_id:int}/readers", api.ReadersResource, None),
    ("/api/v1/messages/{message_id:int}/forward", api.ForwardResource, None),
    ("/api/v1/messages/{message_id:int}/history", api.EditHistoryResource, None),
    ("/api/v1/messages/{message_id:int}/reactions/{emoji}", api.ReactionsResource, "item"),
    ("/api/v1/search/messages", api.MessageSearchResource, None),
    ("/api/v1/stickers", api.StickersResource, None),
    ("/api/v1/stickers/{sticker_id:int}/image", api.StickersResource, "image"),
    ("/api/v1/attachments", api.AttachmentsResource, None),
    ("/api/v1/attachments/{attachment_id:int}", api.AttachmentsResource, "item"),
    ("/api/v1/attachments/{attachment_id:int}/thumbnail", api.AttachmentsResource, "thumbnail"),
    ("/api/v1/events", api.EventsResource, None),
    ("/api/v1/settings", api.SettingsResource, None),
    # privacy and account control
    ("/api/v1/sessions", api.SessionsResource, None),
    ("/api/v1/sessions/{session_id:int}", api.SessionsResource, "item"),
    ("/api/v1/blocks", api.BlocksResource, None),
    ("/api/v1/blocks/{user_id}", api.BlocksResource, "item"),
    ("/api/v1/users/me/privacy", api.PrivacyResource, None),
    ("/api/v1/users/me/export", api.ExportResource, None),
    ("/api/v1/users/by-username/{username}", api.UsernameResource, None),
    ("/api/v1/chats/{chat_id:int}/typing", api.TypingResource, None),
)


def create_app(
    messenger: Messenger,
    settings: Settings,
    *,
    rate_limits: RateLimitStore | None = None,
    places: SharedPlaces | None = None,
) -> WebApp:
    """Wire the routes of the API and the pages to a Messenger. No I/O happens here.

    The throttles count in ``rate_limits``: the store every server process shares, which
    the composition root gives; without it, in this process only. Long-poll places are
    counted in ``places`` when several workers serve."""
    middleware: list[Any] = [AccessLog(), SecurityHeaders(), JsonBodyLimit(settings.MAX_JSON_BODY)]
    app: WebApp = falcon.App(middleware=middleware)
    app.req_options.strip_url_path_trailing_slash = True
    app.req_options.auto_parse_qs_csv = False
    app.req_options.media_handlers[falcon.MEDIA_JSON] = falcon.media.JSONHandler(loads=loads_json)
    # orjson encodes a 50-message history page about 8x faster than the json module.
    app.resp_options.media_handlers[falcon.MEDIA_JSON] = falcon.media.JSONHandler(dumps=orjson.dumps)
    app.router_options.converters["int"] = Id
    app.resp_options.secure_cookies_by_default = settings.JWT_COOKIE_SECURE

    if rate_limits is None:
        from ..bootstrap import in_process_rate_limits

        rate_limits = in_process_rate_limits()
    limits = RateLimits.from_settings(settings, rate_limits, places)
    resources: dict[type[api.Resource], api.Resource] = {}
    for path, cls, suffix in API_ROUTES:
        resource = resources.setdefault(cls, cls(messenger, settings, limits))
        if suffix:
            app.add_route(path, resource, suffix=suffix)
        else:
            app.add_route(path, resource)

    from .docs import add_doc_routes
    from .pages import add_page_routes

    add_doc_routes(app, settings)
    pages = add_page_routes(app, messenger, settings, limits)
    app.add_static_route("/static", str(STATIC))

    def http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any) -> None:
        if ex.status_code == 404 and _is_page_request(req):
            pages.not_found(req, resp)
        else:
            _http_error(req, resp, ex, params)

    app.set_error_serializer(_serialize_http_error)
    app.add_error_handler(Exception, _unexpected)
    app.add_error_handler(falcon.HTTPError, http_error)
    app.add_error_handler(MessengerError, _domain_error)
    return app


def _json_error(resp: falcon.Response, error: MessengerError) -> None:
    # A responder may have begun a file answer (type, disposition, stream): replace it.
    resp.status = status_of(error)
    resp.content_type = falcon.MEDIA_JSON
    resp.stream = None
    resp.delete_header("Content-Disposition")
    resp.delete_header("Content-Range")
    resp.media = error_body(error)
    if isinstance(error, Throttled):
        resp.set_header("Retry-After", str(error.retry_after))


def _domain_error(req: falcon.Request, resp: falcon.Response, ex: MessengerError, params: Any) -> None:
    if isinstance(ex, Unavailable):  # the operator's business: one clear line
        log.error("storage unavailable on %s %s: %s (%r)", req.method, req.path, ex.code, ex.__cause__)
    _json_error(resp, ex)


def _is_page_request(req: falcon.Request) -> bool:
    """A person's browser asking for a page: not the API, not a static file."""
    return req.method in ("GET", "HEAD") and not req.path.startswith(("/api/", "/static/"))


def _http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError, params: Any) -> None:
    """Falcon's own errors (no route, a method not allowed, a body it cannot parse) in
    the API's shape and codes."""
    _json_error(resp, edge_error(ex.status_code))
    if ex.headers:
        resp.set_headers(ex.headers)


def edge_error(status: int) -> MessengerError:
    """The edge's error for a status Falcon chose."""
    if status == 404:
        return NotFound()
    if status == 405:
        return MethodNotAllowed()
    return BadRequest() if status < 500 else ServerError()


def _unexpected(req: falcon.Request, resp: falcon.Response, ex: Exception, params: Any) -> None:
    log.exception("unexpected error on %s %s", req.method, req.path)
    _json_error(resp, ServerError())


def _serialize_http_error(req: falcon.Request, resp: falcon.Response, ex: falcon.HTTPError) -> None:
    resp.content_type = falcon.MEDIA_JSON
    resp.media = error_body(edge_error(ex.status_code))


class SecurityHeaders:
    """Hardened defaults on every answer; pages and files may tighten the CSP."""

    CSP = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    )

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.set_header("Referrer-Policy", "no-referrer")
        resp.set_header("X-Frame-Options", "DENY")
        if resp.get_header("Content-Security-Policy") is None:
            resp.set_header("Content-Security-Policy", self.CSP)
        if req.path.startswith("/api/") and resp.get_header("Cache-Control") is None:
            resp.set_header("Cache-Control", "no-store")


class JsonBodyLimit:
    """JSON bodies are small; uploads go through multipart with their own limit."""

    def __init__(self, limit: int) -> None:
        self.limit = limit

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        # A body without a type is read as JSON (see auth.json_body), so it is bounded too.
        is_json = (req.content_type or "application/json").startswith("application/json")
        if is_json and (req.content_length or 0) > self.limit:
            raise TooLarge(max=self.limit)


class Id(falcon.routing.IntConverter):
    """``{name:int}`` in routes: ASCII digits only, as the schema reads ids in queries
    and bodies. Python's ``int`` also reads "１" (fullwidth), "٣" (Arabic-Indic), "+1" and
    "1_0", which would name chats 1, 3, 1 and 10; those name no route here (404). Ids are
    SQLite INTEGERs, so a number past 64 bits names nothing either, rather than
    overflowing the driver."""

    def __init__(self, num_digits: int | None = None, min: int = 0, max: int = 2**63 - 1) -> None:
        super().__init__(num_digits, min, max)

    def convert(self, value: str) -> int | None:
        if not (value.isascii() and value.isdigit()):
            return None
        return super().convert(value)


def get_app() -> WebApp:
    """The app as configured by APP_CONFIG (for WSGI servers: ``entrypoints.web.app:get_app()``)."""
    from ..bootstrap import build_server, prepare_database
    from ..config import load_settings

    settings = load_settings()
    prepare_database(settings)
    messenger, rate_limits = build_server(settings)
    return create_app(messenger, settings, rate_limits=rate_limits)
