"""The Marketplace: the ONE eventsourcing Application under every service.

Each service (accounts, catalogue, listings, payments, escrows, subscriptions, reviews) loads
and saves aggregates through it, so a command that changes several aggregates saves them in one
transaction, and all events share one notification log: the total order projectors and
auditors read.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate
from eventsourcing.persistence import ApplicationRecorder, IntegrityError, Recording

from domain.chat import ChatRoom
from domain.errors import Conflict, NotFound
from domain.inbox import Inbox

log = logging.getLogger(__name__)

A = TypeVar("A", bound=Aggregate)
T = TypeVar("T")
ATTEMPTS = 10


class Marketplace(Application[UUID]):
    name = "Marketplace"
    # A chat room's messages are its events: a room is loaded from its latest snapshot plus
    # at most this many events (a cold process posting the 10,000th message replays <100).
    # An inbox's reads are too (one event per notification read).
    snapshotting_intervals: ClassVar[dict[type[Any], int]] = {ChatRoom: 100, Inbox: 100}

    def __init__(
        self,
        env: dict[str, str],
        wrap_recorder: Callable[[ApplicationRecorder], ApplicationRecorder] | None = None,
    ) -> None:
        """``wrap_recorder`` wraps the store's recorder as it is made: the composition root
        passes group commit and fail-fast-while-down (adapters/group_commit.py)."""
        self._wrap_recorder = wrap_recorder
        super().__init__(env)  # makes the recorder
        self.saved_listeners: list[Callable[[int], None]] = []
        self._local = threading.local()

    def construct_recorder(self) -> ApplicationRecorder:
        recorder = super().construct_recorder()
        return recorder if self._wrap_recorder is None else self._wrap_recorder(recorder)

    # --- loading ----------------------------------------------------------------------------
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

    def _take_snapshots(self, processing_event: Any) -> None:
        """Snapshots are taken after the save has committed: one that fails (the database
        went away in between) costs the next load some events, never the command."""
        try:
            super()._take_snapshots(processing_event)
        except Exception:
            log.warning("snapshot failed", exc_info=True)

    # --- races --------------------------------------------------------------------------------
    def retrying(self, command: Callable[[], T]) -> T:
        """Run ``command`` again on fresh state when a concurrent save got there first.

        The event store's optimistic concurrency decides races: the loser's save raises
        IntegrityError and writes nothing; a command whose outcome may differ on fresh state
        (money, mostly) is re-run on the state the winner left."""
        for attempt in range(ATTEMPTS):
            try:
                return command()
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise Conflict("Too many simultaneous changes; please try again.") from None
                # Jittered backoff: contenders for one aggregate spread out instead of
                # colliding again in lockstep.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

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
