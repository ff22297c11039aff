"""The composition root: settings → adapters → Messenger. The only importer of adapters.

``build_messenger`` wires every port from the settings; any part can be handed in
instead (tests pass a manual clock, a seeded random source, a cheap hasher, the memory
store). ``prepare_database`` is the one explicit migration step: the server, the CLI
and the WSGI factory call it once before building a Messenger on the database.

The storage is the settings': SQLite (``DATABASE_PATH``) or PostgreSQL
(``DATABASE_URL``), files under ``UPLOAD_FOLDER`` or on S3 (``BLOB_STORE``), wake-ups in
one process, by polling, or over LISTEN/NOTIFY (``NOTIFIER``). Storage that cannot be
reached at start is a ``StartError`` of one line.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from adapters.blobs_fs import FilesystemBlobStore
from adapters.emoji_unicode import UnicodeEmojiCatalog
from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.images_pillow import DEFAULT_MAX_DECODES, PillowImageProcessor
from adapters.jobs import InlineJobs, ThreadJobs
from adapters.mail_log import LoggingMailer
from adapters.mail_smtp import SmtpMailer
from adapters.memory import MemoryBlobStore, MemoryRateLimitStore, MemoryUnitOfWorkFactory
from adapters.notify_polling import PollingEventNotifier
from adapters.notify_threading import ThreadingEventNotifier
from adapters.notify_workers import WorkerEventNotifier
from adapters.signals_inprocess import InProcessSignals
from adapters.sqlite import SqliteRateLimitStore, SqliteUnitOfWorkFactory
from adapters.system import SecretsRandom, SystemClock
from adapters.testing import ManualClock, SeededRandom
from adapters.tokens_pyjwt import PyJwtCodec
from messenger_core import Messenger, MessengerSettings
from messenger_core.model import Signal
from messenger_core.ports import (
    BackgroundJobs,
    BlobStore,
    Clock,
    EphemeralSignals,
    EventNotifier,
    ImageProcessor,
    Mailer,
    PasswordHasher,
    RandomSource,
    RateLimitStore,
    TokenCodec,
    UnitOfWorkFactory,
)
from messenger_core.services import Upload

from .config import Settings, StartError, redact_url, s3_location

# PostgreSQL (psycopg) and S3 (boto3) are imported only where they are configured: together
# they add ~45 MiB to every worker, which a server on the SQLite default never uses.
if TYPE_CHECKING:
    from adapters.blobs_s3 import S3BlobStore
    from adapters.postgres import PostgresUnitOfWorkFactory
    from adapters.postgres.from_sqlite import Progress, TableReport

log = logging.getLogger("messenger")

DEMO_EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
STICKER_FOLDER = Path(__file__).parent / "stickers" / "default"
BUILT_IN_PACK = "Эмоции"


def messenger_settings(settings: Settings) -> MessengerSettings:
    return MessengerSettings(
        access_token_lifetime=settings.JWT_ACCESS_TOKEN_EXPIRES,
        access_token_max_lifetime=settings.JWT_ACCESS_TOKEN_MAX_EXPIRES,
        max_upload_size=settings.MAX_CONTENT_LENGTH,
        max_unsent_upload_bytes=settings.UNSENT_UPLOAD_BYTES,
        orphan_upload_lifetime=timedelta(hours=settings.ORPHAN_UPLOAD_HOURS),
        event_retention=timedelta(days=settings.EVENT_RETENTION_DAYS),
        group_max_members=settings.GROUP_MAX_MEMBERS,
        session_idle=timedelta(days=settings.SESSION_IDLE_DAYS) if settings.SESSION_IDLE_DAYS else None,
        edit_window=timedelta(hours=settings.EDIT_WINDOW_HOURS) if settings.EDIT_WINDOW_HOURS else None,
    )


def build_messenger(
    settings: Settings,
    *,
    memory: bool = False,
    uow: UnitOfWorkFactory | None = None,
    clock: Clock | None = None,
    random: RandomSource | None = None,
    hasher: PasswordHasher | None = None,
    codec: TokenCodec | None = None,
    blobs: BlobStore | None = None,
    images: ImageProcessor | None = None,
    notifier: EventNotifier | None = None,
    mailer: Mailer | None = None,
    signals: EphemeralSignals | None = None,
    jobs: BackgroundJobs | None = None,
    core: MessengerSettings | None = None,
) -> Messenger:
    """A Messenger as the settings describe it: SQLite and the filesystem (or, with
    ``memory``, the in-memory store), the system clock, PyJWT tokens, argon2id, signals
    in this process, and background jobs on a thread (or, with ``memory``, at once).
    Every keyword part replaces the one the settings would give."""
    if codec is None and not settings.SECRET_KEY:
        raise ValueError("SECRET_KEY is required")
    if uow is None:
        uow = MemoryUnitOfWorkFactory() if memory else open_storage(settings)
    clock = clock or SystemClock()
    if blobs is None:
        blobs = MemoryBlobStore(clock) if memory else build_blob_store(settings)
    return Messenger(
        uow=uow,
        clock=clock,
        random=random or SecretsRandom(),
        hasher=hasher or Argon2PasswordHasher(threads=settings.hashing_threads),
        codec=codec or PyJwtCodec(settings.SECRET_KEY or ""),
        blobs=blobs,
        images=images or PillowImageProcessor(max_decodes=image_decodes(settings)),
        notifier=notifier or event_notifier(settings, uow),
        mailer=mailer or build_mailer(settings),
        signals=signals or InProcessSignals(),
        jobs=jobs or (InlineJobs() if memory else ThreadJobs()),
        emoji=UnicodeEmojiCatalog(),
        settings=core or messenger_settings(settings),
    )


def image_decodes(settings: Settings) -> int:
    """Images one process decodes at once: the server's bound (DEFAULT_MAX_DECODES, each
    up to ~160 MB decoded) shared out among its workers, at least one each."""
    return max(1, DEFAULT_MAX_DECODES // settings.workers)


def build_mailer(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set; otherwise the log, which shows the confirmation link
    only in development (DEBUG): a production log must not hold live tokens."""
    link = f"{settings.PUBLIC_URL.rstrip('/')}/confirm?token={{token}}"
    if settings.SMTP_HOST:
        return SmtpMailer(
            host=settings.SMTP_HOST,
            port=settings.SMTP_PORT,
            security=settings.SMTP_SECURITY,
            username=settings.SMTP_USERNAME,
            password=settings.SMTP_PASSWORD,
            sender=settings.MAIL_FROM,
            link_template=link,
        )
    return LoggingMailer(link, reveal=settings.DEBUG)


