"""Rewrite the generated tables of docs/api_docs.md (## Errors) from the code:
``python -m scripts.api_docs_tables``. tests/web/test_api_docs_errors.py fails until the
docs hold what this writes."""

from __future__ import annotations

import re
from pathlib import Path

from entrypoints.web.openapi.responses import error_codes_table, field_codes_table

API_DOCS = Path(__file__).resolve().parents[1] / "docs" / "api_docs.md"


def replace_table(text: str, header: str, table: str) -> str:
    """Put ``table`` where the Markdown table starting with ``header`` stands."""
    pattern = re.compile(re.escape(header) + r"\n(?:\|.*\n?)*")
    if not pattern.search(text):
        raise LookupError(f"no table starting with {header!r}")
    return pattern.sub(lambda _: table + "\n", text, count=1)


def main() -> None:
    text = API_DOCS.read_text(encoding="utf-8")
    text = replace_table(text, "| status | codes | when |", error_codes_table())
    text = replace_table(text, "| code | message |", field_codes_table())
    API_DOCS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
