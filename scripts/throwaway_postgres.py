"""A PostgreSQL cluster of its own, in a temporary folder, on a free loopback port.

Tests, end-to-end checks and benchmarks start one with Debian's ``postgresql`` binaries
(``initdb``, ``pg_ctl``) and throw it away afterwards. PostgreSQL refuses to run as
root, so as root the cluster belongs to the unprivileged ``postgres`` user the package
creates and every command runs through ``runuser``; clients connect over TCP on
127.0.0.1 with trust authentication, which is safe on a loopback port of a cluster
that lives for one run.

    with ThrowawayPostgres() as cluster:
        url = cluster.create_database("messenger")   # postgresql://postgres@127.0.0.1:port/messenger
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

from scripts.live_server import free_port

SUPERUSER = "postgres"
# Tests don't test durability: a crash of the test cluster loses nothing that matters.
FAST = ("fsync=off", "synchronous_commit=off", "full_page_writes=off")


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def server_bindir() -> Path | None:
    """The folder of the newest installed server's binaries (Debian keeps them under
    /usr/lib/postgresql/<version>/bin), or the one ``initdb`` on PATH is in."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if versions:
        return versions[-1].parent
    found = shutil.which("initdb")
    return Path(found).resolve().parent if found else None


class ThrowawayPostgres:
    """``initdb`` into a fresh folder, ``pg_ctl start`` on a free port; ``stop`` removes it all.

    ``durable`` keeps PostgreSQL's defaults (fsync on every commit), for benchmarks that
    compare with a SQLite database that syncs; tests use the fast settings."""

    def __init__(self, *, durable: bool = False, settings: Sequence[str] = ()) -> None:
        bindir = server_bindir()
        if bindir is None:
            raise PostgresMissing("PostgreSQL is not installed: install Debian's 'postgresql' package")
        self.bindir = bindir
        self.durable = durable
        self.settings = tuple(settings)
        self.folder: Path | None = None
        self.port = 0
        self._run_as: list[str] = []

    @property
    def data(self) -> Path:
        assert self.folder is not None, "not started"
        return self.folder / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def start(self, timeout: float = 60.0) -> Self:
        self.folder = Path(tempfile.mkdtemp(prefix="throwaway-postgres-"))
        if os.geteuid() == 0:
            # initdb and postgres refuse root: the cluster is the postgres user's.
            owner = pwd.getpwnam(SUPERUSER)
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
            self._run_as = ["runuser", "-u", SUPERUSER, "--"]
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "-A",
            "trust",
            "-E",
            "UTF8",
            # A UTF-8 character type, so that pg_trgm sees Cyrillic letters as letters.
            "--locale=C.UTF-8",
            "--no-sync",
        )
        self.port = free_port()
        options = [
            "listen_addresses=127.0.0.1",
            f"port={self.port}",
            f"unix_socket_directories={self.folder}",
            "max_connections=200",
            *(() if self.durable else FAST),
            *self.settings,
        ]
        self._run(
            "pg_ctl",
            "start",
            "-D",
            str(self.data),
            "-w",
            "-t",
            str(int(timeout)),
            "-l",
            str(self.folder / "server.log"),
            "-o",
            " ".join(f"-c {option}" for option in options),
        )
        return self

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a database (optionally a copy of ``template``) and return its URL."""
        self.sql(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return self.url(name)

    def sql(self, statement: str, database: str = "postgres") -> str:
        """Run one statement through psql and return what it printed."""
        done = self._run(
            "psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-d", self.url(database), "-c", statement
        )
        return done.stdout

    def stop(self) -> None:
        if self.folder is None:
            return
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder = None

    def log(self) -> str:
        path = None if self.folder is None else self.folder / "server.log"
        return path.read_text(errors="replace") if path and path.exists() else ""

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [*self._run_as, str(self.bindir / program), *args]
        done = subprocess.run(command, capture_output=True, text=True, cwd="/", check=False)
        if check and done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}): {done.stderr.strip()}\n{self.log()}")
        return done


def wait_until_ready(url: str, timeout: float = 30.0) -> None:
    """Poll until the server at ``url`` accepts connections."""
    import psycopg

    deadline = time.monotonic() + timeout
    while True:
        try:
            psycopg.connect(url, connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
