"""A purchase on both stores: one atomic save of reservation, hold and escrow."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from application.actor import Actor
from application.escrows import EscrowState
from domain.errors import Conflict, DomainError
from domain.escrow import Escrow
from domain.wallet import InsufficientFunds, Wallet, wallet_id
from tests.conftest import FixedClock
from tests.ledger import audited
from tests.test_application import race
from wibestore.container import Container, build
from wibestore.seed import seed_games
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
PRICE = 1_500_000_00


@pytest.fixture
def shop(container: Container) -> dict[str, Any]:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": PRICE}
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    return {"seller": seller, "listing": listing}


def buyer_with(container: Container, amount: int, n: int = 0) -> uuid.UUID:
    buyer = container.accounts.register(f"buyer{n}@example.uz", PASSWORD)
    if amount:
        container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), amount)
    return buyer


def test_a_purchase_reserves_holds_and_opens_in_one_transaction(
    container: Container, shop: dict[str, Any]
) -> None:
    buyer = buyer_with(container, 2 * PRICE)
    before = container.app.recorder.max_notification_id() or 0
    escrow = container.escrows.purchase(Actor.user(buyer), shop["listing"])
    stored = container.app.recorder.select_notifications(start=before + 1, limit=10)
    assert len({n.id for n in stored}) == 4
    assert {n.topic for n in stored} == {
        "domain.chat:ChatRoom.Opened",
        "domain.listing:Listing.Reserved",
        "domain.wallet:Wallet.HoldPlaced",
        "domain.escrow:Escrow.Opened",
    }
    wallet: object = container.app.repository.get(wallet_id(buyer))
    assert isinstance(wallet, Wallet)
    assert (wallet.available, wallet.held) == (PRICE, PRICE)
    assert container.listings.listing(shop["listing"]).status == "reserved"
    saved: object = container.app.repository.get(escrow.id)
    assert isinstance(saved, Escrow)
    assert (saved.status, saved.commission, saved.seller_earnings) == (
        "paid",
        PRICE // 10,
        PRICE - PRICE // 10,
    )


@pytest.mark.parametrize("funds", [0, PRICE - 1])
def test_a_buyer_short_of_funds_buys_nothing(
    container: Container, shop: dict[str, Any], funds: int
) -> None:
    buyer = buyer_with(container, funds)
    before = container.app.recorder.max_notification_id()
    with pytest.raises(InsufficientFunds):
        container.escrows.purchase(Actor.user(buyer), shop["listing"])
    assert container.app.recorder.max_notification_id() == before
    assert container.listings.listing(shop["listing"]).status == "active"


def test_a_seller_cannot_buy_their_own_listing(container: Container, shop: dict[str, Any]) -> None:
    container.payments.credit_deposit(
        Actor.platform("seed"), shop["seller"], uuid.uuid4(), 2 * PRICE
    )
    with pytest.raises(DomainError, match="own listing"):
        container.escrows.purchase(Actor.user(shop["seller"]), shop["listing"])


def test_twenty_buyers_racing_for_one_listing_make_exactly_one_escrow(
    container: Container, shop: dict[str, Any]
) -> None:
    buyers = [buyer_with(container, PRICE, n) for n in range(20)]
    results = race(20, lambda i: container.escrows.purchase(Actor.user(buyers[i]), shop["listing"]))
    escrows = [r for r in results if isinstance(r, EscrowState)]
    assert len(escrows) == 1
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, EscrowState))
    held = 0
    for buyer in buyers:
        wallet: object = container.app.repository.get(wallet_id(buyer))
        assert isinstance(wallet, Wallet)
        assert wallet.available + wallet.held == PRICE  # nobody's money moved or vanished
        held += wallet.held
    assert held == PRICE
    assert container.listings.listing(shop["listing"]).escrow_id == escrows[0].id


def test_two_processes_buying_one_listing_for_one_buyer_hold_the_price_once(
    container: Container, shop: dict[str, Any], settings: Settings, clock: FixedClock
) -> None:
    """A double-click that reaches two API processes: only the event store can decide, and
    the buyer, rich enough for both, pays once."""
    buyer = buyer_with(container, 3 * PRICE)
    other = build(settings, clock=clock, fast_passwords=True)
    other.start(projectors=False)
    try:
        processes = (container, other)
        results = race(
            2, lambda i: processes[i].escrows.purchase(Actor.user(buyer), shop["listing"])
        )
    finally:
        other.close()
    escrows = [r for r in results if isinstance(r, EscrowState)]
    assert len(escrows) == 1, results
    assert all(isinstance(r, Conflict) for r in results if not isinstance(r, EscrowState))
    wallet: object = container.app.repository.get(wallet_id(buyer))
    assert isinstance(wallet, Wallet)
    assert (wallet.available, wallet.held) == (2 * PRICE, PRICE)
    opened = [
        n
        for n in container.app.recorder.select_notifications(start=1, limit=10_000)
        if n.topic == "domain.escrow:Escrow.Opened"
    ]
    assert len(opened) == 1
    assert container.listings.listing(shop["listing"]).escrow_id == escrows[0].id
    audited(container)
