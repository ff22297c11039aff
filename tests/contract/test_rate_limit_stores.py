"""The RateLimitStore contract, over every adapter: the web edge's throttles are token
buckets kept in the store, so every server process sharing it counts together.

Times are plain numbers handed in (the store reads no clock); rates and bursts are the
kind the settings give (2 a second; 20 a minute, which is not exact in binary)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from messenger_core.ports import RateLimitStore

T0 = 1_800_000_000.0  # a Unix time: near it a double is exact to about 2e-7 s


def about(seconds: float) -> object:
    return pytest.approx(seconds, abs=1e-5)


def make_store(kind: str, folder: Path) -> tuple[RateLimitStore, object]:
    if kind == "memory":
        from adapters.memory import MemoryRateLimitStore

        return MemoryRateLimitStore(), None
    from adapters.sqlite import SqliteRateLimitStore, SqliteUnitOfWorkFactory

    database = SqliteUnitOfWorkFactory(folder / "limits.sqlite3")
    database.migrate()
    return SqliteRateLimitStore(database), database


def close(store: RateLimitStore, database: object) -> None:
    for part in (store, database):
        if hasattr(part, "close"):
            part.close()


@pytest.fixture(params=["memory", "sqlite"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def store(kind: str, tmp_path: Path) -> Iterator[RateLimitStore]:
    made, database = make_store(kind, tmp_path)
    yield made
    close(made, database)


def test_a_new_key_lets_its_burst_through_then_says_when(store: RateLimitStore) -> None:
    passed = [store.take("k", 1, rate=2, burst=3, now=T0) for _ in range(3)]
    assert passed == [0.0, 0.0, 0.0]
    wait = store.take("k", 1, rate=2, burst=3, now=T0)
    assert wait == about(0.5)  # one token comes back every half second
    assert store.take("k", 1, rate=2, burst=3, now=T0 + 0.25) == about(0.25)
    assert store.take("k", 1, rate=2, burst=3, now=T0 + 0.5) == 0.0
    assert store.take("k", 1, rate=2, burst=3, now=T0 + 0.5) > 0


def test_a_refused_take_takes_nothing(store: RateLimitStore) -> None:
    for _ in range(2):
        store.take("k", 1, rate=1, burst=2, now=T0)
    for _ in range(5):  # hammering a full bucket does not push the refill further away
        assert store.take("k", 1, rate=1, burst=2, now=T0) == about(1.0)
    assert store.take("k", 1, rate=1, burst=2, now=T0 + 1) == 0.0


def test_keys_are_apart(store: RateLimitStore) -> None:
    assert store.take("a", 1, rate=1, burst=1, now=T0) == 0.0
    assert store.take("a", 1, rate=1, burst=1, now=T0) > 0
    assert store.take("b", 1, rate=1, burst=1, now=T0) == 0.0


def test_wait_time_takes_nothing_and_agrees_with_take(store: RateLimitStore) -> None:
    assert store.wait_time("k", 1, rate=1, burst=1, now=T0) == 0.0
    assert store.wait_time("k", 1, rate=1, burst=1, now=T0) == 0.0  # still there
    store.take("k", 1, rate=1, burst=1, now=T0)
    assert store.wait_time("k", 1, rate=1, burst=1, now=T0 + 0.25) == about(0.75)
    assert store.take("k", 1, rate=1, burst=1, now=T0 + 0.25) == about(0.75)


def test_the_whole_burst_passes_at_rates_not_exact_in_binary(store: RateLimitStore) -> None:
    rate = 20 / 60  # 20 a minute
    passed = sum(store.take("k", 1, rate=rate, burst=20, now=T0) == 0.0 for _ in range(25))
    assert passed == 20
    assert store.take("k", 1, rate=rate, burst=20, now=T0) == about(3.0)


def test_costs_may_be_fractional_and_are_capped_at_the_burst(store: RateLimitStore) -> None:
    assert store.take("bytes", 600.5, rate=100, burst=1000, now=T0) == 0.0
    assert store.take("bytes", 400, rate=100, burst=1000, now=T0) == about(0.005)
    assert store.take("big", 5000, rate=100, burst=1000, now=T0) == 0.0  # counts as the burst
    assert store.take("big", 1, rate=100, burst=1000, now=T0) == about(0.01)


def test_forget_fills_the_bucket_again(store: RateLimitStore) -> None:
    store.take("k", 1, rate=1, burst=1, now=T0)
    store.forget("k")
    assert store.take("k", 1, rate=1, burst=1, now=T0) == 0.0
    store.forget("never seen")  # harmless


def test_prune_drops_only_full_buckets(store: RateLimitStore) -> None:
    store.take("soon", 1, rate=1, burst=5, now=T0)  # full again at T0 + 1
    store.take("later", 3, rate=1, burst=5, now=T0)  # full again at T0 + 3
    assert store.prune(T0 + 2) == 1
    assert store.wait_time("later", 3, rate=1, burst=5, now=T0 + 2) == about(0.0)
    assert store.wait_time("later", 5, rate=1, burst=5, now=T0 + 2) == about(1.0)  # kept
    assert store.prune(T0 + 3) == 1
    assert store.prune(T0 + 3) == 0


def test_racing_takes_never_pass_more_than_the_bucket_holds(store: RateLimitStore) -> None:
    passed: list[float] = []
    lock = threading.Lock()

    def taker() -> None:
        for _ in range(10):
            wait = store.take("shared", 1, rate=0.001, burst=25, now=T0)
            with lock:
                passed.append(wait)

    threads = [threading.Thread(target=taker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sum(wait == 0.0 for wait in passed) == 25
    assert len(passed) == 80


SCHEDULE = st.lists(
    st.tuples(st.integers(0, 4), st.sampled_from([0.5, 1.0, 2.0])),  # (quarter-seconds later, cost)
    min_size=1,
    max_size=40,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(schedule=SCHEDULE)
def test_the_bucket_law_holds_over_any_schedule(
    kind: str, tmp_path_factory: pytest.TempPathFactory, schedule: list[tuple[int, float]]
) -> None:
    """Whatever passes between two moments is at most the burst plus the refill between
    them; and a refused take passes after waiting the seconds it was told."""
    made, database = make_store(kind, tmp_path_factory.mktemp(kind))
    try:
        rate, burst = 2.0, 3.0
        now, taken = T0, []
        for step, cost in schedule:
            now += step / 4
            wait = made.take("k", cost, rate=rate, burst=burst, now=now)
            if wait == 0.0:
                taken.append((now, cost))
            else:
                assert made.take("k", cost, rate=rate, burst=burst, now=now + wait) == 0.0
                now += wait
                taken.append((now, cost))
        for i, (start, _) in enumerate(taken):
            for end, _ in taken[i:]:
                spent = sum(c for t, c in taken if start <= t <= end)
                assert spent <= burst + rate * (end - start) + 1e-6
    finally:
        close(made, database)
