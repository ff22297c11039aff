"""SmtpMailer against a real SMTP server on loopback (aiosmtpd), and which mailer the
composition root picks."""

from __future__ import annotations

import logging
import ssl
import subprocess
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

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


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1, made with Debian's openssl."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


class Accounts:
    """aiosmtpd's authenticator: one account, and every attempt remembered."""

    def __init__(self) -> None:
        self.attempts: list[tuple[bytes, bytes]] = []

    def __call__(
        self, server: object, session: object, envelope: object, mechanism: str, data: object
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        ok = (data.login, data.password) == (b"bot", b"s3cret")
        self.attempts.append((data.login, data.password))
        return AuthResult(success=ok)


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_a_relay_with_tls_and_a_login_takes_the_confirmation(
    certificate: tuple[Path, Path], security: str
) -> None:
    cert, key = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    # The mailer checks the relay's certificate (the system's CAs by default): here, the test's.
    trusting = ssl.create_default_context(cafile=str(cert))
    inbox, accounts, port = Inbox(), Accounts(), free_port()
    options: dict[str, Any] = (
        {"tls_context": server_tls, "require_starttls": True, "auth_require_tls": True}
        if security == "starttls"
        else {"ssl_context": server_tls, "auth_require_tls": False}  # aiosmtpd's check knows STARTTLS only
    )
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=accounts, **options)
    controller.start()
    try:
        mailer = SmtpMailer(
            host="127.0.0.1",
            port=port,
            security=security,
            username="bot",
            password="s3cret",
            sender="noreply@example.org",
            link_template="https://chat.example.org/confirm?token={token}",
            tls_context=trusting,
        )
        mailer.send_confirmation("anna@example.org", "tok")
    finally:
        controller.stop()
    [mail] = inbox.messages
    assert "https://chat.example.org/confirm?token=tok" in mail.get_content()
    # Inside TLS only: the STARTTLS relay offers no AUTH before it, the other speaks only TLS.
    assert accounts.attempts == [(b"bot", b"s3cret")]
