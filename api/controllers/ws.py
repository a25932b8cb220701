"""CONTRACT §4 websockets: ``/ws/chat/{room_id}/``, ``/ws/notifications/`` and the public
``/ws/listings/``.

Authentication is the access JWT in ``?token=`` (or an ``Authorization: Bearer`` header, or
the ``access_token`` cookie). A bad, expired or revoked token is accepted and then closed with
4401, a room the caller is not in with 4403: a close code tells the client not to retry, where
a refused handshake looks like a network failure. 1013 (try again later) when the realtime
channels cannot be reached.

Client frames are JSON objects of at most 16 KiB; a binary, oversized, malformed or unknown
frame is answered with ``{"type": "error", "code", "message"}`` and the socket stays open.
``{"type": "ping"}`` is answered ``{"type": "pong"}``. A client that reconnects with
``?last_id=<the last message or notification id it saw>`` is first sent what it missed.
Frames, their order and the catch-up are api/realtime.py's; what a message does is the
application's (application/chats.py), over the socket exactly as over REST.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
import structlog
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromPath

from api.auth import container_of, token_holder
from api.errors import ApiError, socket_error
from api.realtime import Realtime, Stream
from application.actor import Actor
from application.errors import TokenInvalid
from domain.errors import DomainError
from domain.user import display_name
from projections import chats as chat_views
from projections import notifications as notification_views
from projections.runtime import DATABASE_DOWN
from wibestore.container import Container

log = structlog.get_logger(__name__)
Socket = WebSocket[Any, Any, Any]
MAX_FRAME = 16 * 1024  # characters of one client frame: a 2,000-character message fits
UNAUTHORIZED, FORBIDDEN, TRY_AGAIN_LATER = 4401, 4403, 1013

UNAVAILABLE = {
    "type": "error",
    "code": "SERVICE_UNAVAILABLE",
    "message": "The service is temporarily unavailable.",
}
INTERNAL = {"type": "error", "code": "INTERNAL_ERROR", "message": "An error occurred."}
OnFrame = Callable[[dict[str, Any]], Awaitable[None]]


class SignedIn(msgspec.Struct, frozen=True):
    row: Any
    session_id: UUID | None
    expires_in: float | None  # seconds until the access token expires: then 4401

    @property
    def id(self) -> UUID:
        user_id: UUID = self.row.id
        return user_id


def socket_token(socket: Socket) -> str | None:
    token = socket.query_params.get("token")
    if token:
        return str(token)
    scheme, _, value = socket.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return socket.cookies.get("access_token") or None


async def refuse(socket: Socket, code: int) -> None:
    await socket.accept()
    await socket.close(code)


async def signed_in(socket: Socket, container: Container) -> SignedIn | None:
    """The socket's user, or None once the socket is closed with 4401 (1013: the read models
    cannot be asked)."""
    token = socket_token(socket)
    if token is None:
        await refuse(socket, UNAUTHORIZED)
        return None

    def check() -> SignedIn:
        row = token_holder(container, token)
        claims = container.tokens.decode(token, "access")
        expires_in = None
        if claims.expires_at is not None:
            expires_in = claims.expires_at - time.time()  # tokens expire in wall-clock time
        return SignedIn(row, claims.session_id, expires_in)

    try:
        return await anyio.to_thread.run_sync(check)
    except TokenInvalid:
        await refuse(socket, UNAUTHORIZED)
    except DATABASE_DOWN:
        await refuse(socket, TRY_AGAIN_LATER)
    return None


def realtime_of(socket: Socket) -> Realtime:
    realtime: Realtime = socket.app.state.realtime
    return realtime


async def serve(
    socket: Socket,
    stream: Stream,
    channels: list[str],
    on_frame: OnFrame,
    user: SignedIn | None = None,
) -> None:
    """Run the socket until either side ends it: channel frames out, client frames in. A
    user's socket closes with 4401 when its access token expires, as a request would be
    refused then (the client reconnects with a fresh token)."""
    realtime = realtime_of(socket)
    subscriber = await realtime.subscribe(channels)
    if subscriber is None:
        await socket.close(TRY_AGAIN_LATER)
        return
    try:
        await stream.send_missed()  # after subscribing: nothing falls between the two

        async def outgoing() -> None:
            async for data in subscriber.iter_events():
                code = await stream.deliver(data)
                if code is not None:
                    await socket.close(code)
                    return

        async def incoming() -> None:
            while True:
                event = await socket.receive()
                if event["type"] == "websocket.disconnect":
                    return
                frame = parse(event)
                if isinstance(frame, str):
                    await stream.send({"type": "error", "code": "BAD_FRAME", "message": frame})
                elif frame.get("type") == "ping":
                    await stream.send({"type": "pong"})
                else:
                    try:
                        await on_frame(frame)
                    except (DomainError, ApiError) as e:
                        await stream.send(socket_error(e))
                    except DATABASE_DOWN:
                        await stream.send(UNAVAILABLE)
                    except Exception:  # a bug: logged, answered, and the socket stays open
                        log.exception("socket.frame_failed", path=socket.url.path)
                        await stream.send(INTERNAL)

        async def expiry(seconds: float) -> None:
            await asyncio.sleep(max(seconds, 0.0))
            await socket.close(UNAUTHORIZED)

        tasks = [asyncio.create_task(outgoing()), asyncio.create_task(incoming())]
        if user is not None and user.expires_in is not None:
            tasks.append(asyncio.create_task(expiry(user.expires_in)))
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, Exception):
                    await task
    finally:
        await realtime.unsubscribe(subscriber)
        with contextlib.suppress(Exception):
            await socket.close()


def parse(event: Any) -> dict[str, Any] | str:
    """A client frame as a JSON object, or what is wrong with it."""
    text = event.get("text")
    if text is None:
        return "Binary frames are not accepted; send JSON text."
    if len(text) > MAX_FRAME:
        return f"A frame is at most {MAX_FRAME} characters."
    try:
        frame = msgspec.json.decode(text)
    except msgspec.DecodeError:
        return "A frame must be a JSON object."
    if not isinstance(frame, dict):
        return "A frame must be a JSON object."
    return frame


def unknown(frame: dict[str, Any]) -> ApiError:
    return ApiError(400, "UNKNOWN_TYPE", f"Unknown message type: {frame.get('type')!r}.")


# --- chat -------------------------------------------------------------------------------------
def enter_room(container: Container, user: SignedIn, room_id: UUID) -> bool:
    """Whether the user may open the room's socket: a member, or staff joining a disputed
    order's room (application/chats.py)."""
    with container.store.reader.connect() as conn:
        if chat_views.read_mark(conn, room_id, user.id) is not None:
            return True
    if not user.row.is_staff:
        return False
    try:
        with container.read_your_writes():
            container.chats.join_dispute(Actor.user(user.id), room_id)
    except DomainError:
        return False
    return True


