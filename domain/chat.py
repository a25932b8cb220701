"""The ChatRoom aggregate: a conversation between a buyer and a seller, about a listing or an
order (escrow), and its messages.

Messages are events of their room, numbered in the room (``seq``): one room's messages have
one order, and two messages sent at once cannot both take the same number (the loser's save
is retried). The room's state holds counts and read marks, never the messages themselves, and
the Marketplace snapshots rooms (application/marketplace.py), so posting the 10,000th message
loads a snapshot and a few events, not the room's history. The messages live in the chats read
model (projections/chats.py).

Read marks are per participant: "read up to message n". Marking an older message read changes
nothing, so reads never pile up events.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound

NAMESPACE = uuid.UUID("5b1f3c8e-2d7a-4e6b-9c0d-1a2b3c4d5e6f")
MAX_MESSAGE_LENGTH = 2000
MESSAGE_TYPES = frozenset({"text", "image", "file", "system"})


def order_room_id(escrow_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"order:{escrow_id}")


def direct_room_id(a: UUID, b: UUID, listing_id: UUID | None) -> UUID:
    """One room per pair of users (and listing, when there is one), whoever opens it."""
    low, high = sorted((a, b))
    return uuid.uuid5(NAMESPACE, f"direct:{low}:{high}:{listing_id or ''}")


def message_id(room_id: UUID, seq: int) -> UUID:
    """A message's id, from its room and number: replays and retries give the same id."""
    return uuid.uuid5(room_id, f"message:{seq}")


class EmptyMessage(DomainError):
    def __init__(self) -> None:
        super().__init__("Message content is required.", field="content")


class MessageTooLong(DomainError):
    def __init__(self) -> None:
        super().__init__(
            f"Ensure this field has no more than {MAX_MESSAGE_LENGTH} characters.", field="content"
        )


class NotAParticipant(NotFound):
    """Someone else's room reads as no room at all (CONTRACT C5)."""

    def __init__(self) -> None:
        super().__init__("Chat room not found.")


class ChatRoom(Aggregate):
    class Opened(Aggregate.Created):
        kind: str
        listing_id: UUID | None
        escrow_id: UUID | None
        participants: list[UUID]
        at: datetime

    class Joined(Aggregate.Event):
        """Someone joined a room (staff, for an order in dispute); shown as a system line."""

        user_id: UUID
        at: datetime

    class MessagePosted(Aggregate.Event):
        """``notify``: the participants who had no socket open on the room when it was sent
        (application/chats.py asks the presence port); they get a notification."""

        seq: int
        sender_id: UUID
        content: str
        message_type: str
        notify: list[UUID]
        at: datetime

    class Read(Aggregate.Event):
        """``user_id`` has read the room up to message ``seq``."""

        user_id: UUID
        seq: int
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
        self.seq = 0  # messages (and join lines) so far
        self.read_up_to: dict[str, int] = {}  # str(user id) -> seq; str keys snapshot as JSON

    @classmethod
    def for_order(
        cls, escrow_id: UUID, listing_id: UUID, buyer: UUID, seller: UUID, at: datetime
    ) -> ChatRoom:
        return cls(
            kind="order",
            listing_id=listing_id,
            escrow_id=escrow_id,
            participants=[buyer, seller],
            at=at,
        )

    @classmethod
    def direct(cls, opener: UUID, other: UUID, listing_id: UUID | None, at: datetime) -> ChatRoom:
        return cls(
            kind="direct",
            listing_id=listing_id,
            escrow_id=None,
            participants=[opener, other],
            at=at,
        )

    @staticmethod
    def create_id(
        kind: str,
        listing_id: UUID | None,
        escrow_id: UUID | None,
        participants: list[UUID],
        **_: object,
    ) -> UUID:
        if escrow_id is not None:
            return order_room_id(escrow_id)
        if kind == "direct":
            return direct_room_id(participants[0], participants[1], listing_id)
        return uuid.uuid4()

    # --- who is in it ---------------------------------------------------------------------
    def includes(self, user_id: UUID) -> bool:
        return user_id in self.participants

    def check_participant(self, user_id: UUID) -> None:
        if not self.includes(user_id):
            raise NotAParticipant()

    def join(self, user_id: UUID, at: datetime) -> None:
        """Staff join an order's room (a dispute, say); joining twice changes nothing."""
        if user_id not in self.participants:
            self._joined(user_id, at)

    @event(Joined)
    def _joined(self, user_id: UUID, at: datetime) -> None:
        self.participants.append(user_id)
        self.seq += 1

    # --- messages ---------------------------------------------------------------------------
    def post(
        self,
        sender_id: UUID,
        content: str,
        at: datetime,
        *,
        message_type: str = "text",
        present: frozenset[UUID] = frozenset(),
    ) -> UUID:
        """Post a message; ``present`` are the participants watching the room live (they are
        not notified). Returns the new message's id."""
        self.check_participant(sender_id)
        if not content.strip():
            raise EmptyMessage()
        if len(content) > MAX_MESSAGE_LENGTH:
            raise MessageTooLong()
        if message_type not in MESSAGE_TYPES:
            message_type = "text"
        notify = [p for p in self.participants if p != sender_id and p not in present]
        self._posted(self.seq + 1, sender_id, content, message_type, notify, at)
        return message_id(self.id, self.seq)

    @event(MessagePosted)
    def _posted(
        self,
        seq: int,
        sender_id: UUID,
        content: str,
        message_type: str,
        notify: list[UUID],
        at: datetime,
    ) -> None:
        self.seq = seq
        # the sender has read everything up to their own message
        self.read_up_to[str(sender_id)] = seq

    def read(self, user_id: UUID, at: datetime, up_to: int | None = None) -> bool:
        """Mark the room read by ``user_id`` up to message ``up_to`` (default: all of it).
        Returns whether anything changed: an older mark, or a second one, writes nothing."""
        self.check_participant(user_id)
        seq = self.seq if up_to is None else min(up_to, self.seq)
        if seq <= self.read_up_to.get(str(user_id), 0):
            return False
        self._read(user_id, seq, at)
        return True

    @event(Read)
    def _read(self, user_id: UUID, seq: int, at: datetime) -> None:
        self.read_up_to[str(user_id)] = seq
