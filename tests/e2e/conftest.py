"""End-to-end: the real server, started as the specification says (``python __main__.py``
in the repository root), configured through ``EnvConfig`` on a temporary database and a
free loopback port (``scripts.live_server``), and driven over HTTP with ``requests``."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from scripts.live_server import LiveServer


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """One server for a module's tests, stopped when they are done."""
    with LiveServer(tmp_path_factory.mktemp("server")) as server:
        yield server
