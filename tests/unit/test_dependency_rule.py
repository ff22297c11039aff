"""The dependency rule, enforced by parsing every import in the repository.

entrypoints → adapters → messenger_core; the core imports only the standard library
and attrs, and reads no clock or random source itself.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STDLIB = set(sys.stdlib_module_names)
CORE_FORBIDDEN_STDLIB = {"sqlite3", "random", "secrets", "uuid", "socket", "wsgiref", "http"}
CORE_FORBIDDEN_CALLS = {"datetime.now", "datetime.utcnow", "time.time", "date.today"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def top(name: str) -> str:
    return name.split(".")[0]


@pytest.mark.parametrize("path", modules("messenger_core"), ids=lambda p: p.name)
def test_core_imports_only_stdlib_and_attrs(path: Path) -> None:
    for name in imports(path):
        assert top(name) in STDLIB | {"attrs"}, f"{path.name} imports {name}"
        assert top(name) not in CORE_FORBIDDEN_STDLIB, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules("messenger_core"), ids=lambda p: p.name)
def test_core_reads_no_clock(path: Path) -> None:
    source = path.read_text()
    for call in CORE_FORBIDDEN_CALLS:
        assert f"{call}(" not in source, f"{path.name} calls {call}: use the Clock port"


@pytest.mark.parametrize("path", modules("adapters"), ids=lambda p: str(p.relative_to(ROOT)))
def test_adapters_import_no_entrypoints_nor_each_other(path: Path) -> None:
    own = path.relative_to(ROOT / "adapters").parts[0].removesuffix(".py")
    for name in imports(path):
        assert top(name) not in {"entrypoints", "tests"}, f"{path} imports {name}"
        if top(name) == "adapters":
            assert name.split(".")[1] == own, f"{path} imports another adapter: {name}"


@pytest.mark.parametrize("path", modules("entrypoints"), ids=lambda p: str(p.relative_to(ROOT)))
def test_only_bootstrap_imports_adapters(path: Path) -> None:
    for name in imports(path):
        assert top(name) != "tests", f"{path} imports tests"
        if path.name != "bootstrap.py":
            assert top(name) != "adapters", f"{path} imports {name}: only bootstrap.py may"


def test_the_rule_sees_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import falcon\nfrom adapters.memory import X\n")
    assert {"falcon", "adapters.memory"} <= imports(bad)


def test_test_modules_have_unique_names() -> None:
    """pytest imports test modules by basename (rootdir-relative, no packages): two alike stop collection."""
    seen: dict[str, Path] = {}
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        assert path.name not in seen, f"{path} and {seen[path.name]} share a name"
        seen[path.name] = path
