"""Brute-force protection for sign-in, kept in Redis or in memory.

Two counters of failures, each locking for ``lock_seconds`` after the last failure once full:

- per (e-mail, address): ``max_failures`` (5) locks that address out of that account;
- per e-mail, across addresses: ``account_max_failures`` (20) locks the account against every
  address that has not signed in to it successfully in the last ``KNOWN_FOR`` seconds.

The second counter caps a guesser who spreads over many addresses. It is also a way for anyone
to lock an owner out by failing on purpose, so it spares the addresses the owner has signed in
from before: the owner at home still gets in, a guesser from elsewhere does not (README,
"Sign-in lock-out").
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TypeVar

import redis

from adapters.outage import Outage

T = TypeVar("T")

KNOWN_FOR = 30 * 24 * 3600  # seconds an address stays known after a successful sign-in
MEMORY_KEPT = 100_000  # entries before the in-memory throttle sweeps expired ones


class LoginThrottle:
    """The policy; subclasses keep the counters."""

    def __init__(self, max_failures: int, lock_seconds: int, account_max_failures: int) -> None:
        self.max_failures = max_failures
        self.lock_seconds = lock_seconds
        self.account_max_failures = account_max_failures

    def seconds_locked(self, email: str, address: str) -> int:
        pair, account, known = self._read(_keys(email, address))
        locks = []
        if pair[0] >= self.max_failures:
            locks.append(pair[1])
        if account[0] >= self.account_max_failures and known[0] == 0:
            locks.append(account[1])
        return max((max(seconds, 1) for seconds in locks), default=0)

    def attempt(self, email: str, address: str) -> int:
        """Count this sign-in as a failure *before* its password is checked, then answer the
        seconds it is locked for (0: go ahead). Counting first is what makes the caps hold
        under concurrency: 60 guesses sent at once each see the others' counts, so no more
        than the cap get to the password check (checking first let all 60 through)."""
        pair, account, known = _keys(email, address)
        pairs, accounts = self._count((pair, account), self.lock_seconds)
        if pairs > self.max_failures or (
            accounts > self.account_max_failures and self._read((known,))[0][0] == 0
        ):
            self._uncount((pair, account))  # refused unchecked: not a guess at the password
            return self.lock_seconds
        return 0

    def succeeded(self, email: str, address: str) -> None:
        """The attempt was right: the pair's failures are forgotten, the address becomes known
        to the account, and the account's counter loses this attempt only. The failures before
        it stay (they drain by themselves), so a guesser gains no fresh tries from it."""
        pair, account, known = _keys(email, address)
        self._succeeded(pair, known, KNOWN_FOR)
        self._uncount((account,))

    # --- storage ------------------------------------------------------------------------
    def _read(self, keys: tuple[str, ...]) -> list[tuple[int, int]]:
        """(count, seconds left) of each key; (0, 0) for a missing one."""
        raise NotImplementedError

    def _count(self, keys: tuple[str, str], seconds: int) -> list[int]:
        """Add one to each key (atomically: the counts returned include no one else's
        increment made after this one) and make it live ``seconds`` from now."""
        raise NotImplementedError

    def _uncount(self, keys: tuple[str, ...]) -> None:
        """Take one off each key that still counts."""
        raise NotImplementedError

    def _succeeded(self, forget: str, remember: str, seconds: int) -> None:
        """Delete ``forget`` and keep ``remember`` for ``seconds``."""
        raise NotImplementedError


def _keys(email: str, address: str) -> tuple[str, str, str]:
    email = email.strip().lower()
    return (f"{email}|{address}", email, f"known:{email}|{address}")


class RedisLoginThrottle(LoginThrottle):
    """Shared by every API process; one round trip per call."""

    def __init__(
        self,
        client: redis.Redis,
        max_failures: int,
        lock_seconds: int,
        account_max_failures: int,
        key_prefix: str = "",
    ) -> None:
        super().__init__(max_failures, lock_seconds, account_max_failures)
        self.client = client
        self.key_prefix = key_prefix

    def _key(self, key: str) -> str:
        return f"{self.key_prefix}wibestore:login-failures:{key}"

    def _read(self, keys: tuple[str, ...]) -> list[tuple[int, int]]:
        pipe = self.client.pipeline(transaction=False)
        for key in keys:
            pipe.get(self._key(key))
            pipe.ttl(self._key(key))
        values = pipe.execute()
        return [
            (int(count), int(ttl)) if count is not None else (0, 0)
            for count, ttl in zip(values[::2], values[1::2], strict=True)
        ]

    def _count(self, keys: tuple[str, str], seconds: int) -> list[int]:
        pipe = self.client.pipeline()
        for key in keys:
            pipe.incr(self._key(key))
            pipe.expire(self._key(key), seconds)
        return [int(count) for count in pipe.execute()[::2]]

    def _uncount(self, keys: tuple[str, ...]) -> None:
        pipe = self.client.pipeline()
        for key in keys:
            pipe.decr(self._key(key))
        below = [key for key, n in zip(keys, pipe.execute(), strict=True) if int(n) < 0]
        if below:  # it had expired meanwhile: there was nothing to take off
            self.client.delete(*(self._key(key) for key in below))

    def _succeeded(self, forget: str, remember: str, seconds: int) -> None:
        pipe = self.client.pipeline()
        pipe.delete(self._key(forget))
        pipe.set(self._key(remember), 1, ex=seconds)
        pipe.execute()


class MemoryLoginThrottle(LoginThrottle):
    """The embedded default: one process, so a dict under a lock does."""

    def __init__(self, max_failures: int, lock_seconds: int, account_max_failures: int) -> None:
        super().__init__(max_failures, lock_seconds, account_max_failures)
        self._entries: dict[str, tuple[int, float]] = {}  # key -> (count, expires)
        self._lock = threading.Lock()

    def _read(self, keys: tuple[str, ...]) -> list[tuple[int, int]]:
        now = time.monotonic()
        with self._lock:
            found = []
            for key in keys:
                count, until = self._entries.get(key, (0, 0.0))
                found.append((count, int(until - now) + 1) if until > now else (0, 0))
            return found

    def _count(self, keys: tuple[str, str], seconds: int) -> list[int]:
        now = time.monotonic()
        counts = []
        with self._lock:
            self._sweep(now)
            for key in keys:
                count, until = self._entries.get(key, (0, 0.0))
                count = (count if until > now else 0) + 1
                self._entries[key] = (count, now + seconds)
                counts.append(count)
        return counts

    def _uncount(self, keys: tuple[str, ...]) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                count, until = self._entries.get(key, (0, 0.0))
                if count > 0 and until > now:
                    self._entries[key] = (count - 1, until)

    def _succeeded(self, forget: str, remember: str, seconds: int) -> None:
        now = time.monotonic()
        with self._lock:
            self._sweep(now)
            self._entries.pop(forget, None)
            self._entries[remember] = (1, now + seconds)

    def _sweep(self, now: float) -> None:
        if len(self._entries) >= MEMORY_KEPT:
            self._entries = {k: v for k, v in self._entries.items() if v[1] > now}


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

    def seconds_locked(self, email: str, address: str) -> int:
        return self._either(lambda t: t.seconds_locked(email, address))

    def attempt(self, email: str, address: str) -> int:
        return self._either(lambda t: t.attempt(email, address))

    def succeeded(self, email: str, address: str) -> None:
        self._either(lambda t: t.succeeded(email, address))
