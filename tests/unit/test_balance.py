"""ConnectionShares: a worker takes a new connection only while it holds at most SLACK more
than the least loaded live worker; workers gone or silent never hold the others back."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from entrypoints.balance import SLACK, STALE, ConnectionShares

NOW = 1000.0


def test_a_worker_ahead_of_the_least_loaded_by_more_than_the_slack_declines() -> None:
    shares = ConnectionShares(3)
    assert shares.may_accept(1, 4, NOW)
    assert shares.may_accept(0, 4 + SLACK, NOW)
    assert not shares.may_accept(0, 5 + SLACK, NOW)  # worker 1 holds 4
    assert not shares.may_accept(2, 5 + SLACK, NOW)
    assert shares.may_accept(1, 4, NOW)  # the least loaded always accepts


def test_alone_a_worker_always_accepts() -> None:
    shares = ConnectionShares(2)
    assert shares.may_accept(0, 500, NOW)  # its sibling has not spoken yet


def test_a_cleared_or_silent_worker_is_left_out() -> None:
    shares = ConnectionShares(2)
    assert shares.may_accept(1, 0, NOW)
    assert not shares.may_accept(0, 10, NOW)
    shares.clear(1)  # it died
    assert shares.may_accept(0, 10, NOW)
    assert shares.may_accept(1, 0, NOW)  # its replacement speaks
    assert not shares.may_accept(0, 10, NOW + 1)
    assert shares.may_accept(0, 10, NOW + STALE)  # its loop has said nothing for STALE seconds


@given(st.lists(st.tuples(st.integers(0, 2), st.integers(0, 50)), max_size=60))
def test_some_live_worker_always_accepts(said: list[tuple[int, int]]) -> None:
    """Whatever the workers last said, the one holding the fewest would take a connection:
    none is ever refused by all of them."""
    shares = ConnectionShares(3)
    counts = [0, 0, 0]
    for worker, connections in said:
        shares.may_accept(worker, connections, NOW)
        counts[worker] = connections
    fewest = counts.index(min(counts))
    assert shares.may_accept(fewest, counts[fewest], NOW)
