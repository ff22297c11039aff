"""Render deploy/nginx.conf.in for the given app ports, from the app's settings.

    python -m scripts.nginx_config --ports 8001,8002 --listen 80 > /etc/nginx/conf.d/messenger.conf

The body limit comes from MAX_CONTENT_LENGTH and the read timeout from
LONG_POLL_MAX_TIMEOUT of the settings APP_CONFIG names. ``NginxProxy`` runs nginx on a
rendered file in a temporary folder, as the end-to-end tests and the benchmark do.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import requests

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "deploy" / "nginx.conf.in"
MULTIPART_ALLOWANCE = 1024 * 1024  # framing around the largest upload
READ_TIMEOUT_MARGIN = 30  # seconds above the longest long-poll


def render(
    ports: Sequence[int],
    *,
    listen: str,
    max_content_length: int,
    long_poll_max_timeout: float,
    pins: Mapping[str, int] | None = None,
) -> str:
    """The server block for these app ports. ``pins`` (tests only) maps values of an
    ``X-Pin`` request header to one port, so a test can choose the process."""
    servers = "\n".join(f"    server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports)
    pin_map = ""
    target = "messenger"
    if pins:
        lines = "\n".join(f"    {name} 127.0.0.1:{port};" for name, port in pins.items())
        pin_map = f"map $http_x_pin $messenger_target {{\n    default messenger;\n{lines}\n}}\n"
        target = "$messenger_target"
    body = max_content_length + MULTIPART_ALLOWANCE
    values = {
        "@UPSTREAM_SERVERS@": servers,
        "@PINS@": pin_map,
        "@LISTEN@": listen,
        "@CLIENT_MAX_BODY_SIZE@": f"{math.ceil(body / 1024)}k",
        "@PROXY_READ_TIMEOUT@": f"{math.ceil(long_poll_max_timeout) + READ_TIMEOUT_MARGIN}s",
        "@PASS@": target,
    }
    text = TEMPLATE.read_text()
    for field, value in values.items():
        text = text.replace(field, value)
    return text


def nginx_binary() -> str | None:
    return shutil.which("nginx") or next((p for p in ("/usr/sbin/nginx",) if Path(p).exists()), None)


class NginxProxy:
    """nginx on a free loopback port in a folder of its own, in front of ``ports``."""

    def __init__(
        self,
        ports: Sequence[int],
        *,
        pins: Mapping[str, int] | None = None,
        max_content_length: int = 16 * 1024 * 1024,
        long_poll_max_timeout: float = 30.0,
    ) -> None:
        from scripts.live_server import free_port

        binary = nginx_binary()
        if binary is None:
            raise FileNotFoundError("nginx is not installed: install Debian's 'nginx' package")
        self.binary = binary
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="throwaway-nginx-"))
        site = render(
            ports,
            listen=f"127.0.0.1:{self.port}",
            max_content_length=max_content_length,
            long_poll_max_timeout=long_poll_max_timeout,
            pins=pins,
        )
        (self.folder / "logs").mkdir()
        # As root, nginx would run its worker as nobody, who cannot enter this folder.
        user = "user root;\n" if os.geteuid() == 0 else ""
        (self.folder / "nginx.conf").write_text(
            f"{user}daemon off;\nworker_processes 1;\npid nginx.pid;\nerror_log logs/error.log warn;\n"
            "events { worker_connections 1024; }\n"
            "http {\n"
            "    access_log logs/access.log;\n"
            "    client_body_temp_path tmp/body; proxy_temp_path tmp/proxy;\n"
            "    fastcgi_temp_path tmp/fastcgi; uwsgi_temp_path tmp/uwsgi; scgi_temp_path tmp/scgi;\n"
            f"{site}\n}}\n"
        )
        (self.folder / "tmp").mkdir()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> Self:
        self.process = subprocess.Popen(
            [
                self.binary,
                "-p",
                str(self.folder),
                "-c",
                str(self.folder / "nginx.conf"),
                "-e",
                "logs/error.log",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(self.url + "/nginx-ready", timeout=2)
                return self
            except requests.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = self.folder / "logs" / "error.log"
                    raise RuntimeError(
                        f"nginx did not start: {log.read_text() if log.exists() else ''}"
                    ) from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def main(argv: Sequence[str] | None = None) -> None:
    from entrypoints.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ports", required=True, help="the app processes' ports, e.g. 8001,8002")
    parser.add_argument("--listen", default="80", help="what nginx listens on (default 80)")
    args = parser.parse_args(argv)
    settings = load_settings()
    ports = [int(p) for p in args.ports.split(",") if p.strip()]
    print(
        render(
            ports,
            listen=args.listen,
            max_content_length=settings.MAX_CONTENT_LENGTH,
            long_poll_max_timeout=settings.LONG_POLL_MAX_TIMEOUT,
        ),
        end="",
    )


if __name__ == "__main__":
    main()
