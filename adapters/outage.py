"""Remembering that a shared store (Redis) is down, so a caller that can do without it (rate
limits, sign-in throttling) counts on its own for a while instead of failing every request or
paying a timeout on each: it logs a warning once, tries the store again every
``retry_seconds``, and says so in /health/detailed/ while it lasts."""

from __future__ import annotations

import threading
import time

import structlog

log = structlog.get_logger(__name__)


class Outage:
    def __init__(
        self, name: str, retry_seconds: float = 5.0, meanwhile: str = "counting per process"
    ) -> None:
        self.name = name
        self.meanwhile = meanwhile  # what the caller does without the store, for the logs
        self.retry_seconds = retry_seconds
        self.active = False
        self._retry_at = 0.0
        self._lock = threading.Lock()

    def skipping(self) -> bool:
        """True while the store is known down and not yet due for another try."""
        return self.active and time.monotonic() < self._retry_at

    def failed(self, error: Exception) -> None:
        with self._lock:
            if not self.active:
                log.warning(f"{self.name}.degraded", error=str(error), meanwhile=self.meanwhile)
            self.active = True
            self._retry_at = time.monotonic() + self.retry_seconds

    def recovered(self) -> None:
        if self.active:
            with self._lock:
                self.active = False
            log.info(f"{self.name}.recovered")

    @property
    def status(self) -> str:
        """For /health/detailed/: "ok", or what it does instead while the store is down."""
        return f"degraded: redis unreachable, {self.meanwhile}" if self.active else "ok"
