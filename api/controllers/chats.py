"""CONTRACT §2.8 chats (and §7's ``read/``): the caller's rooms, opening a room with another
user, a room's messages, sending, and marking read. Sockets are api/controllers/ws.py's.

Who may see a room is its membership: anyone else is told it does not exist (404). Staff who
open a disputed order's room join it first (application/chats.py), visibly to its members.
Answers are read from the chats read model once the command's events are in it (202 when they
are not)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import Connection, Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.chat_schemas import (
    ChatRoom,
    Message,
    OpenRoomBody,
    ReadBody,
    SendBody,
    message_from_row,
    room_from_row,
)
from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.errors import ApiError
from api.money_schemas import Envelope
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import query_of
from api.schemas import Message as Said
from application.actor import Actor
from application.chats import Chats
from projections import chats as views

Req = Request[Any, Any, Any]
SIGNED_IN = [signed_in]
MESSAGES_PER_PAGE = 50


def room_location(room_id: UUID) -> str:
    return f"/api/v1/chats/{room_id}/"


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "Chat room not found.")


def rooms_as_seen(
    request: Req, conn: Connection, caller: Caller, rows: list[Any]
) -> list[ChatRoom]:
    """Rooms with their participants and the caller's unread count: three queries a page."""
    ids = [r.id for r in rows]
    members = views.participants(conn, ids)
    unread = views.unread_counts(conn, caller.id, ids)
    base = str(request.base_url)
    return [room_from_row(r, members[r.id], unread[r.id], base) for r in rows]


def room_of(request: Req, reader: Engine, caller: Caller, room_id: UUID) -> ChatRoom:
    with reader.connect() as conn:
        row = views.room(conn, room_id)
        if row is None or views.read_mark(conn, room_id, caller.id) is None:
            raise not_found()
        return rooms_as_seen(request, conn, caller, [row])[0]


def open_room_operation(handler: Any, method: Any, path: list[Any]) -> str:
    """One handler serves C2 and C2': each path keeps an operation id of its own."""
    return "create_chat_room" if "create" in path else "open_chat_room"


class ChatsController(Controller):
    path = "/api/v1/chats"
    tags = ["chats"]
    guards = SIGNED_IN

    @get("/", operation_id="chat_rooms", sync_to_thread=True, operation_class=PAGING_DOC)
    def rooms(self, request: Req, caller: Inject[Caller], reader: Inject[Engine]) -> Page[ChatRoom]:
        """C1: the caller's rooms, latest message first."""
        w = query_of(request, Paging).window()
        with reader.connect() as conn:
            total, rows = views.rooms_of(conn, caller.id, w.offset, w.limit)
            return page_of(request, w, total, rooms_as_seen(request, conn, caller, rows))

    @post(
        ["/", "/create/"],
        status_code=201,
        operation_id=open_room_operation,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def open_room(
        self,
        request: Req,
        caller: Inject[Caller],
        actor: Inject[Actor],
        chats: Inject[Chats],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[OpenRoomBody],
    ) -> Envelope[ChatRoom]:
        """C2 (``create/``) and the frontend's C2' (``/``): the room of the caller and
        ``participant_id`` (and ``listing_id``), the one they have or a new one;
        ``initial_message`` is posted in it."""
        with read_your_writes() as written:
            room_id = chats.open_room(
                actor, data.participant_id, data.listing_id, data.initial_message
            )
        unless_caught_up(written, room_location(room_id), "Chat room ready.", id=room_id)
        return Envelope(success=True, data=room_of(request, reader, caller, room_id))

    @get("/{room_id:uuid}/", operation_id="chat_room", sync_to_thread=True)
    def room(
        self,
        request: Req,
        caller: Inject[Caller],
        actor: Inject[Actor],
        chats: Inject[Chats],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        room_id: FromPath[UUID],
    ) -> ChatRoom:
        """C3: a room the caller is in (staff: a disputed order's room, which they join)."""
        self._enter(caller, actor, chats, read_your_writes, reader, room_id)
        return room_of(request, reader, caller, room_id)

    @get(
        "/{room_id:uuid}/messages/",
        operation_id="chat_messages",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
    )
    def messages(
        self,
        request: Req,
        caller: Inject[Caller],
        actor: Inject[Actor],
        chats: Inject[Chats],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        room_id: FromPath[UUID],
    ) -> Page[Message]:
        """C4: the room's messages, oldest first, page by page (``?page=N``)."""
        w = query_of(request, Paging).window(MESSAGES_PER_PAGE)
        self._enter(caller, actor, chats, read_your_writes, reader, room_id)
        with reader.connect() as conn:
            row = views.room(conn, room_id)
            if row is None:
                raise not_found()
            rows = views.messages_page(conn, room_id, w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, row.seq, [message_from_row(r, base) for r in rows])

    @post(
        "/{room_id:uuid}/send/",
        status_code=201,
        operation_id="send_chat_message",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def send(
        self,
        request: Req,
        actor: Inject[Actor],
        chats: Inject[Chats],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        room_id: FromPath[UUID],
        data: JSONBody[SendBody],
    ) -> Envelope[Message]:
        """C5: post a message; every open socket of the room gets it too."""
        with read_your_writes() as written:
            message_id = chats.post(actor, room_id, data.content, data.message_type)
        unless_caught_up(written, room_location(room_id), "Message sent.", id=message_id)
        with reader.connect() as conn:
            row = views.message(conn, room_id, message_id)
        if row is None:  # pragma: no cover - the read model has it: read-your-writes
            raise not_found()
        return Envelope(success=True, data=message_from_row(row, str(request.base_url)))

    @post(
        "/{room_id:uuid}/read/", status_code=200, operation_id="read_chat_room", sync_to_thread=True
    )
    def read(
        self,
        caller: Inject[Caller],
        actor: Inject[Actor],
        chats: Inject[Chats],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        room_id: FromPath[UUID],
        data: JSONBody[ReadBody | None] = None,
    ) -> Said:
        """§7: mark the room read (up to ``message_id``, when given)."""
        up_to = None
        if data is not None and data.message_id is not None:
            with reader.connect() as conn:
                if views.read_mark(conn, room_id, caller.id) is None:
                    raise not_found()
                found = views.message(conn, room_id, data.message_id)
            if found is None:
                raise ApiError(404, "NOT_FOUND", "Message not found.")
            up_to = found.seq
        with read_your_writes():
            chats.mark_read(actor, room_id, up_to)
        return Said(success=True, message="Messages marked as read.")

    def _enter(
        self,
        caller: Caller,
        actor: Actor,
        chats: Chats,
        read_your_writes: ReadYourWrites,
        reader: Engine,
        room_id: UUID,
    ) -> None:
        """404 unless the caller is in the room; staff join a disputed order's room first."""
        with reader.connect() as conn:
            if views.read_mark(conn, room_id, caller.id) is not None:
                return
        if not caller.is_staff:
            raise not_found()
        with read_your_writes() as written:
            chats.join_dispute(actor, room_id)
        if not written.caught_up:
            raise ApiError(503, "SERVICE_UNAVAILABLE", "Chats are catching up; try again shortly.")
