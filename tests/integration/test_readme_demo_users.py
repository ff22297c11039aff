"""The README's demo logins are the demo data's users: every one, with their ID and city.

The demo database is built as ``bin/run`` builds it (``prepare_database`` with
DEMO_DATA), so a change to the demo loader that changes who is there, or their IDs, fails
here until the README says so too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from entrypoints.bootstrap import prepare_database
from entrypoints.config import Settings
from entrypoints.demo import DEMO_PASSWORD
from tests.unit.test_readme import README, section, table_rows


def test_the_readme_lists_every_demo_user_with_their_id(tmp_path: Path) -> None:
    settings = Settings(
        SECRET_KEY="x" * 40,
        DATABASE_PATH=str(tmp_path / "db" / "messenger.sqlite3"),
        UPLOAD_FOLDER=str(tmp_path / "upload"),
        DEMO_DATA=True,
    )
    prepare_database(settings)
    with sqlite3.connect(settings.DATABASE_PATH) as conn:
        users = {
            email: (f"{first} {second}", f"`{public_id}`", city)
            for email, first, second, public_id, city in conn.execute(
                "SELECT email, first_name, second_name, alternative_id, city FROM users ORDER BY id"
            )
        }
    listed = {row[0]: tuple(row[1:4]) for row in table_rows(section("## Demo logins"))}
    assert listed == users
    assert f"password is `{DEMO_PASSWORD}`" in README.read_text()
