"""What an unexpected error's log entry may show of its request: nothing secret (the process-wide
rules, masked keys and plain tracebacks, are wibestore/logs.py's). The traceback of an
unexpected error is written with the request's own secrets (its Authorization and Cookie
headers, its body and the strings in it) replaced before it leaves the process.
"""

from __future__ import annotations

import json
import re
import traceback
from collections.abc import Iterable
from typing import Any

from litestar import Request
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState

from wibestore.logs import MASK

SECRET_HEADERS = ("authorization", "cookie", "x-health-token", "x-signature", "x-api-key")
# What a secret looks like even when we do not know it: a JWT, or a card number's run of digits.
SECRET_SHAPES = re.compile(
    r"eyJ[\w-]+\.[\w-]+\.[\w-]+|\b(?:\d[ -]?){12,18}\d\b|(?i:bearer)\s+\S+",
)
LARGEST_SCANNED_BODY = 64 * 1024  # bigger bodies (uploads) are masked whole, not string by string
SHORTEST_SECRET = 4  # shorter strings from a body are not worth masking (and mask too much)


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