def open_database(settings: Settings, path: str | os.PathLike[str] | None = None) -> SqliteUnitOfWorkFactory:
    """The configured SQLite database (or the one at ``path``), as it is: no migration."""
    return SqliteUnitOfWorkFactory(path or settings.DATABASE_PATH, synchronous=settings.SQLITE_SYNCHRONOUS)


def open_storage(settings: Settings) -> SqliteUnitOfWorkFactory | PostgresUnitOfWorkFactory:
    """The configured database, SQLite or PostgreSQL, as it is: no migration."""
    if settings.uses_postgres and settings.DATABASE_URL:
        from adapters.postgres import PostgresUnitOfWorkFactory

        return PostgresUnitOfWorkFactory(
            settings.DATABASE_URL,
            pool_size=settings.DATABASE_POOL_SIZE,
            notify=settings.NOTIFIER == "postgres",
        )
    return open_database(settings)


def build_blob_store(settings: Settings, *, reserve: bool = True) -> FilesystemBlobStore | S3BlobStore:
    """Files under UPLOAD_FOLDER (keeping UPLOAD_MIN_FREE_BYTES free for the database
    unless ``reserve`` is off), or objects in the S3 bucket BLOB_STORE names."""
    if settings.BLOB_STORE == "filesystem":
        free = settings.UPLOAD_MIN_FREE_BYTES if reserve else 0
        return FilesystemBlobStore(settings.UPLOAD_FOLDER, min_free_bytes=free)
    from adapters.blobs_s3 import S3BlobStore

    bucket, prefix, options = s3_location(settings.BLOB_STORE)
    return S3BlobStore(
        bucket, prefix=prefix, endpoint_url=options.get("endpoint_url"), region=options.get("region")
    )


