"""CONTRACT §4.3 notification sockets: ``?token=`` (4401 otherwise), the unread count on
connecting, each new notification pushed in the §4.3 shape (no ``type`` key) followed by the
new count, reads pushing the count, a reconnect with the last id seen getting what it missed,
and a chat message notifying only members without a socket on the room."""

from __future__ import annotations

from typing import Any

from litestar.exceptions import WebSocketDisconnect
from litestar.testing import TestClient

from tests.api.test_chat_sockets import chat_url, closed_with, frame, ready, token
from tests.api.test_chats import open_room
from tests.api.test_notifications import NOTIFICATIONS, Shop, listed, user_id

Client = TestClient[Any]
FRAME_FIELDS = {"id", "title", "message", "data", "created_at"}


def url(who: dict[str, str], **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"token": token(who), **params}.items())
    return f"/ws/notifications/?{query}"


def notification(ws: Any) -> dict[str, Any]:
    """The next notification frame (the ones without a ``type``)."""
    while True:
        got = frame(ws)
        if "type" not in got:
            return got


def test_a_sale_is_pushed_to_the_sellers_socket_with_the_unread_count(
    client: Client, container: Any, market: dict[str, Any]
) -> None:
    shop = Shop(client, container, market)
    with client.websocket_connect(url(market["seller"])) as ws:
        assert frame(ws) == {"type": "unread_count", "unread_count": 0}
        ready(ws)
        escrow = shop.purchase()
        approved, sale = notification(ws), notification(ws)
        assert set(sale) == FRAME_FIELDS  # §4.3: no type key
        assert approved["title"].startswith("Listing approved")
        assert sale["data"]["escrow_id"] == str(escrow)
        assert sale["created_at"].endswith("+00:00")
        assert frame(ws, "unread_count") == {"type": "unread_count", "unread_count": 2}
        r = client.post(f"{NOTIFICATIONS}/{sale['id']}/read/", headers=market["seller"])
        assert r.status_code == 200, r.text
        assert frame(ws, "unread_count") == {"type": "unread_count", "unread_count": 1}


def test_a_reconnect_with_the_last_id_seen_gets_what_it_missed(
    client: Client, container: Any, market: dict[str, Any]
) -> None:
    shop = Shop(client, container, market)
    with client.websocket_connect(url(market["seller"])) as ws:
        ready(ws)
        shop.purchase()
        first = notification(ws)
    shop.purchase()  # while away: a sale, its approval, and the first purchase's sale
    missed = [n["title"] for n in listed_after(client, market["seller"], first["id"])]
    with client.websocket_connect(url(market["seller"], last_id=first["id"])) as ws:
        assert frame(ws, "unread_count")["unread_count"] == len(missed) + 1
        assert [notification(ws)["title"] for _ in missed] == missed


def listed_after(client: Client, who: dict[str, str], seen: str) -> list[dict[str, Any]]:
    """The notifications newer than ``seen``, oldest first (from REST)."""
    rows = client.get(f"{NOTIFICATIONS}/", headers=who).json()["results"]  # newest first
    ids = [r["id"] for r in rows]
    return list(reversed(rows[: ids.index(seen)]))


def test_bad_tokens_close_with_4401_and_frames_from_the_client_get_an_error(
    client: Client, market: dict[str, Any]
) -> None:
    assert closed_with(client, "/ws/notifications/") == 4401
    assert closed_with(client, "/ws/notifications/?token=nope") == 4401
    with client.websocket_connect(url(market["buyer"])) as ws:
        frame(ws, "unread_count")
        ws.send_json({"type": "subscribe"})
        assert frame(ws)["type"] == "error"
        ws.send_bytes(b"\xff")
        assert frame(ws)["type"] == "error"
        ready(ws)


def test_a_message_notifies_only_members_without_a_socket_on_the_room(
    client: Client, market: dict[str, Any]
) -> None:
    buyer, seller = market["buyer"], market["seller"]
    room = str(open_room(client, buyer, user_id(client, seller))["id"])
    with (
        client.websocket_connect(url(seller)) as seller_inbox,
        client.websocket_connect(url(buyer)) as buyer_inbox,
    ):
        ready(seller_inbox, buyer_inbox)
        with client.websocket_connect(chat_url(room, buyer)) as buyer_chat:
            ready(buyer_chat)  # the buyer watches the room, the seller does not
            r = client.post(
                f"/api/v1/chats/{room}/send/", json={"content": "ping?"}, headers=seller
            )
            assert r.status_code == 201
            r = client.post(f"/api/v1/chats/{room}/send/", json={"content": "pong!"}, headers=buyer)
            assert r.status_code == 201
            told = notification(seller_inbox)
            assert told["data"]["room_id"] == room
    # the seller's notification of "pong!" came after "ping?" was projected: the buyer, who
    # was watching the room, was told nothing
    told_buyer = listed(client, buyer)
    assert [n for n in told_buyer if n["data"].get("room_id") == room] == []


def test_a_ban_closes_the_notification_socket(
    client: Client, container: Any, market: dict[str, Any]
) -> None:
    from application.actor import Actor

    with client.websocket_connect(url(market["seller"])) as ws:
        ready(ws)
        with container.read_your_writes():
            container.accounts.ban(
                Actor.user(user_id(client, market["staff"])), user_id(client, market["seller"])
            )
        assert until_closed(ws) == 4401


def until_closed(ws: Any) -> int:
    """The close code of a socket that is closing (frames before it are skipped)."""
    while True:
        try:
            frame(ws)
        except WebSocketDisconnect as closed:
            return int(closed.code)
