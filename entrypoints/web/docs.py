"""The OpenAPI document route: ``GET /api/v1/openapi.json``."""

from __future__ import annotations

import json

import falcon

from ..config import Settings
from . import WebApp
from .openapi import openapi_document

OPENAPI_PATH = "/api/v1/openapi.json"


class OpenApiResource:
    """Serves the OpenAPI 3.1 document, built once from the settings (it states their limits)."""

    def __init__(self, settings: Settings) -> None:
        self._body = json.dumps(openapi_document(settings), ensure_ascii=False).encode()

    def on_get(self, req: falcon.Request, resp: falcon.Response) -> None:
        resp.content_type = falcon.MEDIA_JSON
        resp.cache_control = ["no-cache"]
        resp.data = self._body


def add_doc_routes(app: WebApp, settings: Settings) -> None:
    """Register /api/v1/openapi.json."""
    app.add_route(OPENAPI_PATH, OpenApiResource(settings))
