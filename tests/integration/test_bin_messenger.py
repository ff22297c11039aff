"""``bin/messenger``: the console script from .venv, runnable from any folder."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STICKERS = ROOT / "entrypoints" / "stickers" / "default"


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ROOT / "bin" / "messenger"), *args],
        cwd=cwd,
        env=os.environ | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_lists_the_commands_from_anywhere(tmp_path: Path) -> None:
    done = run(tmp_path, "--help")
    assert done.returncode == 0, done.stderr
    for command in ("serve", "demo-data", "init-db", "cleanup", "add-sticker-pack"):
        assert command in done.stdout


def test_relative_config_and_folder_are_the_callers(tmp_path: Path) -> None:
    (tmp_path / "config.toml").write_text(
        f'SECRET_KEY = "{"x" * 40}"\n'
        f'DATABASE_PATH = "{tmp_path / "db" / "messenger.sqlite3"}"\n'
        f'UPLOAD_FOLDER = "{tmp_path / "upload"}"\n'
    )
    pack = tmp_path / "my pack"
    pack.mkdir()
    for image in sorted(STICKERS.glob("*.png"))[:2]:
        shutil.copy(image, pack / image.name)

    made = run(tmp_path, "init-db", APP_CONFIG="config.toml")
    assert made.returncode == 0, made.stderr
    assert "database ready" in made.stdout
    added = run(tmp_path, "add-sticker-pack", "Мои", "my pack", APP_CONFIG="config.toml")
    assert added.returncode == 0, added.stderr
    assert "with 2 stickers" in added.stdout

    with sqlite3.connect(tmp_path / "db" / "messenger.sqlite3") as conn:
        titles = [row[0] for row in conn.execute("SELECT title FROM sticker_packs ORDER BY id")]
    assert titles[-1] == "Мои"
