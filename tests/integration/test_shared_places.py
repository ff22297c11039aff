"""SharedPlaces: the long-poll places of every worker of one server, counted together in
shared memory; a dead worker's places are given back by clearing its row."""

from __future__ import annotations

import os
import signal

import pytest

from entrypoints.web.limits import SharedPlaces


def test_workers_count_one_users_places_together() -> None:
    table = SharedPlaces(workers=2)
    per_user = table.places("user", 3)
    table.row = 0
    assert [per_user.acquire("u1") for _ in range(2)] == [True, True]
    table.row = 1  # the same memory, as the other worker sees it
    assert per_user.acquire("u1") is True
    assert per_user.acquire("u1") is False  # 3 held in all
    assert per_user.acquire("u2") is True  # another user's places are apart
    table.row = 0
    per_user.release("u1")
    table.row = 1
    assert per_user.acquire("u1") is True


def test_kinds_are_apart_and_clearing_a_row_gives_its_places_back() -> None:
    table = SharedPlaces(workers=2)
    users, addresses = table.places("user", 1), table.places("address", 1)
    table.row = 1
    assert users.acquire("10.0.0.1") and addresses.acquire("10.0.0.1")
    table.row = 0
    assert not users.acquire("10.0.0.1")
    table.clear(1)  # worker 1 died
    assert users.acquire("10.0.0.1") and addresses.acquire("10.0.0.1")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork")
def test_a_forked_worker_shares_the_places_and_a_killed_one_is_cleared() -> None:
    table = SharedPlaces(workers=2)
    places = table.places("user", 3)
    ready_reader, ready_writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # worker 1 takes two places and stays
        try:
            table.row = 1
            taken = places.acquire("u") and places.acquire("u")
            os.write(ready_writer, b"1" if taken else b"0")
            signal.pause()
        finally:
            os._exit(0)
    try:
        assert os.read(ready_reader, 1) == b"1"
        table.row = 0
        assert places.acquire("u") is True
        assert places.acquire("u") is False
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        os.close(ready_reader)
        os.close(ready_writer)
    table.clear(1)
    assert places.acquire("u") is True
    assert places.acquire("u") is True
    assert places.acquire("u") is False  # 3 of worker 0's own now
