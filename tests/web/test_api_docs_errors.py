"""The Errors section of docs/api_docs.md is the server's: its tables are generated from
the status table and the code catalogue, and every error example has the error shape."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema_rs

from entrypoints.config import Settings
from entrypoints.web.errors import codes_by_status
from entrypoints.web.openapi import openapi_document
from entrypoints.web.openapi.responses import error_codes_table, field_codes_table

API_DOCS = Path(__file__).resolve().parents[2] / "docs" / "api_docs.md"
SETTINGS = Settings(SECRET_KEY="x" * 40)


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end != -1 else None]


def test_the_markdown_docs_list_every_status_with_its_codes() -> None:
    errors = _section(API_DOCS.read_text(encoding="utf-8"), "## Errors")
    table = error_codes_table()
    assert table in errors, (
        f"docs/api_docs.md is behind the code: run python -m scripts.api_docs_tables\n\n{table}\n"
    )


def test_the_markdown_docs_list_every_field_code() -> None:
    errors = _section(API_DOCS.read_text(encoding="utf-8"), "## Errors")
    table = field_codes_table()
    assert table in errors, (
        f"docs/api_docs.md is behind the code: run python -m scripts.api_docs_tables\n\n{table}\n"
    )


def test_every_error_example_in_the_markdown_docs_has_the_error_shape() -> None:
    document = openapi_document(SETTINGS)
    error = {"components": document["components"], "$ref": "#/components/schemas/ErrorBody"}
    validator = jsonschema_rs.validator_for(error)
    codes = {code for found in codes_by_status().values() for code in found}
    examples = [
        line.strip()
        for line in API_DOCS.read_text(encoding="utf-8").splitlines()
        if line.strip().startswith('{"error"')
    ]
    assert len(examples) > 20
    for example in examples:
        body = json.loads(example)["error"]
        assert validator.is_valid({"error": body}), example
        assert body["code"] in codes, example
        assert body.get("fields", {}).keys() == body.get("details", {}).keys(), example
