"""Request throttling (CONTRACT §6, DESIGN §5): fixed one-minute windows per client.

Scopes: ``auth`` (sign-in, sign-up, reset: per address), ``uploads`` (per user), ``chat``
(chat messages sent, over REST or a socket: per user), ``user`` (any other call with a valid
token, per user) and ``anon`` (per address). The counting (Redis
shared by every API process, or memory) is adapters/request_counts.py's.
"""

from __future__ import annotations

import re
from typing import Any

from api.errors import ApiError
from application.ports import RequestCounter

AUTH_PATHS = (
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/google",
    "/api/v1/auth/password/reset",
)
EXEMPT_PREFIXES = ("/media/", "/api/v1/schema", "/api/v1/docs")
LIVENESS = ("/health", "/health/")  # probes poll it; /health/detailed/ is limited like any call
DEFAULT_LIMITS = {"anon": 30, "user": 100, "uploads": 20, "auth": 10, "chat": 30}
CHAT_SEND = re.compile(r"^/api/v1/chats/[0-9a-fA-F-]+/send/$")


def parse_limits(raw: str | None) -> dict[str, int]:
    """``anon=30,user=100,uploads=20,auth=10``; ``off`` (or empty limits) turns throttling off."""
    if raw is None or raw.strip() == "":
        return dict(DEFAULT_LIMITS)
    if raw.strip().lower() in {"off", "0", "false", "no"}:
        return {}
    limits = dict(DEFAULT_LIMITS)
    for part in raw.split(","):
        name, _, value = part.partition("=")
        if name.strip() not in DEFAULT_LIMITS or not value.strip().isdigit():
            raise ValueError(f"bad RATE_LIMITS entry: {part!r}")
        limits[name.strip()] = int(value)
    return {k: v for k, v in limits.items() if v > 0}


def scope_is_health(path: str) -> bool:
    return path.startswith("/health/")


def scope_of(path: str, method: str) -> str | None:
    if path.startswith(EXEMPT_PREFIXES) or path in LIVENESS or method == "OPTIONS":
        return None
    if path.startswith("/api/v1/upload/") or (path.endswith("/images/") and method == "POST"):
        return "uploads"
    if path.startswith(AUTH_PATHS) and method == "POST":
        return "auth"
    if method == "POST" and CHAT_SEND.match(path):
        return "chat"
    return "user"  # "anon" when there is no valid token


class RateLimiter:
    def __init__(self, limits: dict[str, int], counter: RequestCounter) -> None:
        self.limits = limits
        self.counter = counter

    async def check(self, scope: str, who: str) -> None:
        """Count one request; ApiError 429 with Retry-After once over the scope's limit."""
        limit = self.limits.get(scope)
        if limit is None:
            return
        key = f"wibestore:rl:{scope}:{who}"
        count, retry_after = await self.counter.hit(key, limit)
        if count > limit:
            raise ApiError(
                429,
                "THROTTLED",
                f"Request was throttled. Expected available in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )


def client_key(request: Any, user_id: str | None, address: str) -> str:
    return f"user:{user_id}" if user_id else f"ip:{address}"
