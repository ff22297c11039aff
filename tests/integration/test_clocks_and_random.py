"""System and deterministic Clock/RandomSource adapters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from adapters.system import SecretsRandom, SystemClock
from adapters.testing import ManualClock, SeededRandom
from messenger_core.ports import Clock, RandomSource

ALPHABET = "abc123"


def test_system_clock_is_aware_utc() -> None:
    clock: Clock = SystemClock()
    now = clock.now()
    assert now.utcoffset() == timedelta(0)
    assert abs(now - datetime.now(UTC)) < timedelta(seconds=5)


def test_manual_clock_moves_only_when_told() -> None:
    start = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))
    clock = ManualClock(start)
    port: Clock = clock
    assert port.now() == start and port.now().tzinfo == UTC
    clock.advance(timedelta(hours=2))
    assert port.now() == start + timedelta(hours=2)


def test_manual_clock_refuses_naive_start() -> None:
    with pytest.raises(ValueError):
        ManualClock(datetime(2024, 1, 1))


@pytest.mark.parametrize("source", [SecretsRandom(), SeededRandom(1)])
def test_choice_string_draws_from_the_alphabet(source: RandomSource) -> None:
    text = source.choice_string(ALPHABET, 200)
    assert len(text) == 200 and set(text) <= set(ALPHABET)
    assert len(set(text)) == len(ALPHABET)  # 200 draws from 6: all appear
    assert source.choice_string(ALPHABET, 0) == ""


def test_seeded_random_repeats_for_the_same_seed() -> None:
    assert SeededRandom(7).choice_string(ALPHABET, 30) == SeededRandom(7).choice_string(ALPHABET, 30)
    assert SeededRandom(7).choice_string(ALPHABET, 30) != SeededRandom(8).choice_string(ALPHABET, 30)


def test_secrets_random_differs() -> None:
    source = SecretsRandom()
    assert source.choice_string(ALPHABET, 30) != source.choice_string(ALPHABET, 30)
