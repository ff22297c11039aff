"""The composition root: settings → adapters → Messenger. The only importer of adapters."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import attrs

from adapters.blobs_fs import FilesystemBlobStore
from adapters.hashing_argon2 import Argon2PasswordHasher
from adapters.images_pillow import PillowImageProcessor
from adapters.mail_log import LoggingMailer
from adapters.memory import MemoryBlobStore, MemoryUnitOfWorkFactory
from adapters.notify_polling import PollingEventNotifier
from adapters.notify_threading import ThreadingEventNotifier
from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.system import SecretsRandom, SystemClock
from adapters.testing import ManualClock, SeededRandom
from adapters.tokens_pyjwt import PyJwtCodec
from messenger_core import Messenger, MessengerSettings
from messenger_core.ports import BlobStore, Clock, EventNotifier, PasswordHasher, UnitOfWorkFactory

from .config import Settings

log = logging.getLogger("messenger")

DEMO_EPOCH = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


@attrs.frozen(kw_only=True)
class Wiring:
    """The ports a Messenger was built from, for the CLI and demo data."""

    uow: UnitOfWorkFactory
    blobs: BlobStore
    hasher: PasswordHasher
    notifier: EventNotifier = attrs.field(factory=ThreadingEventNotifier)


def messenger_settings(settings: Settings) -> MessengerSettings:
    return MessengerSettings(
        access_token_lifetime=settings.JWT_ACCESS_TOKEN_EXPIRES,
        access_token_max_lifetime=settings.JWT_ACCESS_TOKEN_MAX_EXPIRES,
        max_upload_size=settings.MAX_CONTENT_LENGTH,
        orphan_upload_lifetime=timedelta(hours=settings.ORPHAN_UPLOAD_HOURS),
        event_retention=timedelta(days=settings.EVENT_RETENTION_DAYS),
    )


def build_messenger(settings: Settings, *, memory: bool = False, clock: Clock | None = None) -> Messenger:
    """A Messenger on SQLite and the filesystem (or on memory, for tests)."""
    if not settings.SECRET_KEY:
        raise ValueError("SECRET_KEY is required")
    if memory:
        wiring = Wiring(uow=MemoryUnitOfWorkFactory(), blobs=MemoryBlobStore(), hasher=Argon2PasswordHasher())
    else:
        uow = SqliteUnitOfWorkFactory(settings.DATABASE_PATH, synchronous=settings.SQLITE_SYNCHRONOUS)
        wiring = Wiring(
            uow=uow,
            blobs=FilesystemBlobStore(settings.UPLOAD_FOLDER),
            hasher=Argon2PasswordHasher(),
            notifier=event_notifier(settings, uow),
        )
    return _messenger(settings, wiring, clock or SystemClock(), SecretsRandom())


def _messenger(
    settings: Settings, wiring: Wiring, clock: Clock, random: SecretsRandom | SeededRandom
) -> Messenger:
    return Messenger(
        uow=wiring.uow,
        clock=clock,
        random=random,
        hasher=wiring.hasher,
        codec=PyJwtCodec(settings.SECRET_KEY or ""),
        blobs=wiring.blobs,
        images=PillowImageProcessor(),
        notifier=wiring.notifier,
        mailer=LoggingMailer(),
        settings=messenger_settings(settings),
    )


def event_notifier(settings: Settings, uow: SqliteUnitOfWorkFactory) -> EventNotifier:
    """Conditions in this process, or, when several processes share the database
    (NOTIFIER = "polling"), those plus a poll of the event table while someone waits."""
    if settings.NOTIFIER == "polling":
        return PollingEventNotifier(
            uow.latest_event_id, settings.MULTIPROCESS_POLL_INTERVAL, users_with_events=uow.users_with_events
        )
    return ThreadingEventNotifier()


def database_exists(settings: Settings) -> bool:
    return Path(settings.DATABASE_PATH).exists()


def fill_demo_data(settings: Settings) -> None:
    """Fill the configured database with the shipped demo data (deterministic)."""
    from .demo import load_demo_data  # demo content is data, not wiring

    clock = ManualClock(DEMO_EPOCH)
    wiring = Wiring(
        uow=SqliteUnitOfWorkFactory(settings.DATABASE_PATH, synchronous=settings.SQLITE_SYNCHRONOUS),
        blobs=FilesystemBlobStore(settings.UPLOAD_FOLDER),
        hasher=Argon2PasswordHasher(),
    )
    demo = _messenger(settings, wiring, clock, SeededRandom(2026))
    load_demo_data(demo, advance=clock.advance)
    wiring.uow.close()  # type: ignore[attr-defined]


def prepare_database(settings: Settings) -> bool:
    """Create the schema of a missing database, with demo data when DEMO_DATA is on.
    Returns whether the database was created now."""
    if database_exists(settings):
        return False
    if settings.DEMO_DATA:
        fill_demo_data(settings)
    else:
        SqliteUnitOfWorkFactory(settings.DATABASE_PATH, synchronous=settings.SQLITE_SYNCHRONOUS).close()
    log.info("created database %s%s", settings.DATABASE_PATH, " with demo data" if settings.DEMO_DATA else "")
    return True
