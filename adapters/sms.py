"""The SmsSender port's adapters. No SMS provider is contracted yet, so both are for
development and tests: the console sender logs the message, the file sender writes one file
per message (the tests' and the developer's phone)."""

from __future__ import annotations

import json
from pathlib import Path
from uuid import uuid4

import structlog

log = structlog.get_logger(__name__)


class ConsoleSms:
    """Logs each message. A production log gets who and when, never the text: it holds a
    code that signs in or proves a phone (``show_text=False``)."""

    def __init__(self, *, show_text: bool = True) -> None:
        self.show_text = show_text

    def send(self, phone: str, text: str) -> None:
        log.info("sms", to=phone, text=text if self.show_text else "[withheld: it holds a code]")


class FileSms:
    """Writes each message to ``<directory>/<uuid>.json`` as ``{"to", "text"}``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    def send(self, phone: str, text: str) -> None:
        path = self.directory / f"{uuid4()}.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"to": phone, "text": text}))
        tmp.rename(path)
