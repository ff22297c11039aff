"""Configuration, chosen by ``APP_CONFIG`` as the specification describes.

``APP_CONFIG`` is either a path to a config file (``.py`` as Flask's ``from_pyfile``,
``.toml`` or ``.json``; upper-case names are settings) or the dotted name of a config
class; the default is ``entrypoints.config.DevelopmentConfig``. ``EnvConfig`` takes
each name listed in ``APP_ENV_VARS`` from the environment, parsing the value as a
Python literal with ``ast.literal_eval`` (never ``eval``) and checking its type; a text
setting may also be given bare (``DATABASE_URL=postgresql://db/messenger``).

Where the data lives: ``DATABASE_URL`` (``sqlite:///relative/path``,
``sqlite:////absolute/path`` or ``postgresql://user@host/db``; by default the SQLite
file at ``DATABASE_PATH``), ``BLOB_STORE`` (``filesystem``, under ``UPLOAD_FOLDER``, or
``s3://bucket/prefix?endpoint_url=…&region=…``) and ``NOTIFIER`` (``threading``,
``polling`` or ``postgres``). A wrong one is a ConfigError of one line at start.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import runpy
import secrets
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, get_type_hints
from urllib.parse import parse_qsl, urlsplit

import attrs

from messenger_core.limits import EDIT_WINDOW_HOURS_DEFAULT, GROUP_MAX_MEMBERS_DEFAULT


class ConfigError(Exception):
    """The configuration cannot be used; the message says why."""


class StartError(Exception):
    """The configured storage cannot be used at start; the message says why in one line."""


@attrs.frozen(kw_only=True)
class Settings:
    """Every setting of the app, with its type; config classes fill these in."""

    SECRET_KEY: str | None = None
    DEBUG: bool = False
    DATABASE_PATH: str = "user_data/db/messenger.sqlite3"
    UPLOAD_FOLDER: str = "user_data/upload"
    MAX_CONTENT_LENGTH: int = 16 * 1024 * 1024
    MAX_JSON_BODY: int = 64 * 1024
    JWT_ACCESS_TOKEN_EXPIRES: int = 3600
    JWT_ACCESS_TOKEN_MAX_EXPIRES: int = 30 * 24 * 3600
    JWT_COOKIE_SECURE: bool = False
    DEMO_DATA: bool = False
    HOST: str = "127.0.0.1"
    PORT: int = 5000
    THREADS: int = 32
    RESERVED_THREADS: int = 8  # never taken by long-polls, so ordinary requests always get one
    LONG_POLL_MAX_TIMEOUT: float = 30.0
    SQLITE_SYNCHRONOUS: str = "FULL"
    EVENT_RETENTION_DAYS: int = 7
    ORPHAN_UPLOAD_HOURS: int = 24
    MAINTENANCE_INTERVAL: float = 600.0
    RATE_LIMITS_ENABLED: bool = True
    LOGIN_FAILURES_PER_ACCOUNT: int = 10  # per 15 minutes, for one account from one address
    LOGIN_FAILURES_PER_ADDRESS: int = 50  # per 15 minutes, whatever the accounts
    PASSWORD_CHECKS_PER_MINUTE: int = 20  # per account and address, twice that per address; successes count
    REGISTRATIONS_PER_ADDRESS: int = 20  # per hour
    SEARCHES_PER_MINUTE: int = 120
    MESSAGES_PER_MINUTE: int = 120  # per user, also the burst
    FRIEND_REQUESTS_PER_HOUR: int = 60  # per user, also the burst
    UPLOAD_BYTES_PER_HOUR: int = 2 * 1024**3  # per user, also the burst
    UNSENT_UPLOAD_BYTES: int = 200 * 1024**2  # per user: uploads not yet sent in a message
    # Uploads are refused (503 storage_full) while the upload folder's disk has less free;
    # the headroom keeps the database (often on the same disk) writable. 0 turns it off.
    UPLOAD_MIN_FREE_BYTES: int = 1024**3
    GROUP_MAX_MEMBERS: int = GROUP_MAX_MEMBERS_DEFAULT
    SESSION_IDLE_DAYS: int = 0  # a session unused this many days ends; 0: never
    EDIT_WINDOW_HOURS: int = EDIT_WINDOW_HOURS_DEFAULT  # a message is editable this long; 0: always
    LONG_POLLS_PER_USER: int = 4  # waiting at once; more answer at once ("busy")
    LONG_POLLS_PER_ADDRESS: int = 16
    PUBLIC_URL: str = ""  # e.g. "https://chat.example.org": where mailed links point
    SMTP_HOST: str | None = None  # without it, confirmations are logged (DEBUG) or not sent
    SMTP_PORT: int = 587
    SMTP_SECURITY: str = "starttls"  # or "tls" (implicit, port 465) or "none"
    SMTP_USERNAME: str | None = None
    SMTP_PASSWORD: str | None = None
    MAIL_FROM: str = "messenger@localhost"
    # None: the SQLite file at DATABASE_PATH; or "sqlite:///path", "postgresql://…"
    DATABASE_URL: str | None = None
    DATABASE_POOL_SIZE: int = 10  # PostgreSQL connections per process
    BLOB_STORE: str = "filesystem"  # or "s3://bucket/prefix?endpoint_url=…&region=…"
    # "threading" (one process), "polling" (several on one database), "postgres" (LISTEN/NOTIFY)
    NOTIFIER: str = "threading"
    MULTIPROCESS_POLL_INTERVAL: float = 0.05
    # The address of a reverse proxy in front (e.g. "127.0.0.1" for a local nginx): only
    # from it is X-Forwarded-For believed, for the client's address the limits count.
    TRUSTED_PROXY: str | None = None
    # Open connections the server accepts at once; None: max(1000, 4 × THREADS). Beyond it
    # new connections wait in the kernel's listen backlog until one closes.
    CONNECTION_LIMIT: int | None = None
    # Seconds a connection with no request in flight (an idle keep-alive socket, or one
    # that stopped sending) stays open; a waiting long-poll has a request in flight.
    CHANNEL_TIMEOUT: int = 5
    # Server processes sharing the listening socket; None: one per CPU. 1: one process.
    WORKERS: int | None = None
    # Threads per process that compute password hashes (argon2id: 19 MiB and one core
    # each); None: the CPUs shared out among the workers, at least 1.
    HASHING_THREADS: int | None = None
    # With WORKERS > 1, each worker's threads on one CPU of its own (the CPUs taken in turn
    # when WORKERS exceeds them), password hashing aside, which may run on any: threads of
    # one process that take the GIL in turns on several CPUs cost up to twice the CPU.
    # False: the kernel places every thread (for a host whose CPUs other busy programs
    # share). A lone process is never pinned (``taskset`` does it).
    PIN_WORKERS: bool = True
    # Requests of a process worked on at once, long-polls aside (they wait, parked on a
    # thread each); the rest of THREADS queue for a turn. None: no gate, every thread works.
    WORK_THREADS: int | None = None

    @property
    def workers(self) -> int:
        """WORKERS, or one per CPU this process may run on."""
        return self.WORKERS if self.WORKERS is not None else available_cpus()

    @property
    def hashing_threads(self) -> int:
        """HASHING_THREADS, or the CPUs shared out among the workers (at least 1)."""
        if self.HASHING_THREADS is not None:
            return self.HASHING_THREADS
        return max(1, available_cpus() // self.workers)

    @property
    def uses_postgres(self) -> bool:
        return database_kind(self.DATABASE_URL) == "postgresql"

    @property
    def database_label(self) -> str:
        """Where the data is, for people: the SQLite path or the URL without its password."""
        if self.uses_postgres and self.DATABASE_URL:
            return redact_url(self.DATABASE_URL)
        return self.DATABASE_PATH

    @property
    def connection_limit(self) -> int:
        """CONNECTION_LIMIT, or the default sized from THREADS: each waiting long-poll
        holds a connection and every client past the waiter cap holds one while it
        pauses between polls, so the limit is far above the thread count."""
        if self.CONNECTION_LIMIT is not None:
            return self.CONNECTION_LIMIT
        return max(1000, 4 * self.THREADS)


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity mask, as taskset or a container sets it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class Config:
    """Base config class: class attributes named like Settings fields override them."""

    def settings(self, environ: Mapping[str, str]) -> Settings:
        return _settings_from(_upper_attributes(type(self)))


class DevelopmentConfig(Config):
    DEBUG = True
    DEMO_DATA = True

    def settings(self, environ: Mapping[str, str]) -> Settings:
        values = _upper_attributes(type(self))
        if not values.get("SECRET_KEY"):
            values["SECRET_KEY"] = development_secret(
                Path(str(values.get("DATABASE_PATH") or "user_data/db/x"))
            )
        return _settings_from(values)


class ProductionConfig(Config):
    DEBUG = False
    DEMO_DATA = False
    JWT_COOKIE_SECURE = True
    SQLITE_SYNCHRONOUS = "FULL"
    REQUIRED: ClassVar[tuple[str, ...]] = ("SECRET_KEY",)

    def settings(self, environ: Mapping[str, str]) -> Settings:
        values = _upper_attributes(type(self))
        values.update(_from_environment(environ))
        if not values.get("SECRET_KEY"):
            raise ConfigError("ProductionConfig refuses to start without SECRET_KEY")
        return _settings_from(values)


class EnvConfig(DevelopmentConfig):
    """Development defaults, with every name in APP_ENV_VARS taken from the environment."""

    def settings(self, environ: Mapping[str, str]) -> Settings:
        values = _upper_attributes(type(self))
        values.update(_from_environment(environ))
        if not values.get("SECRET_KEY"):
            values["SECRET_KEY"] = development_secret(Path(str(values["DATABASE_PATH"])))
        return _settings_from(values)


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """The settings APP_CONFIG names, with PORT from the environment."""
    environ = os.environ if environ is None else environ
    choice = environ.get("APP_CONFIG", "").strip() or "entrypoints.config.DevelopmentConfig"
    if Path(choice).is_file() or choice.endswith((".py", ".toml", ".json")):
        values = _from_file(Path(choice))
        if not values.get("SECRET_KEY"):
            values["SECRET_KEY"] = development_secret(
                Path(str(values.get("DATABASE_PATH") or Settings.DATABASE_PATH))
            )
        settings = _settings_from(values)
    else:
        settings = _config_class(choice)().settings(environ)
    if "PORT" in environ and "PORT" not in _env_var_names(environ):
        try:
            settings = attrs.evolve(settings, PORT=int(environ["PORT"]))
        except ValueError:
            raise ConfigError(f"PORT must be a number, not {environ['PORT']!r}") from None
    return settings


def development_secret(database_path: Path) -> str:
    """A secret generated once and kept beside the data (``user_data/secret_key``)."""
    folder = database_path.parent.parent if database_path.parent.name == "db" else database_path.parent
    path = folder / "secret_key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)  # user_data/: this user's only
    secret = secrets.token_urlsafe(48)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(secret)
    return secret


def _config_class(dotted: str) -> type[Config]:
    module_name, _, class_name = dotted.rpartition(".")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):
        raise ConfigError(f"APP_CONFIG names no config class: {dotted!r}") from None
    if not (isinstance(found, type) and issubclass(found, Config)):
        raise ConfigError(f"{dotted!r} is not a config class")
    return found


def _upper_attributes(cls: type) -> dict[str, Any]:
    names = {f.name for f in attrs.fields(Settings)}
    return {name: getattr(cls, name) for name in dir(cls) if name in names}


def _env_var_names(environ: Mapping[str, str]) -> list[str]:
    return [n.strip() for n in environ.get("APP_ENV_VARS", "").split(",") if n.strip()]


def _from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    hints = get_type_hints(Settings)
    for name in _env_var_names(environ):
        if name not in environ:
            raise ConfigError(f"APP_ENV_VARS lists {name}, but it is not set")
        try:
            values[name] = ast.literal_eval(environ[name])
        except (ValueError, SyntaxError):
            if _fits("text", hints.get(name)):  # a bare text for a text setting
                values[name] = environ[name]
                continue
            raise ConfigError(f"{name} must be a Python literal such as 'text', True or 3600") from None
    return values


def _from_file(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise ConfigError(f"APP_CONFIG names no file: {path}")
    if path.suffix == ".toml":
        raw = tomllib.loads(path.read_text())
    elif path.suffix == ".json":
        raw = json.loads(path.read_text())
    else:  # a Python file, as Flask's from_pyfile: the operator's own code
        raw = runpy.run_path(str(path))
    return {k: v for k, v in raw.items() if k.isupper()}


def _settings_from(values: dict[str, Any]) -> Settings:
    hints = get_type_hints(Settings)
    known = {f.name for f in attrs.fields(Settings)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise ConfigError(f"Unknown settings: {', '.join(unknown)}")
    for name, value in values.items():
        if not _fits(value, hints[name]):
            raise ConfigError(f"{name} must be of type {hints[name]}, not {value!r}")
    checked: dict[str, Any] = {k: float(v) if hints[k] is float else v for k, v in values.items()}
    settings = Settings(**checked)
    if settings.SQLITE_SYNCHRONOUS not in ("FULL", "NORMAL"):
        raise ConfigError("SQLITE_SYNCHRONOUS must be 'FULL' or 'NORMAL'")
    if settings.SMTP_SECURITY not in ("starttls", "tls", "none"):
        raise ConfigError("SMTP_SECURITY must be 'starttls', 'tls' or 'none'")
    if settings.PUBLIC_URL and not settings.PUBLIC_URL.startswith(("https://", "http://")):
        raise ConfigError("PUBLIC_URL must be the site's address, e.g. 'https://chat.example.org'")
    if settings.SMTP_HOST and not settings.PUBLIC_URL:
        raise ConfigError("PUBLIC_URL must be set with SMTP_HOST: mailed links need the site's address")
    settings = _check_storage(settings)
    if settings.GROUP_MAX_MEMBERS < 2:
        raise ConfigError("GROUP_MAX_MEMBERS must be at least 2")
    if settings.SESSION_IDLE_DAYS < 0:
        raise ConfigError("SESSION_IDLE_DAYS must be 0 (never) or more")
    if settings.EDIT_WINDOW_HOURS < 0:
        raise ConfigError("EDIT_WINDOW_HOURS must not be negative (0: no limit)")
    if settings.RESERVED_THREADS >= settings.THREADS:
        raise ConfigError("RESERVED_THREADS must be smaller than THREADS")
    if settings.CONNECTION_LIMIT is not None and settings.CONNECTION_LIMIT < 1:
        raise ConfigError("CONNECTION_LIMIT must be at least 1")
    if settings.UNSENT_UPLOAD_BYTES < 0 or settings.UPLOAD_MIN_FREE_BYTES < 0:
        raise ConfigError("UNSENT_UPLOAD_BYTES and UPLOAD_MIN_FREE_BYTES must not be negative")
    if settings.CHANNEL_TIMEOUT < 1:
        raise ConfigError("CHANNEL_TIMEOUT must be at least 1 second")
    if settings.WORKERS is not None and not 1 <= settings.WORKERS <= 64:
        raise ConfigError("WORKERS must be from 1 to 64")
    if settings.HASHING_THREADS is not None and settings.HASHING_THREADS < 1:
        raise ConfigError("HASHING_THREADS must be at least 1")
    if settings.WORK_THREADS is not None and not 1 <= settings.WORK_THREADS <= settings.THREADS:
        raise ConfigError("WORK_THREADS must be from 1 to THREADS")
    return settings


def _fits(value: Any, hint: Any) -> bool:
    options = getattr(hint, "__args__", (hint,))
    for option in options:
        if option is type(None) and value is None:
            return True
        if option is bool and isinstance(value, bool):
            return True
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return True
        if option is float and isinstance(value, int | float) and not isinstance(value, bool):
            return True
        if option is str and isinstance(value, str):
            return True
    return False


# --- where the data lives -------------------------------------------------------------

POSTGRES_SCHEMES = ("postgresql", "postgres")
NOTIFIERS = ("threading", "polling", "postgres")
S3_OPTIONS = ("endpoint_url", "region")


def database_kind(url: str | None) -> str:
    """ "sqlite" or "postgresql": what DATABASE_URL names (None is the SQLite default)."""
    if url is None:
        return "sqlite"
    scheme = url.partition(":")[0].lower()
    return "postgresql" if scheme in POSTGRES_SCHEMES else scheme


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
    if not url.lower().startswith("sqlite:///") or len(url) <= len("sqlite:///"):
        raise ConfigError(
            f"DATABASE_URL {url!r} names no file: write sqlite:///relative/path or sqlite:////abs/path"
        )
    return url[len("sqlite:///") :]


def redact_url(url: str) -> str:
    """The URL with any password replaced by ***."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return parts._replace(netloc=netloc).geturl()


