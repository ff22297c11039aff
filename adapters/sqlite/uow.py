"""The SQLite unit of work and its factory: one connection per thread, one
transaction per unit, taken with ``BEGIN IMMEDIATE`` so a writer never has to
upgrade a read lock halfway (which SQLite may refuse with SQLITE_BUSY)."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Self

try:
    import fcntl
except ImportError:  # not on a POSIX system: writers queue within each process only
    fcntl = None  # type: ignore[assignment]

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

from .migrations import migrate
from .repositories import (
    SqliteAttachmentRepository,
    SqliteBlockRepository,
    SqliteChatRepository,
    SqliteEventRepository,
    SqliteExportRepository,
    SqliteFriendshipRepository,
    SqliteMessageRepository,
    SqlitePinRepository,
    SqliteReactionRepository,
    SqliteSessionRepository,
    SqliteStickerRepository,
    SqliteStoredFileRepository,
    SqliteUserRepository,
)

SYNCHRONOUS_MODES = ("FULL", "NORMAL")

# SQLite's primary result codes that mean the storage, not the request, is at fault.
_FULL = {13}  # SQLITE_FULL
_UNAVAILABLE = {5, 6, 8, 10, 11, 14, 26}  # BUSY, LOCKED, READONLY, IOERR, CORRUPT, CANTOPEN, NOTADB


def storage_error(error: BaseException | None) -> Unavailable | None:
    """The Unavailable a failing database means (a full disk, a read-only or broken
    file), or None for any other error."""
    if not isinstance(error, sqlite3.Error):
        return None
    code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
    if code in _FULL:
        return Unavailable("storage_full")
    if code in _UNAVAILABLE:
        return Unavailable("storage_unavailable")
    return None


# Exactly SQLITE_READONLY, what query_only gives a write; its extended codes (a WAL that
# cannot be recovered or initialised on a read-only file) are the storage's fault.
_SQLITE_READONLY = 8

WRITE_LOCK_TIMEOUT = 30.0  # seconds a writing unit waits for the other writers of its process
# Database pages each connection keeps in memory, in KiB (SQLite's default is 2,000): a
# request thread has two connections, so this bounds what the threads' caches can grow
# to (32 threads: 32 MiB, not 128). Pages not cached are read from the operating system's
# file cache, which every connection and process shares. Measured on newest-50 reads of a
# 10,000-message chat (WORKERS=1, wrk -c8 and -c32): the same peak RSS (73-75 MiB) and
# req/s within the noise at 128, 512 and 2,000 KiB: the pages such reads touch are few.
CACHE_KIB = 512


class WriteQueue:
    """Where every writer of one database file waits its turn, in every process, before it
    asks SQLite for the write lock.

    SQLite's busy handler polls with sleeps of up to 100 ms, so writers of several
    processes sleeping in ``busy_timeout`` miss the free moments and some wait for
    seconds (measured: send p99 1.3–1.9 s with two processes). Here the threads of one
    process queue on a thread lock, and the one at the head takes an exclusive ``flock``
    on ``<database>-writers``, shared by every process: the kernel wakes a waiter the
    moment the lock is let go, and releases it when its holder dies (``kill -9`` too).
    The lock file is opened anew in each process (after a fork too): a lock belongs to
    the open file, which a forked child would otherwise share with its parent.
    """

    def __init__(self, database: Path) -> None:
        self.path = Path(f"{database}-writers")
        self._threads = threading.Lock()
        self._file: int | None = None
        self._pid = 0

    @contextlib.contextmanager
    def turn(self, timeout: float = WRITE_LOCK_TIMEOUT) -> Iterator[None]:
        """Hold the queue's head for the block."""
        if not self.acquire(timeout):
            raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
        try:
            yield
        finally:
            self.release()

    def acquire(self, timeout: float = WRITE_LOCK_TIMEOUT) -> bool:
        """Wait for the threads of this process (up to ``timeout``), then for the other
        processes (without a timeout: the lock ends with its holder); False on timeout."""
        if not self._threads.acquire(timeout=timeout):
            return False
        try:
            if fcntl is not None:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return True

    def release(self) -> None:
        try:
            if fcntl is not None and self._file is not None:
                fcntl.flock(self._file, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def _descriptor(self) -> int:
        # Under the thread lock: one thread of this process at a time gets here.
        if self._file is None or self._pid != os.getpid():
            # After a fork the inherited descriptor is left alone (closing it would not
            # matter to the parent, but it is not ours to close).
            self._file = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = os.getpid()
        return self._file

    def close(self) -> None:
        if self._file is not None and self._pid == os.getpid():
            with self._threads:
                os.close(self._file)
                self._file = None


class SqliteUnitOfWork:
    """One transaction on a connection; leaving without ``commit()`` rolls back.

    A writing unit begins with ``BEGIN IMMEDIATE`` (the write lock) on the thread's
    connection. A read-only unit begins a deferred transaction on the thread's read-only
    connection, which has ``PRAGMA query_only`` on for good, so SQLite itself refuses
    its writes; under WAL it reads one snapshot from its first read on and waits for no
    writer. ``thread`` marks, per thread, that a unit is open: a second is refused."""

    # Annotated with the ports: UnitOfWork's attributes are invariant.
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

    def __init__(
        self,
        conn: sqlite3.Connection,
        *,
        read_only: bool = False,
        write_queue: WriteQueue | None = None,
        thread: threading.local | None = None,
    ) -> None:
        self._conn = conn
        self._thread = thread
        self._read_only = read_only
        self._write_queue = None if read_only else write_queue
        self._held: WriteQueue | None = None  # the queue's head, while this unit holds it
        self.users = SqliteUserRepository(conn)
        self.friendships = SqliteFriendshipRepository(conn)
        self.chats = SqliteChatRepository(conn)
        self.messages = SqliteMessageRepository(conn)
        self.attachments = SqliteAttachmentRepository(conn)
        self.reactions = SqliteReactionRepository(conn)
        self.pins = SqlitePinRepository(conn)
        self.stickers = SqliteStickerRepository(conn)
        self.events = SqliteEventRepository(conn)
        self.stored_files = SqliteStoredFileRepository(conn)
        self.sessions = SqliteSessionRepository(conn)
        self.blocks = SqliteBlockRepository(conn)
        self.exports = SqliteExportRepository(conn)

    def __enter__(self) -> Self:
        if self._thread is not None:
            # The reader's and the writer's connections differ, so SQLite alone would let
            # a unit of one kind open inside the other.
            if getattr(self._thread, "unit_open", False):
                raise RuntimeError("a unit of work is already open on this thread")
            self._thread.unit_open = True
        # A reader takes a WAL snapshot and no lock, so reads never queue behind writers;
        # a writer takes its turn in the write queue up front. SQLite's busy handler polls
        # with sleeps of up to 100 ms, so when the write lock is in constant demand a
        # waiter can miss every free moment for the whole busy_timeout and fail with
        # "database is locked"; a writer blocked in the queue is woken as soon as the lock
        # is released. busy_timeout still arbitrates with writers outside the queue.
        if self._write_queue is not None and not self._conn.in_transaction:
            try:
                acquired = self._write_queue.acquire()
            except BaseException:
                self._release()
                raise
            if not acquired:
                self._release()
                raise sqlite3.OperationalError("database is locked (waited for this process's writers)")
            self._held = self._write_queue
        try:
            self._conn.execute("BEGIN" if self._read_only else "BEGIN IMMEDIATE")
        except BaseException as error:
            self._release()
            unavailable = storage_error(error)
            if unavailable is not None:
                raise unavailable from error
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
        except sqlite3.Error:
            if exc is None:
                raise
            # The database is failing already (its error follows): nothing to undo here.
        finally:
            self._release()
        if self._read_only and getattr(exc, "sqlite_errorcode", None) == _SQLITE_READONLY:
            return  # query_only refused a write: the caller's bug, not the storage's
        unavailable = storage_error(exc)
        if unavailable is not None:
            raise unavailable from exc

    def _release(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.release()
        if self._thread is not None:
            self._thread.unit_open = False

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
    """Makes units of work on the database at ``path``. Opening it changes nothing:
    bringing the schema up to date is the explicit ``migrate()`` step, which the
    composition root runs once at start.

    Each thread gets its own connection (waitress serves requests on threads), and a
    second one for its read-only units. The connections allow use from other threads
    only so that ``close()`` can close them all; each one is still only used by the
    thread that opened it.
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
        _make_private_folders(self.path.parent)
        self.write_queue = WriteQueue(self.path)  # one writing unit at a time, in every process

    def migrate(self) -> int:
        """Apply every pending migration step; return the schema version."""
        return migrate(self.connection())

    def __call__(self, *, read_only: bool = False) -> SqliteUnitOfWork:
        try:
            conn = self.connection(read_only=read_only)
        except sqlite3.Error as error:
            raise storage_error(error) or error from error
        if read_only:
            return SqliteUnitOfWork(conn, read_only=True, thread=self._local)
        return SqliteUnitOfWork(conn, write_queue=self.write_queue, thread=self._local)

    def connection(self, *, read_only: bool = False) -> sqlite3.Connection:
        """This thread's connection, opened with its pragmas on first use; with
        ``read_only``, the thread's other connection, for read-only units, on which
        ``PRAGMA query_only`` is on. (Switching one connection's ``query_only`` per unit
        would expire every prepared statement twice a unit: SQLite expires them whenever
        a flag pragma changes.)"""
        name = "reader" if read_only else "conn"
        conn: sqlite3.Connection | None = getattr(self._local, name, None)
        if conn is None:
            conn = self._open()
            if read_only:
                conn.execute("PRAGMA query_only = ON")
            setattr(self._local, name, conn)
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
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA mmap_size = 0")  # reads copy from the file cache: no mapping to grow
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
            "SELECT user_id FROM events WHERE id > :after AND id <= :upto AND user_id IS NOT NULL"
            " UNION"
            " SELECT chat_members.user_id FROM events"
            " JOIN chat_members ON chat_members.chat_id = events.chat_id"
            " WHERE events.id > :after AND events.id <= :upto",
            {"after": after, "upto": upto},
        )
        return [row[0] for row in found]

    def close(self) -> None:
        """Close every connection this factory opened; later units open new ones."""
        with self._lock:
            opened, self._opened = self._opened, []
            self._local = threading.local()
        for conn in opened:
            conn.close()
        self.write_queue.close()


def _make_private_folders(folder: Path) -> None:
    """Create ``folder`` and its missing parents readable by this user only (0700);
    folders that exist keep their mode."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for path in reversed(missing):
        path.mkdir(mode=0o700, exist_ok=True)
