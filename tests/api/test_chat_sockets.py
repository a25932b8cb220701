"""CONTRACT §4.1-4.2 chat sockets, in one process (two processes and a Redis restart:
tests/test_realtime_http.py): ``?token=`` authentication with close codes, messages sent over
the socket or REST reach every socket of the room in order, typing reaches the others only,
read receipts, ping/pong, bad frames answered with an error frame on a socket that stays open,
and a reconnect with the last id seen gets what it missed."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from application.actor import Actor
from tests.api.conftest import PASSWORD, bearer, register
from tests.api.test_chats import open_room, sent
from tests.api.test_reviews import Shop, user_id
from wibestore.container import Container

Client = TestClient[Any]
WAIT = 10.0  # seconds a frame may take (a loaded CI machine); they take milliseconds


def token(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


def chat_url(room: str, who: dict[str, str], **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": token(who), **params}.items())
    return f"/ws/chat/{room}/?{query}"


def frame(ws: Any, kind: str | None = None) -> dict[str, Any]:
    """The next frame (of ``kind``, skipping others such as read receipts)."""
    while True:
        got = ws.receive_json(timeout=WAIT)
        if kind is None or got.get("type") == kind:
            return dict(got)


def ready(*sockets: Any) -> None:
    """Wait until each socket follows its channels (it answers frames only from then on):
    typing is ephemeral, so a frame sent before the other side listens is not kept for it."""
    for ws in sockets:
        ws.send_json({"type": "ping"})
        assert frame(ws, "pong") == {"type": "pong"}


def closed_with(client: Client, url: str) -> int:
    with pytest.raises(WebSocketDisconnect) as closed, client.websocket_connect(url) as ws:
        ws.receive_json(timeout=WAIT)
    return int(closed.value.code)


def close_code(ws: Any) -> int:
    """Read frames until the server closes the socket: its close code."""
    try:
        while True:
            ws.receive_json(timeout=WAIT)
    except WebSocketDisconnect as e:
        return int(e.code)


@pytest.fixture
def room(client: Client, market: dict[str, Any]) -> str:
    seller_id = user_id(client, market["seller"])
    return str(open_room(client, market["buyer"], seller_id)["id"])


def test_messages_from_the_socket_and_rest_reach_both_members_in_order(
    client: Client, market: dict[str, Any], room: str
) -> None:
    buyer, seller = market["buyer"], market["seller"]
    buyer_id = user_id(client, buyer)
    with (
        client.websocket_connect(chat_url(room, buyer)) as b,
        client.websocket_connect(chat_url(room, seller)) as s,
    ):
        b.send_json({"type": "chat.message", "content": "over the socket"})
        rest = sent(client, seller, room, "over REST")
        b.send_json({"content": "no type is a message"})
        seen = {}
        for name, ws in (("buyer", b), ("seller", s)):
            frames = [frame(ws, "message") for _ in range(3)]
            for f in frames:
                assert set(f) == {
                    "type",
                    "id",
                    "room",
                    "sender",
                    "content",
                    "message_type",
                    "created_at",
                }
                assert set(f["sender"]) == {"id", "username", "display_name"}
                assert f["created_at"].endswith("+00:00")  # UTC, §4.2
            seen[name] = [(f["id"], f["content"], f["sender"]["id"]) for f in frames]
        assert seen["buyer"] == seen["seller"]  # one order for both: the commit order
        contents = [content for _, content, _ in seen["buyer"]]
        assert sorted(contents) == sorted(["over the socket", "over REST", "no type is a message"])
        # the buyer's two socket messages keep their order; the REST one is the seller's
        assert contents.index("over the socket") < contents.index("no type is a message")
        assert (rest["id"], "over REST", str(user_id(client, seller))) in seen["buyer"]
        assert {sender for _, c, sender in seen["buyer"] if c != "over REST"} == {str(buyer_id)}


def test_typing_reaches_the_others_and_ping_is_answered(
    client: Client, market: dict[str, Any], room: str
) -> None:
    buyer, seller = market["buyer"], market["seller"]
    with (
        client.websocket_connect(chat_url(room, buyer)) as b,
        client.websocket_connect(chat_url(room, seller)) as s,
    ):
        ready(b, s)
        b.send_json({"type": "chat.typing"})
        typing = frame(s)
        assert typing == {
            "type": "typing",
            "user_id": str(user_id(client, buyer)),
            "username": "buyer",
        }
        b.send_json({"type": "ping"})
        assert frame(b) == {"type": "pong"}  # the buyer's own typing was not echoed


def test_read_receipts_mark_the_room_read_and_are_broadcast(
    client: Client, market: dict[str, Any], room: str
) -> None:
    buyer, seller = market["buyer"], market["seller"]
    message = sent(client, seller, room, "hello")
    with client.websocket_connect(chat_url(room, buyer)) as b:
        b.send_json({"type": "chat.read", "message_id": message["id"]})
        receipt = frame(b, "read")
        assert receipt["message_id"] == message["id"]
        assert receipt["user_id"] == str(user_id(client, buyer))
    assert client.get(f"/api/v1/chats/{room}/", headers=buyer).json()["unread_count"] == 0


def test_bad_frames_get_an_error_frame_and_the_socket_stays_open(
    client: Client, market: dict[str, Any], room: str, container: Container
) -> None:
    before = container.app.recorder.max_notification_id()
    with client.websocket_connect(chat_url(room, market["buyer"])) as b:
        for bad in (
            lambda: b.send_bytes(b"\x00\x01binary"),
            lambda: b.send_text("not json"),
            lambda: b.send_text("[1, 2]"),
            lambda: b.send_text("x" * 20_000),
            lambda: b.send_json({"type": "chat.explode"}),
            lambda: b.send_json({"type": "chat.message", "content": ""}),
            lambda: b.send_json({"type": "chat.message", "content": "y" * 2001}),
            lambda: b.send_json({"type": "chat.message"}),
            lambda: b.send_json({"type": "chat.read", "message_id": "nope"}),
            lambda: b.send_json({"type": "chat.read", "message_id": str(uuid.uuid4())}),
        ):
            bad()
            error = frame(b)
            assert error["type"] == "error" and error["code"] and error["message"], error
        b.send_json({"type": "ping"})
        assert frame(b) == {"type": "pong"}
    assert container.app.recorder.max_notification_id() == before


def test_bad_tokens_close_with_4401_and_strangers_with_4403(
    client: Client, market: dict[str, Any], room: str, container: Container
) -> None:
    assert closed_with(client, f"/ws/chat/{room}/") == 4401
    assert closed_with(client, f"/ws/chat/{room}/?token=garbage") == 4401
    refresh = register(client, "rita@example.uz")["tokens"]["refresh"]
    assert closed_with(client, f"/ws/chat/{room}/?token={refresh}") == 4401  # not an access token
    eve = bearer(register(client, "eve@example.uz")["tokens"]["access"])
    assert closed_with(client, chat_url(room, eve)) == 4403
    assert closed_with(client, chat_url(str(uuid.uuid4()), market["buyer"])) == 4403
    assert closed_with(client, chat_url(room, market["staff"])) == 4403  # not a dispute


def test_a_reconnect_with_the_last_id_seen_gets_what_it_missed(
    client: Client, market: dict[str, Any], room: str
) -> None:
    buyer, seller = market["buyer"], market["seller"]
    with client.websocket_connect(chat_url(room, buyer)) as b:
        b.send_json({"content": "one"})
        last_seen = frame(b, "message")["id"]
    sent(client, seller, room, "two")  # while the buyer was away
    sent(client, seller, room, "three")
    with client.websocket_connect(chat_url(room, buyer, last_id=last_seen)) as b:
        assert [frame(b, "message")["content"] for _ in range(2)] == ["two", "three"]
        sent(client, seller, room, "four")
        assert frame(b, "message")["content"] == "four"  # then live, without repeats


def test_a_ban_closes_the_users_sockets(
    client: Client, market: dict[str, Any], room: str, container: Container
) -> None:
    seller_id = user_id(client, market["seller"])
    staff_id = user_id(client, market["staff"])
    with client.websocket_connect(chat_url(room, market["seller"])) as s:
        s.send_json({"type": "ping"})
        assert frame(s) == {"type": "pong"}
        with container.read_your_writes():
            container.accounts.ban(Actor.user(staff_id), seller_id, "spam")
        with pytest.raises(WebSocketDisconnect) as closed:
            frame(s)
        assert closed.value.code == 4401


def test_a_logout_closes_the_sockets_of_that_sign_in_only(
    client: Client, market: dict[str, Any], room: str
) -> None:
    signed_in = client.post(
        "/api/v1/auth/login/", json={"email": "buyer@example.uz", "password": PASSWORD}
    ).json()["data"]["tokens"]
    phone = bearer(signed_in["access"])  # a second sign-in of the buyer
    with (
        client.websocket_connect(chat_url(room, market["buyer"])) as laptop,
        client.websocket_connect(chat_url(room, phone)) as handset,
    ):
        ready(laptop, handset)
        r = client.post(
            "/api/v1/auth/logout/", json={"refresh": signed_in["refresh"]}, headers=phone
        )
        assert r.status_code == 200, r.text
        with pytest.raises(WebSocketDisconnect) as closed:
            frame(handset)
        assert closed.value.code == 4401
        ready(laptop)  # the other sign-in's socket stays open


def test_the_public_listings_stream_shows_approvals_and_sales(
    client: Client, container: Container, market: dict[str, Any]
) -> None:
    shop = Shop(client, container, market)
    with client.websocket_connect("/ws/listings/") as ws:
        ready(ws)
        _, listing = shop.purchase(market["buyer"], release=True)
        events = [frame(ws, "listing") for _ in range(3)]
    assert [(e["event"], e["id"]) for e in events] == [
        ("approved", listing),
        ("reserved", listing),
        ("sold", listing),
    ]


@pytest.fixture
def quick_presence(monkeypatch: pytest.MonkeyPatch) -> None:
    """Presence refreshed every 0.1 s (before the app starts its refresher)."""
    import api.realtime

    monkeypatch.setattr(api.realtime, "PRESENCE_REFRESH", 0.1)


def test_an_open_socket_keeps_its_member_present_and_a_closed_one_does_not(
    quick_presence: None,
    client: Client,
    container: Container,
    market: dict[str, Any],
    room: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The process refreshes its sockets' presence tickets together (here every 0.1 s,
    tickets of 0.5 s): a member watching the room stays present past a ticket's life."""
    monkeypatch.setattr(container.presence, "ttl", 0.5)
    buyer = market["buyer"]
    buyer_id = user_id(client, buyer)
    with client.websocket_connect(chat_url(room, buyer)) as b:
        ready(b)
        time.sleep(1.0)
        assert container.presence.present(uuid.UUID(room)) == {buyer_id}
    deadline = time.monotonic() + WAIT
    while container.presence.present(uuid.UUID(room)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert container.presence.present(uuid.UUID(room)) == frozenset()


def test_a_socket_closes_with_4401_when_its_access_token_expires(
    client: Client, container: Container, market: dict[str, Any], room: str
) -> None:
    """Its token would be refused by every request from then on; the client reconnects
    with a fresh one."""
    buyer_id = user_id(client, market["buyer"])
    lifetime = container.settings.access_minutes * 60
    minted = container.clock.now() - timedelta(seconds=lifetime - 5)  # 4-5 s left
    short_token = container.tokens.access(buyer_id, minted)
    expires_at = container.tokens.decode(short_token, "access").expires_at
    assert expires_at is not None
    with client.websocket_connect(chat_url(room, {"Authorization": f"Bearer {short_token}"})) as ws:
        ready(ws)  # served while the token holds
        assert close_code(ws) == 4401
        closed_at = time.time()  # tokens expire in wall-clock time
    assert expires_at - 0.1 <= closed_at < expires_at + WAIT  # not before it expires
    with client.websocket_connect(chat_url(room, market["buyer"])) as ws:  # a fresh token
        ready(ws)
