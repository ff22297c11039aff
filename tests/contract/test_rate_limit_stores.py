"""The RateLimitStore contract, over the memory store and PostgreSQL (where every server
process of an installation counts), and the shared limits built on it: they refuse as
the in-process limits do, whichever process asks."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from adapters.memory import MemoryRateLimitStore
from entrypoints.web.limits import SharedSlidingWindow, SharedTokenBucket, SlidingWindow, TokenBucket
from messenger_core import Throttled
from messenger_core.ports import RateLimitStore


@pytest.fixture(params=["memory", "postgres"])
def store(request: pytest.FixtureRequest) -> Iterator[RateLimitStore]:
    if request.param == "memory":
        yield MemoryRateLimitStore()
        return
    from adapters.postgres import PostgresUnitOfWorkFactory
    from adapters.postgres.rate_limits import PostgresRateLimitStore
    from tests.postgres import empty

    url = request.getfixturevalue("postgres_database")
    empty(url)
    database = PostgresUnitOfWorkFactory(url, pool_size=8)
    yield PostgresRateLimitStore(database)
    database.close()


def test_a_new_bucket_is_full_and_refills_at_its_rate(store: RateLimitStore) -> None:
    take = lambda cost, now: store.take("sends", "alena", cost=cost, rate=2.0, burst=4.0, now=now)  # noqa: E731
    assert [take(1, 100.0) for _ in range(4)] == [0.0] * 4
    assert take(1, 100.0) == pytest.approx(0.5)  # one token comes in half a second
    assert take(1, 100.5) == 0.0
    assert take(3, 100.5) == pytest.approx(1.5)  # a refused take takes nothing
    assert take(3, 102.0) == 0.0
    assert take(1, 10_000.0) == 0.0  # refilled to the burst, no further
    assert take(4, 10_000.0) == pytest.approx(0.5)


def test_buckets_are_per_name_and_key(store: RateLimitStore) -> None:
    assert store.take("sends", "alena", cost=1, rate=1, burst=1, now=0) == 0.0
    assert store.take("sends", "alena", cost=1, rate=1, burst=1, now=0) > 0
    assert store.take("sends", "boris", cost=1, rate=1, burst=1, now=0) == 0.0
    assert store.take("uploads", "alena", cost=1, rate=1, burst=1, now=0) == 0.0


def test_a_window_counts_what_came_after_a_time(store: RateLimitStore) -> None:
    assert store.count_since("logins", "k", 0.0) == (0, None)
    for at in (10.0, 20.0, 30.0):
        store.record("logins", "k", at)
    store.record("logins", "other", 25.0)
    assert store.count_since("logins", "k", 0.0) == (3, 10.0)
    assert store.count_since("logins", "k", 10.0) == (2, 20.0)
    assert store.count_since("logins", "k", 30.0) == (0, None)


def test_reset_and_prune_forget(store: RateLimitStore) -> None:
    store.record("logins", "k", 10.0)
    store.record("logins", "k", 50.0)
    store.take("sends", "k", cost=1, rate=1, burst=1, now=10.0)
    store.reset("logins", "k")
    assert store.count_since("logins", "k", 0.0) == (0, None)
    assert store.take("sends", "k", cost=1, rate=1, burst=1, now=10.0) > 0  # another name keeps its bucket
    store.record("logins", "k", 10.0)
    store.record("logins", "k", 50.0)
    store.prune(before=20.0)
    assert store.count_since("logins", "k", 0.0) == (1, 50.0)
    assert store.take("sends", "k", cost=1, rate=1, burst=1, now=10.0) == 0.0  # pruned: full again


def test_takes_at_once_never_spend_a_token_twice(store: RateLimitStore) -> None:
    start = threading.Barrier(8)
    taken: list[float] = []

    def take() -> None:
        start.wait()
        for _ in range(5):
            taken.append(store.take("sends", "shared", cost=1, rate=0.001, burst=20, now=1.0))

    threads = [threading.Thread(target=take) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(1 for wait in taken if wait == 0.0) == 20


# --- the shared limits refuse as the in-process ones do ----------------------------------


def test_a_shared_window_throttles_like_the_local_one(store: RateLimitStore) -> None:
    now = [1000.0]
    shared = SharedSlidingWindow(store, "logins", 2, 10, clock=lambda: now[0])
    local = SlidingWindow(2, 10, clock=lambda: now[0])
    for window in (shared, local):
        window.hit("k")
        window.hit("k")
    for window in (shared, local):
        with pytest.raises(Throttled) as raised:
            window.hit("k")
        assert raised.value.retry_after == 10
        window.hit("other")
    now[0] = 1010.5
    for window in (shared, local):
        window.hit("k")
        window.reset("k")
        window.hit("k")


def test_a_shared_bucket_throttles_like_the_local_one(store: RateLimitStore) -> None:
    now = [1000.0]
    shared = SharedTokenBucket(store, "sends", rate=1.0, burst=2, clock=lambda: now[0])
    local = TokenBucket(rate=1.0, burst=2, clock=lambda: now[0])
    for bucket in (shared, local):
        bucket.take("k")
        bucket.take("k")
        with pytest.raises(Throttled) as raised:
            bucket.take("k")
        assert raised.value.retry_after == 1
    now[0] += 1
    for bucket in (shared, local):
        bucket.take("k")


def test_two_processes_share_one_allowance(store: RateLimitStore) -> None:
    """Two servers' limits on one store: the second sees what the first counted."""
    first = SharedSlidingWindow(store, "registrations", 3, 3600)
    second = SharedSlidingWindow(store, "registrations", 3, 3600)
    first.hit("10.0.0.1")
    second.hit("10.0.0.1")
    first.hit("10.0.0.1")
    with pytest.raises(Throttled):
        second.hit("10.0.0.1")
