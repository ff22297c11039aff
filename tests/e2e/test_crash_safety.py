"""kill -9 under load loses no acknowledged message (the short form of scripts/crash_test.py)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from scripts.crash_test import run

pytestmark = pytest.mark.e2e


def test_every_acknowledged_message_survives_kill_9(tmp_path: Path) -> None:
    out = io.StringIO()
    [result] = run(rounds=1, seconds=2.0, folder=tmp_path, out=out)
    print(out.getvalue())
    assert result.acknowledged > 0, "the clients got no message through before the kill"
    assert result.found == result.acknowledged, result.notes
    assert result.lost == 0, result.notes
    assert result.duplicates == 0, result.notes
    assert result.integrity == "ok"
    assert result.event_gaps == 0, result.notes
    assert result.bad_statuses == {}, result.notes
    assert result.log_problems == [], result.notes


def test_killing_a_worker_and_then_the_supervisor_loses_nothing(tmp_path: Path) -> None:
    out = io.StringIO()
    [result] = run(rounds=1, seconds=4.0, folder=tmp_path, workers=2, kill="worker-then-supervisor", out=out)
    print(out.getvalue())
    assert result.acknowledged > 0, "the clients got no message through"
    assert result.found == result.acknowledged, result.notes
    assert result.lost == 0, result.notes
    assert result.duplicates == 0, result.notes
    assert result.integrity == "ok"
    assert result.event_gaps == 0, result.notes
    assert result.log_problems == [], result.notes
