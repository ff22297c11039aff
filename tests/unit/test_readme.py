"""The README stays true: its library example runs as written, and its settings table is
the settings of the code, with their defaults."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import attrs
import pytest

from entrypoints.config import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


def test_library_example_runs(capsys: pytest.CaptureFixture[str]) -> None:
    example = re.search(r"```python\n(.*?)```", README.read_text(), re.S)
    assert example is not None
    exec(compile(example.group(1), "README.md", "exec"), {})
    assert capsys.readouterr().out.strip() == "['Hello!']"


def section(heading: str) -> str:
    """The README's text under ``heading`` up to the next heading of any level."""
    text = README.read_text()
    start = text.index(f"\n{heading}\n") + len(heading) + 2
    following = re.search(r"^#{1,6} ", text[start:], re.M)
    return text[start : start + following.start()] if following else text[start:]


def table_rows(text: str) -> list[list[str]]:
    """The cells of each body row of the Markdown tables in ``text``."""
    rows = [line.strip().strip("|").split(" | ") for line in text.splitlines() if line.startswith("| ")]
    return [[cell.strip() for cell in row] for row in rows if not set(row[0]) <= set("-: ")][1:]


UNITS = {"KiB": 1024, "MiB": 1024**2, "GiB": 1024**3}


def written_default(cell: str) -> Any:
    """A default as the table writes it: a Python literal, or a size such as `16 MiB`."""
    found = re.fullmatch(r"`([^`]*)`", cell)
    assert found, f"a default is one `code` span: {cell!r}"
    value = found.group(1)
    sized = re.fullmatch(r"(\d+) (KiB|MiB|GiB)", value)
    return int(sized.group(1)) * UNITS[sized.group(2)] if sized else ast.literal_eval(value)


def test_the_settings_table_lists_every_setting_with_its_default() -> None:
    rows = table_rows(section("### Settings"))
    written = {row[0].strip("`"): row[1] for row in rows}
    fields = {f.name: f.default for f in attrs.fields(Settings)}
    assert len(written) == len(rows), "a setting is listed twice"
    assert sorted(set(fields) - set(written)) == [], "settings missing from the README's table"
    assert sorted(set(written) - set(fields)) == [], "the README lists settings the code lacks"
    for name, cell in written.items():
        assert written_default(cell) == fields[name], f"{name}: README says {cell}, the code {fields[name]!r}"
    assert all(row[2] for row in rows), "every setting says what it does"
