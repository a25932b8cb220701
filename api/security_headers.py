"""Headers every response carries, whoever produced it: a handler, an error handler, the
router's own 404/405, or the /media/ static files. They are added as the response starts
(Litestar's ``before_send``), so no path through the app can miss them.

The Content-Security-Policy only forbids framing: a policy on scripts would break the Swagger
UI (its assets come from a CDN) and the sandbox checkout page (an inline script).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar.datastructures import MutableScopeHeaders

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
}
HSTS = "max-age=31536000; includeSubDomains"  # production only: it is served over HTTPS


def security_headers(production: bool) -> Callable[[Any, Any], Awaitable[None]]:
    wanted = {**SECURITY_HEADERS, **({"Strict-Transport-Security": HSTS} if production else {})}

    async def add_security_headers(message: Any, scope: Any) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        for name, value in wanted.items():
            if name not in headers:  # a handler that set its own keeps it
                headers[name] = value

    return add_security_headers
