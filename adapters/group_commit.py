"""Group commit: concurrent saves share one event-store transaction.

The PostgreSQL recorder locks the events table for every insert (to keep notification ids in
commit order), so one commit at a time is all the store can do, and a command per commit caps
throughput at 1/commit-latency. Here the first thread to save becomes the leader and writes
every save that queued up meanwhile in ONE transaction; the others wait for their ids. When
the combined write fails (one save lost an optimistic-concurrency race, say), the leader falls
back to writing each save alone, so only the loser sees the error: grouping never changes a
command's outcome, only how many commits it takes.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from eventsourcing.persistence import (
    ApplicationRecorder,
    InterfaceError,
    Notification,
    OperationalError,
    StoredEvent,
    Subscription,
)
from eventsourcing.postgres import PostgresDatastore

from adapters.event_store_guard import OutageGuard, unreachable


class _Save:
    __slots__ = ("error", "events", "ids", "written")

    def __init__(self, events: Sequence[StoredEvent]) -> None:
        self.events = events
        self.written = False
        self.ids: Sequence[int] | None = None
        self.error: BaseException | None = None


class GroupCommitRecorder(ApplicationRecorder):
    def __init__(self, inner: ApplicationRecorder) -> None:
        self.inner = inner
        self._cond = threading.Condition()
        self._queue: list[_Save] = []
        self._leading = False
        self.groups = 0  # transactions written, for tests and metrics
        self.saves = 0

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        if not stored_events or any(v is not None for v in kwargs.values()):
            # Tracking records (process applications) are not ours to group.
            return self.inner.insert_events(stored_events, **kwargs)
        save = _Save(stored_events)
        with self._cond:
            self._queue.append(save)
            while self._leading and not save.written:
                self._cond.wait()
            if not save.written:  # nobody is writing: lead, taking everything queued
                self._leading = True
                group, self._queue = self._queue, []
        if not save.written:
            try:
                self._write(group)
            finally:
                with self._cond:
                    self._leading = False
                    self._cond.notify_all()
        if save.error is not None:
            raise save.error
        return save.ids

    def _write(self, group: list[_Save]) -> None:
        try:
            if len(group) > 1:
                ids = self.inner.insert_events([e for s in group for e in s.events])
                self._deliver(group, ids)
                return
        except (OperationalError, InterfaceError) as e:
            if unreachable(e):
                # The server is gone, not one save in conflict: writing each save alone would
                # fail each in turn, as slowly. Every save gets the error (the API's 503).
                self._fail(group, e)
                return
        except Exception:  # noqa: S110 - fall back to one transaction per save, below
            pass
        for save in group:
            try:
                save.ids = self.inner.insert_events(save.events)
            except BaseException as e:
                save.error = e
            save.written = True
            self.groups += 1
            self.saves += 1

    def _fail(self, group: list[_Save], error: BaseException) -> None:
        for save in group:
            save.error = error
            save.written = True
        self.groups += 1
        self.saves += len(group)

    def _deliver(self, group: list[_Save], ids: Sequence[int] | None) -> None:
        offset = 0
        for save in group:
            n = len(save.events)
            save.ids = list(ids[offset : offset + n]) if ids is not None else None
            offset += n
            save.written = True
        self.groups += 1
        self.saves += len(group)

    # --- everything else is the inner recorder's ------------------------------------------
    def select_events(self, *args: Any, **kwargs: Any) -> Sequence[StoredEvent]:
        return self.inner.select_events(*args, **kwargs)

    def select_notifications(self, *args: Any, **kwargs: Any) -> Sequence[Notification]:
        return self.inner.select_notifications(*args, **kwargs)

    def max_notification_id(self) -> int | None:
        return self.inner.max_notification_id()

    def subscribe(self, *args: Any, **kwargs: Any) -> Subscription[ApplicationRecorder]:
        return self.inner.subscribe(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def wrap_recorder(recorder: ApplicationRecorder) -> ApplicationRecorder:
    """The event store's recorder as the application uses it: on PostgreSQL, failing fast while
    the server is down (event_store_guard.py, installed on its datastore), and with concurrent
    saves grouped into shared transactions. Its ``inner`` is the store's own recorder."""
    datastore = getattr(recorder, "datastore", None)
    if isinstance(datastore, PostgresDatastore):
        OutageGuard(datastore)
    return GroupCommitRecorder(recorder)
