"""What our processes write to their logs: never a request body, a password, a token, a card
number or delivered credentials. ``build()`` calls ``configure_logging`` in every process.

Two things used to break that rule. structlog's default renderer prints a traceback with the
local variables of every frame (rich's ``show_locals``), so a 500 printed the raw body it failed
to decode, password included. And an exception's message can quote anything it was handed.
So tracebacks are plain (no locals), event keys that name a secret are masked, and the traceback
of an unexpected error is written with the request's own secrets (its Authorization and Cookie
headers, its body and the strings in it) replaced before it leaves the process. uvicorn's access
log gets the values of secret-looking query parameters masked (the sandbox checkout link).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
from collections.abc import Iterable, MutableMapping
from typing import Any

import structlog
from litestar import Request
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

MASK = "[redacted]"
SECRET_KEYS = re.compile(
    r"pass(word)?|token|secret|authorization|cookie|credential|card|cvv|pan\b|api_?key",
    re.IGNORECASE,
)
SECRET_HEADERS = ("authorization", "cookie", "x-health-token", "x-signature", "x-api-key")
# What a secret looks like even when we do not know it: a JWT, or a card number's run of digits.
SECRET_SHAPES = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]+|\b(?:\d[ -]?){12,18}\d\b|(?i:bearer)\s+\S+",
)
SECRET_QUERY = re.compile(
    r"([?&][^=&#\s]*(?:token|key|secret|signature|password|code)[^=&#\s]*=)[^&#\s]*",
    re.IGNORECASE,
)
LARGEST_SCANNED_BODY = 64 * 1024  # bigger bodies (uploads) are masked whole, not string by string
SHORTEST_SECRET = 4  # shorter strings from a body are not worth masking (and mask too much)


def mask_secret_keys(
    _: Any, __: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """A structlog processor: the value of any key that names a secret is never written."""
    for key in list(event_dict):
        if key != "event" and SECRET_KEYS.search(key):
            event_dict[key] = MASK
    return event_dict


class MaskQuerySecrets(logging.Filter):
    """uvicorn's access log prints each request's path with its query: the sandbox checkout
    link carries a capability token there (``?token=``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                SECRET_QUERY.sub(rf"\1{MASK}", a) if isinstance(a, str) else a for a in record.args
            )
        return True


def configure_logging() -> None:
    """structlog's defaults, with plain tracebacks (no frame locals) and secret keys masked;
    secrets in query strings masked in uvicorn's access log."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskQuerySecrets) for f in access.filters):
        access.addFilter(MaskQuerySecrets())
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


def request_secrets(request: Request[Any, Any, Any]) -> list[str]:
    """The strings of this request that must never be logged, longest first."""
    found = [request.headers.get(h, "") for h in SECRET_HEADERS]
    found += [value.split(None, 1)[-1] for value in found if " " in value]
    body = value_or_default(ScopeState.from_scope(request.scope).body, b"")
    if body:
        text = body.decode("utf-8", "replace")
        found += [text, repr(body), str(body)]
        if len(body) <= LARGEST_SCANNED_BODY:
            found += _strings_in(text)
    return sorted({s for s in found if len(s) >= SHORTEST_SECRET}, key=len, reverse=True)


def _strings_in(text: str) -> list[str]:
    try:
        document = json.loads(text)
    except ValueError:
        return re.findall(r"[^\s\"'&=,:{}]+", text)
    strings: list[str] = []
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings.append(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif item is not None and not isinstance(item, bool):
            strings.append(str(item))
    return strings


def scrub(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, MASK)
    return SECRET_SHAPES.sub(MASK, text)


def safe_traceback(exc: BaseException, secrets: Iterable[str]) -> str:
    """The traceback as the standard library prints it (no locals), with the secrets masked."""
    return scrub("".join(traceback.format_exception(exc)), secrets)
