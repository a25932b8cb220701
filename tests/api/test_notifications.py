"""CONTRACT §2.9 and §2.2 notifications, end to end: what each step of a purchase tells whom,
the list's exact shape, reading one or all, and who may read what."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar.testing import TestClient

from application.actor import Actor
from tests.api.conftest import bearer, error, register
from tests.rebuild import assert_read_models_equal_a_rebuild
from wibestore.container import Container

Client = TestClient[Any]
PRICE = 100_000_00
NOTIFICATIONS = "/api/v1/notifications"
FIELDS = {"id", "type", "title", "message", "data", "is_read", "read_at", "link", "created_at"}


def user_id(client: Client, who: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(client.get("/api/v1/auth/me/", headers=who).json()["id"])


def listed(client: Client, who: dict[str, str]) -> list[dict[str, Any]]:
    r = client.get(f"{NOTIFICATIONS}/", headers=who)
    assert r.status_code == 200, r.text
    return list(r.json()["results"])


def unread(client: Client, who: dict[str, str]) -> int:
    r = client.get(f"{NOTIFICATIONS}/unread-count/", headers=who)
    assert r.status_code == 200, r.text
    assert set(r.json()) == {"unread_count"}
    return int(r.json()["unread_count"])


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


class Shop:
    def __init__(self, client: Client, container: Container, market: dict[str, Any]) -> None:
        self.c, self.market = container, market
        self.seller = user_id(client, market["seller"])
        self.buyer = user_id(client, market["buyer"])
        self.staff = user_id(client, market["staff"])

    def purchase(self) -> uuid.UUID:
        c = self.c
        with c.read_your_writes():
            c.payments.credit_deposit(Actor.platform("seed"), self.buyer, uuid.uuid4(), PRICE)
            listing = c.listings.create_listing(
                Actor.user(self.seller),
                "pubg-mobile",
                {"title": "Level 80 account", "description": "D", "price": PRICE},
            )
            c.listings.approve_listing(Actor.user(self.staff), listing)
            return c.escrows.purchase(Actor.user(self.buyer), listing).id

    def deliver(self, escrow: uuid.UUID) -> None:
        with self.c.read_your_writes():
            self.c.escrows.deliver(Actor.user(self.seller), escrow, {"login": "l", "password": "p"})


@pytest.fixture
def shop(client: Client, container: Container, market: dict[str, Any]) -> Shop:
    return Shop(client, container, market)


def test_a_sale_tells_the_seller_in_the_contracts_shape(
    client: Client, shop: Shop, market: dict[str, Any]
) -> None:
    escrow = shop.purchase()
    r = client.get(f"{NOTIFICATIONS}/", headers=market["seller"])
    assert r.status_code == 200
    page = r.json()
    assert set(page) == {"count", "next", "previous", "results"}
    sale, approved = page["results"]  # newest first
    assert set(sale) == FIELDS
    assert sale["type"] == {"code": "sale", "name": "Sale", "icon": "💰"}
    assert sale["title"] == "New sale: Level 80 account"
    assert sale["data"]["escrow_id"] == str(escrow)
    assert (sale["is_read"], sale["read_at"], sale["link"]) == (False, None, "/profile?tab=sales")
    assert sale["created_at"].endswith("+05:00")  # server time, as every serializer field
    assert uuid.UUID(sale["id"])
    assert approved["title"] == "Listing approved: Level 80 account"
    assert unread(client, market["seller"]) == 2


def test_each_step_of_a_purchase_tells_whom_it_concerns(
    client: Client, shop: Shop, container: Container, market: dict[str, Any]
) -> None:
    escrow = shop.purchase()
    assert [n["title"] for n in listed(client, market["buyer"])] == ["Deposit credited"]
    shop.deliver(escrow)
    assert listed(client, market["buyer"])[0]["title"] == "Delivered: Level 80 account"
    with container.read_your_writes():
        container.escrows.dispute(Actor.user(shop.buyer), escrow, "It does not log in")
    for who in ("buyer", "seller"):
        assert listed(client, market[who])[0]["type"]["code"] == "dispute"
    staff_notice = listed(client, market["staff"])[0]
    assert (staff_notice["type"]["code"], staff_notice["message"]) == (
        "admin",
        "It does not log in",
    )
    with container.read_your_writes():
        container.escrows.resolve_dispute(Actor.user(shop.staff), escrow, "refund", "Refunded.")
    for who in ("buyer", "seller"):
        resolved = listed(client, market[who])[0]
        assert resolved["title"] == "Dispute resolved: Level 80 account"
        assert "refunded to the buyer" in resolved["message"]
    # the staff member who resolved it is not told what they did
    assert listed(client, market["staff"])[0]["title"].startswith("Dispute opened")


def test_a_confirmed_purchase_tells_the_seller(
    client: Client, shop: Shop, container: Container, market: dict[str, Any]
) -> None:
    escrow = shop.purchase()
    shop.deliver(escrow)
    with container.read_your_writes():
        container.escrows.confirm_purchase(Actor.user(shop.buyer), escrow)
    assert listed(client, market["seller"])[0]["title"] == "Purchase confirmed: Level 80 account"


def test_reading_one_marks_it_and_lowers_the_count_once(
    client: Client, shop: Shop, container: Container, market: dict[str, Any]
) -> None:
    shop.purchase()
    newest = listed(client, market["seller"])[0]
    r = client.post(f"{NOTIFICATIONS}/{newest['id']}/read/", headers=market["seller"])
    assert (r.status_code, r.json()) == (200, {"success": True})
    assert unread(client, market["seller"]) == 1
    shown = listed(client, market["seller"])[0]
    assert shown["is_read"] is True and shown["read_at"] is not None
    before = head(container)
    again = client.post(f"{NOTIFICATIONS}/{newest['id']}/read/", headers=market["seller"])
    assert (again.status_code, again.json()) == (200, {"success": True})
    assert head(container) == before  # read already: nothing written


def test_read_all_marks_what_there_is_and_says_how_many(
    client: Client, shop: Shop, container: Container, market: dict[str, Any]
) -> None:
    escrow = shop.purchase()
    r = client.post(f"{NOTIFICATIONS}/read-all/", headers=market["seller"])
    assert (r.status_code, r.json()) == (200, {"success": True, "marked_count": 2})
    assert unread(client, market["seller"]) == 0
    before = head(container)
    r = client.post(f"{NOTIFICATIONS}/read-all/", headers=market["seller"])
    assert r.json() == {"success": True, "marked_count": 0}
    assert head(container) == before
    shop.deliver(escrow)
    with container.read_your_writes():
        container.escrows.confirm_purchase(Actor.user(shop.buyer), escrow)
    assert unread(client, market["seller"]) == 1  # newer than "read all"
    assert all(n["is_read"] for n in listed(client, market["seller"])[1:])
    assert_read_models_equal_a_rebuild(container)  # reads are events: a rebuild keeps them


def test_another_users_or_an_unknown_notification_is_not_found(
    client: Client, shop: Shop, container: Container, market: dict[str, Any]
) -> None:
    shop.purchase()
    theirs = listed(client, market["seller"])[0]["id"]
    before = head(container)
    for path in (f"{NOTIFICATIONS}/{theirs}/read/", f"{NOTIFICATIONS}/{uuid.uuid4()}/read/"):
        r = client.post(path, headers=market["buyer"])
        assert r.status_code == 404
        assert error(r)["message"] == "Notification not found."
    r = client.patch(f"/api/v1/profile/notifications/{theirs}/read/", headers=market["buyer"])
    assert (r.status_code, error(r)["message"]) == (404, "Notification not found.")
    assert head(container) == before
    assert unread(client, market["seller"]) == 2


def test_a_malformed_id_is_a_client_error(client: Client, market: dict[str, Any]) -> None:
    for method, path in (
        ("POST", f"{NOTIFICATIONS}/not-a-uuid/read/"),
        ("POST", f"{NOTIFICATIONS}/12/read/"),
        ("PATCH", "/api/v1/profile/notifications/not-a-uuid/read/"),
    ):
        r = client.request(method, path, headers=market["buyer"])
        assert 400 <= r.status_code < 500, (path, r.status_code)


def test_every_notification_endpoint_needs_a_signed_in_user(client: Client) -> None:
    some = uuid.uuid4()
    for method, path in (
        ("GET", f"{NOTIFICATIONS}/"),
        ("POST", f"{NOTIFICATIONS}/{some}/read/"),
        ("POST", f"{NOTIFICATIONS}/read-all/"),
        ("GET", f"{NOTIFICATIONS}/unread-count/"),
        ("GET", "/api/v1/profile/notifications/"),
        ("PATCH", f"/api/v1/profile/notifications/{some}/read/"),
    ):
        r = client.request(method, path)
        assert r.status_code == 401, (method, path)
        error(r)


def test_the_profile_serves_the_same_notifications(
    client: Client, shop: Shop, market: dict[str, Any]
) -> None:
    shop.purchase()
    r = client.get("/api/v1/profile/notifications/?page=1&limit=1", headers=market["seller"])
    assert r.status_code == 200
    page = r.json()
    assert page["count"] == 2 and page["previous"] is None and "page=2" in page["next"]
    assert page["results"] == listed(client, market["seller"])[:1]
    newest = page["results"][0]["id"]
    r = client.patch(f"/api/v1/profile/notifications/{newest}/read/", headers=market["seller"])
    assert (r.status_code, r.json()) == (
        200,
        {"success": True, "message": "Notification marked as read."},
    )
    assert unread(client, market["seller"]) == 1


def test_a_new_user_has_no_notifications(client: Client) -> None:
    who = bearer(register(client, "new@example.uz")["tokens"]["access"])
    assert listed(client, who) == []
    assert unread(client, who) == 0
    r = client.post(f"{NOTIFICATIONS}/read-all/", headers=who)
    assert r.json() == {"success": True, "marked_count": 0}
