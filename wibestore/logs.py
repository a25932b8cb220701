"""What our processes write to their logs: never a request body, a password, a token, a card
number or delivered credentials. ``build()`` calls ``configure_logging`` in every process.

Two things used to break that rule. structlog's default renderer prints a traceback with the
local variables of every frame (rich's ``show_locals``), so a 500 printed the raw body it failed
to decode, password included. And an exception's message can quote anything it was handed.
So tracebacks are plain (no locals), event keys that name a secret are masked, and the API
writes an unexpected error's traceback with its request's secrets replaced (api/logs.py).
uvicorn's access log gets the values of secret-looking query parameters masked (the sandbox
checkout link), and so does its error log, where it writes each websocket handshake with its
query (a socket's ``?token=`` is an access token).
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

MASK = "[redacted]"
SECRET_KEYS = re.compile(
    r"pass(word)?|token|secret|authorization|cookie|credential|card|cvv|pan\b|api_?key",
    re.IGNORECASE,
)
SECRET_QUERY = re.compile(
    r"([?&][^=&#\s]*(?:token|key|secret|signature|password|code)[^=&#\s]*=)[^&#\s]*",
    re.IGNORECASE,
)


def mask_secret_keys(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the value of any key that names a secret is never written."""
    for key in list(event_dict):
        if key != "event" and SECRET_KEYS.search(key):
            event_dict[key] = MASK
    return event_dict


class MaskQuerySecrets(logging.Filter):
    """uvicorn logs each request's and websocket handshake's path with its query: the sandbox
    checkout link carries a capability token there (``?token=``), a socket its access token."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                SECRET_QUERY.sub(rf"\1{MASK}", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def configure_logging() -> None:
    """structlog's defaults, with plain tracebacks (no frame locals) and secret keys masked;
    secrets in query strings masked in uvicorn's access log."""
    for name in ("uvicorn.access", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, MaskQuerySecrets) for f in logger.filters):
            logger.addFilter(MaskQuerySecrets())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.StackInfoRenderer(),
            structlog.dev.set_exc_info,
            structlog.processors.TimeStamper(fmt="%Y-%m-%d %H:%M:%S", utc=False),
            mask_secret_keys,
            structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback),
        ],
    )