def s3_location(blob_store: str) -> tuple[str, str, dict[str, str]]:
    """Bucket, key prefix and options (endpoint_url, region) of an ``s3://`` BLOB_STORE."""
    parts = urlsplit(blob_store)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"BLOB_STORE must be 'filesystem' or s3://bucket/prefix, not {blob_store!r}")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = sorted(set(options) - set(S3_OPTIONS))
    if unknown:
        raise ConfigError(f"BLOB_STORE knows the options {', '.join(S3_OPTIONS)}, not {', '.join(unknown)}")
    endpoint = options.get("endpoint_url")
    if endpoint is not None and urlsplit(endpoint).scheme not in ("http", "https"):
        raise ConfigError(f"BLOB_STORE's endpoint_url must be an http(s) URL, not {endpoint!r}")
    return parts.netloc, parts.path.strip("/"), options


def _check_storage(settings: Settings) -> Settings:
    """Validate DATABASE_URL, BLOB_STORE and NOTIFIER; a SQLite URL sets DATABASE_PATH."""
    url = settings.DATABASE_URL
    kind = database_kind(url)
    if url is not None:
        if kind == "sqlite":
            settings = attrs.evolve(settings, DATABASE_PATH=sqlite_path(url))
        elif kind == "postgresql":
            parts = urlsplit(url)
            if not (parts.hostname or parts.path.strip("/") or parts.query):
                raise ConfigError(f"DATABASE_URL {redact_url(url)!r} names no server or database")
        else:
            raise ConfigError(
                f"DATABASE_URL must be sqlite:///<path> or postgresql://…, not {redact_url(url)!r}"
            )
    if settings.BLOB_STORE != "filesystem":
        s3_location(settings.BLOB_STORE)
    if settings.NOTIFIER not in NOTIFIERS:
        raise ConfigError("NOTIFIER must be 'threading', 'polling' or 'postgres'")
    if settings.NOTIFIER == "postgres" and kind != "postgresql":
        raise ConfigError("NOTIFIER='postgres' needs a postgresql:// DATABASE_URL")
    if settings.DATABASE_POOL_SIZE < 1:
        raise ConfigError("DATABASE_POOL_SIZE must be at least 1")
    return settings
