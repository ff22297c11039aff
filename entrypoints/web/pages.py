"""Pages of the web interface (being built)."""

from __future__ import annotations

import falcon

from messenger_core import Messenger

from ..config import Settings


def add_page_routes(app: falcon.App, messenger: Messenger, settings: Settings) -> None:
    """Register the pages."""
