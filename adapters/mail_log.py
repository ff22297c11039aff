"""Mailer for development and tests: writes the confirmation to the log, sends nothing.

With ``reveal`` (development) the log line holds the live confirmation link, so the
composition root turns it on only in DEBUG; otherwise the line says a confirmation was
asked for and not sent, without the token.
"""

from __future__ import annotations

import logging
import threading
from urllib.parse import quote

logger = logging.getLogger("messenger.mail")


class LoggingMailer:
    """Logs each confirmation at INFO and remembers the latest token per address in
    ``sent`` (the ``keep`` most recent addresses) so tests can read it."""

    def __init__(self, link_template: str | None = None, *, keep: int = 100, reveal: bool = True) -> None:
        # link_template, e.g. "http://localhost:8080/confirm?token={token}", comes from
        # the composition root, which knows the routes; without it only the token is logged.
        self._link_template = link_template
        self._keep = keep
        self._reveal = reveal
        self._lock = threading.Lock()
        self.sent: dict[str, str] = {}

    def send_confirmation(self, email: str, token: str) -> None:
        if not self._reveal:
            logger.warning("No mailer is configured (SMTP_HOST): the confirmation for %s was not sent", email)
            return
        if self._link_template is None:
            logger.info("Confirmation token for %s: %s", email, token)
        else:
            logger.info(
                "Confirmation link for %s: %s", email, self._link_template.format(token=quote(token, safe=""))
            )
        with self._lock:
            self.sent.pop(email, None)  # re-inserted as the newest
            self.sent[email] = token
            while len(self.sent) > self._keep:
                del self.sent[next(iter(self.sent))]
