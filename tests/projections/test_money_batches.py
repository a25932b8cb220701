"""The money and users projectors hold a batch's writes back (projections/held.py): any batch
size must give the read models that applying one event at a time gives."""

from __future__ import annotations

import uuid

import pytest

from api.bootstrap import Container
from api.seed import seed_games
from projections.escrows import escrows
from projections.held import HeldRows
from projections.subscriptions import subscriptions
from projections.transactions import transaction_wallets, transactions
from projections.users import escrow_sellers, users
from projections.wallets import wallets
from tests.conftest import FixedClock
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time

PASSWORD = "Sup3r-Secret!"
UZS = 100
CREDENTIALS = {"account_email": "acc@game.uz", "account_password": "hunter2"}
TABLES = (wallets, transactions, transaction_wallets, escrows, subscriptions, users, escrow_sellers)
MONEY = ("wallets", "transactions", "escrows", "subscriptions")


def a_busy_ledger(container: Container, clock: FixedClock) -> None:
    """Every money event, several on the same wallets and escrows, users made in between."""
    app = container.app
    seed_games(app)
    staff = app.create_user("staff@example.uz", PASSWORD, staff=True)
    seller = app.register("seller@example.uz", PASSWORD)
    buyer = app.register("buyer@example.uz", PASSWORD)

    def listing(title: str) -> uuid.UUID:
        made = app.create_listing(
            seller,
            "pubg-mobile",
            {"title": title, "description": "D", "price": 100_000 * UZS},
            credentials=CREDENTIALS,
        )
        app.approve_listing(staff, made)
        return made

    pending = app.request_deposit(buyer, 700_000 * UZS, "visa", "sandbox")
    app.confirm_deposit(pending.id, "tx-1")
    app.confirm_deposit(pending.id, "tx-1")  # twice: credited once
    cancelled = app.request_deposit(buyer, 5_000 * UZS, "visa", "sandbox")
    app.cancel_deposit(cancelled.id, "payer cancelled")
    app.credit_deposit(seller, uuid.uuid4(), 200_000 * UZS)

    sold = app.purchase(buyer, listing("Confirmed"))
    app.deliver(seller, sold.id, CREDENTIALS)
    app.reveal_credentials(buyer, sold.id, staff=False)
    app.reveal_credentials(staff, sold.id, staff=True)
    app.confirm_purchase(buyer, sold.id)

    refunded = app.purchase(buyer, listing("Refunded"))
    app.dispute(buyer, refunded.id, "wrong level")
    app.resolve_dispute(staff, refunded.id, True, "refund")
    released = app.purchase(buyer, listing("Released by staff"))
    app.deliver(seller, released.id, CREDENTIALS)
    app.dispute(buyer, released.id, "slow")
    app.resolve_dispute(staff, released.id, False, "delivered as listed")
    late = app.purchase(buyer, listing("Never delivered"))
    auto = app.purchase(buyer, listing("Auto-released"))
    app.deliver(seller, auto.id, CREDENTIALS)
    clock.advance(hours=25)
    app.run_escrow_timers(late.id)
    app.run_escrow_timers(auto.id)

    approved = app.request_withdrawal(seller, 20_000 * UZS, "visa")
    app.approve_withdrawal(staff, seller, approved)
    rejected = app.request_withdrawal(seller, 15_000 * UZS, "uzcard")
    app.reject_withdrawal(seller, rejected, "card blocked")
    withdrawn = app.request_withdrawal(seller, 10_000 * UZS, "visa")
    app.cancel_withdrawal(seller, withdrawn)

    app.subscribe(seller, "premium", "monthly")
    app.subscribe(seller, "pro", "monthly")  # replaces premium
    clock.advance(days=31)
    app.renew_or_expire(seller)
    app.cancel_subscription(seller, "no longer selling")
    clock.advance(days=31)
    app.renew_or_expire(seller)
    app.register("late@example.uz", PASSWORD)  # a user row after the money rows


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
