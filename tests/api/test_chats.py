"""CONTRACT §2.8 chats (C1-C5, §7 ``read/``), end to end: rooms of the caller, one room per
pair and listing, messages paged oldest first, unread counts and read marks; only members see
a room (404 for anyone else), staff only a disputed order's room, which they join visibly. Bad
input is a 4xx in the error envelope and writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

from litestar.testing import TestClient

from application.actor import Actor
from domain.chat import order_room_id
from tests.api.conftest import bearer, error, register
from tests.api.test_reviews import Shop, user_id
from wibestore.container import Container

Client = TestClient[Any]
CHATS = "/api/v1/chats"
ROOM_FIELDS = {
    "id",
    "kind",
    "participants",
    "listing",
    "escrow",
    "last_message_preview",
    "last_message",
    "last_message_at",
    "unread_count",
    "is_active",
    "created_at",
    "updated_at",
}
MESSAGE_FIELDS = {
    "id",
    "room",
    "sender",
    "content",
    "message_type",
    "attachment",
    "is_read",
    "read_at",
    "created_at",
}


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def open_room(client: Client, who: dict[str, str], other: uuid.UUID, **more: Any) -> Any:
    r = client.post(f"{CHATS}/create/", json={"participant_id": str(other), **more}, headers=who)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["success"] is True
    return body["data"]


def send(client: Client, who: dict[str, str], room: str, content: str) -> Any:
    return client.post(f"{CHATS}/{room}/send/", json={"content": content}, headers=who)


def sent(client: Client, who: dict[str, str], room: str, content: str) -> dict[str, Any]:
    r = send(client, who, room, content)
    assert r.status_code == 201, r.text
    return dict(r.json()["data"])


def test_two_users_open_one_room_and_talk_in_it(client: Client, market: dict[str, Any]) -> None:
    seller, buyer = market["seller"], market["buyer"]
    seller_id, buyer_id = user_id(client, seller), user_id(client, buyer)

    room = open_room(client, buyer, seller_id, initial_message="Is it still for sale?")
    assert set(room) == ROOM_FIELDS
    assert room["kind"] == "direct" and room["is_active"] is True
    assert {p["id"] for p in room["participants"]} == {str(seller_id), str(buyer_id)}
    assert room["last_message_preview"] == "Is it still for sale?"
    assert room["unread_count"] == 0  # the opener sent it

    # opening again, from either side and either route, is the same room
    assert open_room(client, seller, buyer_id)["id"] == room["id"]
    again = client.post(f"{CHATS}/", json={"participant_id": str(seller_id)}, headers=buyer)
    assert again.status_code == 201 and again.json()["data"]["id"] == room["id"]

    # the seller sees one unread message and answers
    listed = client.get(f"{CHATS}/", headers=seller).json()
    assert listed["count"] == 1
    assert listed["results"][0]["unread_count"] == 1
    answer = sent(client, seller, room["id"], "Yes, it is.")
    assert set(answer) == MESSAGE_FIELDS
    assert answer["sender"]["id"] == str(seller_id)
    assert answer["content"] == "Yes, it is." and answer["message_type"] == "text"
    assert answer["is_read"] is False

    page = client.get(f"{CHATS}/{room['id']}/messages/", headers=buyer).json()
    assert page["count"] == 2
    assert [m["content"] for m in page["results"]] == ["Is it still for sale?", "Yes, it is."]
    assert client.get(f"{CHATS}/{room['id']}/", headers=buyer).json()["unread_count"] == 1

    # the buyer reads: their unread count is 0, the seller's message is read
    r = client.post(f"{CHATS}/{room['id']}/read/", headers=buyer)
    assert r.status_code == 200 and r.json()["success"] is True
    assert client.get(f"{CHATS}/{room['id']}/", headers=buyer).json()["unread_count"] == 0
    messages = client.get(f"{CHATS}/{room['id']}/messages/", headers=seller).json()["results"]
    assert messages[1]["is_read"] is True and messages[1]["read_at"] is not None
    assert messages[0]["is_read"] is False  # the buyer's own: the seller has not read it


def test_a_room_per_listing_and_rooms_are_listed_latest_first(
    client: Client, container: Container, market: dict[str, Any]
) -> None:
    shop = Shop(client, container, market)
    _, listing = shop.purchase(market["buyer"], release=False)
    seller_id = user_id(client, market["seller"])
    plain = open_room(client, market["buyer"], seller_id)
    about = open_room(client, market["buyer"], seller_id, listing_id=listing)
    assert about["id"] != plain["id"] and about["listing"] == listing
    sent(client, market["buyer"], plain["id"], "later")
    rooms = client.get(f"{CHATS}/", headers=market["buyer"]).json()["results"]
    order = str(order_room_id(uuid.UUID(shop_escrow(client, market))))
    assert [r["id"] for r in rooms][:1] == [plain["id"]]
    assert {r["id"] for r in rooms} == {plain["id"], about["id"], order}


def shop_escrow(client: Client, market: dict[str, Any]) -> str:
    purchases = client.get("/api/v1/profile/purchases/", headers=market["buyer"]).json()
    return str(purchases["results"][0]["id"])


def test_messages_are_paged_oldest_first(client: Client, market: dict[str, Any]) -> None:
    room = open_room(client, market["buyer"], user_id(client, market["seller"]))
    for n in range(7):
        sent(client, market["buyer"], room["id"], f"m{n}")
    url = f"{CHATS}/{room['id']}/messages/"
    first = client.get(url, params={"page": 1, "limit": 3}, headers=market["seller"]).json()
    assert first["count"] == 7 and first["previous"] is None and "page=2" in first["next"]
    assert [m["content"] for m in first["results"]] == ["m0", "m1", "m2"]
    last = client.get(url, params={"page": 3, "limit": 3}, headers=market["seller"]).json()
    assert [m["content"] for m in last["results"]] == ["m6"] and last["next"] is None


def test_only_members_see_a_room(client: Client, market: dict[str, Any]) -> None:
    room = open_room(client, market["buyer"], user_id(client, market["seller"]))
    eve = bearer(register(client, "eve@example.uz")["tokens"]["access"])
    for who in (eve, market["staff"]):  # staff too: this room is no disputed order's
        for method, path, body in (
            ("GET", f"{CHATS}/{room['id']}/", None),
            ("GET", f"{CHATS}/{room['id']}/messages/", None),
            ("POST", f"{CHATS}/{room['id']}/send/", {"content": "hi"}),
            ("POST", f"{CHATS}/{room['id']}/read/", None),
        ):
            r = client.request(method, path, json=body, headers=who)
            assert r.status_code == 404, (method, path, r.text)
            assert error(r)["message"] == "Chat room not found."
        assert client.get(f"{CHATS}/", headers=who).json()["count"] == 0
    assert (
        client.get(f"{CHATS}/{room['id']}/messages/", headers=market["buyer"]).json()["count"] == 0
    )  # nothing was posted by the refused sends
    assert client.get(f"{CHATS}/").status_code == 401
    assert client.get(f"{CHATS}/{uuid.uuid4()}/", headers=eve).status_code == 404
    assert client.get(f"{CHATS}/not-a-uuid/", headers=eve).status_code in (400, 404)


def test_staff_join_a_disputed_orders_room_visibly(
    client: Client, container: Container, market: dict[str, Any]
) -> None:
    shop = Shop(client, container, market)
    escrow, _ = shop.purchase(market["buyer"], release=False)
    room = str(order_room_id(uuid.UUID(escrow)))
    staff_id = user_id(client, market["staff"])
    assert client.get(f"{CHATS}/{room}/", headers=market["staff"]).status_code == 404

    r = client.post(
        f"/api/v1/payments/escrow/{escrow}/dispute/",
        json={"reason": "Wrong password"},
        headers=market["buyer"],
    )
    assert r.status_code == 200, r.text
    seen = client.get(f"{CHATS}/{room}/", headers=market["staff"])
    assert seen.status_code == 200, seen.text
    assert str(staff_id) in {p["id"] for p in seen.json()["participants"]}
    lines = client.get(f"{CHATS}/{room}/messages/", headers=market["buyer"]).json()["results"]
    assert lines[-1]["message_type"] == "system" and lines[-1]["sender"]["id"] == str(staff_id)
    sent(client, market["staff"], room, "Looking into it.")
    # a second look does not join twice
    client.get(f"{CHATS}/{room}/", headers=market["staff"])
    count = client.get(f"{CHATS}/{room}/messages/", headers=market["buyer"]).json()["count"]
    assert count == len(lines) + 1


def test_bad_messages_and_bodies_are_refused_and_write_nothing(
    client: Client, container: Container, market: dict[str, Any]
) -> None:
    seller_id = user_id(client, market["seller"])
    room = open_room(client, market["buyer"], seller_id)["id"]
    before = head(container)
    for body, field in (
        ({"content": ""}, "content"),
        ({"content": "   "}, "content"),
        ({"content": "x" * 2001}, "content"),
        ({}, "content"),
        ({"content": 5}, "content"),
        ({"content": "hi", "extra": 1}, None),
    ):
        r = client.post(f"{CHATS}/{room}/send/", json=body, headers=market["buyer"])
        assert r.status_code == 400, (body, r.text)
        err = error(r)
        if field:
            assert field in err["message"] or field in err["details"], err
    assert len(sent(client, market["buyer"], room, "y" * 2000)["content"]) == 2000
    assert head(container) == before + 1

    me = user_id(client, market["buyer"])
    r = client.post(f"{CHATS}/create/", json={"participant_id": str(me)}, headers=market["buyer"])
    assert r.status_code == 400
    r = client.post(
        f"{CHATS}/create/", json={"participant_id": str(uuid.uuid4())}, headers=market["buyer"]
    )
    assert r.status_code == 404 and error(r)["message"] == "User not found."
    r = client.post(
        f"{CHATS}/create/",
        json={"participant_id": str(seller_id), "listing_id": str(uuid.uuid4())},
        headers=market["buyer"],
    )
    assert r.status_code == 404
    r = client.post(f"{CHATS}/create/", json={"participant_id": "x"}, headers=market["buyer"])
    assert r.status_code == 400
    r = client.post(
        f"{CHATS}/{room}/read/", json={"message_id": str(uuid.uuid4())}, headers=market["buyer"]
    )
    assert r.status_code == 404
    assert head(container) == before + 1


def test_a_banned_participant_is_not_found(
    client: Client, container: Container, market: dict[str, Any]
) -> None:
    seller_id = user_id(client, market["seller"])
    staff_id = user_id(client, market["staff"])
    with container.read_your_writes():
        container.accounts.ban(Actor.user(staff_id), seller_id, "spam")
    r = client.post(
        f"{CHATS}/create/", json={"participant_id": str(seller_id)}, headers=market["buyer"]
    )
    assert r.status_code == 404 and error(r)["message"] == "User not found."
