"""SQLite's trigram index holds exactly ``normalize.search_text`` of every user.

The memory adapter searches ``search_text`` itself; SQLite builds the same text in SQL, in
the triggers and the back-fill of migration step 2, from the key columns the repository
fills with ``search_key``. These tests pin the SQL to the helper: if either changes alone,
the two adapters would search different text.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.sqlite import SqliteUnitOfWorkFactory
from adapters.sqlite.migrations import STEPS, migrate
from adapters.sqlite.repositories import SqliteUserRepository
from adapters.sqlite.rows import dump_time
from messenger_core.model import NewUser, User
from messenger_core.normalize import email_key, search_key, search_text

T0 = datetime(2026, 1, 1, tzinfo=UTC)

# Names whose folding is not plain lower-casing: Cyrillic with ё, ß, the ﬁ ligature and
# full-width letters (NFKC), Turkish İ, the titlecase digraph ǅ, Greek final sigma, mixed
# case, inner spaces and control characters (dropped by search_key).
AWKWARD_NAMES = [
    ("Алёна", "ЁЛКИНА-Семёнова"),
    ("Straße", "STRASSE"),
    ("ﬁona", "ﬂoyd"),
    ("ＡＢＣ", "Ⅻ"),
    ("İlkay", "ǅemal"),
    ("ΟΔΥΣΣΕΥΣ", "Σίσυφος"),
    ("MiXeD CaSe", "o'Brien"),
    ("Bell\x07", "Tab\tName\x00"),
]


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[SqliteUnitOfWorkFactory]:
    made = SqliteUnitOfWorkFactory(tmp_path / "search.sqlite3")
    made.migrate()
    yield made
    made.close()


def new_user(number: int, first_name: str, second_name: str, alternative_id: str | None = None) -> NewUser:
    return NewUser(
        alternative_id=alternative_id or f"AbÇ{number:04d}Ё",
        email=f"user{number}@example.org",
        password_hash="x",
        first_name=first_name,
        second_name=second_name,
        created_date=T0,
    )


def old_user_row(conn: sqlite3.Connection, new: NewUser) -> int:
    """Insert the user with the columns of the first schema and its folded keys; the id."""
    values = {
        "alternative_id": new.alternative_id,
        "alternative_id_key": search_key(new.alternative_id),
        "email": new.email,
        "email_key": email_key(new.email),
        "password_hash": new.password_hash,
        "first_name": new.first_name,
        "second_name": new.second_name,
        "first_name_key": search_key(new.first_name),
        "second_name_key": search_key(new.second_name),
        "created_date": dump_time(new.created_date),
    }
    names, marks = ", ".join(values), ", ".join("?" * len(values))
    cursor = conn.execute(f"INSERT INTO users ({names}) VALUES ({marks})", list(values.values()))
    assert cursor.lastrowid is not None
    return cursor.lastrowid


def indexed(conn: sqlite3.Connection, user_id: int) -> str:
    row = conn.execute("SELECT keys FROM user_search WHERE rowid = ?", (user_id,)).fetchone()
    assert row is not None, f"user {user_id} is not in user_search"
    keys: str = row[0]
    return keys


def expected(user: User) -> str:
    return search_text(user.first_name, user.second_name, user.alternative_id, user.username)


def test_search_text_is_the_folded_keys_one_per_line() -> None:
    assert search_text("Алёна", "Straße", "AbC1") == "алена\nstrasse\nabc1\n"
    assert search_text("ﬁ", "Ｘ", "Bell\x07\n", "ivan_01") == "fi\nx\nbell\nivan_01"
    assert search_text("", "", "") == "\n\n\n"


def test_the_insert_trigger_indexes_search_text(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow:
        users = [uow.users.add(new_user(n, *names)) for n, names in enumerate(AWKWARD_NAMES)]
        conn = factory.connection()
        assert {u.id: indexed(conn, u.id) for u in users} == {u.id: expected(u) for u in users}


def test_the_update_trigger_follows_names_and_public_id(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow:
        user = uow.users.add(new_user(1, "Alena", "Smith"))
        conn = factory.connection()
        for n, (first, second) in enumerate(AWKWARD_NAMES):
            changed = attrs.evolve(user, first_name=first, second_name=second, alternative_id=f"ÉtÉ{n}")
            uow.users.update(changed)
            assert indexed(conn, user.id) == expected(changed)
        # An update that leaves the keys alone leaves the text alone.
        uow.users.update(attrs.evolve(changed, email="other@example.org", age=30))
        assert indexed(conn, user.id) == expected(changed)
        assert conn.execute("SELECT count(*) FROM user_search").fetchone()[0] == 1


def test_the_back_fill_of_step_2_indexes_search_text(tmp_path: Path) -> None:
    """Users stored before the index existed get the same text as later ones."""
    conn = sqlite3.connect(tmp_path / "old.sqlite3", isolation_level=None)
    conn.row_factory = sqlite3.Row
    conn.execute("BEGIN")
    for statement in STEPS[0]:
        conn.execute(statement)
    conn.execute("PRAGMA user_version = 1")
    # Rows as step 1 stored them (today's repository reads columns that came later).
    ids = [old_user_row(conn, new_user(n, *names)) for n, names in enumerate(AWKWARD_NAMES)]
    conn.execute("COMMIT")

    migrate(conn)

    found = [SqliteUserRepository(conn).get(user_id) for user_id in ids]
    users = [user for user in found if user is not None]
    assert len(users) == len(ids)
    assert {u.id: indexed(conn, u.id) for u in users} == {u.id: expected(u) for u in users}
    conn.close()


def test_the_username_is_indexed_and_follows_changes(factory: SqliteUnitOfWorkFactory) -> None:
    with factory() as uow:
        user = uow.users.add(new_user(1, "Alena", "Smith"))
        conn = factory.connection()
        named = attrs.evolve(user, username="alena_s")
        uow.users.update(named)
        assert indexed(conn, user.id) == expected(named) == "alena\nsmith\nabç0001е\nalena_s"
        uow.users.update(attrs.evolve(named, username=None))
        assert indexed(conn, user.id).endswith("\n")


def test_the_triggers_agree_with_search_text_for_any_names(factory: SqliteUnitOfWorkFactory) -> None:
    conn = factory.connection()
    names = st.text(max_size=20)

    @settings(max_examples=150, deadline=None)
    @given(first=names, second=names, alternative_id=st.text(min_size=1, max_size=16), renamed=names)
    def check(first: str, second: str, alternative_id: str, renamed: str) -> None:
        with factory() as uow:  # never committed: each example starts from an empty table
            user = uow.users.add(new_user(1, first, second, alternative_id))
            assert indexed(conn, user.id) == expected(user)
            changed = attrs.evolve(user, second_name=renamed)
            uow.users.update(changed)
            assert indexed(conn, user.id) == expected(changed)

    check()
