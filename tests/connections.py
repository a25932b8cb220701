"""How many PostgreSQL connections the suite holds at once, sampled through a run.

The server is shared (other suites, other databases): a run that peaked at 40 connections once
failed with "too many clients". Every connection this run opens, in this process or in the
processes it starts, carries one application_name (libpq reads PGAPPNAME from the environment,
and children inherit it), so the sampler counts ours and no one else's.
"""

from __future__ import annotations

import os
import threading

import psycopg

SAMPLE_EVERY = 0.05  # seconds
MAX_CONNECTIONS = int(os.environ.get("TEST_MAX_CONNECTIONS", "25"))


class ConnectionSampler:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.application_name = f"wibestore-tests-{os.getpid()}"
        self.peak = 0
        self.peak_test = ""
        self.current_test = ""
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> bool:
        """Tag this run's connections and sample them; False if PostgreSQL is not there."""
        try:
            conn = psycopg.connect(
                self.database_url, autocommit=True, connect_timeout=3, application_name="sampler"
            )
        except psycopg.Error:
            return False
        os.environ["PGAPPNAME"] = self.application_name
        self._thread = threading.Thread(
            target=self._run, args=(conn,), name="pg-connections", daemon=True
        )
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self, conn: psycopg.Connection[tuple[int]]) -> None:
        with conn:
            while not self._stop.wait(SAMPLE_EVERY):
                try:
                    row = conn.execute(
                        "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s",
                        (self.application_name,),
                    ).fetchone()
                except psycopg.Error:
                    return
                count = int(row[0]) if row else 0
                if count > self.peak:
                    self.peak, self.peak_test = count, self.current_test
