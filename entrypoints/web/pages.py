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
from urllib.parse import quote, urlencode, urlsplit

import falcon
import jinja2
from markdown_it import MarkdownIt
from markupsafe import Markup

from messenger_core import Conflict, Invalid, Messenger, MessengerError, Throttled, Unauthorized
from messenger_core.model import UserView

from ..config import Settings
from .auth import ACCESS_COOKIE, REFRESH_COOKIE, clear_token_cookies, set_token_cookies
from .limits import RateLimits
from .render import avatar_url

HERE = Path(__file__).parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"
API_DOCS = HERE.parent.parent / "docs" / "api_docs.md"
MAX_FORM_BODY = 64 * 1024

# --- language ----------------------------------------------------------------------

LANGUAGES = ("ru", "en")

TEXTS: dict[str, dict[str, str]] = {
    "ru": {
        "app_name": "Мессенджер",
        "nav_main": "Основная навигация",
        "nav_chats": "Чаты",
        "nav_friends": "Друзья",
        "nav_profile": "Профиль",
        "nav_docs": "API",
        "nav_logout": "Выйти",
        "nav_login": "Войти",
        "nav_register": "Регистрация",
        "login_title": "Вход",
        "login_lead": "Войдите, чтобы продолжить общение.",
        "email": "Электронная почта",
        "password": "Пароль",
        "password_again": "Пароль ещё раз",
        "login_submit": "Войти",
        "login_no_account": "Нет аккаунта?",
        "login_register_link": "Зарегистрируйтесь",
        "login_failed": "Неверная почта или пароль.",
        "register_title": "Регистрация",
        "register_lead": "Создайте аккаунт — это займёт минуту.",
        "first_name": "Имя",
        "second_name": "Фамилия",
        "register_submit": "Зарегистрироваться",
        "register_have_account": "Уже есть аккаунт?",
        "register_login_link": "Войдите",
        "passwords_differ": "Пароли не совпадают",
        "form_failed": "Проверьте поля формы.",
        "throttled": "Слишком много попыток. Попробуйте позже.",
        "cross_site": "Форма отправлена с чужого сайта.",
        "chats_title": "Чаты",
        "chats_list": "Список чатов",
        "chats_loading": "Загрузка…",
        "chat_pick": "Выберите чат слева или найдите друзей, чтобы начать переписку.",
        "find_friends": "Найти друзей",
        "friends_title": "Друзья",
        "profile_title": "Профиль",
        "profile_main": "Основное",
        "profile_security": "Безопасность",
        "phone": "Телефон",
        "age": "Возраст",
        "city": "Город",
        "about": "О себе",
        "avatar": "Аватар",
        "avatar_choose": "Выбрать фото",
        "your_id": "Ваш ID",
        "copy_id": "Скопировать ID",
        "new_password": "Новый пароль",
        "new_password_again": "Новый пароль ещё раз",
        "current_password": "Текущий пароль",
        "security_hint": "Чтобы сменить почту или пароль, введите текущий пароль. "
        "Остальные сеансы будут завершены.",
        "edit": "Изменить",
        "save": "Сохранить",
        "cancel": "Отмена",
        "docs_title": "Документация API",
        "docs_missing": "Документация API пока не написана.",
        "search_label": "Поиск по имени, фамилии или ID",
        "search_placeholder": "Например, Алёна или abc123",
        "incoming": "Входящие заявки",
        "outgoing": "Отправленные заявки",
        "friends_list": "Мои друзья",
        "search_results": "Результаты поиска",
        "skip_link": "Перейти к содержимому",
        "phone_hint": "В международном формате, например +79161234567",
        "photo": "Фото",
        "close": "Закрыть",
        "theme_title": "Тема",
        "theme_system": "Системная",
        "theme_light": "Светлая",
        "theme_dark": "Тёмная",
        "theme_hint": "Системная следует настройке устройства. Выбор хранится в этом браузере.",
    },
    "en": {
        "app_name": "Messenger",
        "nav_main": "Main navigation",
        "nav_chats": "Chats",
        "nav_friends": "Friends",
        "nav_profile": "Profile",
        "nav_docs": "API",
        "nav_logout": "Log out",
        "nav_login": "Log in",
        "nav_register": "Sign up",
        "login_title": "Log in",
        "login_lead": "Log in to continue the conversation.",
        "email": "Email",
        "password": "Password",
        "password_again": "Password again",
        "login_submit": "Log in",
        "login_no_account": "No account yet?",
        "login_register_link": "Sign up",
        "login_failed": "Wrong email or password.",
        "register_title": "Sign up",
        "register_lead": "Create an account: it takes a minute.",
        "first_name": "First name",
        "second_name": "Last name",
        "register_submit": "Sign up",
        "register_have_account": "Already have an account?",
        "register_login_link": "Log in",
        "passwords_differ": "The passwords differ",
        "form_failed": "Please check the form.",
        "throttled": "Too many attempts. Try again later.",
        "cross_site": "The form was sent from another site.",
        "chats_title": "Chats",
        "chats_list": "Chat list",
        "chats_loading": "Loading…",
        "chat_pick": "Pick a chat on the left, or find friends to start talking.",
        "find_friends": "Find friends",
        "friends_title": "Friends",
        "profile_title": "Profile",
        "profile_main": "General",
        "profile_security": "Security",
        "phone": "Phone",
        "age": "Age",
        "city": "City",
        "about": "About",
        "avatar": "Avatar",
        "avatar_choose": "Choose a photo",
        "your_id": "Your ID",
        "copy_id": "Copy ID",
        "new_password": "New password",
        "new_password_again": "New password again",
        "current_password": "Current password",
        "security_hint": "Enter your current password to change the email or the password. "
        "Your other sessions will be logged out.",
        "edit": "Edit",
        "save": "Save",
        "cancel": "Cancel",
        "docs_title": "API documentation",
        "docs_missing": "The API documentation is not written yet.",
        "search_label": "Search by first name, last name or ID",
        "search_placeholder": "For example, Alice or abc123",
        "incoming": "Incoming requests",
        "outgoing": "Sent requests",
        "friends_list": "My friends",
        "search_results": "Search results",
        "skip_link": "Skip to content",
        "phone_hint": "International form, e.g. +79161234567",
        "photo": "Photo",
        "close": "Close",
        "theme_title": "Theme",
        "theme_system": "System",
        "theme_light": "Light",
        "theme_dark": "Dark",
        "theme_hint": "System follows your device's setting. The choice is kept in this browser.",
    },
}

