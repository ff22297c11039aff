"""The real server in a subprocess, and the few API calls every end-to-end check needs.

Shared by ``scripts/`` and ``tests/e2e/``: ``python __main__.py`` from the repository root,
configured through ``EnvConfig`` on a database of the caller's choosing, on a free port.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """``python __main__.py`` on ``folder/db/db.sqlite3``; restartable on the same database.

    Its output goes to ``folder/server.log`` (a pipe nobody drains would block the server).
    """

    def __init__(
        self,
        folder: Path,
        *,
        extra_env: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        root: Path = ROOT,
    ) -> None:
        self.root = Path(root)  # the checkout whose __main__.py runs (benchmarks compare two)
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.host = host
        self.database = self.folder / "db" / "db.sqlite3"
        self.log_path = self.folder / "server.log"
        self.extra_env = extra_env or {}
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.starts = 0

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ("APP_CONFIG", "APP_ENV_VARS", "HOST")}
        settings = {
            "DATABASE_PATH": repr(str(self.database)),
            "UPLOAD_FOLDER": repr(str(self.folder / "upload")),
            "DEMO_DATA": "False",
            "RATE_LIMITS_ENABLED": "False",
            "HOST": repr(self.host),
        } | self.extra_env
        env |= settings
        env |= {
            "APP_CONFIG": "entrypoints.config.EnvConfig",
            "APP_ENV_VARS": ",".join(settings),
            "PORT": str(self.port),
            "PYTHONUNBUFFERED": "1",
        }
        return env

    def start(self, timeout: float = 20.0) -> None:
        """Start on a fresh free port and wait until the API answers."""
        assert self.process is None, "already running"
        self.port = free_port(self.host)
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts + 1} on port {self.port}\n".encode())
            # A session of its own, so that kill() can end the supervisor and its workers at once.
            self.process = subprocess.Popen(
                [sys.executable, "__main__.py"],
                cwd=self.root,
                env=self.env(),
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited with {self.process.returncode}:\n{self.log()[-3000:]}")
            try:
                if requests.get(f"{self.url}/api/v1/stickers", timeout=1).status_code == 401:
                    return
            except requests.RequestException:  # not listening yet, or no worker answering yet
                pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"the server did not answer within {timeout} s:\n{self.log()[-3000:]}")

    def kill(self) -> None:
        """``kill -9`` of every process of the server: no shutdown code runs, as in a crash."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            self.process = None

    def kill_supervisor(self) -> None:
        """``kill -9`` of the supervisor alone: its workers notice and stop by themselves."""
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.process = None

    def worker_pids(self) -> list[int]:
        """The processes serving requests: the supervisor's workers, or the one process."""
        if self.process is None:
            return []
        pid = self.process.pid
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        except OSError:
            return [pid]
        return [int(child) for child in children] or [pid]

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(15)
            self.kill()  # whatever is left of it

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def __enter__(self) -> LiveServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


# --- the API calls a check needs to set up its users ------------------------------------


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def expect(response: requests.Response, *statuses: int) -> Any:
    if response.status_code not in statuses:
        request = response.request
        raise AssertionError(
            f"{request.method} {request.url} -> {response.status_code}: {response.text[:500]}"
        )
    return response.json() if response.content else None


def sign_up(url: str, email: str, first_name: str = "Test", second_name: str = "User") -> tuple[str, str]:
    """Register and log in; returns (user_id, access token)."""
    body = {"first_name": first_name, "second_name": second_name, "email": email, "password": PASSWORD}
    user = expect(requests.post(f"{url}/api/v1/users", json=body, timeout=30), 201)["user"]
    tokens = expect(
        requests.post(f"{url}/api/v1/login", json={"email": email, "password": PASSWORD}, timeout=30), 200
    )
    return user["user_id"], tokens["access_token"]


def befriend(url: str, a_token: str, b_id: str, b_token: str, a_id: str) -> int:
    """Make A and B friends and open their chat; returns the chat id."""
    expect(
        requests.post(
            f"{url}/api/v1/users_friends",
            json={"friend_id": b_id, "action": "add"},
            headers=bearer(a_token),
            timeout=30,
        ),
        200,
    )
    expect(
        requests.post(
            f"{url}/api/v1/users_friends",
            json={"friend_id": a_id, "action": "accept"},
            headers=bearer(b_token),
            timeout=30,
        ),
        200,
    )
    chat = expect(
        requests.post(f"{url}/api/v1/chats", json={"user_id": b_id}, headers=bearer(a_token), timeout=30),
        200,
        201,
    )
    return int(chat["chat"]["id"])


# --- which worker serves a connection (Linux) ---------------------------------------------


def serving_pid(server_port: int, client_port: int, pids: list[int]) -> int | None:
    """The process among ``pids`` holding the server's end of the loopback connection
    from ``client_port``: found through /proc/net/tcp and each process's descriptors.
    None while no worker has accepted it yet."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, remote = int(fields[1].rsplit(":", 1)[1], 16), int(fields[2].rsplit(":", 1)[1], 16)
            if local == server_port and remote == client_port:
                inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        try:
            descriptors = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for descriptor in descriptors:
            try:
                if os.readlink(descriptor) in inodes:
                    return pid
            except OSError:
                continue
    return None