def check_blob_store(settings: Settings) -> None:
    """StartError when the configured S3 bucket cannot be reached."""
    if settings.BLOB_STORE == "filesystem":
        return
    store = build_blob_store(settings)
    try:
        assert not isinstance(store, FilesystemBlobStore)
        store.check()
    except Exception as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StartError(f"cannot use the blob store {settings.BLOB_STORE}: {reason}") from None


def build_server(
    settings: Settings,
    *,
    notifier: EventNotifier | None = None,
    hashing_thread_start: Callable[[], object] | None = None,
) -> tuple[Messenger, RateLimitStore]:
    """What one server process runs on the configured database: the Messenger, and the
    throttles' buckets in the same database, where every server process on it counts
    together (and counts outlive a restart). ``hashing_thread_start`` runs first on each
    password-hashing thread (a pinned worker's lets them use every CPU)."""
    database = open_storage(settings)
    signals = WorkerSignals(notifier) if isinstance(notifier, WorkerEventNotifier) else None
    hasher = Argon2PasswordHasher(threads=settings.hashing_threads, thread_start=hashing_thread_start)
    messenger = build_messenger(settings, uow=database, notifier=notifier, signals=signals, hasher=hasher)
    if not isinstance(database, SqliteUnitOfWorkFactory):
        from adapters.postgres import PostgresUnitOfWorkFactory
        from adapters.postgres.rate_limits import PostgresRateLimitStore

        assert settings.DATABASE_URL
        limits = PostgresUnitOfWorkFactory(settings.DATABASE_URL, pool_size=4, name="messenger-limits")
        return messenger, PostgresRateLimitStore(limits)
    return messenger, SqliteRateLimitStore(database)