# The core's field messages are English; Russian pages show them translated.
_FIELD_MESSAGES_RU: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), text)
    for pattern, text in (
        (r"^Must not be empty$", "Заполните поле"),
        (r"^Required$", "Заполните поле"),
        (r"^At most (\d+) characters$", r"Не больше \1 символов"),
        (r"^At least (\d+) characters$", r"Не меньше \1 символов"),
        (r"^Not a valid email address$", "Неверный адрес почты"),
        (r"^Taken$", "Этот адрес уже зарегистрирован"),
        (r"^Must not contain control characters$", "Недопустимые символы"),
    )
)


def choose_language(header: str | None) -> str:
    """The supported language the browser prefers most (Russian when it names none)."""
    best, best_q = "ru", -1.0
    for position, item in enumerate((header or "").split(",")):
        tag, _, rest = item.strip().partition(";")
        q = 1.0
        for param in rest.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        primary = tag.strip().lower().split("-")[0]
        # Earlier entries win ties: subtract a little per position.
        score = q - position * 1e-6
        if primary in LANGUAGES and q > 0 and score > best_q:
            best, best_q = primary, score
    return best


def field_message(lang: str, message: str) -> str:
    if lang != "ru":
        return message
    for pattern, text in _FIELD_MESSAGES_RU:
        if pattern.match(message):
            return pattern.sub(text, message)
    return message


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
    return value


def _redirect(resp: falcon.Response, location: str) -> None:
    resp.status = falcon.HTTP_303
    resp.location = location
    resp.content_type = falcon.MEDIA_TEXT
    resp.text = ""


def _with_next(path: str, next_path: str) -> str:
    return path if next_path == "/" else f"{path}?{urlencode({'next': next_path})}"


