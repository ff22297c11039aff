"""The OpenAPI document route (being built)."""

from __future__ import annotations

import falcon

from ..config import Settings


def add_doc_routes(app: falcon.App, settings: Settings) -> None:
    """Register /api/v1/openapi.json."""
