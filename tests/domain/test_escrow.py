"""Escrow: one purchase, settled exactly once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.escrow import Escrow, EscrowStateError, NotAParty, commission_for

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
DAY = timedelta(hours=24)
BUYER, SELLER, STRANGER, STAFF = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def opened(price: int = 15_000_000, plan: str = "free") -> Escrow:
    escrow = Escrow.open(BUYER, SELLER, uuid.uuid4(), price, plan, NOW, DAY)
    escrow.collect_events()
    return escrow


def delivered() -> Escrow:
    escrow = opened()
    escrow.deliver(SELLER, "v1.sealed", NOW, DAY)
    escrow.collect_events()
    return escrow


def names(escrow: Escrow) -> list[str]:
    return [type(e).__name__ for e in escrow.collect_events()]


@pytest.mark.parametrize(
    ("price", "plan", "commission"),
    [
        (15_000_000, "free", 1_500_000),
        (15_000_000, "premium", 1_200_000),
        (15_000_000, "pro", 750_000),
        (5, "free", 0),
        (15, "free", 2),
        (25, "free", 2),
        (10, "pro", 0),
        (30, "pro", 2),
        (50, "pro", 2),
        (70, "pro", 4),
    ],
)
def test_commission_depends_on_the_sellers_plan_rounded_half_even(
    price: int, plan: str, commission: int
) -> None:
    assert commission_for(price, plan) == commission
    escrow = opened(price, plan)
    assert escrow.commission + escrow.seller_earnings == price


def test_a_purchase_opens_paid_with_a_delivery_deadline() -> None:
    escrow = Escrow.open(BUYER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)
    assert (escrow.status, escrow.deliver_by) == ("paid", NOW + DAY)
    with pytest.raises(Exception, match="own listing"):
        Escrow.open(SELLER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)


def test_only_the_seller_delivers_and_only_once() -> None:
    escrow = opened()
    with pytest.raises(NotAParty):
        escrow.deliver(BUYER, "x", NOW, DAY)
    escrow.deliver(SELLER, "v1.sealed", NOW, DAY)
    assert (escrow.status, escrow.release_after) == ("delivered", NOW + DAY)
    with pytest.raises(EscrowStateError):
        escrow.deliver(SELLER, "again", NOW, DAY)


def test_credentials_are_revealed_to_the_buyer_and_staff_only_and_recorded() -> None:
    escrow = delivered()
    with pytest.raises(NotAParty):
        escrow.reveal(SELLER, NOW)
    assert escrow.reveal(BUYER, NOW) == "v1.sealed"
    assert escrow.reveal(STRANGER, NOW, staff=True) == "v1.sealed"
    assert names(escrow) == ["CredentialsRevealed", "CredentialsRevealed"]


def test_the_buyer_confirms_from_paid_or_delivered_and_it_settles_once() -> None:
    for escrow in (opened(), delivered()):
        with pytest.raises(NotAParty):
            escrow.confirm(SELLER, NOW)
        escrow.confirm(BUYER, NOW)
        assert escrow.status == "confirmed"
        for settle in (
            lambda e: e.confirm(BUYER, NOW),
            lambda e: e.dispute(BUYER, "late", NOW),
            lambda e: e.resolve(True, "", NOW, STAFF),
        ):
            with pytest.raises(EscrowStateError):
                settle(escrow)
        assert not escrow.release_if_due(NOW + 10 * DAY)
        assert not escrow.refund_if_undelivered(NOW + 10 * DAY)


def test_a_dispute_is_resolved_by_staff_either_way() -> None:
    refunded, released = delivered(), delivered()
    for escrow in (refunded, released):
        with pytest.raises(Exception, match="reason is required"):
            escrow.dispute(BUYER, " ", NOW)
        escrow.dispute(BUYER, "Wrong password", NOW)
        assert not escrow.release_if_due(NOW + 10 * DAY)  # a dispute stops the timer
    refunded.resolve(True, "Seller could not prove delivery", NOW, STAFF)
    released.resolve(False, "Buyer changed the password", NOW, STAFF)
    assert (refunded.status, released.status) == ("refunded", "confirmed")


def test_the_timers_refund_undelivered_and_release_unconfirmed_purchases() -> None:
    late = opened()
    assert not late.refund_if_undelivered(NOW + DAY - timedelta(seconds=1))
    assert late.refund_if_undelivered(NOW + DAY)
    assert late.status == "refunded"
    quiet = delivered()
    assert not quiet.release_if_due(NOW + timedelta(hours=23))
    assert quiet.release_if_due(NOW + DAY)
    assert quiet.status == "confirmed"
    assert names(quiet) == ["Released"]
