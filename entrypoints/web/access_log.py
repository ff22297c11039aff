"""One access-log line per request, with secrets kept out of it.

waitress writes no access log, so the app does. A line holds the method, the path with
its query string, the status and the duration; the values of query parameters that may
carry a secret (tokens ride in ``?jwt=`` as the spec allows) are replaced by
``[redacted]``. Bodies and headers (Authorization, Cookie) are never logged.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any
from urllib.parse import quote, unquote_plus

import falcon

log = logging.getLogger("messenger.access")

REDACTED = "[redacted]"
SECRET_PARAMETERS = frozenset({"jwt", "access_token", "refresh_token", "token", "password"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _printable(text: str) -> str:
    # The path arrives percent-decoded: a "%0A" in it must not start a forged log line.
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def is_secret(name: str) -> bool:
    """Whether a query parameter of this name may carry a secret (compared decoded and
    case-folded, so ``J%57T`` is caught too)."""
    return unquote_plus(name).strip().casefold() in SECRET_PARAMETERS


def redact_query(query: str) -> str:
    """The query string with the value of every secret parameter replaced, also inside
    a parameter that holds a URL of its own (``next=/x%3Fjwt%3D…``); everything else is
    kept as the client sent it."""
    if not query:
        return ""
    parts = []
    for part in query.split("&"):
        name, sep, value = part.partition("=")
        if is_secret(name):
            part = f"{name}={REDACTED}" if sep else name
        elif "?" in unquote_plus(value):
            path, _, inner = unquote_plus(value).partition("?")
            part = f"{name}={quote(path + '?' + redact_query(inner), safe='/?=&[]')}"
        parts.append(part)
    return "&".join(parts)


class AccessLog:
    """Falcon middleware: logs on ``messenger.access`` at INFO once the answer is final.

    Put it first in the middleware list: its ``process_response`` then runs last, after
    the error handlers and the other middleware have set the status.
    """

    def process_request(self, req: falcon.Request, resp: falcon.Response) -> None:
        req.context.access_log_started = time.perf_counter()

    def process_response(self, req: falcon.Request, resp: falcon.Response, resource: Any, ok: bool) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        started = getattr(req.context, "access_log_started", None)
        duration = (time.perf_counter() - started) * 1000 if started is not None else 0.0
        query = redact_query(req.query_string)
        log.info(
            "%s %s %s %d %.1fms",
            req.remote_addr or "-",
            req.method,
            _printable(f"{req.path}?{query}" if query else req.path),
            resp.status_code,
            duration,
        )
