"""Fail fast while the event store's PostgreSQL server is down, and heal when it is back.

eventsourcing retries every recorder call 10 times, and each attempt waits up to the pool's
timeout for a connection: with the server down, one command hung for 272 s (measured) before it
failed, holding its request and its thread. Here the first attempt that finds the server gone
marks it down; from then on an attempt fails at once unless a probe (one fresh connection, at
most every half second) finds the server back. So a command fails within the library's pauses
between retries (about 2 s) and the API answers 503; once the server is back, the pool's idle
connections are checked, the ones the restart killed are replaced, and commands go through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import structlog
from eventsourcing.persistence import InterfaceError, OperationalError
from eventsourcing.postgres import PostgresDatastore

log = structlog.get_logger(__name__)

PROBE_EVERY = 0.5  # seconds between probes while the server is down
PROBE_TIMEOUT = 2  # seconds a probe may take to connect


class OutageGuard:
    """Wraps a datastore's ``get_connection``, which every recorder call goes through."""

    def __init__(self, datastore: PostgresDatastore) -> None:
        self.datastore = datastore
        self._get_connection = datastore.get_connection
        datastore.get_connection = self.get_connection  # type: ignore[method-assign]
        self._lock = threading.Lock()
        self._next_probe = 0.0
        self.down = False

    @contextmanager
    def get_connection(self) -> Iterator[Any]:
        if self.down and not self._back_up():
            raise OperationalError("the event store's database server is unreachable")
        try:
            with self._get_connection() as conn:
                yield conn
        except (OperationalError, InterfaceError) as e:
            if unreachable(e) and not self.down:
                self.down = True
                log.warning("event_store.unreachable", error=str(e).splitlines()[0])
            raise

    def _back_up(self) -> bool:
        with self._lock:
            if not self.down:
                return True
            now = time.monotonic()
            if now < self._next_probe:
                return False
            self._next_probe = now + PROBE_EVERY
            pool = self.datastore.pool
            kwargs = (pool.kwargs() if callable(pool.kwargs) else pool.kwargs) or {}
            conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
            try:
                psycopg.connect(conninfo, **{**kwargs, "connect_timeout": PROBE_TIMEOUT}).close()
            except psycopg.Error:
                return False
            pool.check()  # drop the idle connections the outage killed
            self.down = False
            log.warning("event_store.reachable")
            return True


def unreachable(error: BaseException) -> bool:
    """A lost or refused connection, not a statement's own failure (a lock timeout, say)."""
    cause = error.__cause__ if isinstance(error.__cause__, psycopg.Error) else error
    sqlstate = getattr(cause, "sqlstate", None)
    # no SQLSTATE: the client's own failure (refused, closed, pool timeout); class 08 is
    # "connection exception", 57P01-57P03 are shutdowns and "cannot connect now"
    return sqlstate is None or sqlstate.startswith(("08", "57P"))
