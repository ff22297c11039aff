"""Starting on the configured storage: ``messenger init-db`` on PostgreSQL and S3, and a
database or bucket that cannot be used failing with one clear line, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from scripts.live_server import ROOT, free_port
from scripts.throwaway_s3 import ThrowawayS3
from tests.postgres import cluster


def messenger(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    values = {"DATABASE_PATH": repr(str(tmp_path / "db" / "m.sqlite3")), "DEMO_DATA": "False", **settings}
    env = {k: v for k, v in os.environ.items() if not k.startswith("APP_")}
    env |= values | {"APP_CONFIG": "entrypoints.config.EnvConfig", "APP_ENV_VARS": ",".join(values)}
    return subprocess.run(
        [sys.executable, "__main__.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module")
def s3() -> Iterator[ThrowawayS3]:
    with ThrowawayS3() as server:
        server.create_bucket("uploads")
        yield server


def test_init_db_builds_the_schema_and_the_sticker_pack_on_postgres_and_s3(
    tmp_path: Path, s3: ThrowawayS3, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = cluster().create_database("started")
    for name, value in s3.env().items():
        monkeypatch.setenv(name, value)
    done = messenger(tmp_path, "init-db", DATABASE_URL=url, BLOB_STORE=s3.blob_store_url("uploads", "m"))
    assert done.returncode == 0, done.stderr
    assert "database ready: postgresql://" in done.stdout
    with psycopg.connect(url) as conn:
        packs = conn.execute("SELECT count(*) FROM sticker_packs").fetchone()
        stickers = conn.execute("SELECT count(*) FROM stickers").fetchone()
    assert packs == (1,) and stickers is not None and stickers[0] > 10
    assert len(s3.client().list_objects_v2(Bucket="uploads", Prefix="m/")["Contents"]) == stickers[0]
    again = messenger(tmp_path, "init-db", DATABASE_URL=url, BLOB_STORE=s3.blob_store_url("uploads", "m"))
    assert again.returncode == 0, again.stderr  # re-running adds no second pack
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM sticker_packs").fetchone() == (1,)


@pytest.mark.parametrize(
    ("settings", "says"),
    [
        (
            {"DATABASE_URL": f"postgresql://nobody:pw@127.0.0.1:{free_port()}/none"},
            "cannot use the database at",
        ),
        ({"DATABASE_URL": "mysql://x/y"}, "configuration error: DATABASE_URL must be"),
        ({"NOTIFIER": "postgres"}, "configuration error: NOTIFIER='postgres' needs"),
    ],
)
def test_a_database_that_cannot_be_used_fails_in_one_line(
    tmp_path: Path, settings: dict[str, str], says: str
) -> None:
    done = messenger(tmp_path, "init-db", **settings)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and says in lines[0], done.stderr
    assert "pw@" not in lines[0]  # the password is not printed
    assert "Traceback" not in done.stderr


def test_a_bucket_that_cannot_be_used_fails_in_one_line(tmp_path: Path, s3: ThrowawayS3) -> None:
    done = messenger(tmp_path, "init-db", BLOB_STORE=s3.blob_store_url("no-such-bucket"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot use the blob store s3://no-such-bucket" in lines[0], done.stderr