class WorkerSignals:
    """EphemeralSignals for one worker of a server: this process's store, with every
    signal and every poll mark relayed to the sibling workers through the wake-up pipes,
    so typing and "online" reach a long-poll whichever worker holds it. Signals are
    numbered by time (microseconds, rising in each worker), one numbering for all, so a
    client's cursor means the same on every worker. Throttles (``claim``) stay per worker:
    a client spread over two may send a typing signal twice as often."""

    def __init__(self, relay: WorkerEventNotifier) -> None:
        self._local = InProcessSignals()
        self._relay = relay
        self._lock = threading.Lock()
        self._last = 0
        relay.on_relay = self._received

    def _number(self) -> int:
        with self._lock:
            self._last = max(self._last + 1, time.time_ns() // 1000)
            return self._last

    def publish(self, user_ids: Iterable[int], signal: Signal) -> None:
        users, number = sorted(set(user_ids)), self._number()
        self._local.publish(users, signal, number=number)
        common = {"t": "signal", "n": number, "type": signal.type, "data": signal.data}
        common["expires"] = signal.expires.isoformat()
        for start in range(0, len(users), 300):  # each part fits one pipe write
            self._relay.relay(orjson.dumps({**common, "users": users[start : start + 300]}))

    def after(self, user_id: int, cursor: int | None, now: datetime) -> tuple[list[Signal], int]:
        return self._local.after(user_id, cursor, now)

    def claim(self, key: str, now: datetime, interval: float) -> bool:
        return self._local.claim(key, now, interval)

    def polling(self, user_id: int, now: datetime, *, waiting: bool) -> None:
        self._local.polling(user_id, now, waiting=waiting)
        self._relay.relay(orjson.dumps({"t": "seen", "user": user_id, "at": now.isoformat()}))

    def online(self, user_ids: Iterable[int], since: datetime) -> set[int]:
        return self._local.online(user_ids, since)

    def _received(self, message: bytes) -> None:
        data = orjson.loads(message)
        if data["t"] == "seen":
            self._local.seen(data["user"], datetime.fromisoformat(data["at"]))
        elif data["t"] == "signal":
            signal = Signal(
                type=data["type"], data=data["data"], expires=datetime.fromisoformat(data["expires"])
            )
            self._local.publish(data["users"], signal, number=data["n"])


def sibling_notifier(inbox: int, siblings: Sequence[int]) -> EventNotifier:
    """Wake-ups for one worker of a server: this process's waiters, and its siblings'
    through their pipes (``inbox`` is this worker's, ``siblings`` the others' write ends)."""
    return WorkerEventNotifier(inbox, siblings)


def in_process_rate_limits() -> RateLimitStore:
    """Buckets in this process only: for an app in tests, or on the memory store."""
    return MemoryRateLimitStore()


def event_notifier(settings: Settings, uow: UnitOfWorkFactory) -> EventNotifier:
    """Conditions in this process; or, when several processes share the database, those
    plus a poll of the event table while someone waits (NOTIFIER = "polling"), or plus a
    LISTEN for the NOTIFYs that committing units send (NOTIFIER = "postgres")."""
    databases: tuple[type[SqliteUnitOfWorkFactory | PostgresUnitOfWorkFactory], ...] = (
        SqliteUnitOfWorkFactory,
    )
    if settings.uses_postgres:
        from adapters.postgres import PostgresUnitOfWorkFactory
        from adapters.postgres.notifier import PostgresEventNotifier

        if settings.NOTIFIER == "postgres" and isinstance(uow, PostgresUnitOfWorkFactory):
            return PostgresEventNotifier(uow.url, origin=uow.origin)
        databases += (PostgresUnitOfWorkFactory,)
    if settings.NOTIFIER == "polling" and isinstance(uow, databases):
        return PollingEventNotifier(
            uow.latest_event_id, settings.MULTIPROCESS_POLL_INTERVAL, users_with_events=uow.users_with_events
        )
    return ThreadingEventNotifier()


def prepare_database(settings: Settings) -> bool:
    """Bring the configured database up to date: migrate it, or create it with the
    built-in sticker pack (and the demo data when DEMO_DATA is on). A new database is
    built under a temporary name and renamed into place when complete, so a start that
    fails half-way never leaves a half-filled database for later starts to serve.
    Returns whether the database was created now."""
    check_blob_store(settings)
    if settings.uses_postgres:
        return _prepare_postgres(settings)
    path = Path(settings.DATABASE_PATH)
    if path.exists():
        database = open_database(settings)
        try:
            database.migrate()
            install_built_in_stickers(_setup_messenger(settings, database))  # older databases lack it
        finally:
            database.close()
        return False
    build_database(settings)
    return True


def build_database(settings: Settings) -> None:
    """Build the configured SQLite database anew under a temporary name, with the
    built-in pack (and the demo data when DEMO_DATA is on), and only once it is complete
    put it in place of any database there: a build that fails leaves what was there."""
    path = Path(settings.DATABASE_PATH)
    building = path.with_name(f"{path.name}.building")
    remove_database(building)
    database = open_database(settings, building)
    try:
        database.migrate()
        if settings.DEMO_DATA:
            _fill_demo_data(settings, database)
        else:
            install_built_in_stickers(_setup_messenger(settings, database))
    finally:
        database.close()
    remove_database(path)  # with its log and index files, which belong to it alone
    for source, target in zip(_database_files(building), _database_files(path), strict=True):
        if source.exists():  # the log and index files go with the database they belong to
            os.replace(source, target)
    remove_database(building)  # what is left of it: its writers' lock file
    log.info("created database %s%s", path, " with demo data" if settings.DEMO_DATA else "")


def _prepare_postgres(settings: Settings) -> bool:
    """Migrate the PostgreSQL database; a blank one gets the sticker pack (and the demo
    data when DEMO_DATA is on). Several processes may start at once: migrations take a
    lock, and whoever finds the schema blank fills it."""
    from adapters.postgres import PostgresUnitOfWorkFactory, postgres_problem

    database = open_storage(settings)
    assert isinstance(database, PostgresUnitOfWorkFactory)
    try:
        try:
            with database.holding_lock("messenger.prepare_database"):
                blank = database.schema_version() == 0
                database.migrate()
                if blank and settings.DEMO_DATA:
                    _fill_demo_data(settings, database)
                else:
                    quiet = ThreadingEventNotifier()
                    install_built_in_stickers(_setup_messenger(settings, database, notifier=quiet))
        except Exception as error:
            problem = postgres_problem(error)
            if problem is None:
                raise
            raise StartError(f"cannot use the database at {settings.database_label}: {problem}") from None
    finally:
        database.close()
    if blank:
        log.info(
            "created the schema in %s%s",
            settings.database_label,
            " with demo data" if settings.DEMO_DATA else "",
        )
    return blank


def migrate_to_postgres(
    source: Path, target_url: str, *, force: bool, progress: Progress | None = None
) -> list[TableReport]:
    """Copy the SQLite database at ``source`` into the PostgreSQL database at
    ``target_url`` (adapters/postgres/from_sqlite.py); StartError in one line when it
    cannot be done."""
    from adapters.postgres import postgres_problem
    from adapters.postgres.from_sqlite import CopyError, copy_sqlite_to_postgres

    try:
        return copy_sqlite_to_postgres(source, target_url, force=force, progress=progress)
    except CopyError as error:
        raise StartError(str(error)) from None
    except Exception as error:
        problem = postgres_problem(error)
        if problem is None:
            raise
        raise StartError(f"cannot use the database at {redact_url(target_url)}: {problem}") from None


def remove_database(path: str | os.PathLike[str]) -> None:
    """Delete a database file with its write-ahead log, index and lock files."""
    for file in _database_files(Path(path)):
        file.unlink(missing_ok=True)
    Path(f"{path}-writers").unlink(missing_ok=True)


def install_built_in_stickers(messenger: Messenger) -> None:
    """Add the shipped sticker pack (Fluent Emoji 3D, MIT) to a database without packs."""
    if messenger.list_sticker_packs():
        return
    images = sorted(STICKER_FOLDER.glob("*.png"))
    uploads = [Upload(name=p.name, chunks=[p.read_bytes()]) for p in images]
    if uploads:
        messenger.add_sticker_pack(BUILT_IN_PACK, uploads)


def _setup_messenger(settings: Settings, database: UnitOfWorkFactory, **parts: Any) -> Messenger:
    """A Messenger for the set-up steps of ``prepare_database``: hashing on the calling
    thread, so a server that forks its workers afterwards has started no thread."""
    # blobs: the upload folder without the free-space reserve (see _own_files)
    return build_messenger(
        settings, uow=database, hasher=Argon2PasswordHasher(), blobs=_own_files(settings), **parts
    )


def _fill_demo_data(settings: Settings, database: UnitOfWorkFactory) -> None:
    from .demo import load_demo_data  # demo content is data, not wiring

    clock = ManualClock(DEMO_EPOCH)
    demo = _setup_messenger(
        settings, database, clock=clock, random=SeededRandom(2026), notifier=ThreadingEventNotifier()
    )
    install_built_in_stickers(demo)
    load_demo_data(demo, advance=clock.advance)


def _own_files(settings: Settings) -> BlobStore:
    """The upload folder without the free-space reserve, for what the server stores itself
    when it creates a database (the built-in stickers, the demo data): the reserve is
    kept from users' uploads, and a start must not fail for a few hundred KiB."""
    return build_blob_store(settings, reserve=False)


def _database_files(path: Path) -> list[Path]:
    return [Path(f"{path}{suffix}") for suffix in ("", "-wal", "-shm")]
