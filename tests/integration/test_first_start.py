"""A first start that fails half-way through the demo data leaves no database behind:
``prepare_database`` builds a new one under a temporary name and renames it into place
only when it is complete, so the next start builds it again instead of serving half."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from entrypoints import demo
from entrypoints.bootstrap import prepare_database
from entrypoints.config import Settings


class StartFailed(Exception):
    pass


def settings(folder: Path) -> Settings:
    return Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(folder / "db" / "messenger.sqlite3"),
        UPLOAD_FOLDER=str(folder / "upload"),
        DEMO_DATA=True,
    )


def test_a_start_that_fails_half_way_leaves_no_database_and_the_next_builds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = settings(tmp_path)
    whole = demo.load_demo_data

    def half(messenger: Any, **kwargs: Any) -> None:  # one user in, then the start dies
        messenger.register(
            first_name="Половина", second_name="Данных", email="half@example.com", password="x" * 12
        )
        raise StartFailed

    monkeypatch.setattr(demo, "load_demo_data", half)
    with pytest.raises(StartFailed):
        prepare_database(made)
    database = Path(made.DATABASE_PATH)
    assert not database.exists()
    left = [p.name for p in database.parent.iterdir()]
    assert all(name.startswith(f"{database.name}.building") for name in left), (
        left
    )  # the next start throws it away

    monkeypatch.setattr(demo, "load_demo_data", whole)
    assert prepare_database(made) is True  # created now, not taken as an existing database
    with sqlite3.connect(database) as conn:
        emails = [row[0] for row in conn.execute("SELECT email FROM users")]
    assert "half@example.com" not in emails
    assert "alena@example.com" in emails and len(emails) == 8
    assert not [p.name for p in database.parent.iterdir() if ".building" in p.name]  # nothing left


def test_a_forced_rebuild_that_fails_keeps_the_old_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from entrypoints.cli import make_demo_data

    made = settings(tmp_path)
    assert prepare_database(made) is True
    database = Path(made.DATABASE_PATH)
    with sqlite3.connect(database) as conn:  # the operator's own change, kept unless replaced
        conn.execute("UPDATE users SET first_name = 'Сохранённая' WHERE email = 'alena@example.com'")
    conn.close()

    def dies(messenger: Any, **kwargs: Any) -> None:
        raise StartFailed

    monkeypatch.setattr(demo, "load_demo_data", dies)
    with pytest.raises(StartFailed):
        make_demo_data(made, force=True)
    with sqlite3.connect(database) as conn:
        names = [row[0] for row in conn.execute("SELECT first_name FROM users")]
    conn.close()
    assert "Сохранённая" in names and len(names) == 8

    monkeypatch.undo()
    assert make_demo_data(made, force=True) == 0  # a rebuild that completes replaces it
    with sqlite3.connect(database) as conn:
        names = [row[0] for row in conn.execute("SELECT first_name FROM users")]
    conn.close()
    assert "Сохранённая" not in names and len(names) == 8
