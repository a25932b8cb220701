"""Brute-force protection for sign-in: failures per (e-mail, IP), kept in Redis or in memory."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from application.outage import Outage
from application.ports import LoginThrottle

T = TypeVar("T")


class RedisLoginThrottle:
    """Atomic across API processes: INCR + EXPIRE in one pipeline."""

    def __init__(self, client: redis.Redis, max_failures: int, lock_seconds: int) -> None:
        self.client = client
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds

    def _key(self, key: str) -> str:
        return f"wibestore:login-failures:{key}"

    def seconds_locked(self, key: str) -> int:
        pipe = self.client.pipeline()
        pipe.get(self._key(key))
        pipe.ttl(self._key(key))
        count, ttl = pipe.execute()
        if count is not None and int(count) >= self.max_failures:
            return max(int(ttl), 1)
        return 0

    def failed(self, key: str) -> None:
        pipe = self.client.pipeline()
        pipe.incr(self._key(key))
        pipe.expire(self._key(key), self.lock_seconds)
        pipe.execute()

    def succeeded(self, key: str) -> None:
        self.client.delete(self._key(key))


class MemoryLoginThrottle:
    """The embedded default: one process, so a dict under a lock does."""

    def __init__(self, max_failures: int, lock_seconds: int) -> None:
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self._failures: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def seconds_locked(self, key: str) -> int:
        with self._lock:
            count, until = self._failures.get(key, (0, 0.0))
            remaining = until - time.monotonic()
            if remaining <= 0:
                self._failures.pop(key, None)
                return 0
            return int(remaining) + 1 if count >= self.max_failures else 0

    def failed(self, key: str) -> None:
        with self._lock:
            count, until = self._failures.get(key, (0, 0.0))
            if until <= time.monotonic():
                count = 0
            self._failures[key] = (count + 1, time.monotonic() + self.lock_seconds)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


class FallbackLoginThrottle:
    """The shared (Redis) counters while they answer; this process's own while they do not,
    so sign-in stays throttled (per process) instead of failing with 500 (see outage.py)."""

    def __init__(self, shared: LoginThrottle, local: LoginThrottle) -> None:
        self.shared, self.local = shared, local
        self.outage = Outage("login_throttle")

    def _either(self, call: Callable[[LoginThrottle], T]) -> T:
        if not self.outage.skipping():
            try:
                answer = call(self.shared)
            except redis.RedisError as e:
                self.outage.failed(e)
            else:
                self.outage.recovered()
                return answer
        return call(self.local)

    def seconds_locked(self, key: str) -> int:
        return self._either(lambda t: t.seconds_locked(key))

    def failed(self, key: str) -> None:
        self._either(lambda t: t.failed(key))

    def succeeded(self, key: str) -> None:
        self._either(lambda t: t.succeeded(key))
