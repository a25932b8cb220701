"""The core of the Marketplace application: its ports, positions for read-your-writes, and
typed loading of aggregates. Commands live in one module per area (accounts, catalogue...)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, Recording
from eventsourcing.postgres import PostgresDatastore

from application.event_store_guard import OutageGuard
from application.group_commit import GroupCommitRecorder
from application.media import MediaStore
from application.passwords import Passwords
from application.ports import Clock, Email, LoginThrottle
from application.tokens import Tokens
from application.vault import Vault
from domain.errors import NotFound

A = TypeVar("A", bound=Aggregate)


class Core(Application[UUID]):
    def __init__(
        self,
        env: dict[str, str],
        *,
        clock: Clock,
        passwords: Passwords,
        tokens: Tokens,
        throttle: LoginThrottle,
        send_email: Callable[[Email], None],
        frontend_url: str,
        vault: Vault,
        media: MediaStore,
        request_thumbnail: Callable[[str, str], None],
    ) -> None:
        super().__init__(env)
        self.vault = vault
        self.media = media
        self.request_thumbnail = request_thumbnail
        self.clock = clock
        self.passwords = passwords
        self.tokens = tokens
        self.throttle = throttle
        self.send_email = send_email
        self.frontend_url = frontend_url.rstrip("/")
        self.saved_listeners: list[Callable[[int], None]] = []
        self._local = threading.local()

    def construct_recorder(self) -> ApplicationRecorder:
        """The store's recorder, with concurrent saves grouped into shared transactions and,
        on PostgreSQL, commands failing fast while the server is down (event_store_guard.py)."""
        recorder = super().construct_recorder()
        datastore = getattr(recorder, "datastore", None)
        if isinstance(datastore, PostgresDatastore):
            self.outage: OutageGuard | None = OutageGuard(datastore)
        else:
            self.outage = None
        return GroupCommitRecorder(recorder)

    # --- positions, for read-your-writes ------------------------------------------------
    def _notify(self, recordings: list[Recording[UUID]]) -> None:
        if recordings:
            position = recordings[-1].notification.id
            self._local.position = max(position, getattr(self._local, "position", 0) or 0)
            for listener in self.saved_listeners:
                listener(position)

    @contextmanager
    def tracking_position(self) -> Iterator[Callable[[], int | None]]:
        """Yield a getter for the position of the last event this thread saves inside."""
        self._local.position = None
        yield lambda: getattr(self._local, "position", None)

    def load(self, aggregate_id: UUID, kind: type[A], missing: str = "Not found.") -> A:
        """The aggregate with this id, if it is a ``kind``; NotFound otherwise."""
        try:
            aggregate: object = self.repository.get(aggregate_id)
        except AggregateNotFoundError as e:
            raise NotFound(missing) from e
        if not isinstance(aggregate, kind):
            raise NotFound(missing)
        return aggregate

    def find(self, aggregate_id: UUID, kind: type[A]) -> A | None:
        try:
            return self.load(aggregate_id, kind)
        except NotFound:
            return None
