"""The chats read model: rooms, their members with how far each has read, and the messages
(CONTRACT §2.0 ChatRoom and Message, §2.8, §4.2), from ChatRoom events only.

A room's messages are numbered 1, 2, 3... (``seq``, the domain's), so a page of messages is an
index range on (room, seq) and costs the same in a room of ten messages or ten thousand; a
room's message count is its last number. A message is read (``is_read``) once another member
has read up to it.

Realtime: each new message, join line and read mark is emitted to the room's channel
(``room:<id>``) in the §4.2 shape, once its batch commits. Senders' names come from the users
read model, which is written earlier in the same batch (projections/registry.py order).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import singledispatchmethod
from types import SimpleNamespace
from typing import Any
from uuid import UUID

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    DateTime,
    Index,
    Integer,
    Row,
    String,
    Table,
    Text,
    Uuid,
    and_,
    bindparam,
    func,
    select,
    update,
)

from domain.chat import ChatRoom, message_id
from domain.user import display_name
from projections.runtime import Projector, metadata
from projections.users import as_utc, users

PREVIEW = 200  # characters of the last message a room shows
JOINED_TEXT = "joined the conversation"

chat_rooms = Table(
    "chat_rooms",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("listing_id", Uuid),
    Column("escrow_id", Uuid),
    Column("seq", Integer, nullable=False),  # the last message's number: the room's count
    Column("last_message_preview", Text, nullable=False),
    Column("last_message_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

chat_members = Table(
    "chat_members",
    metadata,
    Column("room_id", Uuid, primary_key=True),
    Column("user_id", Uuid, primary_key=True),
    Column("read_up_to", Integer, nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
    Index("chat_members_user", "user_id"),
)

chat_messages = Table(
    "chat_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("room_id", Uuid, nullable=False),
    Column("seq", Integer, nullable=False),
    Column("sender_id", Uuid, nullable=False),
    Column("content", Text, nullable=False),
    Column("message_type", String(16), nullable=False),
    Column("is_read", Boolean, nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("position", BigInteger, nullable=False),  # the event's place in the log
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("chat_messages_room_seq", "room_id", "seq", unique=True),
    Index("chat_messages_room_position", "room_id", "position"),  # a socket's gap
)


# The projector's statements, built once: one message costs an INSERT and two UPDATEs, and
# building them per event cost more CPU than PostgreSQL spent running them.
ADD_MESSAGE = chat_messages.insert()
ROOM_MOVED = (
    update(chat_rooms)
    .where(chat_rooms.c.id == bindparam("room"))
    .values(
        seq=bindparam("last_seq"),
        last_message_preview=bindparam("preview"),
        last_message_at=bindparam("at"),
    )
)
READ_MARK_MOVED = (
    update(chat_members)
    .where(
        chat_members.c.room_id == bindparam("room"),
        chat_members.c.user_id == bindparam("user"),
        chat_members.c.read_up_to < bindparam("mark"),
    )
    .values(read_up_to=bindparam("mark"))
)
MESSAGES_READ = (
    update(chat_messages)
    .where(
        chat_messages.c.room_id == bindparam("room"),
        chat_messages.c.seq <= bindparam("up_to"),
        chat_messages.c.sender_id != bindparam("user"),
        chat_messages.c.is_read.is_(False),
    )
    .values(is_read=True, read_at=bindparam("read_at"))
)
ROOM_SEQ = select(chat_rooms.c.seq).where(chat_rooms.c.id == bindparam("room"))
SENDERS = select(users.c.id, users.c.username, users.c.full_name, users.c.email).where(
    users.c.id.in_(bindparam("ids", expanding=True))
)


def room_channel(room_id: UUID) -> str:
    return f"room:{room_id}"


def utc_iso(value: datetime | None) -> str | None:
    value = as_utc(value)
    return value.astimezone(UTC).isoformat() if value is not None else None


def message_frame(row: Any) -> dict[str, Any]:
    """The §4.2 "message" frame of a message row joined with its sender (``sender_*``)."""
    return {
        "type": "message",
        "id": str(row.id),
        "room": str(row.room_id),
        "sender": {
            "id": str(row.sender_id),
            "username": row.sender_username,
            "display_name": display_name(
                row.sender_full_name, row.sender_username, row.sender_email
            ),
        },
        "content": row.content,
        "message_type": row.message_type,
        "created_at": utc_iso(row.created_at),
    }


class ChatsProjector(Projector):
    name = "chats"
    version = 1
    first = True  # its frames reach sockets
    tables = (chat_rooms, chat_members, chat_messages)

    def __init__(self) -> None:
        self._new: list[tuple[int, dict[str, Any]]] = []  # (position, message row) to emit

    def begin_batch(self, conn: Connection, position: int) -> None:
        self._new = []

    def end_batch(self, conn: Connection, position: int) -> None:
        """Emit the batch's new messages, with their senders' names as they are now."""
        if not self._new:
            return
        ids = list({m["sender_id"] for _, m in self._new})
        senders = {r.id: r for r in conn.execute(SENDERS, {"ids": ids})}
        for at, m in self._new:
            sender = senders[m["sender_id"]]
            row = SimpleNamespace(
                **m,
                sender_username=sender.username,
                sender_full_name=sender.full_name,
                sender_email=sender.email,
            )
            self.emit(room_channel(m["room_id"]), {"frame": message_frame(row)}, position=at)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave chats untouched."""

    @apply.register
    def _(self, e: ChatRoom.Opened, conn: Connection) -> None:
        conn.execute(
            chat_rooms.insert().values(
                id=e.originator_id,
                kind=e.kind,
                listing_id=e.listing_id,
                escrow_id=e.escrow_id,
                seq=0,
                last_message_preview="",
                last_message_at=None,
                created_at=e.at,
            )
        )
        conn.execute(
            chat_members.insert(),
            [
                {"room_id": e.originator_id, "user_id": u, "read_up_to": 0, "joined_at": e.at}
                for u in dict.fromkeys(e.participants)
            ],
        )

    @apply.register
    def _(self, e: ChatRoom.Joined, conn: Connection) -> None:
        seq = self._next_seq(conn, e.originator_id)
        conn.execute(
            chat_members.insert().values(
                room_id=e.originator_id, user_id=e.user_id, read_up_to=seq, joined_at=e.at
            )
        )
        self._add_message(conn, e.originator_id, seq, e.user_id, JOINED_TEXT, "system", e.at)

    @apply.register
    def _(self, e: ChatRoom.MessagePosted, conn: Connection) -> None:
        room = e.originator_id
        self._add_message(conn, room, e.seq, e.sender_id, e.content, e.message_type, e.at)
        self._move_read_mark(conn, room, e.sender_id, e.seq)

    @apply.register
    def _(self, e: ChatRoom.Read, conn: Connection) -> None:
        room = e.originator_id
        self._move_read_mark(conn, room, e.user_id, e.seq)
        read = {"room": room, "up_to": e.seq, "user": e.user_id, "read_at": e.at}
        conn.execute(MESSAGES_READ, read)
        self.emit(
            room_channel(room),
            {
                "frame": {
                    "type": "read",
                    "user_id": str(e.user_id),
                    "message_id": str(message_id(room, e.seq)),
                    "read_at": utc_iso(e.at),
                }
            },
        )

    def _next_seq(self, conn: Connection, room: UUID) -> int:
        seq = conn.execute(ROOM_SEQ, {"room": room}).scalar_one()
        return int(seq) + 1

    def _add_message(
        self,
        conn: Connection,
        room: UUID,
        seq: int,
        sender: UUID,
        content: str,
        message_type: str,
        at: datetime,
    ) -> None:
        row = {
            "id": message_id(room, seq),
            "room_id": room,
            "seq": seq,
            "sender_id": sender,
            "content": content,
            "message_type": message_type,
            "is_read": False,
            "read_at": None,
            "position": self.position,
            "created_at": at,
        }
        conn.execute(ADD_MESSAGE, row)
        preview = {"room": room, "last_seq": seq, "preview": content[:PREVIEW], "at": at}
        conn.execute(ROOM_MOVED, preview)
        self._new.append((self.position, row))

    def _move_read_mark(self, conn: Connection, room: UUID, user: UUID, seq: int) -> None:
        conn.execute(READ_MARK_MOVED, {"room": room, "user": user, "mark": seq})


