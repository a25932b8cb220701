"""Idempotency-Key records (the IdempotencyRecords port; the rules are api/idempotency.py's):
in Redis, shared by every API process, or in memory for the embedded default. Redis not
answering is ServiceUnavailable: a key that cannot be checked must not let its request run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import redis

from application.errors import ServiceUnavailable


@contextmanager
def _answering() -> Iterator[None]:
    try:
        yield
    except redis.RedisError as e:
        raise ServiceUnavailable("redis", 5) from e


class RedisRecords:
    def __init__(self, client: redis.Redis, key_prefix: str = "") -> None:
        self.client = client
        self.key_prefix = key_prefix  # before every key (settings.redis_key_prefix)

    def claim(self, key: str, record: str, ttl: int) -> str | None:
        with _answering():
            return self._claim(self.key_prefix + key, record, ttl)

    def _claim(self, key: str, record: str, ttl: int) -> str | None:
        if self.client.set(key, record, nx=True, ex=ttl):
            return None
        stored = self.client.get(key)
        if stored is None:  # expired between the two calls: claim again
            return self._claim(key, record, ttl)
        return stored.decode() if isinstance(stored, bytes) else str(stored)

    def put(self, key: str, record: str, ttl: int) -> None:
        with _answering():
            self.client.set(self.key_prefix + key, record, ex=ttl)

    def drop(self, key: str) -> None:
        with _answering():
            self.client.delete(self.key_prefix + key)


class MemoryRecords:
    """For the embedded default (one process)."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[float, str]] = {}
        self._lock = threading.Lock()

    def claim(self, key: str, record: str, ttl: int) -> str | None:
        with self._lock:
            now = time.monotonic()
            found = self._items.get(key)
            if found is not None and found[0] > now:
                return found[1]
            self._items[key] = (now + ttl, record)
            if len(self._items) > 100_000:
                self._items = {k: v for k, v in self._items.items() if v[0] > now}
            return None

    def put(self, key: str, record: str, ttl: int) -> None:
        with self._lock:
            self._items[key] = (time.monotonic() + ttl, record)

    def drop(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)
