"""SqliteRateLimitStore across processes: racing takes on one key, from three server-like
processes at once, never pass more than the bucket holds, and none waits in SQLite's
busy handler (each waits its turn in the write queue)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from adapters.sqlite import SqliteRateLimitStore, SqliteUnitOfWorkFactory
from scripts.live_server import ROOT

TAKER = textwrap.dedent(
    """
    import sys
    from adapters.sqlite import SqliteRateLimitStore, SqliteUnitOfWorkFactory
    database = SqliteUnitOfWorkFactory(sys.argv[1])
    store = SqliteRateLimitStore(database)
    print("ready", flush=True)
    sys.stdin.readline()
    passed = sum(
        store.take("shared", 1, rate=0.001, burst=100, now=1_800_000_000.0) == 0.0 for _ in range(80)
    )
    print(passed, flush=True)
    """
)


def test_processes_share_one_bucket(tmp_path: Path) -> None:
    database = SqliteUnitOfWorkFactory(tmp_path / "db.sqlite3")
    database.migrate()
    takers = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(database.path)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    try:
        for taker in takers:
            assert taker.stdout is not None and taker.stdout.readline().strip() == "ready"
        for taker in takers:
            assert taker.stdin is not None
            taker.stdin.write("go\n")
            taker.stdin.flush()
        results = [taker.communicate(timeout=120) for taker in takers]
    finally:
        for taker in takers:
            taker.kill()
    assert all(taker.returncode == 0 for taker in takers), [err[-2000:] for _, err in results]
    assert sum(int(out) for out, _ in results) == 100  # of 240 takes, the bucket's 100
    store = SqliteRateLimitStore(database)
    assert store.take("shared", 1, rate=0.001, burst=100, now=1_800_000_000.0) > 0
    store.close()
    database.close()
