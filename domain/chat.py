"""The ChatRoom aggregate, as far as the money flow needs it: a purchase opens an order room
for its buyer and seller (staff may join). Messages arrive with the chat issue."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

NAMESPACE = uuid.UUID("5b1f3c8e-2d7a-4e6b-9c0d-1a2b3c4d5e6f")


def order_room_id(escrow_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"order:{escrow_id}")


class ChatRoom(Aggregate):
    class Opened(Aggregate.Created):
        kind: str
        listing_id: UUID | None
        escrow_id: UUID | None
        participants: list[UUID]
        at: datetime

    class Joined(Aggregate.Event):
        user_id: UUID
        at: datetime

    @event(Opened)
    def __init__(
        self,
        kind: str,
        listing_id: UUID | None,
        escrow_id: UUID | None,
        participants: list[UUID],
        at: datetime,
    ) -> None:
        self.kind = kind
        self.listing_id = listing_id
        self.escrow_id = escrow_id
        self.participants = list(participants)

    @classmethod
    def for_order(
        cls, escrow_id: UUID, listing_id: UUID, buyer: UUID, seller: UUID, at: datetime
    ) -> ChatRoom:
        room = cls(
            kind="order",
            listing_id=listing_id,
            escrow_id=escrow_id,
            participants=[buyer, seller],
            at=at,
        )
        return room

    @staticmethod
    def create_id(escrow_id: UUID | None, **_: object) -> UUID:
        return order_room_id(escrow_id) if escrow_id is not None else uuid.uuid4()

    def join(self, user_id: UUID, at: datetime) -> None:
        """Staff join an order's room (a dispute, say); joining twice changes nothing."""
        if user_id not in self.participants:
            self._joined(user_id, at)

    @event(Joined)
    def _joined(self, user_id: UUID, at: datetime) -> None:
        self.participants.append(user_id)
