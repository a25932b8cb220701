"""Races with real threads on both stores (PostgreSQL's is the production one): the event
store's optimistic concurrency settles them, and the ledger stays exact."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from application.actor import Actor
from application.escrows import EscrowState
from domain.errors import Conflict, DomainError
from domain.escrow import Escrow
from domain.wallet import MIN_WITHDRAWAL, InsufficientFunds, Wallet, wallet_id
from tests.conftest import FixedClock
from tests.ledger import audited
from tests.test_application import race
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
UZS = 100


def test_fifty_concurrent_withdrawals_never_overdraw_the_wallet(container: Container) -> None:
    app = container.app
    user = container.accounts.register("ann@example.uz", PASSWORD)
    container.payments.credit_deposit(
        Actor.platform("seed"), user, uuid.uuid4(), 20 * MIN_WITHDRAWAL + 5 * UZS
    )
    results = race(
        50,
        lambda _: container.payments.request_withdrawal(Actor.user(user), MIN_WITHDRAWAL, "visa"),
    )
    granted = [r for r in results if isinstance(r, uuid.UUID)]
    refused = [r for r in results if isinstance(r, InsufficientFunds)]
    # A request that loses the race more often than its retry budget answers 409 (Conflict);
    # whatever the mix, the wallet is never overdrawn and every tiyin is accounted for.
    busy = [r for r in results if isinstance(r, Conflict)]
    assert len(granted) + len(refused) + len(busy) == 50, results
    assert 1 <= len(granted) <= 20
    if busy == []:
        assert len(granted) == 20
    wallet = app.find(wallet_id(user), Wallet)
    assert wallet is not None
    assert wallet.pending_withdrawal == len(granted) * MIN_WITHDRAWAL
    assert wallet.available == 20 * MIN_WITHDRAWAL + 5 * UZS - wallet.pending_withdrawal
    audited(container)


@pytest.fixture
def delivered(container: Container, clock: FixedClock) -> Any:
    """A delivered purchase whose auto-release is due: confirm, the timer and a dispute race."""
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 10_000_000 * UZS)

    def make() -> EscrowState:
        listing = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": "Acc", "description": "D", "price": 100_000 * UZS},
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        escrow = container.escrows.purchase(Actor.user(buyer), listing)
        container.escrows.deliver(
            Actor.user(seller), escrow.id, {"account_email": "a@b.uz", "account_password": "p"}
        )
        return escrow

    return container, staff, buyer, make


def contest(container: Any, staff: uuid.UUID, buyer: uuid.UUID, escrow: uuid.UUID) -> list[Any]:
    contenders = [
        lambda: container.escrows.confirm_purchase(Actor.user(buyer), escrow),
        lambda: container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), escrow),
        lambda: container.escrows.dispute(Actor.user(buyer), escrow, "not as described"),
        lambda: container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), escrow),
        lambda: container.escrows.resolve_dispute(Actor.user(staff), escrow, "refund", "refund"),
        lambda: container.escrows.confirm_purchase(Actor.user(buyer), escrow),
    ]
    return race(len(contenders), lambda i: contenders[i]())


def test_confirm_racing_auto_release_and_dispute_settles_each_escrow_once(
    container: Container, delivered: Any, clock: FixedClock
) -> None:
    _, staff, buyer, make = delivered
    escrows = [make() for _ in range(5)]
    clock.advance(hours=25)  # every auto-release is due
    for escrow in escrows:
        results = contest(container, staff, buyer, escrow.id)
        unexpected = [
            r for r in results if not isinstance(r, (type(None), EscrowState, str, DomainError))
        ]
        assert unexpected == []
        events = [
            type(e).__name__
            for e in container.app.repository.event_store.get(escrow.id)
            if isinstance(e, (Escrow.Released, Escrow.Refunded))
        ]
        assert len(events) <= 1, events
        final = container.app.find(escrow.id, Escrow)
        assert final is not None
        assert final.status in ("confirmed", "refunded", "disputed")
        assert (final.status == "disputed") == (events == [])
    audited(container)
