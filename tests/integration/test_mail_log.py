"""LoggingMailer: the confirmation goes to the log and to ``sent``."""

from __future__ import annotations

import logging

import pytest

from adapters.mail_log import LoggingMailer
from messenger_core.ports import Mailer


def test_logs_the_token_at_info(caplog: pytest.LogCaptureFixture) -> None:
    mailer: Mailer = LoggingMailer()  # checked by mypy
    with caplog.at_level(logging.INFO, logger="messenger.mail"):
        mailer.send_confirmation("ann@example.org", "tok.en-1")
    [record] = caplog.records
    assert record.name == "messenger.mail" and record.levelno == logging.INFO
    assert "ann@example.org" in record.getMessage() and "tok.en-1" in record.getMessage()


def test_logs_the_link_when_given_a_template(caplog: pytest.LogCaptureFixture) -> None:
    mailer = LoggingMailer("http://localhost:8080/confirm?token={token}")
    with caplog.at_level(logging.INFO, logger="messenger.mail"):
        mailer.send_confirmation("ann@example.org", "a.b-c_d")
    assert "http://localhost:8080/confirm?token=a.b-c_d" in caplog.text


def test_sent_keeps_the_latest_token_of_recent_addresses() -> None:
    mailer = LoggingMailer(keep=2)
    mailer.send_confirmation("a@x", "1")
    mailer.send_confirmation("b@x", "2")
    mailer.send_confirmation("a@x", "3")
    mailer.send_confirmation("c@x", "4")
    assert mailer.sent == {"a@x": "3", "c@x": "4"}
