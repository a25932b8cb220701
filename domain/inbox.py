"""The Inbox aggregate (one per user): which of their notifications they have read.

Notifications themselves are not events of their own: the notifications read model derives
them from other aggregates' events (projections/notifications/), so a rebuild gives them
again. What a rebuild could not give again is the reader's doing, so it is recorded here:

- ``Read(notification_id)``: one notification read;
- ``AllRead(up_to)``: "read all" pressed, covering every notification of the user up to that
  position of the event log (the newest one they had then; newer ones stay unread).

The inbox keeps only the last "read all" position, never the set of read ids: its state stays
one number however much is read. Whether one notification is read already is the read model's
to say; the application asks it first, so reading it twice writes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import NotFound

NAMESPACE = uuid.UUID("0c7f5e9a-3b1d-4f2e-8a6c-9d4b2e1f7a30")


def inbox_id(user_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"inbox:{user_id}")


class Inbox(Aggregate):
    class Opened(Aggregate.Created):
        user_id: UUID

    class Read(Aggregate.Event):
        notification_id: UUID
        at: datetime

    class AllRead(Aggregate.Event):
        """Every notification of the user at log position ``up_to`` or before is read."""

        up_to: int
        at: datetime

    @staticmethod
    def create_id(user_id: UUID, **_: object) -> UUID:
        return inbox_id(user_id)

    @event(Opened)
    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.read_all_up_to = 0

    def covers(self, position: int) -> bool:
        """Whether "read all" already covered the notification at ``position``."""
        return position <= self.read_all_up_to

    def read(self, notification_id: UUID, position: int, at: datetime) -> bool:
        """Mark one unread notification (at log ``position``) read. False, writing nothing,
        when "read all" already covered it."""
        if self.covers(position):
            return False
        self._read(notification_id, at)
        return True

    @event(Read)
    def _read(self, notification_id: UUID, at: datetime) -> None:
        pass

    def read_all(self, up_to: int, at: datetime) -> bool:
        """Mark read everything up to ``up_to``. False, writing nothing, when an earlier
        "read all" reached as far."""
        if self.covers(up_to):
            return False
        self._all_read(up_to, at)
        return True

    @event(AllRead)
    def _all_read(self, up_to: int, at: datetime) -> None:
        self.read_all_up_to = up_to


class NotificationNotFound(NotFound):
    """Someone else's notification reads as no notification at all."""

    def __init__(self) -> None:
        super().__init__("Notification not found.")
