"""Chats (CONTRACT §2.8, §3.10, §4.2): a buyer and a seller talk about a listing, or about an
order (the purchase opened that room, application/escrows.py).

Who may: an active user opens a room with another active user (one room per pair and listing:
opening it again returns it); only a room's participants post and mark it read, and anyone else
is told the room does not exist (404). Staff see an order's room only while it is disputed, and
then by joining it: everyone in the room sees the line that says so.
"""

from __future__ import annotations

from uuid import UUID

from application.actor import Actor, NotAllowed, active_user, staff_member
from application.marketplace import Marketplace
from application.ports import Clock, Presence
from domain.chat import ChatRoom, NotAParticipant, direct_room_id
from domain.errors import DomainError, NotFound
from domain.escrow import Escrow
from domain.listing import Listing
from domain.user import User


class Chats:
    def __init__(self, app: Marketplace, *, clock: Clock, presence: Presence) -> None:
        self.app = app
        self.clock = clock
        self.presence = presence

    def open_room(
        self,
        actor: Actor,
        participant_id: UUID,
        listing_id: UUID | None = None,
        initial_message: str | None = None,
    ) -> UUID:
        """The room of the caller and ``participant_id`` (about ``listing_id``), opened if
        there is none yet; ``initial_message`` is posted in it either way."""
        opener = active_user(self.app, actor)
        if participant_id == opener:
            raise DomainError("You cannot start a chat with yourself.", field="participant_id")
        other = self.app.find(participant_id, User)
        if other is None or not other.is_active:
            raise NotFound("User not found.")
        if listing_id is not None and self.app.find(listing_id, Listing) is None:
            raise NotFound("Listing not found.")
        room_id = direct_room_id(opener, participant_id, listing_id)

        def command() -> UUID:
            now = self.clock.now()
            room = self.app.find(room_id, ChatRoom)
            if room is None:
                room = ChatRoom.direct(opener, participant_id, listing_id, now)
            if initial_message is not None and initial_message.strip():
                room.post(opener, initial_message, now, present=self._present(room.id))
            if room.pending_events:
                self.app.save(room)  # two openers at once: one creates, the other retries
            return room.id

        return self.app.retrying(command)

    def post(self, actor: Actor, room_id: UUID, content: str, message_type: str = "text") -> UUID:
        """Post a message; returns its id. Participants who have no socket open on the room
        are to be notified (the notifications read model does it)."""
        sender = active_user(self.app, actor)
        present = self._present(room_id)

        def command() -> UUID:
            room = self._room_of(room_id, sender)
            message = room.post(
                sender, content, self.clock.now(), message_type=message_type, present=present
            )
            self.app.save(room)  # two messages at once: the second is numbered after a retry
            return message

        return self.app.retrying(command)

    def mark_read(self, actor: Actor, room_id: UUID, up_to: int | None = None) -> bool:
        """Mark the room read by the caller up to message number ``up_to`` (default: all).
        Returns whether anything changed."""
        reader = actor.id()

        def command() -> bool:
            room = self._room_of(room_id, reader)
            if not room.read(reader, self.clock.now(), up_to):
                return False
            self.app.save(room)
            return True

        return self.app.retrying(command)

    def join_dispute(self, actor: Actor, room_id: UUID) -> None:
        """Staff join the room of an order in dispute (visibly); any other room, or anyone
        else, is told it does not exist."""
        try:
            staff = staff_member(self.app, actor)
        except NotAllowed:
            raise NotAParticipant() from None

        def command() -> None:
            room = self.app.find(room_id, ChatRoom)
            if room is None:
                raise NotAParticipant()
            if room.includes(staff):
                return
            escrow = self.app.find(room.escrow_id, Escrow) if room.escrow_id else None
            if escrow is None or escrow.status != "disputed":
                raise NotAParticipant()
            room.join(staff, self.clock.now())
            self.app.save(room)

        self.app.retrying(command)

    def check_participant(self, actor: Actor, room_id: UUID) -> None:
        """NotAParticipant unless the caller is in the room (a socket being opened)."""
        self._room_of(room_id, actor.id())

    def _room_of(self, room_id: UUID, user_id: UUID) -> ChatRoom:
        room = self.app.find(room_id, ChatRoom)
        if room is None:
            raise NotAParticipant()
        room.check_participant(user_id)
        return room

    def _present(self, room_id: UUID) -> frozenset[UUID]:
        return self.presence.present(room_id)
