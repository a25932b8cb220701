"""/profile/purchases/ and /profile/sales/ draw each escrow with its listing's card: a page costs
the same few statements whatever its size (one query for all its listings, not one each)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event

from application.actor import Actor
from tests.api.conftest import PASSWORD
from wibestore.container import Container

UZS = 100
Client = TestClient[Any]


def statements_during(container: Container, call: Callable[[], Any]) -> int:
    """How many SQL statements the read models' database runs while ``call`` runs."""
    count = 0

    def counted(*_: Any) -> None:
        nonlocal count
        if not threading.current_thread().name.startswith("projector-"):  # the page's only
            count += 1

    event.listen(container.store.engine, "before_cursor_execute", counted)
    try:
        call()
    finally:
        event.remove(container.store.engine, "before_cursor_execute", counted)
    return count


def user_id(client: Client, who: dict[str, str]) -> uuid.UUID:
    return uuid.UUID(client.get("/api/v1/auth/me/", headers=who).json()["id"])


def purchases(container: Container, buyer: uuid.UUID, seller: uuid.UUID, n: int) -> list[str]:
    staff = container.accounts.create_user(
        Actor.platform("operator"), "lister@example.uz", PASSWORD, staff=True
    )
    container.payments.credit_deposit(
        Actor.platform("seed"), buyer, uuid.uuid4(), n * 100_000 * UZS
    )
    bought = []
    for i in range(n):
        with container.read_your_writes():
            listing = container.listings.create_listing(
                Actor.user(seller),
                "pubg-mobile",
                {"title": f"Acc {i}", "description": "D", "price": 1000},
            )
            container.listings.approve_listing(Actor.user(staff), listing)
            container.escrows.purchase(Actor.user(buyer), listing)
        bought.append(str(listing))
    return bought


def test_a_page_of_escrows_costs_the_same_statements_whatever_its_size(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    buyer, seller = user_id(client, market["buyer"]), user_id(client, market["seller"])
    bought = purchases(container, buyer, seller, 5)
    for path, who in (("purchases", "buyer"), ("sales", "seller")):

        def page(size: int, path: str = path, who: str = who) -> Any:
            r = client.get(f"/api/v1/profile/{path}/?page_size={size}", headers=market[who])
            assert r.status_code == 200, r.text
            return r.json()

        whole = page(5)  # and a first request warms whatever the API caches
        assert sorted(card["listing"]["id"] for card in whole["results"]) == sorted(bought)
        assert all(card["listing_id"] == card["listing"]["id"] for card in whole["results"])
        assert {card["title"] for card in whole["results"]} == {f"Acc {i}" for i in range(5)}
        one = statements_during(container, lambda: page(1))
        five = statements_during(container, lambda: page(5))
        assert one == five, path