# --- queries ------------------------------------------------------------------------------
SENDER = (  # the users columns of a UserPublic
    *("username", "full_name", "email", "avatar", "rating_cents", "reviews_count"),
    *("total_sales", "created_at", "plan"),
)
MESSAGES = select(chat_messages, *(users.c[name].label(f"sender_{name}") for name in SENDER)).join(
    users, users.c.id == chat_messages.c.sender_id
)
MEMBER = select(chat_members.c.read_up_to).where(
    chat_members.c.room_id == bindparam("room_id"), chat_members.c.user_id == bindparam("user_id")
)


def read_mark(conn: Connection, room_id: UUID, user_id: UUID) -> int | None:
    """How far ``user_id`` has read the room; None when they are not in it."""
    mark = conn.execute(MEMBER, {"room_id": room_id, "user_id": user_id}).scalar()
    return None if mark is None else int(mark)


def room(conn: Connection, room_id: UUID) -> Row[Any] | None:
    return conn.execute(select(chat_rooms).where(chat_rooms.c.id == room_id)).first()


def rooms_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """The rooms ``user_id`` is in, latest message first (rooms without one last), with the
    caller's read mark."""
    mine = and_(chat_members.c.user_id == user_id, chat_members.c.room_id == chat_rooms.c.id)
    total = conn.execute(
        select(func.count()).select_from(chat_members).where(chat_members.c.user_id == user_id)
    ).scalar_one()
    rows = conn.execute(
        select(chat_rooms, chat_members.c.read_up_to)
        .join(chat_members, mine)
        .order_by(
            chat_rooms.c.last_message_at.desc().nulls_last(),
            chat_rooms.c.created_at.desc(),
            chat_rooms.c.id,
        )
        .offset(offset)
        .limit(limit)
    )
    return int(total), list(rows)


