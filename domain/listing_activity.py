"""What buyers do with listings: favourite them and view them.

Both are small aggregates whose ids follow from what they are about, so a racing double click
records one favourite and a day's repeated visits one view.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("5d1b7a3e-8c2f-4e61-9a0d-2f6b8e4c7a19")


def favorite_id(user_id: UUID, listing_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"favorite:{user_id}:{listing_id}")


def view_id(listing_id: UUID, viewer: str, day: date) -> UUID:
    return uuid.uuid5(NAMESPACE, f"view:{listing_id}:{viewer}:{day.isoformat()}")


class Favorite(Aggregate):
    class Added(Aggregate.Created):
        user_id: UUID
        listing_id: UUID
        at: datetime

    class Removed(Aggregate.Event):
        user_id: UUID
        listing_id: UUID

    class Readded(Aggregate.Event):
        user_id: UUID
        listing_id: UUID
        at: datetime

    @staticmethod
    def create_id(user_id: UUID, listing_id: UUID, **_: Any) -> UUID:
        return favorite_id(user_id, listing_id)

    @event(Added)
    def __init__(self, user_id: UUID, listing_id: UUID, at: datetime) -> None:
        self.user_id = user_id
        self.listing_id = listing_id
        self.is_on = True

    def remove(self) -> None:
        self._removed(self.user_id, self.listing_id)

    @event(Removed)
    def _removed(self, user_id: UUID, listing_id: UUID) -> None:
        self.is_on = False

    def add(self, at: datetime) -> None:
        self._readded(self.user_id, self.listing_id, at)

    @event(Readded)
    def _readded(self, user_id: UUID, listing_id: UUID, at: datetime) -> None:
        self.is_on = True


class ListingView(Aggregate):
    class Counted(Aggregate.Created):
        listing_id: UUID
        viewer: str
        day: str

    @staticmethod
    def create_id(listing_id: UUID, viewer: str, day: str, **_: Any) -> UUID:
        return view_id(listing_id, viewer, date.fromisoformat(day))

    @event(Counted)
    def __init__(self, listing_id: UUID, viewer: str, day: str) -> None:
        self.listing_id = listing_id
        self.viewer = viewer
        self.day = day