def start_of_chat(container: Container, room_id: UUID, last_id: str | None) -> int:
    """The position a chat socket starts after: the message ``last_id`` (the client's last
    seen), else the room's newest (the client loads history over REST)."""
    with container.store.reader.connect() as conn:
        if last_id:
            with contextlib.suppress(ValueError):
                row = chat_views.message(conn, room_id, UUID(last_id))
                if row is not None:
                    return int(row.position)
        return chat_views.last_position(conn, room_id)


@websocket("/ws/chat/{room_id:uuid}/")
async def chat_socket(socket: Socket, room_id: FromPath[UUID]) -> None:
    container = container_of(socket)
    user = await signed_in(socket, container)
    if user is None:
        return
    try:
        allowed = await anyio.to_thread.run_sync(enter_room, container, user, room_id)
    except DATABASE_DOWN:
        await refuse(socket, TRY_AGAIN_LATER)
        return
    if not allowed:
        await refuse(socket, FORBIDDEN)
        return
    await socket.accept()
    last_id = socket.query_params.get("last_id")
    start = await anyio.to_thread.run_sync(start_of_chat, container, room_id, last_id)

    def missed(position: int) -> list[tuple[int, dict[str, Any]]]:
        with container.store.reader.connect() as conn:
            rows = chat_views.messages_after(conn, room_id, position)
        return [(int(r.position), chat_views.message_frame(r)) for r in rows]

    stream = Stream(socket, user.id, user.session_id, missed, position=start)
    actor = Actor.user(user.id)
    realtime = realtime_of(socket)
    limiter = socket.app.state.rate_limiter
    name = display_name(user.row.full_name, user.row.username, user.row.email)
    room = chat_views.room_channel(room_id)

    async def on_frame(frame: dict[str, Any]) -> None:
        kind = frame.get("type", "chat.message")
        if kind == "chat.message":
            content = frame.get("content")
            if not isinstance(content, str):
                raise ApiError(400, "INVALID", "content: This field is required.")
            await limiter.check("chat", f"user:{user.id}")
            await anyio.to_thread.run_sync(container.chats.post, actor, room_id, content)
        elif kind == "chat.typing":
            await realtime.publish(
                room, {"type": "typing", "user_id": str(user.id), "username": name}
            )
        elif kind == "chat.read":
            await anyio.to_thread.run_sync(read_up_to, container, actor, room_id, frame)
        else:
            raise unknown(frame)

    ticket = await realtime.enter(room_id, user.id)
    try:
        channels = [room, f"user:{user.id}", f"session:{user.session_id}"]
        await serve(socket, stream, channels, on_frame, user)
    finally:
        await realtime.leave(ticket)


