"""Pages of the web interface: server-rendered shells, forms that POST and redirect.

Every page comes from one Jinja2 Environment (autoescape, StrictUndefined) and gets
read models only. Logged-in actions go through the JSON API from the page's scripts;
the only forms posted here are login and registration. The interface speaks Russian,
or English when the browser prefers it (Accept-Language).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

import falcon
import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from messenger_core import Forbidden, Invalid, Messenger, MessengerError, Throttled, TooLarge, Unauthorized
from messenger_core.limits import public_limits
from messenger_core.model import Actor, FriendListKind, TokenType
from messenger_core.views import UserView

from ..config import Settings
from . import WebApp
from .access_log import is_secret
from .auth import ACCESS_COOKIE, REFRESH_COOKIE, clear_token_cookies, same_origin, set_token_cookies
from .devices import device_label
from .errors import CrossSite, edge_field, status_of
from .i18n import Catalogue, catalogue, choose_language
from .limits import RateLimits
from .render import avatar_url

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
API_DOCS = HERE.parent.parent / "docs" / "api_docs.md"
MAX_FORM_BODY = 64 * 1024

# --- redirects ---------------------------------------------------------------------


def safe_next(value: str | None) -> str:
    """``value`` when it is a path on this site, else ``/``: never an open redirect."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")):
        return "/"
    # Browsers drop tabs and newlines from URLs ("/\t/evil" becomes "//evil") and read
    # backslashes as slashes, so refuse both anywhere.
    if any(ord(c) < 0x20 or c in "\\\x7f" for c in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return "/"
    return without_secrets(value)


def without_secrets(path: str) -> str:
    """The path with token parameters (``?jwt=`` …) taken out of its query string, so a
    token never travels on into a ``next`` parameter, a redirect or a log."""
    parts = urlsplit(path)
    if not parts.query:
        return path
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not is_secret(k)]
    query = urlencode(kept)
    return parts.path + (f"?{query}" if query else "") + (f"#{parts.fragment}" if parts.fragment else "")