def participants(conn: Connection, room_ids: list[UUID]) -> dict[UUID, list[Row[Any]]]:
    """Each room's members' users rows, in the order they joined."""
    found: dict[UUID, list[Row[Any]]] = {r: [] for r in room_ids}
    if not room_ids:
        return found
    rows = conn.execute(
        select(users, chat_members.c.room_id.label("member_of"))
        .join(chat_members, chat_members.c.user_id == users.c.id)
        .where(chat_members.c.room_id.in_(room_ids))
        .order_by(chat_members.c.joined_at, users.c.id)
    )
    for row in rows:
        found[row.member_of].append(row)
    return found


def unread_counts(conn: Connection, user_id: UUID, room_ids: list[UUID]) -> dict[UUID, int]:
    """Per room, the messages after the caller's read mark that others sent."""
    if not room_ids:
        return {}
    rows = conn.execute(
        select(chat_messages.c.room_id, func.count())
        .join(
            chat_members,
            and_(
                chat_members.c.room_id == chat_messages.c.room_id,
                chat_members.c.user_id == user_id,
            ),
        )
        .where(
            chat_messages.c.room_id.in_(room_ids),
            chat_messages.c.seq > chat_members.c.read_up_to,
            chat_messages.c.sender_id != user_id,
        )
        .group_by(chat_messages.c.room_id)
    )
    counts = dict.fromkeys(room_ids, 0)
    counts.update({room_id: int(n) for room_id, n in rows})
    return counts


def messages_page(conn: Connection, room_id: UUID, offset: int, limit: int) -> list[Row[Any]]:
    """Messages ``offset + 1`` to ``offset + limit`` of the room, oldest first: an index
    range on (room, seq), whatever the room's length."""
    return list(
        conn.execute(
            MESSAGES.where(
                chat_messages.c.room_id == room_id,
                chat_messages.c.seq > offset,
                chat_messages.c.seq <= offset + limit,
            ).order_by(chat_messages.c.seq)
        )
    )


def message(conn: Connection, room_id: UUID, message: UUID) -> Row[Any] | None:
    return conn.execute(
        MESSAGES.where(chat_messages.c.room_id == room_id, chat_messages.c.id == message)
    ).first()


def messages_after(
    conn: Connection, room_id: UUID, position: int, limit: int = 500
) -> list[Row[Any]]:
    """The room's messages saved after event-log ``position``, oldest first: what a socket
    that reconnected (or lost its channel) missed."""
    return list(
        conn.execute(
            MESSAGES.where(chat_messages.c.room_id == room_id, chat_messages.c.position > position)
            .order_by(chat_messages.c.position)
            .limit(limit)
        )
    )


def last_position(conn: Connection, room_id: UUID) -> int:
    """The event-log position of the room's newest message (0 for none)."""
    return int(
        conn.execute(
            select(func.coalesce(func.max(chat_messages.c.position), 0)).where(
                chat_messages.c.room_id == room_id
            )
        ).scalar_one()
    )