def read_up_to(container: Container, actor: Actor, room_id: UUID, frame: dict[str, Any]) -> None:
    """§4.2 ``chat.read``: the room is read up to ``message_id``."""
    try:
        message_id = UUID(str(frame.get("message_id")))
    except ValueError:
        raise ApiError(400, "INVALID", "message_id: Must be a valid UUID.") from None
    with container.store.reader.connect() as conn:
        row = chat_views.message(conn, room_id, message_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Message not found.")
    container.chats.mark_read(actor, room_id, int(row.seq))


# --- notifications ----------------------------------------------------------------------------
def start_of_notifications(
    container: Container, user_id: UUID, last_id: str | None
) -> tuple[int, int]:
    """(the position the socket starts after, the unread count now): after the notification
    ``last_id`` (the client's last seen), else after the newest."""
    with container.store.reader.connect() as conn:
        start = None
        if last_id:
            with contextlib.suppress(ValueError):
                start = notification_views.position_of(conn, user_id, UUID(last_id))
        if start is None:
            start = notification_views.last_position(conn, user_id)
        return start, notification_views.unread_count(conn, user_id)


@websocket("/ws/notifications/")
async def notifications_socket(socket: Socket) -> None:
    """§4.3: each new notification of the user as ``{id, title, message, data, created_at}``,
    and the unread count (``{type: "unread_count", unread_count}``) on connecting and whenever
    it changes."""
    container = container_of(socket)
    user = await signed_in(socket, container)
    if user is None:
        return
    await socket.accept()
    last_id = socket.query_params.get("last_id")
    start, unread = await anyio.to_thread.run_sync(
        start_of_notifications, container, user.id, last_id
    )

    def missed(position: int) -> list[tuple[int, dict[str, Any]]]:
        with container.store.reader.connect() as conn:
            rows = notification_views.notifications_after(conn, user.id, position)
        return [(int(r.position), notification_views.frame_of(r)) for r in rows]

    stream = Stream(socket, user.id, user.session_id, missed, position=start)
    await stream.send(notification_views.unread_frame(unread))

    async def on_frame(frame: dict[str, Any]) -> None:
        raise unknown(frame)

    channels = [
        notification_views.channel_of(user.id),
        f"user:{user.id}",
        f"session:{user.session_id}",
    ]
    await serve(socket, stream, channels, on_frame, user)


# --- the public listings stream ----------------------------------------------------------------
@websocket("/ws/listings/")
async def listings_socket(socket: Socket) -> None:
    """Projected public listing events (approved, price changed, reserved, released, sold,
    removed) for anyone: a catalogue page updates live. Nothing is caught up: a page that
    reconnects reloads the listings over REST."""
    await socket.accept()
    stream = Stream(socket, None, None, None)

    async def on_frame(frame: dict[str, Any]) -> None:
        raise unknown(frame)

    await serve(socket, stream, ["listings"], on_frame)


SOCKETS = [chat_socket, notifications_socket, listings_socket]
