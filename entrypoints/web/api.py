"""The JSON API's resources. Each responder parses, calls one use case and renders."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import falcon

from messenger_core import Forbidden, Invalid, Messenger, NotFound, TooLarge
from messenger_core.model import Actor, ProfileChanges, TokenType
from messenger_core.services import Upload

from ..config import Settings
from . import render, schema
from .auth import authenticate, clear_token_cookies, json_body, same_origin, set_token_cookies, token_from
from .errors import BadRequest, CrossSite, UnsupportedMediaType, edge_field
from .limits import RateLimits, WaiterCap
from .media import send_file
from .schema import fields_of

CHUNK = 64 * 1024


def params(req: falcon.Request) -> dict[str, Any]:
    """Parameters of a request: the query string, overlaid by a JSON body if any."""
    return {**req.params, **json_body(req)}


class Resource:
    """Shared wiring of the API's resources."""

    def __init__(self, messenger: Messenger, settings: Settings, limits: RateLimits | None = None) -> None:
        self.messenger = messenger
        self.settings = settings
        self.limits = limits or RateLimits.from_settings(settings)

    def actor(self, req: falcon.Request) -> Actor:
        if not hasattr(req.context, "actor"):
            req.context.actor = authenticate(self.messenger, req)
        actor: Actor = req.context.actor
        return actor


# --- authentication -------------------------------------------------------------------


class LoginResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not same_origin(req):  # another site must not sign a browser into our app
            raise CrossSite("cross_site")
        body = schema.parse(schema.Login, json_body(req))
        tokens = self.limits.guard_password_check(
            body.email, req.remote_addr, lambda: self.messenger.login(**fields_of(body))
        )
        set_token_cookies(resp, self.settings, tokens)
        resp.media = {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token}


class RefreshResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token, _ = token_from(req, TokenType.REFRESH)
        body = schema.parse(schema.Refresh, {k: v for k, v in params(req).items() if k == "expires_in"})
        access = self.messenger.refresh(token, expires_in=body.expires_in)
        set_token_cookies(resp, self.settings, access=access)
        resp.media = {"access_token": access}


class LogoutResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
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


# --- users ----------------------------------------------------------------------------


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


# --- friends --------------------------------------------------------------------------


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


# --- chats and messages ---------------------------------------------------------------


class ChatsResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        select = schema.parse(schema.ChatSelect, params(req))
        if select.chat_id is not None:
            resp.media = {"chat": render.chat(self.messenger.get_chat(actor, select.chat_id))}
        elif select.chat_with is not None:
            resp.media = {"chat": render.chat(self.messenger.find_chat_with(actor, select.chat_with))}
        else:
            resp.media = {"chats": [render.chat(c) for c in self.messenger.list_chats(actor)]}

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.ChatOpen, json_body(req))
        chat, created = self.messenger.open_chat(actor, body.user_id)
        resp.status = falcon.HTTP_201 if created else falcon.HTTP_200
        resp.media = {"chat": render.chat(chat)}

    def on_delete(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        select = schema.parse(schema.ChatSelect, params(req))
        if select.chat_id is not None:
            self.messenger.delete_chat(actor, select.chat_id)
        elif select.chat_with is not None:
            self.messenger.delete_chat_with(actor, select.chat_with)
        else:
            raise Invalid({"chat_id": edge_field("chat_or_peer")})
        resp.media = {"success": "OK"}

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        resp.media = {"chat": render.chat(self.messenger.get_chat(self.actor(req), chat_id))}

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        self.messenger.delete_chat(self.actor(req), chat_id)
        resp.media = {"success": "OK"}


class ChatReadResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.ReadMark, json_body(req))
        chat = self.messenger.mark_read(actor, chat_id, body.message_id)
        resp.media = {"chat": render.chat(chat)}


class MessagesResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response, chat_id: int | None = None) -> None:
        actor = self.actor(req)
        data = json_body(req)
        if chat_id is not None:
            data = data | {"chat_id": chat_id}
        body = schema.parse(schema.MessageSend, data)
        self.limits.message_sent(actor.id)
        message = self.messenger.send_message(actor, **fields_of(body))
        resp.status = falcon.HTTP_201
        resp.media = {"message": render.message(message)}

    def on_get(self, req: falcon.Request, resp: falcon.Response, chat_id: int | None = None) -> None:
        actor = self.actor(req)
        data = params(req)
        if chat_id is not None:
            data = data | {"chat_id": chat_id}
        query = schema.parse(schema.MessageQuery, data)
        if query.chat_id is None and query.receiver_id is None:
            resp.media = {
                "messages": [render.latest_message(m) for m in self.messenger.latest_messages(actor)]
            }
            return
        paging = fields_of(query.page)
        if query.chat_id is not None:
            page = self.messenger.history(actor, query.chat_id, **paging)
        else:
            page = self.messenger.history_with(actor, query.receiver_id or "", **paging)
        resp.media = {"messages": [render.message(m) for m in page]}

    def on_put_item(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        actor = self.actor(req)
        body = schema.parse(schema.MessageEdit, json_body(req))
        message = self.messenger.edit_message(actor, message_id, text=body.text)
        resp.media = {"message": render.message(message)}

    on_patch_item = on_put_item

    def on_delete_item(self, req: falcon.Request, resp: falcon.Response, message_id: int) -> None:
        message = self.messenger.delete_message(self.actor(req), message_id)
        resp.media = {"success": "OK", "message": render.message(message)}


# --- stickers and attachments ---------------------------------------------------------


class StickersResource(Resource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.actor(req)
        resp.media = {"packs": [render.sticker_pack(p) for p in self.messenger.list_sticker_packs()]}

    def on_get_image(self, req: falcon.Request, resp: falcon.Response, sticker_id: int) -> None:
        self.actor(req)
        sticker, stream = self.messenger.open_sticker(sticker_id)
        resp.cache_control = ["private", "max-age=31536000", "immutable"]
        send_file(req, resp, stream, mime=sticker.mime, name=f"sticker-{sticker.id}", inline=True)


class AttachmentsResource(Resource):
    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        self.limits.upload(actor.id, req.content_length or 0)
        attachment = self.messenger.upload_attachment(actor, upload_from(req, self.settings))
        resp.status = falcon.HTTP_201
        resp.media = {"attachment": render.attachment(attachment)}

    def on_get_item(self, req: falcon.Request, resp: falcon.Response, attachment_id: int) -> None:
        view, stream = self.messenger.open_attachment(self.actor(req), attachment_id)
        send_file(req, resp, stream, mime=view.mime, name=view.name, inline=view.kind.value != "file")

    def on_get_thumbnail(self, req: falcon.Request, resp: falcon.Response, attachment_id: int) -> None:
        view, stream = self.messenger.open_attachment(self.actor(req), attachment_id, thumbnail=True)
        send_file(req, resp, stream, mime="image/jpeg", name=f"thumb-{view.name}", inline=True, sniff=True)


def upload_from(req: falcon.Request, settings: Settings) -> Upload:
    """The multipart part named ``file``, streamed: never more than a chunk in memory."""
    if not (req.content_type or "").startswith("multipart/form-data"):
        raise UnsupportedMediaType(expected="multipart/form-data, field 'file'")
    if req.content_length is not None and req.content_length > settings.MAX_CONTENT_LENGTH + CHUNK:
        raise TooLarge(max=settings.MAX_CONTENT_LENGTH)
    # Falcon streams each part (no MultipartParseOptions buffer applies to part.stream)
    # and decodes its headers as UTF-8, which is what browsers send, Cyrillic included;
    # part.filename keeps that name (part.secure_filename would reduce it to ASCII).
    try:
        for part in req.get_media():
            if part.name == "file":
                return Upload(name=part.filename, chunks=_chunks(part.stream))
    except UnicodeDecodeError:
        raise BadRequest("bad_multipart") from None
    raise Invalid({"file": edge_field("file_part_required")})


def _chunks(stream: BinaryIO) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK):
        yield chunk


# --- events ---------------------------------------------------------------------------


class EventsResource(Resource):
    """Long-poll: waits up to ``timeout`` for the user's next events.

    A waiting request holds a waitress thread, so waiters are capped below the thread
    count: the rest of the threads stay free for ordinary requests. One user (or one
    address) may hold only a few of those places, so nobody can take them all. Past a
    cap the answer comes at once (``X-Long-Poll: busy``) and the client polls again with
    its cursor, losing nothing.
    """

    def __init__(self, messenger: Messenger, settings: Settings, limits: RateLimits | None = None) -> None:
        super().__init__(messenger, settings, limits)
        self.waiters = threading.BoundedSemaphore(max(1, settings.THREADS - settings.RESERVED_THREADS))
        self.per_user = WaiterCap(settings.LONG_POLLS_PER_USER)
        self.per_address = WaiterCap(settings.LONG_POLLS_PER_ADDRESS)

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        actor = self.actor(req)
        query = schema.parse(schema.EventsQuery, params(req))
        if not 0 <= query.timeout <= self.settings.LONG_POLL_MAX_TIMEOUT:
            raise Invalid({"timeout": edge_field("seconds_range", max=self.settings.LONG_POLL_MAX_TIMEOUT)})
        timeout = query.timeout if query.since is not None else 0  # no cursor: answer at once
        with self._place(str(actor.id), req.remote_addr or "unknown", wanted=timeout > 0) as waiting:
            if timeout > 0 and not waiting:
                timeout = 0  # a cap is reached: answer now, the client polls again
                resp.set_header("X-Long-Poll", "busy")
            batch = self.messenger.events(actor, since=query.since, timeout=timeout)
        resp.media = {"events": [render.event(e) for e in batch.events], "cursor": batch.cursor}

    @contextlib.contextmanager
    def _place(self, user: str, address: str, *, wanted: bool) -> Iterator[bool]:
        """A waiter's place (True), or False when the user's, the address's or the
        server's places are all taken."""
        taken: list[Callable[[], None]] = []
        try:
            if wanted and self.per_user.acquire(user):
                taken.append(lambda: self.per_user.release(user))
                if self.per_address.acquire(address):
                    taken.append(lambda: self.per_address.release(address))
                    if self.waiters.acquire(blocking=False):
                        taken.append(self.waiters.release)
            yield len(taken) == 3
        finally:
            for release in reversed(taken):
                release()


def not_found(_: Any) -> None:
    raise NotFound()
