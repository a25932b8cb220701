"""Fraud signals: detected from the events by the fraud read model; only active staff resolve
one, once, and a refusal writes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from application.actor import Actor, NotAllowed
from domain.errors import Conflict
from projections import fraud as fraud_views
from tests.application.test_bans import caught_up
from tests.application.test_money_authorization import (
    PRICE,
    SEED,
    Market,
    market,
    not_staff,
    refused_to,
)
from wibestore.container import Container

__all__ = ["market"]


def open_signals(container: Container) -> list[Any]:
    caught_up(container)
    with container.store.reader.connect() as conn:
        return fraud_views.signals(conn, 0, 100)[1]


def test_a_burst_of_purchases_and_repeated_disputes_are_signalled(
    container: Container, market: Market
) -> None:
    m = market
    buyer = container.accounts.register("burst@example.uz", "Sup3r-Secret!")
    container.payments.credit_deposit(SEED, buyer, uuid.uuid4(), 10 * PRICE)
    escrows = []
    for i in range(fraud_views.BURST):
        listing = container.listings.create_listing(
            Actor.user(m.seller),
            "pubg-mobile",
            {"title": f"L{i}", "description": "D", "price": PRICE},
        )
        container.listings.approve_listing(Actor.user(m.staff), listing)
        escrows.append(container.escrows.purchase(Actor.user(buyer), listing).id)
    for escrow_id in escrows[: fraud_views.DISPUTES]:
        container.escrows.deliver(Actor.user(m.seller), escrow_id, {"account_email": "a@b.uz"})
        container.escrows.dispute(Actor.user(buyer), escrow_id, "Not as described")
    kinds = sorted(s.kind for s in open_signals(container) if s.user_id == buyer)
    assert kinds == ["dispute_heavy", "purchase_burst"]


def test_only_active_staff_resolve_a_signal_and_only_once(
    container: Container, market: Market
) -> None:
    m = market
    signal_id = uuid.uuid4()
    refused_to(
        container,
        not_staff(m),
        NotAllowed,
        [lambda a: container.fraud.resolve(a, signal_id, "fine")],
    )
    container.fraud.resolve(Actor.user(m.staff), signal_id, "fine")
    with pytest.raises(Conflict):
        container.fraud.resolve(Actor.user(m.staff), signal_id, "again")
