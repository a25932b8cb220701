"""The money and users projectors hold a batch's writes back (projections/held.py): any batch
size must give the read models that applying one event at a time gives."""

from __future__ import annotations

import uuid

import pytest

from application.actor import Actor
from projections.escrows import escrows
from projections.held import HeldRows
from projections.subscriptions import subscriptions
from projections.transactions import transaction_wallets, transactions
from projections.users import escrow_sellers, users
from projections.wallets import wallets
from tests.conftest import FixedClock
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
UZS = 100
CREDENTIALS = {"account_email": "acc@game.uz", "account_password": "hunter2"}
TABLES = (wallets, transactions, transaction_wallets, escrows, subscriptions, users, escrow_sellers)
MONEY = ("wallets", "transactions", "escrows", "subscriptions")


def a_busy_ledger(container: Container, clock: FixedClock) -> None:
    """Every money event, several on the same wallets and escrows, users made in between."""
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)

    def listing(title: str) -> uuid.UUID:
        made = container.listings.create_listing(
            Actor.user(seller),
            "pubg-mobile",
            {"title": title, "description": "D", "price": 100_000 * UZS},
            credentials=CREDENTIALS,
        )
        container.listings.approve_listing(Actor.user(staff), made)
        return made

    pending = container.payments.request_deposit(
        Actor.user(buyer), 700_000 * UZS, "visa", "sandbox"
    )
    container.payments.confirm_deposit(Actor.platform("payment-webhook"), pending.id, "tx-1")
    container.payments.confirm_deposit(
        Actor.platform("payment-webhook"), pending.id, "tx-1"
    )  # twice: credited once
    cancelled = container.payments.request_deposit(
        Actor.user(buyer), 5_000 * UZS, "visa", "sandbox"
    )
    container.payments.cancel_deposit(
        Actor.platform("payment-webhook"), cancelled.id, "payer cancelled"
    )
    container.payments.credit_deposit(Actor.platform("seed"), seller, uuid.uuid4(), 200_000 * UZS)

    sold = container.escrows.purchase(Actor.user(buyer), listing("Confirmed"))
    container.escrows.deliver(Actor.user(seller), sold.id, CREDENTIALS)
    container.escrows.reveal_credentials(Actor.user(buyer), sold.id)
    container.escrows.reveal_credentials(Actor.user(staff), sold.id)
    container.escrows.confirm_purchase(Actor.user(buyer), sold.id)

    refunded = container.escrows.purchase(Actor.user(buyer), listing("Refunded"))
    container.escrows.dispute(Actor.user(buyer), refunded.id, "wrong level")
    container.escrows.resolve_dispute(Actor.user(staff), refunded.id, "refund", "refund")
    released = container.escrows.purchase(Actor.user(buyer), listing("Released by staff"))
    container.escrows.deliver(Actor.user(seller), released.id, CREDENTIALS)
    container.escrows.dispute(Actor.user(buyer), released.id, "slow")
    container.escrows.resolve_dispute(
        Actor.user(staff), released.id, "release", "delivered as listed"
    )
    late = container.escrows.purchase(Actor.user(buyer), listing("Never delivered"))
    auto = container.escrows.purchase(Actor.user(buyer), listing("Auto-released"))
    container.escrows.deliver(Actor.user(seller), auto.id, CREDENTIALS)
    clock.advance(hours=25)
    container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), late.id)
    container.escrows.run_escrow_timers(Actor.platform("escrow-timer"), auto.id)

    approved = container.payments.request_withdrawal(Actor.user(seller), 20_000 * UZS, "visa")
    container.payments.approve_withdrawal(Actor.user(staff), seller, approved)
    rejected = container.payments.request_withdrawal(Actor.user(seller), 15_000 * UZS, "uzcard")
    container.payments.reject_withdrawal(Actor.user(staff), seller, rejected, "card blocked")
    withdrawn = container.payments.request_withdrawal(Actor.user(seller), 10_000 * UZS, "visa")
    container.payments.cancel_withdrawal(Actor.user(seller), withdrawn)

    container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly")
    container.subscriptions.subscribe(Actor.user(seller), "pro", "monthly")  # replaces premium
    clock.advance(days=31)
    container.subscriptions.renew_or_expire(Actor.platform("subscription-renewals"), seller)
    container.subscriptions.cancel_subscription(Actor.user(seller), "no longer selling")
    clock.advance(days=31)
    container.subscriptions.renew_or_expire(Actor.platform("subscription-renewals"), seller)
    container.accounts.register("late@example.uz", PASSWORD)  # a user row after the money rows


def test_any_batch_size_projects_what_one_event_at_a_time_does(
    idle_container: Container, clock: FixedClock
) -> None:
    a_busy_ledger(idle_container, clock)
    one_at_a_time = one_event_at_a_time(idle_container, TABLES)
    kinds = {row[4] for row in one_at_a_time["transactions"]}
    assert kinds >= {"deposit", "withdrawal", "purchase", "refund", "sale", "subscription"}
    statuses = {row[6] for row in one_at_a_time["escrows"]}
    assert statuses == {"confirmed", "refunded"}
    assert [row[17] for row in one_at_a_time["escrows"] if row[17]] == [2]  # two reveals
    assert_every_batch_size_agrees(idle_container, ["users", *MONEY], TABLES, one_at_a_time)


def test_a_column_is_either_set_or_counted_within_a_batch() -> None:
    rows = HeldRows(wallets)
    key = uuid.uuid4()
    rows.add(key, "available", 5)
    with pytest.raises(ValueError, match="both set and counted"):
        rows.change(key, {"available": 0})
    rows = HeldRows(wallets)
    rows.change(key, {"available": 0})
    with pytest.raises(ValueError, match="both set and counted"):
        rows.add(key, "available", 5)
    rows.add(key, "held", 5)  # another column is fine
