"""Sessions ended by this API process while its read models lagged behind the event store."""

from __future__ import annotations

import threading
import time
from uuid import UUID


class RecentRevocations:
    """Sessions this process ended while its read models lagged (a projector down): refused
    here at once, without a query, until their access tokens would have expired anyway. Other
    processes refuse them once the sessions read model has them (projections/sessions.py)."""

    def __init__(self, keep_seconds: float) -> None:
        self.keep_seconds = keep_seconds
        self._until: dict[UUID, float] = {}
        self._lock = threading.Lock()

    def add(self, session_id: UUID) -> None:
        now = time.monotonic()
        with self._lock:
            self._until = {s: t for s, t in self._until.items() if t > now}
            self._until[session_id] = now + self.keep_seconds

    def __contains__(self, session_id: UUID) -> bool:
        until = self._until.get(session_id)
        return until is not None and until > time.monotonic()
