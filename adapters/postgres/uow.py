"""The PostgreSQL unit of work and its factory: a connection from a ``psycopg_pool``
pool per unit, one transaction per unit.

A writing unit runs at READ COMMITTED and relies on the locks its repositories take
(repositories.py, docs/postgres.md). A read-only unit reads in autocommit: each
statement sees every commit before it, as the memory adapter's reads do (the port lets
a read-only unit see a commit made while it is open, or not), it takes no lock a writer
waits for, and it costs no BEGIN and no ROLLBACK: two round trips of the four to seven a
page's read takes. Its repositories refuse every write before sending it.

When notifications are on, a committing unit that wrote events sends a NOTIFY for
everyone they concern inside its transaction, so PostgreSQL delivers the wake-up at the
commit and never before (notifier.py listens).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import secrets
import threading
from collections.abc import Iterator
from types import TracebackType
from typing import Any, Self

import psycopg
import psycopg.errors
from psycopg import IsolationLevel
from psycopg.rows import DictRow, dict_row
from psycopg_pool import ConnectionPool, PoolTimeout

from messenger_core.errors import Unavailable
from messenger_core.ports import (
    AttachmentRepository,
    BlockRepository,
    ChatRepository,
    EventRepository,
    ExportRepository,
    FriendshipRepository,
    MessageRepository,
    PinRepository,
    ReactionRepository,
    SessionRepository,
    StickerRepository,
    StoredFileRepository,
    UserRepository,
)

from . import migrations
from .repositories import (
    PostgresAttachmentRepository,
    PostgresBlockRepository,
    PostgresChatRepository,
    PostgresEventRepository,
    PostgresExportRepository,
    PostgresFriendshipRepository,
    PostgresMessageRepository,
    PostgresPinRepository,
    PostgresReactionRepository,
    PostgresSessionRepository,
    PostgresStickerRepository,
    PostgresStoredFileRepository,
    PostgresUserRepository,
    ReadOnlyUnitError,
    Session,
)

log = logging.getLogger(__name__)

CHANNEL = "messenger_events"
# NOTIFY payloads must stay under 8000 bytes: ids of up to 19 digits and a comma each,
# after the origin's prefix.
IDS_PER_NOTIFICATION = 390
POOL_TIMEOUT = 30.0  # seconds a unit waits for a free connection
CONNECT_TIMEOUT = 10  # seconds to reach the server at start

# SQLSTATE classes and codes that mean the storage, not the request, is at fault.
_BUSY = {"40001", "40P01", "55P03", "57014"}  # serialization, deadlock, lock timeout, cancelled
_FULL = {"53100"}  # disk full


def storage_error(error: BaseException | None) -> Unavailable | None:
    """The Unavailable a failing database means, or None for any other error."""
    if isinstance(error, PoolTimeout):
        return Unavailable("storage_busy")
    if not isinstance(error, psycopg.Error):
        return None
    state = error.sqlstate or ""
    if state in _BUSY:
        return Unavailable("storage_busy")
    if state in _FULL:
        return Unavailable("storage_full")
    if isinstance(error, psycopg.OperationalError) or state[:2] in ("08", "53", "57", "58"):
        return Unavailable("storage_unavailable")
    return None


def postgres_problem(error: BaseException) -> str | None:
    """What is wrong, in one line, when ``error`` means the database cannot be used
    (unreachable, refused, missing); None for any other error."""
    if not isinstance(error, psycopg.OperationalError | psycopg.errors.InsufficientPrivilege):
        return None
    lines = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def notify_statement() -> str:
    """One statement that wakes every user a unit's events concern: its users' own
    events and every member of its chats, in NOTIFY payloads of ``origin:id,id,…``."""
    return (
        "SELECT pg_notify(%(channel)s, %(origin)s || ':' || string_agg(u::text, ',' ORDER BY u))"
        " FROM (SELECT u, (row_number() OVER (ORDER BY u) - 1) / %(per)s AS part FROM ("
        "   SELECT unnest(%(users)s::bigint[]) AS u"
        "   UNION SELECT user_id FROM chat_members WHERE chat_id = ANY(%(chats)s::bigint[])"
        " ) AS recipients) AS numbered GROUP BY part"
    )


class PostgresUnitOfWork:
    """One transaction on a pooled connection; leaving without ``commit()`` rolls back."""

    users: UserRepository
    friendships: FriendshipRepository
    chats: ChatRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    reactions: ReactionRepository
    pins: PinRepository
    stickers: StickerRepository
    events: EventRepository
    stored_files: StoredFileRepository
    sessions: SessionRepository
    blocks: BlockRepository
    exports: ExportRepository

    def __init__(self, factory: PostgresUnitOfWorkFactory, *, read_only: bool) -> None:
        self._factory = factory
        self._read_only = read_only
        self._session = session = Session(read_only)
        self.users = PostgresUserRepository(session)
        self.friendships = PostgresFriendshipRepository(session)
        self.chats = PostgresChatRepository(session)
        self.messages = PostgresMessageRepository(session)
        self.attachments = PostgresAttachmentRepository(session)
        self.reactions = PostgresReactionRepository(session)
        self.pins = PostgresPinRepository(session)
        self.stickers = PostgresStickerRepository(session)
        self.events = PostgresEventRepository(session)
        self.stored_files = PostgresStoredFileRepository(session)
        self.sessions = PostgresSessionRepository(session)
        self.blocks = PostgresBlockRepository(session)
        self.exports = PostgresExportRepository(session)

    def __enter__(self) -> Self:
        local = self._factory._local
        if getattr(local, "unit_open", False):
            raise RuntimeError("a unit of work is already open on this thread")
        local.unit_open = True
        try:
            conn = self._factory._pool.getconn(timeout=POOL_TIMEOUT)
        except BaseException as error:
            local.unit_open = False
            unavailable = storage_error(error)
            if unavailable is not None:
                raise unavailable from error
            raise
        # A writer's transaction begins with its first statement (psycopg sends BEGIN).
        conn.autocommit = self._read_only
        conn.isolation_level = IsolationLevel.READ_COMMITTED
        self._session.conn = conn
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._session.conn = self._session.conn, None
        try:
            if conn is not None and not conn.closed:
                try:
                    conn.rollback()
                except psycopg.Error:
                    if exc is None:
                        raise
        finally:
            if conn is not None:
                if not conn.closed and not conn.broken:
                    conn.autocommit = False
                self._factory._pool.putconn(conn)  # a broken connection is discarded
            self._factory._local.unit_open = False
        if isinstance(exc, ReadOnlyUnitError):
            return
        unavailable = storage_error(exc)
        if unavailable is not None:
            raise unavailable from exc

    def commit(self) -> None:
        session = self._session
        assert session.conn is not None, "the unit of work is not open"
        if self._factory.origin is not None and (session.woken_users or session.woken_chats):
            session.execute(
                notify_statement(),
                {
                    "channel": CHANNEL,
                    "origin": self._factory.origin,
                    "per": IDS_PER_NOTIFICATION,
                    "users": sorted(session.woken_users),
                    "chats": sorted(session.woken_chats),
                },
            )
        try:
            session.conn.commit()
        except psycopg.Error as error:
            raise storage_error(error) or error from error
        session.woken_users.clear()
        session.woken_chats.clear()

    def rollback(self) -> None:
        assert self._session.conn is not None, "the unit of work is not open"
        self._session.conn.rollback()
        self._session.woken_users.clear()
        self._session.woken_chats.clear()


class PostgresUnitOfWorkFactory:
    """Makes units of work on the database at ``url`` through a connection pool.

    Opening it changes nothing: ``migrate()`` is the explicit step the composition root
    runs once. With ``notify`` on, committing units NOTIFY the users their events
    concern; ``origin`` marks this process's notifications, so its own listener can
    skip what the process already woke itself.
    """

    def __init__(
        self, url: str, *, pool_size: int = 10, notify: bool = False, name: str = "messenger"
    ) -> None:
        self.url = url
        self.origin: str | None = secrets.token_hex(8) if notify else None
        self._local = threading.local()
        self._pool = ConnectionPool(
            url,
            connection_class=psycopg.Connection[DictRow],
            min_size=1,
            max_size=max(1, pool_size),
            kwargs={
                "autocommit": False,
                "row_factory": dict_row,
                "options": "-c TimeZone=UTC -c lock_timeout=15s -c idle_in_transaction_session_timeout=60s",
                "application_name": name,
            },
            open=False,
            name=name,
        )
        self._opened = False
        self._open_lock = threading.Lock()

    def _ensure_open(self) -> None:
        if not self._opened:
            with self._open_lock:
                if not self._opened:
                    self._pool.open(wait=False)
                    self._opened = True

    def migrate(self) -> int:
        """Apply every pending migration step; return the schema version."""
        return migrations.migrate(self.url)

    @contextlib.contextmanager
    def holding_lock(self, name: str) -> Iterator[None]:
        """Hold a named advisory lock for the block, on a connection of its own: what
        processes starting at once do one after the other (filling a blank database)."""
        key = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)
        with psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT) as conn:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))

    def schema_version(self) -> int:
        """The version the database is at (0: blank), read on a connection of its own."""
        with psycopg.connect(self.url, connect_timeout=CONNECT_TIMEOUT) as conn:
            return migrations.schema_version(conn)

    def __call__(self, *, read_only: bool = False) -> PostgresUnitOfWork:
        self._ensure_open()
        return PostgresUnitOfWork(self, read_only=read_only)

    def run_autocommit(self, query: str, params: Any = None) -> list[dict[str, Any]]:
        """Run one statement in a transaction of its own, outside any unit of work, and
        return its rows (for notifiers and shared counters)."""
        self._ensure_open()
        try:
            with self._pool.connection(timeout=POOL_TIMEOUT) as conn:
                cursor = conn.execute(query, params)
                rows = cursor.fetchall() if cursor.description else []
                conn.commit()
                return rows
        except (psycopg.Error, PoolTimeout) as error:
            raise storage_error(error) or error from error

    def latest_event_id(self) -> int:
        """The greatest event id given (0 when none), in a transaction of its own: for the
        polling notifier, where LISTEN/NOTIFY is not to be had."""
        return int(self.run_autocommit("SELECT last_id FROM event_counter")[0]["last_id"])

    def users_with_events(self, after: int, upto: int) -> list[int]:
        """Users with events whose ids are in (after, upto]."""
        found = self.run_autocommit(
            "SELECT user_id FROM events WHERE id > %(after)s AND id <= %(upto)s AND user_id IS NOT NULL"
            " UNION SELECT chat_members.user_id FROM events"
            " JOIN chat_members ON chat_members.chat_id = events.chat_id"
            " WHERE events.id > %(after)s AND events.id <= %(upto)s",
            {"after": after, "upto": upto},
        )
        return [row["user_id"] for row in found]

    def close(self) -> None:
        """Close the pool; later units open a new one."""
        with self._open_lock:
            if self._opened:
                self._pool.close()
                self._opened = False
                self._pool = ConnectionPool(
                    self.url,
                    min_size=1,
                    max_size=self._pool.max_size,
                    kwargs=self._pool.kwargs,
                    open=False,
                    name=self._pool.name,
                )
