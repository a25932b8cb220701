"""The application decides who may move money: the owner their own, staff what staff settle
(checked against the event store), the platform what only its processes do; anyone else is
refused and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from application.actor import Actor, NotAllowed
from domain.errors import NotFound
from domain.escrow import (
    Escrow,
    InvalidResolution,
    NoOpenDispute,
    NotAParty,
    check_visible_to,
)
from domain.subscription import Membership, membership_id
from domain.wallet import (
    NoSuchWithdrawal,
    NotYourTransaction,
    Wallet,
    check_record_owner,
    wallet_id,
)
from projections import escrows as escrow_views
from projections import transactions as transaction_views
from tests.ledger import settled
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
UZS = 100
PRICE = 100_000 * UZS
CREDENTIALS = {"account_email": "acc@game.uz", "account_password": "hunter2"}
WEBHOOK = Actor.platform("payment-webhook")
TIMER = Actor.platform("escrow-timer")
RENEWALS = Actor.platform("subscription-renewals")
SEED = Actor.platform("seed")


@dataclass(frozen=True)
class Market:
    staff: UUID
    banned: UUID  # staff once, banned since
    seller: UUID
    buyer: UUID
    stranger: UUID
    delivered: UUID  # the buyer's escrow, delivered by the seller
    disputed: UUID  # the buyer's other escrow, in dispute
    deposit: UUID  # the buyer's, awaiting payment
    withdrawal: UUID  # the seller's, awaiting staff
    subscription: UUID  # the seller's, active


OPERATOR = Actor.platform("operator")


@pytest.fixture
def market(container: Container) -> Market:
    seed_games(container.catalogue)
    accounts = container.accounts
    staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
    banned = accounts.create_user(OPERATOR, "banned@example.uz", PASSWORD, staff=True)
    accounts.ban(OPERATOR, banned, "fraud")
    seller = accounts.register("seller@example.uz", PASSWORD)
    buyer = accounts.register("buyer@example.uz", PASSWORD)
    stranger = accounts.register("eve@example.uz", PASSWORD)
    payments, escrows = container.payments, container.escrows
    payments.credit_deposit(SEED, buyer, uuid.uuid4(), 3 * PRICE)
    payments.credit_deposit(SEED, seller, uuid.uuid4(), 100_000 * UZS)

    def listing(title: str) -> UUID:
        made = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": title, "description": "D", "price": PRICE},
            credentials=CREDENTIALS,
        )
        container.listings.approve_listing(Actor.user(staff), made)
        return made

    delivered = escrows.purchase(Actor.user(buyer), listing("Delivered")).id
    escrows.deliver(Actor.user(seller), delivered, None)
    disputed = escrows.purchase(Actor.user(buyer), listing("Disputed")).id
    escrows.dispute(Actor.user(buyer), disputed, "Wrong level")
    return Market(
        staff=staff,
        banned=banned,
        seller=seller,
        buyer=buyer,
        stranger=stranger,
        delivered=delivered,
        disputed=disputed,
        deposit=payments.request_deposit(Actor.user(buyer), 5_000 * UZS, "visa", "sandbox").id,
        withdrawal=payments.request_withdrawal(Actor.user(seller), 20_000 * UZS, "visa"),
        subscription=container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly"),
    )


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def refused(
    container: Container, error: type[Exception], attempts: list[Callable[[], Any]]
) -> None:
    """Each attempt raises ``error``, and none of them writes an event."""
    before = head(container)
    for attempt in attempts:
        with pytest.raises(error):
            attempt()
    assert head(container) == before


def refused_to(
    container: Container,
    actors: list[Actor],
    error: type[Exception],
    attempts: list[Callable[[Actor], Any]],
) -> None:
    """Each attempt, by each of ``actors``, raises ``error``; none writes an event."""
    refused(container, error, [partial(a, actor) for actor in actors for a in attempts])


def not_staff(m: Market) -> list[Actor]:
    return [
        Actor.user(m.seller),
        Actor.user(m.buyer),
        Actor.user(uuid.uuid4()),  # nobody
        Actor.user(m.banned),
        TIMER,  # the platform's own processes settle nothing staff settle
    ]


def test_only_active_staff_settle_withdrawals_and_resolve_disputes(
    container: Container, market: Market
) -> None:
    m, payments, escrows = market, container.payments, container.escrows
    refused_to(
        container,
        not_staff(m),
        NotAllowed,
        [
            lambda actor: payments.approve_withdrawal(actor, m.seller, m.withdrawal),
            lambda actor: payments.reject_withdrawal(actor, m.seller, m.withdrawal, "no"),
            lambda actor: escrows.resolve_dispute(actor, m.disputed, "refund", "mine now"),
            lambda actor: escrows.resolve_dispute(actor, m.disputed, "release", "mine now"),
        ],
    )
    assert str(m.withdrawal) in container.app.load(wallet_id(m.seller), Wallet).withdrawals
    assert container.escrows.escrow(m.disputed).status == "disputed"


def test_staff_settle_in_their_own_name(container: Container, market: Market) -> None:
    m = market
    container.payments.approve_withdrawal(Actor.user(m.staff), m.seller, m.withdrawal)
    completed = [
        e
        for e in container.app.events.get(wallet_id(m.seller))
        if isinstance(e, Wallet.WithdrawalCompleted)
    ]
    assert [e.by for e in completed] == [m.staff]
    container.escrows.resolve_dispute(Actor.user(m.staff), m.disputed, "refund", "No delivery")
    assert container.escrows.escrow(m.disputed).status == "refunded"


def test_a_dispute_that_is_not_open_or_an_unknown_action_is_refused_before_any_write(
    container: Container, market: Market
) -> None:
    staff, escrows = Actor.user(market.staff), container.escrows
    refused(
        container,
        NotFound,
        [
            lambda: escrows.resolve_dispute(staff, market.delivered, "refund", ""),
            lambda: escrows.resolve_dispute(staff, uuid.uuid4(), "refund", ""),
        ],
    )
    with pytest.raises(NoOpenDispute):  # "not disputed" is answered before the action
        escrows.resolve_dispute(staff, market.delivered, "keep", "")
    refused(
        container,
        InvalidResolution,
        [lambda: escrows.resolve_dispute(staff, market.disputed, "keep", "")],
    )
    assert container.escrows.escrow(market.disputed).status == "disputed"


def test_only_the_platform_confirms_or_cancels_deposits_and_runs_the_timers(
    container: Container, market: Market
) -> None:
    m = market
    payments, escrows, subscriptions = (
        container.payments,
        container.escrows,
        container.subscriptions,
    )
    refused_to(
        container,
        [Actor.user(m.buyer), Actor.user(m.staff), Actor.user(uuid.uuid4())],
        NotAllowed,
        [
            lambda actor: payments.confirm_deposit(actor, m.deposit, "paid-by-myself"),
            lambda actor: payments.cancel_deposit(actor, m.deposit, "never mind"),
            lambda actor: escrows.run_escrow_timers(actor, m.delivered),
            lambda actor: subscriptions.renew_or_expire(actor, m.seller),
        ],
    )
    assert container.payments.deposit(m.deposit).status == "pending"
    assert container.payments.confirm_deposit(WEBHOOK, m.deposit, "sbx-1") is True


def test_only_staff_or_the_platform_credit_a_deposit_paid_outside_a_provider(
    container: Container, market: Market
) -> None:
    m = market
    credit = container.payments.credit_deposit
    refused_to(
        container,
        [Actor.user(m.buyer), Actor.user(uuid.uuid4()), Actor.user(m.banned)],
        NotAllowed,
        [lambda actor: credit(actor, m.buyer, uuid.uuid4(), PRICE)],  # not even to oneself
    )
    before = container.app.load(wallet_id(m.buyer), Wallet).available
    credit(Actor.user(m.staff), m.buyer, uuid.uuid4(), 1_000 * UZS)
    credit(SEED, m.buyer, uuid.uuid4(), 1_000 * UZS)
    assert container.app.load(wallet_id(m.buyer), Wallet).available == before + 2_000 * UZS


def test_the_platform_owns_no_wallet_escrow_or_subscription(
    container: Container, market: Market
) -> None:
    m, payments, escrows, subscriptions = (
        market,
        container.payments,
        container.escrows,
        container.subscriptions,
    )
    refused_to(
        container,
        [TIMER, WEBHOOK, SEED],
        NotAllowed,
        [
            lambda platform: payments.request_deposit(platform, 5_000 * UZS, "visa", "sandbox"),
            lambda platform: payments.request_withdrawal(platform, 10_000 * UZS, "visa"),
            lambda platform: payments.cancel_withdrawal(platform, m.withdrawal),
            lambda platform: escrows.purchase(platform, uuid.uuid4()),
            lambda platform: escrows.deliver(platform, m.delivered, CREDENTIALS),
            lambda platform: escrows.reveal_credentials(platform, m.delivered),
            lambda platform: escrows.confirm_purchase(platform, m.delivered),
            lambda platform: escrows.dispute(platform, m.delivered, "mine"),
            lambda platform: subscriptions.subscribe(platform, "pro", "monthly"),
            lambda platform: subscriptions.cancel_subscription(platform, "", m.subscription),
        ],
    )


def test_only_the_parties_move_an_escrow_each_in_their_role(
    container: Container, market: Market
) -> None:
    m, escrows = market, container.escrows
    seller, buyer, stranger = Actor.user(m.seller), Actor.user(m.buyer), Actor.user(m.stranger)
    refused(
        container,
        NotAParty,
        [
            lambda: escrows.confirm_purchase(stranger, m.delivered),
            lambda: escrows.dispute(stranger, m.delivered, "mine"),
            lambda: escrows.deliver(stranger, m.delivered, CREDENTIALS),
            lambda: escrows.reveal_credentials(stranger, m.delivered),
            lambda: escrows.confirm_purchase(seller, m.delivered),  # the buyer confirms
            lambda: escrows.dispute(seller, m.delivered, "paid too little"),
            lambda: escrows.reveal_credentials(seller, m.delivered),  # the buyer sees them
            lambda: escrows.deliver(buyer, m.delivered, CREDENTIALS),  # the seller delivers
        ],
    )
    assert container.escrows.escrow(m.delivered).status == "delivered"


def test_the_credentials_are_revealed_to_the_buyer_and_to_active_staff(
    container: Container, market: Market
) -> None:
    m, reveal = market, container.escrows.reveal_credentials
    assert reveal(Actor.user(m.buyer), m.delivered) == CREDENTIALS
    assert reveal(Actor.user(m.staff), m.delivered) == CREDENTIALS
    refused(container, NotAParty, [lambda: reveal(Actor.user(m.banned), m.delivered)])
    revealed = [
        e.by
        for e in container.app.events.get(m.delivered)
        if isinstance(e, Escrow.CredentialsRevealed)
    ]
    assert revealed == [m.buyer, m.staff]


def test_only_the_owner_cancels_a_withdrawal(container: Container, market: Market) -> None:
    m, cancel = market, container.payments.cancel_withdrawal
    refused(
        container,
        NotYourTransaction,
        [
            lambda: cancel(Actor.user(m.buyer), m.withdrawal),  # has a wallet, not this one
            lambda: cancel(Actor.user(m.stranger), m.withdrawal),  # has no wallet at all
            lambda: cancel(Actor.user(m.seller), uuid.uuid4()),  # no such withdrawal
        ],
    )
    cancel(Actor.user(m.seller), m.withdrawal)
    refused(container, NoSuchWithdrawal, [lambda: cancel(Actor.user(m.seller), m.withdrawal)])


def test_only_the_owner_cancels_a_subscription(container: Container, market: Market) -> None:
    m, cancel = market, container.subscriptions.cancel_subscription
    refused(
        container,
        NotFound,
        [
            lambda: cancel(Actor.user(m.buyer), "", m.subscription),
            lambda: cancel(Actor.user(m.stranger), "", m.subscription),
        ],
    )
    assert container.app.load(membership_id(m.seller), Membership).status == "active"
    assert cancel(Actor.user(m.seller), "", m.subscription) == m.subscription


def test_an_escrow_is_seen_by_its_parties_and_staff_and_a_transaction_by_its_owner(
    container: Container, market: Market
) -> None:
    """The read side's rules, on the rows the API reads."""
    m = market
    settled(container)
    with container.store.reader.connect() as conn:
        escrow = escrow_views.escrow(conn, m.delivered)
        deposit = transaction_views.transaction(conn, m.deposit)
    assert escrow is not None and deposit is not None
    for viewer, staff in ((m.buyer, False), (m.seller, False), (m.staff, True)):
        check_visible_to(viewer, escrow.buyer_id, escrow.seller_id, staff=staff)
    with pytest.raises(NotAParty):
        check_visible_to(m.stranger, escrow.buyer_id, escrow.seller_id, staff=False)
    check_record_owner(m.buyer, deposit.user_id)
    for viewer in (m.seller, m.staff, m.stranger):
        with pytest.raises(NotYourTransaction):
            check_record_owner(viewer, deposit.user_id)
