"""Mailer over SMTP (the standard library's smtplib): the confirmation as a real email.

One connection per message: confirmations are rare, and a connection kept open would
need keep-alives and reconnects that one short session avoids.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from urllib.parse import quote

SECURITY = ("starttls", "tls", "none")

_BODY = """Здравствуйте!

Чтобы подтвердить адрес почты в Мессенджере, откройте ссылку:
{link}

Если вы не регистрировались, просто удалите это письмо.

—

Hello! To confirm your email address for the Messenger, open the link above.
If it was not you, just delete this email.
"""


class SmtpMailer:
    """Sends each confirmation as an email with a link built from ``link_template``
    (e.g. "https://chat.example.org/confirm?token={token}")."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        sender: str,
        link_template: str,
        security: str = "starttls",
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        """``tls_context``: how the relay's certificate is checked (default: against the
        system's certificate authorities, with its host name)."""
        if security not in SECURITY:
            raise ValueError(f"security must be one of {SECURITY}")
        self.host, self.port, self.sender = host, port, sender
        self.link_template = link_template
        self.security = security
        self.username, self.password = username, password
        self.timeout = timeout
        self.tls_context = tls_context

    def send_confirmation(self, email: str, token: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = email
        message["Subject"] = "Подтвердите адрес почты · Confirm your email"
        message.set_content(_BODY.format(link=self.link_template.format(token=quote(token, safe=""))))
        context = self.tls_context or ssl.create_default_context()
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        with smtp:
            if self.security == "starttls":
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(message)
