"""End-to-end: the real server, started as the specification says (``python __main__.py``
in the repository root), configured through ``EnvConfig`` on a temporary database and a
free loopback port, and driven over HTTP with ``requests``."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class RunningServer:
    """``python __main__.py`` on ``folder/db/m.sqlite3``. Output goes to a file, since a
    pipe nobody drains would block the server once full."""

    def __init__(
        self, folder: Path, *, host: str | None = None, settings: dict[str, str] | None = None
    ) -> None:
        self.folder = folder
        self.host = host or "127.0.0.1"
        self.port = free_port(self.host)
        self.output_path = folder / "server.out"
        self.settings = (
            {
                "DATABASE_PATH": repr(str(folder / "db" / "m.sqlite3")),
                "UPLOAD_FOLDER": repr(str(folder / "upload")),
                "DEMO_DATA": "False",
            }
            | ({"HOST": repr(host)} if host else {})
            | (settings or {})
        )
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def environment(self) -> dict[str, str]:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith("APP_") and k not in ("HOST", "PORT")
        }
        return (
            inherited
            | self.settings
            | {
                "APP_CONFIG": "entrypoints.config.EnvConfig",
                "APP_ENV_VARS": ",".join(self.settings),
                "PORT": str(self.port),
                "PYTHONUNBUFFERED": "1",
            }
        )

    def start(self, timeout: float = 30.0) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with self.output_path.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "__main__.py"],
                cwd=ROOT,
                env=self.environment(),
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.output()}")
            try:
                requests.get(f"{self.url}/api/v1/stickers", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.output()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def output(self) -> str:
        return self.output_path.read_text(errors="replace") if self.output_path.exists() else ""


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One server for a module's tests, stopped when they are done."""
    server = RunningServer(tmp_path_factory.mktemp("server"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
