"""Idle and stalled connections against the real server (``python __main__.py``).

The server is made small on purpose (CONNECTION_LIMIT 8, CHANNEL_TIMEOUT 1 s) so that a
dozen sockets fill it. Connections with no request in flight are closed after the idle
timeout, so a fresh client gets in even while idle ones keep arriving; a long-poll that is
waiting has a request in flight and is never cut. Every wait polls for its condition
with a deadline; no test asserts how long anything took.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator

import pytest

from scripts.live_server import LiveServer, sign_up

pytestmark = pytest.mark.e2e

LIMIT = 8
DEADLINE = 30.0  # seconds any one condition may take before the test fails


@pytest.fixture(scope="module")
def small_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = {
        "CONNECTION_LIMIT": str(LIMIT),
        "CHANNEL_TIMEOUT": "1",
        "THREADS": "4",
        "RESERVED_THREADS": "1",
        "WORKERS": "1",  # the limits are per process: one process shows them exactly
    }
    with LiveServer(tmp_path_factory.mktemp("small"), extra_env=settings) as server:
        yield server


def idle_sockets(port: int, count: int) -> list[socket.socket]:
    """Connections that send nothing (the kernel completes them even when the server is
    not accepting: they then wait in its listen backlog)."""
    return [socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) for _ in range(count)]


def closed_by_server(sock: socket.socket) -> bool:
    """Waits (up to DEADLINE) for the server to close the connection."""
    sock.settimeout(DEADLINE)
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except TimeoutError:
        return False


def fresh_request(port: int) -> bytes:
    """A new connection's answer to an unauthenticated request (the start of it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as sock:
        sock.sendall(b"GET /api/v1/stickers HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        return sock.recv(64)


def test_idle_connections_are_closed_so_a_fresh_client_gets_in(small_server: LiveServer) -> None:
    held = idle_sockets(small_server.port, LIMIT + 4)  # more than the server accepts
    try:
        # The fresh client queues behind them; it is answered once idle ones are closed
        # (with waitress's defaults it would wait 120-150 s, past DEADLINE).
        assert fresh_request(small_server.port).startswith(b"HTTP/1.1 401")
        assert all(closed_by_server(sock) for sock in held)
    finally:
        for sock in held:
            sock.close()


def test_a_connection_that_stalls_mid_request_is_closed(small_server: LiveServer) -> None:
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=DEADLINE) as sock:
        sock.sendall(b"GET /api/v1/stickers HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never end
        assert closed_by_server(sock)


def test_a_waiting_long_poll_outlives_the_idle_timeout(small_server: LiveServer) -> None:
    _, token = sign_up(small_server.url, "waiter@example.com")
    conn = http.client.HTTPConnection("127.0.0.1", small_server.port, timeout=DEADLINE)
    try:
        headers = {"Authorization": f"Bearer {token}"}
        conn.request("GET", "/api/v1/events", headers=headers)
        cursor = json.loads(conn.getresponse().read())["cursor"]
        # Four seconds with no byte either way: four times the idle timeout. The request is
        # in flight, so the connection is not idle and the answer comes when it times out.
        conn.request("GET", f"/api/v1/events?since={cursor}&timeout=4", headers=headers)
        answer = conn.getresponse()
        body = json.loads(answer.read())
        assert answer.status == 200
        assert answer.getheader("X-Long-Poll") is None  # it waited: the cap was not reached
        assert body["events"] == []
        # Once answered, the keep-alive connection is idle and the server closes it.
        assert conn.sock is not None
        assert closed_by_server(conn.sock)
    finally:
        conn.close()
