"""Wire schemas of chats (CONTRACT §2.0 ChatRoom and Message, §2.8): request bodies, bounded
by the domain's limits, and the objects built from rows of the chats read model."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import Meta

from api.schemas import Body, UserPublic, iso, public_user_from_row
from domain.chat import MAX_MESSAGE_LENGTH

# The domain refuses an empty or over-long message with the field named; a far longer body is
# refused here already (4x: the domain's count is of characters, a text may be emoji).
Content = Annotated[str, Meta(max_length=MAX_MESSAGE_LENGTH * 4)]


class OpenRoomBody(Body):
    participant_id: UUID
    listing_id: UUID | None = None
    initial_message: Content | None = None


class SendBody(Body):
    content: Content
    message_type: Annotated[str, Meta(max_length=16)] = "text"


class ReadBody(Body):
    """``POST /chats/{id}/read/``: everything, or up to ``message_id``."""

    message_id: UUID | None = None


class ChatRoom(msgspec.Struct):
    id: UUID
    kind: str  # "direct" or "order" (beyond the contract)
    participants: list[UserPublic]
    listing: UUID | None
    escrow: UUID | None  # the order's escrow (beyond the contract)
    last_message_preview: str
    last_message: str  # apiTypes' name for the preview
    last_message_at: str | None
    unread_count: int
    is_active: bool
    created_at: str
    updated_at: str


class Message(msgspec.Struct):
    id: UUID
    room: UUID
    sender: UserPublic
    content: str
    message_type: str
    attachment: str | None
    is_read: bool
    read_at: str | None
    created_at: str


def room_from_row(row: Any, members: list[Any], unread: int, base_url: str) -> ChatRoom:
    created = iso(row.created_at) or ""
    return ChatRoom(
        id=row.id,
        kind=row.kind,
        participants=[public_user_from_row(m, base_url) for m in members],
        listing=row.listing_id,
        escrow=row.escrow_id,
        last_message_preview=row.last_message_preview,
        last_message=row.last_message_preview,
        last_message_at=iso(row.last_message_at),
        unread_count=unread,
        is_active=True,
        created_at=created,
        updated_at=iso(row.last_message_at) or created,
    )


def message_from_row(row: Any, base_url: str) -> Message:
    return Message(
        id=row.id,
        room=row.room_id,
        sender=public_user_from_row(row, base_url, prefix="sender_"),
        content=row.content,
        message_type=row.message_type,
        attachment=None,
        is_read=row.is_read,
        read_at=iso(row.read_at),
        created_at=iso(row.created_at) or "",
    )
