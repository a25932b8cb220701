"""The money commands on both stores, end to end through the read models and the auditor."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import select

from application.actor import Actor
from application.escrows import NoCredentials
from domain.deposit import DepositClosed
from domain.errors import Conflict, DomainError, NotFound
from domain.escrow import EscrowStateError, NotAParty
from domain.wallet import MIN_WITHDRAWAL, InsufficientFunds, NoSuchWithdrawal, revenue_owner
from projections.escrows import escrows
from projections.transactions import transactions
from projections.users import users
from projections.wallets import wallets
from tests.conftest import FixedClock
from tests.ledger import audited, settled
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
UZS = 100
PRICE = 200_000 * UZS
CREDENTIALS = {"account_email": "acc@game.uz", "account_password": "hunter2"}


@pytest.fixture
def shop(container: Container) -> dict[str, Any]:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    listing = container.listings.create_listing(
        Actor.user(seller),
        "pubg-mobile",
        {"title": "Acc", "description": "D", "price": PRICE},
        credentials=CREDENTIALS,
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 500_000 * UZS)
    return {"staff": staff, "seller": seller, "buyer": buyer, "listing": listing}


def balance(container: Container, owner: uuid.UUID) -> tuple[int, int, int]:
    settled(container)
    with container.store.reader.connect() as conn:
        row = conn.execute(select(wallets).where(wallets.c.owner_id == owner)).first()
    return (row.available, row.held, row.pending_withdrawal) if row else (0, 0, 0)


def rows(container: Container, owner: uuid.UUID) -> list[tuple[str, str, int]]:
    settled(container)
    with container.store.reader.connect() as conn:
        return [
            (r.type, r.status, r.amount)
            for r in conn.execute(
                select(transactions)
                .where(transactions.c.user_id == owner)
                .order_by(transactions.c.created_at, transactions.c.type)
            )
        ]


def test_a_deposit_is_credited_once_however_often_it_is_confirmed(container: Container) -> None:
    user = container.accounts.register("ann@example.uz", PASSWORD)
    deposit = container.payments.request_deposit(Actor.user(user), 5_000 * UZS, "visa", "sandbox")
    assert rows(container, user) == [("deposit", "pending", 5_000 * UZS)]
    assert balance(container, user) == (0, 0, 0)
    assert (
        container.payments.confirm_deposit(Actor.platform("payment-webhook"), deposit.id, "sbx-1")
        is True
    )
    assert (
        container.payments.confirm_deposit(Actor.platform("payment-webhook"), deposit.id, "sbx-1")
        is False
    )
    assert balance(container, user) == (5_000 * UZS, 0, 0)
    assert rows(container, user) == [("deposit", "completed", 5_000 * UZS)]
    with pytest.raises(DepositClosed):
        container.payments.cancel_deposit(Actor.platform("payment-webhook"), deposit.id, "too late")
    other = container.payments.request_deposit(Actor.user(user), 2_000 * UZS, "visa", "sandbox")
    container.payments.cancel_deposit(
        Actor.platform("payment-webhook"), other.id, "payer cancelled"
    )
    with pytest.raises(DepositClosed):
        container.payments.confirm_deposit(Actor.platform("payment-webhook"), other.id, "sbx-2")
    assert balance(container, user) == (5_000 * UZS, 0, 0)
    audited(container)


def test_withdrawals_wait_for_staff_and_return_when_rejected_or_cancelled(
    container: Container,
) -> None:
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    user = container.accounts.register("ann@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), user, uuid.uuid4(), 50_000 * UZS)
    paid = container.payments.request_withdrawal(Actor.user(user), 20_000 * UZS, "visa")
    rejected = container.payments.request_withdrawal(Actor.user(user), 10_000 * UZS, "humo")
    cancelled = container.payments.request_withdrawal(Actor.user(user), 10_000 * UZS, "visa")
    assert balance(container, user) == (10_000 * UZS, 0, 40_000 * UZS)
    with pytest.raises(InsufficientFunds, match="withdrawal"):
        container.payments.request_withdrawal(Actor.user(user), 10_001 * UZS, "visa")
    with pytest.raises(DomainError, match="minimum"):
        container.payments.request_withdrawal(Actor.user(user), MIN_WITHDRAWAL - 1, "visa")
    container.payments.approve_withdrawal(Actor.user(staff), user, paid)
    container.payments.reject_withdrawal(Actor.user(staff), user, rejected, "Card blocked")
    container.payments.cancel_withdrawal(Actor.user(user), cancelled)
    for twice in (
        lambda: container.payments.approve_withdrawal(Actor.user(staff), user, paid),
        lambda: container.payments.reject_withdrawal(Actor.user(staff), user, rejected, "again"),
        lambda: container.payments.cancel_withdrawal(Actor.user(user), paid),
    ):
        with pytest.raises(NoSuchWithdrawal):
            twice()
    assert balance(container, user) == (30_000 * UZS, 0, 0)
    assert sorted(r[:2] for r in rows(container, user) if r[0] == "withdrawal") == [
        ("withdrawal", "cancelled"),
        ("withdrawal", "completed"),
        ("withdrawal", "failed"),
    ]
    audited(container)


def test_a_confirmed_purchase_pays_seller_and_platform_and_sells_the_listing(
    container: Container, shop: dict[str, Any]
) -> None:
    escrow = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    assert balance(container, shop["buyer"]) == (300_000 * UZS, PRICE, 0)
    with pytest.raises(EscrowStateError, match="not delivered"):
        container.escrows.reveal_credentials(Actor.user(shop["buyer"]), escrow.id)
    with pytest.raises(NotAParty):
        container.escrows.deliver(Actor.user(shop["buyer"]), escrow.id, None)
    container.escrows.deliver(
        Actor.user(shop["seller"]), escrow.id, None
    )  # the listing's stored credentials
    with pytest.raises(EscrowStateError):
        container.escrows.deliver(Actor.user(shop["seller"]), escrow.id, None)  # twice
    assert container.escrows.reveal_credentials(Actor.user(shop["buyer"]), escrow.id) == CREDENTIALS
    assert container.escrows.reveal_credentials(Actor.user(shop["staff"]), escrow.id) == CREDENTIALS
    with pytest.raises(NotAParty):
        container.escrows.reveal_credentials(Actor.user(shop["seller"]), escrow.id)
    with pytest.raises(NotAParty):
        container.escrows.confirm_purchase(Actor.user(shop["seller"]), escrow.id)
    container.escrows.confirm_purchase(Actor.user(shop["buyer"]), escrow.id)
    with pytest.raises(EscrowStateError):
        container.escrows.confirm_purchase(Actor.user(shop["buyer"]), escrow.id)
    with pytest.raises(EscrowStateError):
        container.escrows.dispute(Actor.user(shop["buyer"]), escrow.id, "too late")
    commission = PRICE // 10
    assert balance(container, shop["buyer"]) == (300_000 * UZS, 0, 0)
    assert balance(container, shop["seller"]) == (PRICE - commission, 0, 0)
    assert balance(container, revenue_owner(escrow.id)) == (commission, 0, 0)
    assert container.listings.listing(shop["listing"]).status == "sold"
    assert ("purchase", "completed", PRICE) in rows(container, shop["buyer"])
    assert rows(container, shop["seller"]) == [("sale", "completed", PRICE - commission)]
    with container.store.reader.connect() as conn:
        e = conn.execute(select(escrows).where(escrows.c.id == escrow.id)).one()
        seller = conn.execute(select(users).where(users.c.id == shop["seller"])).one()
        buyer = conn.execute(select(users).where(users.c.id == shop["buyer"])).one()
    assert (e.status, e.reveals, e.settled_by) == ("confirmed", 2, "buyer")
    assert e.buyer_confirmed_at is not None and e.seller_paid_at is not None
    assert (seller.total_sales, buyer.total_purchases) == (1, 1)
    audited(container)


def test_a_dispute_is_resolved_by_staff_to_a_refund_or_a_release(
    container: Container, shop: dict[str, Any]
) -> None:
    escrow = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    with pytest.raises(DomainError, match="reason is required"):
        container.escrows.dispute(Actor.user(shop["buyer"]), escrow.id, "  ")
    with pytest.raises(NotAParty):
        container.escrows.dispute(Actor.user(shop["seller"]), escrow.id, "I changed my mind")
    container.escrows.dispute(Actor.user(shop["buyer"]), escrow.id, "Seller vanished")
    container.escrows.resolve_dispute(
        Actor.user(shop["staff"]), escrow.id, "refund", "Refunded: no delivery"
    )
    with pytest.raises(EscrowStateError):
        container.escrows.resolve_dispute(Actor.user(shop["staff"]), escrow.id, "release", "again")
    assert balance(container, shop["buyer"]) == (500_000 * UZS, 0, 0)
    assert container.listings.listing(shop["listing"]).status == "active"
    assert ("refund", "completed", PRICE) in rows(container, shop["buyer"])
    second = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    container.escrows.dispute(Actor.user(shop["buyer"]), second.id, "Wrong level")
    container.escrows.resolve_dispute(
        Actor.user(shop["staff"]), second.id, "release", "Level matches the listing"
    )
    assert container.listings.listing(shop["listing"]).status == "sold"
    assert balance(container, shop["seller"]) == (PRICE - PRICE // 10, 0, 0)
    audited(container)


def test_timers_refund_an_undelivered_purchase_and_release_an_unconfirmed_one(
    container: Container, shop: dict[str, Any], clock: FixedClock
) -> None:
    escrow = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    assert (
        container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), escrow.id) is None
    )  # not due
    clock.advance(hours=24, seconds=1)
    assert (
        container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), escrow.id) == "refunded"
    )
    assert (
        container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), escrow.id) is None
    )  # idempotent
    second = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    container.escrows.deliver(
        Actor.user(shop["seller"]), second.id, {"account_email": "x@y.uz", "account_password": "p"}
    )
    clock.advance(hours=23)
    assert container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), second.id) is None
    clock.advance(hours=1, seconds=1)
    assert (
        container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), second.id)
        == "confirmed"
    )
    assert container.listings.listing(shop["listing"]).status == "sold"
    audited(container)


def test_a_purchase_refuses_what_cannot_be_bought(
    container: Container, shop: dict[str, Any]
) -> None:
    with pytest.raises(DomainError, match="own listing"):
        container.escrows.purchase(Actor.user(shop["seller"]), shop["listing"])
    with pytest.raises(NotFound):
        container.escrows.purchase(Actor.user(shop["buyer"]), uuid.uuid4())
    poor = container.accounts.register("poor@example.uz", PASSWORD)
    with pytest.raises(InsufficientFunds):
        container.escrows.purchase(Actor.user(poor), shop["listing"])
    container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    with pytest.raises(Conflict, match="already been bought"):
        container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    pending = container.listings.create_listing(
        Actor.user(shop["seller"]),
        "pubg-mobile",
        {"title": "New", "description": "D", "price": PRICE},
    )
    with pytest.raises(NotFound):
        container.escrows.purchase(Actor.user(shop["buyer"]), pending)
    escrow_without_credentials = container.escrows.purchase(
        Actor.user(shop["buyer"]),
        _approved(container, shop, {"title": "Other", "description": "D", "price": PRICE}),
    )
    with pytest.raises(NoCredentials):
        container.escrows.deliver(Actor.user(shop["seller"]), escrow_without_credentials.id, None)
    audited(container)


def _approved(container: Container, shop: dict[str, Any], fields: dict[str, Any]) -> uuid.UUID:
    listing = container.listings.create_listing(Actor.user(shop["seller"]), "pubg-mobile", fields)
    container.listings.approve_listing(Actor.user(shop["staff"]), listing)
    return listing


def test_a_subscription_lowers_the_commission_and_renews_from_the_wallet(
    container: Container, shop: dict[str, Any], clock: FixedClock
) -> None:
    seller = shop["seller"]
    with pytest.raises(InsufficientFunds):
        container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly")
    container.payments.credit_deposit(Actor.platform("seed"), seller, uuid.uuid4(), 120_000 * UZS)
    with pytest.raises(NotFound):
        container.subscriptions.subscribe(Actor.user(seller), "gold", "monthly")
    container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly")
    assert container.subscriptions.seller_plan(seller) == "premium"
    escrow = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    assert container.escrows.escrow(escrow.id).commission == PRICE * 8 // 100
    clock.advance(days=30)
    assert (
        container.subscriptions.renew_or_expire(Actor.platform("subscription-renewals"), seller)
        == "renewed"
    )
    assert (
        container.subscriptions.renew_or_expire(Actor.platform("subscription-renewals"), seller)
        is None
    )
    assert balance(container, seller)[0] == 20_000 * UZS
    container.subscriptions.cancel_subscription(Actor.user(seller), "no longer selling")
    with pytest.raises(DomainError, match="No active subscription"):
        container.subscriptions.cancel_subscription(Actor.user(seller), "")
    clock.advance(days=29)
    assert (
        container.subscriptions.seller_plan(seller) == "premium"
    )  # runs to the end of the paid period
    clock.advance(days=1)
    assert (
        container.subscriptions.renew_or_expire(Actor.platform("subscription-renewals"), seller)
        == "expired"
    )
    assert container.subscriptions.seller_plan(seller) == "free"
    settled(container)
    with container.store.reader.connect() as conn:
        plan = conn.execute(select(users.c.plan).where(users.c.id == seller)).scalar()
    assert plan == "free"
    assert [r[:2] for r in rows(container, seller) if r[0] == "subscription"] == [
        ("subscription", "completed"),
        ("subscription", "completed"),
    ]
    audited(container)


def test_only_a_party_sees_or_moves_an_escrow(container: Container, shop: dict[str, Any]) -> None:
    escrow = container.escrows.purchase(Actor.user(shop["buyer"]), shop["listing"])
    stranger = container.accounts.register("eve@example.uz", PASSWORD)
    for attempt in (
        lambda: container.escrows.confirm_purchase(Actor.user(stranger), escrow.id),
        lambda: container.escrows.dispute(Actor.user(stranger), escrow.id, "mine"),
        lambda: container.escrows.reveal_credentials(Actor.user(stranger), escrow.id),
        lambda: container.escrows.deliver(Actor.user(stranger), escrow.id, CREDENTIALS),
    ):
        with pytest.raises(NotAParty):
            attempt()
    audited(container)
