"""The SQLite unit of work and its factory: one connection per thread, one
transaction per unit, taken with ``BEGIN IMMEDIATE`` so a writer never has to
upgrade a read lock halfway (which SQLite may refuse with SQLITE_BUSY)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from messenger_core.ports import (
    AttachmentRepository,
    ChatRepository,
    EventRepository,
    FriendshipRepository,
    MessageRepository,
    StickerRepository,
    UserRepository,
)

from .migrations import migrate
from .repositories import (
    SqliteAttachmentRepository,
    SqliteChatRepository,
    SqliteEventRepository,
    SqliteFriendshipRepository,
    SqliteMessageRepository,
    SqliteStickerRepository,
    SqliteUserRepository,
)

SYNCHRONOUS_MODES = ("FULL", "NORMAL")
WRITE_LOCK_TIMEOUT = 30.0  # seconds a writing unit waits for the other writers of its process


class SqliteUnitOfWork:
    """One transaction on a connection; leaving without ``commit()`` rolls back."""

    # Annotated with the ports: UnitOfWork's attributes are invariant.
    users: UserRepository
    friendships: FriendshipRepository
    chats: ChatRepository
    messages: MessageRepository
    attachments: AttachmentRepository
    stickers: StickerRepository
    events: EventRepository

    def __init__(
        self, conn: sqlite3.Connection, *, read_only: bool = False, write_lock: threading.Lock | None = None
    ) -> None:
        self._conn = conn
        self._read_only = read_only
        self._write_lock = None if read_only else write_lock
        self._held: threading.Lock | None = None  # the write lock, while this unit holds it
        self.users = SqliteUserRepository(conn)
        self.friendships = SqliteFriendshipRepository(conn)
        self.chats = SqliteChatRepository(conn)
        self.messages = SqliteMessageRepository(conn)
        self.attachments = SqliteAttachmentRepository(conn)
        self.stickers = SqliteStickerRepository(conn)
        self.events = SqliteEventRepository(conn)

    def __enter__(self) -> Self:
        # A reader takes a WAL snapshot and no lock, so reads never queue behind writers;
        # a writer takes the write lock up front.
        if self._write_lock is not None and not self._conn.in_transaction:
            # Writers of this process queue on a thread lock before asking SQLite. SQLite's
            # busy handler polls with sleeps of up to 100 ms, so when the write lock is in
            # constant demand a waiter can miss every free moment for the whole
            # busy_timeout and fail with "database is locked"; a blocked thread is woken as
            # soon as the lock is released. busy_timeout still arbitrates between processes.
            if not self._write_lock.acquire(timeout=WRITE_LOCK_TIMEOUT):
                raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
            self._held = self._write_lock
        try:
            self._conn.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
        except BaseException:
            self._release()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # A failed statement may already have ended the transaction.
        try:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
        finally:
            self._release()

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()

    def commit(self) -> None:
        self._conn.execute("COMMIT")
        self._restart()

    def rollback(self) -> None:
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        self._restart()

    def _restart(self) -> None:
        # Work done after commit()/rollback() still belongs to this unit, so it needs a
        # transaction too. A deferred BEGIN takes no lock, so it cannot fail as busy
        # right after a successful commit; a write would take the lock when it comes.
        self._conn.execute("BEGIN")


class SqliteUnitOfWorkFactory:
    """Makes units of work on the database at ``path``, migrated when the factory is made.

    Each thread gets its own connection (waitress serves requests on threads). The
    connections allow use from other threads only so that ``close()`` can close them
    all; each one is still only used by the thread that opened it.
    """

    def __init__(self, path: str | os.PathLike[str], synchronous: str = "FULL") -> None:
        if synchronous not in SYNCHRONOUS_MODES:
            raise ValueError(f"synchronous must be one of {SYNCHRONOUS_MODES}")
        if os.fspath(path) == ":memory:":
            # Every connection to ":memory:" would be a different, empty database.
            raise ValueError("SqliteUnitOfWorkFactory needs a database file path")
        self.path = Path(path)
        self.synchronous = synchronous
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()  # one writing unit at a time in this process
        _make_private_folders(self.path.parent)
        migrate(self.connection())

    def __call__(self, *, read_only: bool = False) -> SqliteUnitOfWork:
        return SqliteUnitOfWork(self.connection(), read_only=read_only, write_lock=self._write_lock)

    def connection(self) -> sqlite3.Connection:
        """This thread's connection, opened with its pragmas on first use."""
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = self._open()
            self._local.conn = conn
        return conn

    def _open(self) -> sqlite3.Connection:
        # SQLite would create the file 0644 (world-readable); made here 0600, and SQLite
        # gives its -wal, -shm and -journal files the mode of the database file.
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        # isolation_level=None: the unit of work issues BEGIN/COMMIT itself.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.row_factory = sqlite3.Row
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {self.synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA busy_timeout = 5000")
        with self._lock:
            self._opened.append(conn)
        return conn

    def latest_event_id(self) -> int:
        """The greatest event id ever given (0 when none), read on this thread's connection
        without a unit of work: no ``BEGIN IMMEDIATE``, so it never waits for writers, and
        under WAL each call sees the latest commit. For notifiers that poll for events
        written by other processes; call it outside any unit of work on this thread."""
        return SqliteEventRepository(self.connection()).latest_id()

    def users_with_events(self, after: int, upto: int) -> list[int]:
        """Users with events whose ids are in (after, upto], read like ``latest_event_id``:
        lets a polling notifier wake only them."""
        found = self.connection().execute(
            "SELECT DISTINCT user_id FROM events WHERE id > ? AND id <= ?", (after, upto)
        )
        return [row[0] for row in found]

    def close(self) -> None:
        """Close every connection this factory opened; later units open new ones."""
        with self._lock:
            opened, self._opened = self._opened, []
            self._local = threading.local()
        for conn in opened:
            conn.close()


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by this user only (0700);
    folders that exist keep their mode."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