def _same_origin(req: falcon.Request) -> bool:
    """A form post must come from our own pages (as auth.check_csrf judges the API).

    Our pages send ``Referrer-Policy: no-referrer``, under which browsers post forms with
    ``Origin: null``; so the browser's Fetch Metadata decides first, then the Origin."""
    site = req.get_header("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = req.get_header("Origin")
    if origin is None:
        return True
    return origin != "null" and urlsplit(origin).netloc == req.netloc


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
        lang = choose_language(req.get_header("Accept-Language"))
        texts = TEXTS[lang]
        context.setdefault("user", None)
        context.setdefault("active", "")
        resp.content_type = falcon.MEDIA_HTML
        resp.cache_control = ["no-store"]
        resp.vary = ["Accept-Language", "Cookie"]
        resp.text = self.env.get_template(template).render(
            lang=lang,
            t=texts.__getitem__,
            settings={"max_upload": self.settings.MAX_CONTENT_LENGTH},
            **context,
        )

    def user_or_redirect(self, req: falcon.Request, resp: falcon.Response) -> UserView | None:
        """The logged-in user, or None after setting the redirect a protected page needs."""
        here = safe_next(req.relative_uri)
        token = (req.get_cookie_values(ACCESS_COOKIE) or [None])[0]
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
                _redirect(resp, _with_next("/login", here))
            return None

    def maybe_user(self, req: falcon.Request) -> UserView | None:
        token = (req.get_cookie_values(ACCESS_COOKIE) or [None])[0]
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
        raise falcon.HTTPContentTooLarge(title="too_large", description="The form is too large")
    if not (req.content_type or "").startswith(falcon.MEDIA_URLENCODED):
        return {}
    media = req.get_media(default_when_empty={})
    return {k: (v if isinstance(v, str) else v[-1]) for k, v in media.items()}


class PageResource:
    def __init__(self, pages: Pages) -> None:
        self.pages = pages
        self.messenger = pages.messenger
        self.settings = pages.settings


class LoginPage(PageResource):
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        self.pages.render(req, resp, "login.html", active="login", next=next_path, email="", error=None)

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        form = _form(req)
        next_path = safe_next(form.get("next") or req.get_param("next"))
        email = form.get("email", "").strip()
        error = None
        if not _same_origin(req):
            resp.status = falcon.HTTP_403
            error = "cross_site"
        else:
            try:
                password = form.get("password", "")
                tokens = self.pages.limits.guard_password_check(
                    email, req.remote_addr, lambda: self.messenger.login(email=email, password=password)
                )
            except Throttled:
                resp.status = falcon.HTTP_429
                error = "throttled"
            except (Unauthorized, Invalid):
                resp.status = falcon.HTTP_401
                error = "login_failed"
            else:
                set_token_cookies(resp, self.settings, tokens)
                _redirect(resp, next_path)
                return
        self.pages.render(req, resp, "login.html", active="login", next=next_path, email=email, error=error)


class RegisterPage(PageResource):
    FIELDS = ("first_name", "second_name", "email")

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        self.pages.render(
            req, resp, "register.html", active="register", next=next_path, form={}, errors={}, error=None
        )

    def on_post(self, req: falcon.Request, resp: falcon.Response) -> None:
        lang = choose_language(req.get_header("Accept-Language"))
        form = _form(req)
        next_path = safe_next(form.get("next") or req.get_param("next"))
        values = {name: form.get(name, "") for name in self.FIELDS}
        password = form.get("password", "")
        errors: dict[str, str] = {}
        error: str | None = None
        if not _same_origin(req):
            resp.status = falcon.HTTP_403
            error = "cross_site"
        elif password != form.get("password_again", ""):
            resp.status = falcon.HTTP_422
            errors["password_again"] = TEXTS[lang]["passwords_differ"]
            error = "form_failed"
        else:
            try:
                self.pages.limits.registration_attempt(req.remote_addr or "unknown")
                self.messenger.register(password=password, **values)
                tokens = self.messenger.login(email=values["email"], password=password)
            except (Invalid, Conflict) as failure:
                resp.status = falcon.HTTP_409 if isinstance(failure, Conflict) else falcon.HTTP_422
                errors = {k: field_message(lang, v) for k, v in failure.fields.items()}
                error = "form_failed"
            except Throttled:
                resp.status = falcon.HTTP_429
                error = "throttled"
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
    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        clear_token_cookies(resp, self.settings)
        _redirect(resp, "/login")

    on_post = on_get


class RefreshPage(PageResource):
    """Renews the access cookie from the refresh cookie, then goes back to ``next``."""

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        next_path = safe_next(req.get_param("next"))
        token = (req.get_cookie_values(REFRESH_COOKIE) or [None])[0]
        try:
            access = self.messenger.refresh(token)
        except MessengerError:
            clear_token_cookies(resp, self.settings)
            _redirect(resp, _with_next("/login", next_path))
            return
        set_token_cookies(resp, self.settings, access=access)
        _redirect(resp, next_path)


class RevalidateStatic:
    """Static files are revalidated on every use (a cheap 304). Pages version the files
    they name, but a script's own imports carry no version: without this, a browser could
    run a new script with an old module it guessed was still fresh."""

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        if req.path.startswith("/static/") and resp.get_header("Cache-Control") is None:
            resp.cache_control = ["no-cache"]


def add_page_routes(
    app: falcon.App, messenger: Messenger, settings: Settings, limits: RateLimits | None = None
) -> None:
    """Register the pages. Pass the API's ``limits`` so that the login and registration
    forms count against the same abuse limits as the API does."""
    pages = Pages(messenger, settings, limits or RateLimits.from_settings(settings))
    app.add_middleware(RevalidateStatic())
    chats = AppPage(pages, "index.html", "chats")
    app.add_route("/", chats)
    app.add_route("/index", chats)
    app.add_route("/friends", AppPage(pages, "friends.html", "friends"))
    app.add_route("/profile", AppPage(pages, "profile.html", "profile"))
    app.add_route("/login", LoginPage(pages))
    app.add_route("/register", RegisterPage(pages))
    app.add_route("/logout", LogoutPage(pages))
    app.add_route("/refresh", RefreshPage(pages))
    app.add_route("/docs/v1/api_docs", DocsPage(pages))
