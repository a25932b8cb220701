"""Unique keys (e-mail, username, phone) as index aggregates.

An index's id is derived from the key, so two commands that claim the same key write the same
aggregate: the event store's optimistic concurrency lets exactly one of them win. A released key
can be claimed again by loading the index and claiming it anew.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict

NAMESPACE = uuid.UUID("4f1c2f0e-5b7e-4a8e-9d55-0c3b3d0b9a71")


def normalise(kind: str, value: str) -> str:
    return value.strip().lower() if kind in {"email", "username"} else value.strip()


class UniqueKey(Aggregate):
    """Who owns one value of one kind of unique key."""

    @staticmethod
    def create_id(kind: str, value: str, owner_id: UUID) -> UUID:
        return key_id(kind, value)

    @event("Claimed")
    def __init__(self, kind: str, value: str, owner_id: UUID) -> None:
        self.kind = kind
        self.value = normalise(kind, value)
        self.owner_id: UUID | None = owner_id

    @property
    def is_free(self) -> bool:
        return self.owner_id is None

    def claim(self, owner_id: UUID) -> None:
        self.check_is_free_for(owner_id)
        if self.owner_id != owner_id:
            self._reclaim(owner_id)

    @event("Reclaimed")
    def _reclaim(self, owner_id: UUID) -> None:
        self.owner_id = owner_id

    @event("Released")
    def release(self) -> None:
        self.owner_id = None

    def check_is_free_for(self, owner_id: UUID) -> None:
        if self.owner_id is not None and self.owner_id != owner_id:
            raise KeyTaken(self.kind)


def key_id(kind: str, value: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"{kind}:{normalise(kind, value)}")


class KeyTaken(Conflict):
    MESSAGES = {
        "email": "A user with this email already exists.",
        "username": "A user with this username already exists.",
        "phone_number": "A user with this phone number already exists.",
    }

    def __init__(self, kind: str) -> None:
        super().__init__(self.MESSAGES.get(kind, f"This {kind} is already taken."), field=kind)
