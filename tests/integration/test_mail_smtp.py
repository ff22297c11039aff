"""SmtpMailer against a real SMTP server on loopback (aiosmtpd), and which mailer the
composition root picks."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from adapters.mail_log import LoggingMailer
from adapters.mail_smtp import SmtpMailer
from entrypoints.bootstrap import build_mailer
from entrypoints.config import Settings
from scripts.live_server import free_port


class Inbox:
    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_the_confirmation_arrives_with_its_link(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpMailer(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="Messenger <noreply@example.org>",
        link_template="https://chat.example.org/confirm?token={token}",
    )
    mailer.send_confirmation("анна@example.org", "a.b+c/d")
    [mail] = inbox.messages
    assert mail["To"] == "анна@example.org" and "noreply@example.org" in mail["From"]
    body = mail.get_content()
    assert "https://chat.example.org/confirm?token=a.b%2Bc%2Fd" in body


def test_an_unknown_security_mode_is_refused() -> None:
    with pytest.raises(ValueError):
        SmtpMailer(host="h", port=1, sender="s", link_template="{token}", security="ssl3")


def test_production_logs_no_tokens(caplog: pytest.LogCaptureFixture) -> None:
    mailer = build_mailer(Settings(DEBUG=False))
    with caplog.at_level(logging.INFO, logger="messenger.mail"):
        mailer.send_confirmation("ann@example.org", "live.token.value")
    assert "live.token.value" not in caplog.text
    assert "not sent" in caplog.text


def test_development_logs_the_link() -> None:
    mailer = build_mailer(Settings(DEBUG=True, PUBLIC_URL="http://localhost:5000/"))
    assert isinstance(mailer, LoggingMailer)
    mailer.send_confirmation("ann@example.org", "tok")
    assert mailer.sent == {"ann@example.org": "tok"}


def test_smtp_is_chosen_when_configured(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    settings = Settings(
        SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_SECURITY="none", PUBLIC_URL="https://x.org"
    )
    build_mailer(settings).send_confirmation("b@example.org", "t1")
    assert "https://x.org/confirm?token=t1" in inbox.messages[0].get_content()
