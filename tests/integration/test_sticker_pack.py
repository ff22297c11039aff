"""The shipped sticker pack and the ``messenger add-sticker-pack`` command."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]
PACK = ROOT / "entrypoints" / "stickers" / "default"


def shipped_stickers() -> list[Path]:
    return sorted(PACK.glob("*.png"))


def test_the_default_pack_has_at_least_24_valid_pngs() -> None:
    stickers = shipped_stickers()
    assert len(stickers) >= 24
    for path in stickers:
        assert path.name[:2].isdigit() and path.name[2] == "_", path.name
        assert path.stat().st_size <= 512 * 1024  # the server's sticker limit
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:
            assert (image.format, image.size, image.mode) == ("PNG", (160, 160), "RGBA")


def test_the_licence_and_attribution_are_kept_beside_the_pack() -> None:
    licence = (PACK / "LICENSE.txt").read_text()
    assert "MIT License" in licence and "Copyright (c) Microsoft Corporation" in licence
    attribution = (PACK / "ATTRIBUTION.md").read_text()
    assert "Fluent Emoji" in attribution
    for path in shipped_stickers():
        assert path.name in attribution
    assert "build:stickers" in (ROOT / "package.json").read_text()


def run_cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = os.environ | {
        "APP_CONFIG": "entrypoints.config.EnvConfig",
        "APP_ENV_VARS": "DATABASE_PATH,UPLOAD_FOLDER,DEMO_DATA",
        "DATABASE_PATH": repr(str(tmp_path / "db" / "db.sqlite3")),
        "UPLOAD_FOLDER": repr(str(tmp_path / "upload")),
        "DEMO_DATA": "False",
    }
    return subprocess.run(
        [sys.executable, "-m", "entrypoints.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def stored(tmp_path: Path) -> set[Path]:
    upload = tmp_path / "upload"
    return {Path(d, n) for d, _, names in os.walk(upload) for n in names}


@pytest.fixture
def before(tmp_path: Path) -> set[Path]:
    """The files of a new database (it comes with the built-in pack)."""
    done = run_cli(tmp_path, "init-db")
    assert done.returncode == 0, done.stderr
    return stored(tmp_path)


def test_every_new_database_has_the_built_in_pack(tmp_path: Path, before: set[Path]) -> None:
    # DEMO_DATA is off, as on any production install: the stickers come all the same.
    assert len(before) == len(shipped_stickers())
    again = run_cli(tmp_path, "init-db")  # a second start adds nothing
    assert again.returncode == 0, again.stderr
    assert stored(tmp_path) == before


def test_a_database_from_before_the_built_in_pack_gets_it_on_start(tmp_path: Path, before: set[Path]) -> None:
    database = tmp_path / "db" / "db.sqlite3"
    with sqlite3.connect(database) as conn:  # as a database from before the pack shipped
        conn.execute("DELETE FROM stickers")
        conn.execute("DELETE FROM sticker_packs")
    conn.close()
    done = run_cli(tmp_path, "init-db")
    assert done.returncode == 0, done.stderr
    with sqlite3.connect(database) as conn:
        packs = conn.execute("SELECT count(*) FROM sticker_packs").fetchone()[0]
        stickers = conn.execute("SELECT count(*) FROM stickers").fetchone()[0]
    conn.close()
    assert (packs, stickers) == (1, len(shipped_stickers()))


def test_the_shipped_folder_is_added_as_it_is(tmp_path: Path, before: set[Path]) -> None:
    done = run_cli(tmp_path, "add-sticker-pack", "Эмоции", str(PACK))
    assert done.returncode == 0, done.stderr
    assert f"with {len(shipped_stickers())} stickers" in done.stdout
    added = stored(tmp_path) - before
    assert len(added) == len(shipped_stickers())  # LICENSE.txt, ATTRIBUTION.md skipped


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("notes.txt", b"not an image"),
        ("fake.png", b"<html><script>alert(1)</script></html>"),
        ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
    ],
)
def test_a_folder_with_a_non_image_is_refused(
    tmp_path: Path, before: set[Path], name: str, data: bytes
) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    for path in shipped_stickers()[:3]:
        shutil.copy(path, folder / path.name)
    (folder / name).write_bytes(data)
    done = run_cli(tmp_path, "add-sticker-pack", "Broken", str(folder))
    assert done.returncode == 1
    assert "refused" in done.stderr and name in done.stderr
    assert stored(tmp_path) == before  # the images before it were removed again


def test_an_oversized_sticker_is_refused(tmp_path: Path, before: set[Path]) -> None:
    folder = tmp_path / "pack"
    folder.mkdir()
    (folder / "huge.png").write_bytes(shipped_stickers()[0].read_bytes() + bytes(600 * 1024))
    done = run_cli(tmp_path, "add-sticker-pack", "Huge", str(folder))
    assert done.returncode == 1
    assert stored(tmp_path) == before