def _redirect(resp: falcon.Response, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = ""


def _with_next(path: str, next_path: str) -> str:
    return path if next_path == "/" else f"{path}?{urlencode({'next': next_path})}"


# Why a session ended, as the login page explains it (messenger_core.model.SessionEnd).
ENDED_NOTICES = ("ended_elsewhere", "password_changed", "refresh_reused", "idle")


def _login_path(next_path: str, failure: MessengerError | None = None) -> str:
    """/login (with ``next``), and ``ended`` naming why the session ended, when it did."""
    query = {} if next_path == "/" else {"next": next_path}
    ended = failure.params.get("ended") if failure is not None else None
    if ended in ENDED_NOTICES:
        query["ended"] = ended
    return f"/login?{urlencode(query)}" if query else "/login"


# --- the pages -----------------------------------------------------------------------


class Pages:
    """Renders templates and decides who may see a page."""

    def __init__(self, messenger: Messenger, settings: Settings, limits: RateLimits) -> None:
        self.messenger = messenger
        self.settings = settings
        self.limits = limits
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(str(TEMPLATES)),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.globals["static"] = static_url
        self.env.globals["avatar_url"] = avatar_url
        self.markdown = MarkdownIt("commonmark", {"html": False}).enable("table")
        self.markdown.core.ruler.push("heading_ids", _heading_ids)
        self._docs_cache: tuple[float, Markup] | None = None

    def render(self, req: falcon.Request, resp: falcon.Response, template: str, **context: Any) -> None:
        texts = texts_for(req)
        context.setdefault("user", None)
        context.setdefault("active", "")
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-store"]
        resp.vary = ["Accept-Language", "Cookie"]
        # The scripts get their texts and the limits they guide the user by from here,
        # as JSON the page carries (static/js/i18n.js reads it): nothing is retyped.
        settings = self.settings
        page_data = texts.for_scripts() | {
            "limits": public_limits()
            | {"max_upload": settings.MAX_CONTENT_LENGTH, "edit_window_hours": settings.EDIT_WINDOW_HOURS}
        }
        resp.text = self.env.get_template(template).render(
            lang=texts.lang, t=texts.text, page_data=page_data, **context
        )

    def user_or_redirect(self, req: falcon.Request, resp: falcon.Response) -> UserView | None:
        """The logged-in user, or None after setting the redirect a protected page needs."""
        here = safe_next(req.relative_uri)
        token = cookie(req, ACCESS_COOKIE)
        if not token:
            if req.get_cookie_values(REFRESH_COOKIE):
                _redirect(resp, _with_next("/refresh", here))
            else:
                _redirect(resp, _with_next("/login", here))
            return None
        try:
            actor = self.messenger.authenticate(token)
            return self.messenger.get_user(actor)
        except Unauthorized as error:
            if error.reason == "token_expired":
                _redirect(resp, _with_next("/refresh", here))
            else:
                clear_token_cookies(resp, self.settings)
                _redirect(resp, _login_path(here, error))
            return None

    def form_errors(self, req: falcon.Request, failure: MessengerError) -> dict[str, str]:
        """A failure's field errors, each in the reader's language."""
        texts = texts_for(req)
        return {name: texts.field_error(error) for name, error in failure.fields.items()}

    def not_found(self, req: falcon.Request, resp: falcon.Response) -> None:
        """The 404 page for people: in their language, with the way home."""
        self.render(req, resp, "not_found.html", user=self.maybe_user(req))
        resp.status = falcon.HTTP_404

    def maybe_user(self, req: falcon.Request) -> UserView | None:
        token = cookie(req, ACCESS_COOKIE)
        if not token:
            return None
        try:
            return self.messenger.get_user(self.messenger.authenticate(token))
        except MessengerError:
            return None

    def api_docs(self) -> Markup | None:
        """The API documentation as HTML, re-rendered when the Markdown file changes."""
        try:
            mtime = API_DOCS.stat().st_mtime
        except OSError:
            return None
        if self._docs_cache is None or self._docs_cache[0] != mtime:
            # html=False: raw HTML in the Markdown is escaped, so the result is safe markup.
            html = self.markdown.render(API_DOCS.read_text(encoding="utf-8"))
            self._docs_cache = (mtime, Markup(html))
        return self._docs_cache[1]


def _heading_ids(state: Any) -> None:
    """Give each heading an id from its text, so sections of the docs can be linked."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for i, token in enumerate(tokens):
        if token.type != "heading_open" or i + 1 >= len(tokens):
            continue
        text = tokens[i + 1].content
        slug = re.sub(r"[^\w]+", "-", text.casefold()).strip("-") or "section"
        seen[slug] = seen.get(slug, 0) + 1
        token.attrSet("id", slug if seen[slug] == 1 else f"{slug}-{seen[slug]}")


def static_url(path: str) -> str:
    """A static file's URL with a version that changes when the file does."""
    try:
        version = int((STATIC / path).stat().st_mtime)
    except OSError:
        version = 0
    return f"/static/{quote(path)}?v={version}"


def _form(req: falcon.Request) -> dict[str, str]:
    if (req.content_length or 0) > MAX_FORM_BODY:
        raise TooLarge(max=MAX_FORM_BODY)
    if not (req.content_type or "").startswith(falcon.MEDIA_URLENCODED):
        return {}
    media = req.get_media(default_when_empty={})
    return {k: (v if isinstance(v, str) else v[-1]) for k, v in media.items()}


def cookie(req: falcon.Request, name: str) -> str | None:
    """The first value of a cookie, if the request carries it."""
    values = req.get_cookie_values(name)
    return values[0] if values else None


def texts_for(req: falcon.Request) -> Catalogue:
    """The catalogue of the language the reader's browser prefers."""
    return catalogue(choose_language(req.get_header("Accept-Language")))


class PageResource:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.messenger = pages.messenger
        self.settings = pages.settings


class LoginPage(PageResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        if self.pages.maybe_user(req) is not None:  # signed in already: straight on
            _redirect(resp, next_path)
            return
        ended = req.get_param("ended")
        notice = texts_for(req).text(f"ended_{ended}") if ended in ENDED_NOTICES else None
        self.pages.render(
            req, resp, "login.html", active="login", next=next_path, email="", error=None, notice=notice
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        next_path = safe_next(form.get("next") or req.get_param("next"))
        email = form.get("email", "").strip()
        try:
            if not same_origin(req):
                raise CrossSite("cross_site")
            password = form.get("password", "")
            device = device_label(req.get_header("User-Agent"))
            tokens = self.pages.limits.guard_password_check(
                email,
                req.remote_addr,
                lambda: self.messenger.login(
                    email=email, password=password, device=device, ip=req.remote_addr
                ),
            )
        except Invalid:  # an empty or malformed email: as wrong as a wrong one
            resp.status = falcon.HTTP_401
            error = texts_for(req).error(Unauthorized("bad_credentials"))
        except Throttled as failure:  # said in words: when to try again
            resp.status = status_of(failure)
            resp.set_header("Retry-After", str(failure.retry_after))
            error = texts_for(req).text("throttled_wait", minutes=max(1, -(-failure.retry_after // 60)))
        except MessengerError as failure:
            resp.status = status_of(failure)
            error = texts_for(req).error(failure)
        else:
            set_token_cookies(resp, self.settings, tokens)
            _redirect(resp, next_path)
            return
        self.pages.render(
            req, resp, "login.html", active="login", next=next_path, email=email, error=error, notice=None
        )


class RegisterPage(PageResource):
    FIELDS = ("first_name", "second_name", "email")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        if self.pages.maybe_user(req) is not None:  # signed in already: straight on
            _redirect(resp, next_path)
            return
        self.pages.render(
            req, resp, "register.html", active="register", next=next_path, form={}, errors={}, error=None
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        next_path = safe_next(form.get("next") or req.get_param("next"))
        values = {name: form.get(name, "") for name in self.FIELDS}
        password = form.get("password", "")
        errors: dict[str, str] = {}
        try:
            if not same_origin(req):
                raise CrossSite("cross_site")
            if password != form.get("password_again", ""):
                raise Invalid({"password_again": edge_field("passwords_differ")})
            self.pages.limits.registration_attempt(req.remote_addr or "unknown")
            self.messenger.register(password=password, **values)
            device = device_label(req.get_header("User-Agent"))
            tokens = self.messenger.login(
                email=values["email"], password=password, device=device, ip=req.remote_addr
            )
        except MessengerError as failure:
            resp.status = status_of(failure)
            errors = self.pages.form_errors(req, failure)
            texts = texts_for(req)
            error = texts.text("form_failed") if errors else texts.error(failure)
        else:
            set_token_cookies(resp, self.settings, tokens)
            _redirect(resp, next_path)
            return
        self.pages.render(
            req,
            resp,
            "register.html",
            active="register",
            next=next_path,
            form=values,
            errors=errors,
            error=error,
        )


class AppPage(PageResource):
    """A page of the logged-in app: a shell the page's script fills in."""

    def __init__(self, pages: Pages, template: str, active: str) -> None:
        super().__init__(pages)
        self.template = template
        self.active = active

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        user = self.pages.user_or_redirect(req, resp)
        if user is not None:
            self.pages.render(req, resp, self.template, user=user, active=self.active)


class DocsPage(PageResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        self.pages.render(
            req, resp, "docs.html", user=self.pages.maybe_user(req), active="docs", docs=self.pages.api_docs()
        )


class LogoutPage(PageResource):
    """The specification's log-out link. Followed from our own pages (or typed) it logs
    out at once; a link or image on another site gets a confirmation form instead, so no
    other site can sign our users out."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not same_origin(req):
            self.pages.render(req, resp, "logout.html", user=self.pages.maybe_user(req))
            return
        self._log_out(req, resp)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        if not same_origin(req):
            raise CrossSite("cross_site")
        self._log_out(req, resp)

    def _log_out(self, req: falcon.Request, resp: falcon.Response) -> None:
        """End this browser's session on the server (its tokens stop working at once),
        then clear the cookies."""
        access, refresh = cookie(req, ACCESS_COOKIE), cookie(req, REFRESH_COOKIE)
        if not (access and self.messenger.logout(access)) and refresh:
            self.messenger.logout(refresh, type=TokenType.REFRESH)
        clear_token_cookies(resp, self.settings)
        _redirect(resp, "/login")


class PersonPage(PageResource):
    """``/u/{username}``: a person's card; a friend's opens the chat, anyone else's offers
    a friend request (a form, so a GET changes nothing)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response, username: str) -> None:
        user = self.pages.user_or_redirect(req, resp)
        if user is not None:
            self._show(req, resp, user, username, note=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response, username: str) -> None:
        user = self.pages.user_or_redirect(req, resp)
        if user is None:
            return
        actor = Actor(user.id, user.user_id)
        note = texts_for(req).text("person_sent")
        try:
            if not same_origin(req):
                raise CrossSite("cross_site")
            person = self.messenger.get_user_by_username(actor, username)
            self.pages.limits.friend_request(user.id)
            self.messenger.send_friend_request(actor, person.user_id)
        except Forbidden as failure:
            resp.status = status_of(failure)
            note = (
                texts_for(req).text("person_blocked")
                if failure.code == "blocked"
                else texts_for(req).error(failure)
            )
        except MessengerError as failure:
            resp.status = status_of(failure)
            note = texts_for(req).error(failure)
        self._show(req, resp, user, username, note=note)

    def _show(
        self, req: falcon.Request, resp: falcon.Response, me: UserView, username: str, *, note: str | None
    ) -> None:
        actor = Actor(me.id, me.user_id)
        try:
            person = self.messenger.get_user_by_username(actor, username)
        except MessengerError as failure:
            resp.status = status_of(failure)
            self.pages.render(req, resp, "person.html", user=me, person=None, relation="", note=None)
            return
        relation = "me" if person.id == me.id else "none"
        if relation == "none":
            if any(v.user.id == person.id for v in self.messenger.list_friends(actor)):
                relation = "friend"
            if relation == "friend" and note is None:  # a friend's link opens the chat
                _redirect(resp, f"/?{urlencode({'chat_with': person.user_id})}")
                return
            outgoing = self.messenger.list_friends(actor, FriendListKind.OUTGOING)
            incoming = self.messenger.list_friends(actor, FriendListKind.INCOMING)
            if any(v.user.id == person.id for v in outgoing):
                relation = "requested"
            elif any(v.user.id == person.id for v in incoming):
                relation = "incoming"
        blocked = any(b.user.id == person.id for b in self.messenger.list_blocked(actor))
        self.pages.render(
            req, resp, "person.html", user=me, person=person, relation=relation, note=note, blocked=blocked
        )


class ConfirmPage(PageResource):
    """Where a mailed confirmation link leads: a button that confirms the email (a GET
    changes nothing, since mail scanners follow links)."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = req.get_param("token") or ""
        self.pages.render(req, resp, "confirm.html", token=token, done=None, error=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        token = _form(req).get("token", "")
        try:
            if not same_origin(req):
                raise CrossSite("cross_site")
            user = self.messenger.confirm_email(token)
        except MessengerError as failure:
            resp.status = status_of(failure)
            texts = texts_for(req)
            error = (
                texts.text("confirm_bad_link") if isinstance(failure, Unauthorized) else texts.error(failure)
            )
            self.pages.render(req, resp, "confirm.html", token=token, done=None, error=error)
            return
        self.pages.render(req, resp, "confirm.html", token="", done=user.email, error=None)


class RefreshPage(PageResource):
    """Renews the access cookie from the refresh cookie, then goes back to ``next``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        token = cookie(req, REFRESH_COOKIE)
        try:
            tokens = self.messenger.refresh(token)
        except MessengerError as failure:
            clear_token_cookies(resp, self.settings)
            _redirect(resp, _login_path(next_path, failure))
            return
        set_token_cookies(resp, self.settings, tokens)  # the next refresh token too
        _redirect(resp, next_path)


class RevalidateStatic:
    """Static files are revalidated on every use (a cheap 304). Pages version the files
    they name, but a script's own imports carry no version: without this, a browser could
    run a new script with an old module it guessed was still fresh."""

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        if req.path.startswith("/static/") and resp.get_header("Cache-Control") is None:
            resp.cache_control = ["no-cache"]


def add_page_routes(app: WebApp, messenger: Messenger, settings: Settings, limits: RateLimits) -> Pages:
    """Register the pages (and return them, for the 404 page). Pass the API's ``limits``
    so that the login and registration forms count against the same abuse limits as the
    API does."""
    pages = Pages(messenger, settings, limits)
    app.add_middleware(RevalidateStatic())
    chats = AppPage(pages, "index.html", "chats")
    app.add_route("/", chats)
    app.add_route("/index", chats)
    app.add_route("/friends", AppPage(pages, "friends.html", "friends"))
    app.add_route("/profile", AppPage(pages, "profile.html", "profile"))
    app.add_route("/login", LoginPage(pages))
    app.add_route("/register", RegisterPage(pages))
    app.add_route("/logout", LogoutPage(pages))
    app.add_route("/confirm", ConfirmPage(pages))
    app.add_route("/u/{username}", PersonPage(pages))
    app.add_route("/refresh", RefreshPage(pages))
    app.add_route("/docs/v1/api_docs", DocsPage(pages))
    return pages
