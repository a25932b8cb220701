"""The Mailer port's adapters: console (default), file (one .eml per message) and SMTP."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit
from uuid import uuid4

import structlog

from application.ports import Email

log = structlog.get_logger(__name__)


def _message(email: Email, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = email.to
    msg["Subject"] = email.subject
    msg.set_content(email.body)
    return msg


class ConsoleMailer:
    """Prints mail to the log: the development inbox. Mail bodies carry sign-in and reset links,
    so a production log gets only who and what (``show_body=False``)."""

    def __init__(self, sender: str, *, show_body: bool = True) -> None:
        self.sender = sender
        self.show_body = show_body

    def send(self, email: Email) -> None:
        body = email.body if self.show_body else "[withheld: links in it are credentials]"
        log.info("email", to=email.to, subject=email.subject, body=body)


class FileMailer:
    """Writes each message to ``<directory>/<uuid>.eml``: the dev inbox and the tests' inbox."""

    def __init__(self, directory: Path, sender: str) -> None:
        self.directory = directory
        self.sender = sender
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, email: Email) -> None:
        path = self.directory / f"{uuid4()}.eml"
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(bytes(_message(email, self.sender)))
        tmp.rename(path)


class SmtpMailer:
    """``smtp://user:pass@host:587`` (STARTTLS) or ``smtps://user:pass@host:465``."""

    def __init__(self, url: str, sender: str) -> None:
        self.url = urlsplit(url)
        self.sender = sender

    def send(self, email: Email) -> None:
        host, port = self.url.hostname or "localhost", self.url.port
        if self.url.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(host, port or 465, timeout=10)
        else:
            client = smtplib.SMTP(host, port or 587, timeout=10)
            client.starttls(context=ssl.create_default_context())
        with client:
            if self.url.username:
                client.login(unquote(self.url.username), unquote(self.url.password or ""))
            client.send_message(_message(email, self.sender))
