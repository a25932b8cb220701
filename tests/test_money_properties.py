"""Hypothesis: no sequence of money commands (deposits, withdrawals, purchases, deliveries,
confirmations, disputes, resolutions, timers, subscriptions) by several users breaks a ledger
invariant, and after every step the read models equal a fresh replay of the event log."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, rule

from application.actor import Actor
from domain.escrow import Escrow
from domain.wallet import Wallet, wallet_id
from projections.audit import run_audit
from tests.market_machine import MarketMachine

UZS = 100
USERS = 4
amounts = st.integers(1_000, 400_000).map(lambda n: n * UZS)
users = st.integers(0, USERS - 1)
WEBHOOK = Actor.platform("payment-webhook")


class Marketplace(MarketMachine):
    deposits = Bundle("deposits")
    withdrawals = Bundle("withdrawals")
    listings = Bundle("listings")
    escrows = Bundle("escrows")

    users_count = USERS

    def _do(self, command: Any, *args: Any) -> Any:
        """The command's result, or None when it was refused."""
        return self._attempt(command, *args)[1]

    # --- money in and out -------------------------------------------------------------------
    @initialize(target=listings, funds=st.lists(amounts, min_size=USERS, max_size=USERS))
    def open_the_shop(self, funds: list[int]) -> Any:
        """Everyone starts with some money, and there is something to buy."""
        with self.container.read_your_writes():
            for user, amount in zip(self.users, funds):
                self.container.payments.credit_deposit(
                    Actor.platform("seed"), user, uuid.uuid4(), 5 * amount
                )
        return self.list_account(0, funds[0] // 2, True)

    @rule(who=users, amount=amounts)
    def fund(self, who: int, amount: int) -> None:
        deposit = self._do(
            self.container.payments.request_deposit,
            Actor.user(self.users[who]),
            amount,
            "visa",
            "sandbox",
        )
        if deposit is not None:
            self._do(self.container.payments.confirm_deposit, WEBHOOK, deposit.id, "sbx")

    @rule(target=deposits, who=users, amount=amounts)
    def request_deposit(self, who: int, amount: int) -> Any:
        deposit = self._do(
            self.container.payments.request_deposit,
            Actor.user(self.users[who]),
            amount,
            "visa",
            "sandbox",
        )
        return deposit.id if deposit else uuid.uuid4()

    @rule(deposit=deposits)
    def confirm_deposit(self, deposit: uuid.UUID) -> None:
        self._do(self.container.payments.confirm_deposit, WEBHOOK, deposit, "sbx")

    @rule(deposit=deposits)
    def cancel_deposit(self, deposit: uuid.UUID) -> None:
        self._do(self.container.payments.cancel_deposit, WEBHOOK, deposit, "payer cancelled")

    @rule(target=withdrawals, who=users, amount=amounts)
    def withdraw(self, who: int, amount: int) -> Any:
        withdrawal = self._do(
            self.container.payments.request_withdrawal, Actor.user(self.users[who]), amount, "visa"
        )
        return (who, withdrawal or uuid.uuid4())

    @rule(withdrawal=withdrawals, outcome=st.sampled_from(["approve", "reject", "cancel"]))
    def settle_withdrawal(self, withdrawal: tuple[int, uuid.UUID], outcome: str) -> None:
        owner, wid = self.users[withdrawal[0]], withdrawal[1]
        staff = Actor.user(self.staff)
        if outcome == "approve":
            self._do(self.container.payments.approve_withdrawal, staff, owner, wid)
        elif outcome == "reject":
            self._do(self.container.payments.reject_withdrawal, staff, owner, wid, "rejected")
        else:
            self._do(self.container.payments.cancel_withdrawal, Actor.user(owner), wid)

    # --- purchases --------------------------------------------------------------------------
    @rule(target=listings, seller=users, price=amounts, stored=st.booleans())
    def list_account(self, seller: int, price: int, stored: bool) -> Any:
        credentials = {"account_email": "a@b.uz", "account_password": "p"} if stored else None
        with self.container.read_your_writes():
            listing = self.container.listings.create_listing(
                Actor.user(self.users[seller]),
                "pubg-mobile",
                {"title": "Account", "description": "D", "price": price},
                credentials=credentials,
            )
            self.container.listings.approve_listing(Actor.user(self.staff), listing)
        return listing

    @rule(target=escrows, buyer=users, listing=listings)
    def purchase(self, buyer: int, listing: uuid.UUID) -> Any:
        escrow = self._do(self.container.escrows.purchase, Actor.user(self.users[buyer]), listing)
        return escrow.id if escrow else uuid.uuid4()

    @rule(escrow=escrows, inline=st.booleans())
    def deliver(self, escrow: uuid.UUID, inline: bool) -> None:
        seller = self._party(escrow, "seller_id")
        credentials = {"account_email": "x@y.uz", "account_password": "q"} if inline else None
        self._do(self.container.escrows.deliver, Actor.user(seller), escrow, credentials)

    @rule(escrow=escrows, who=st.sampled_from(["buyer_id", "seller_id"]))
    def confirm(self, escrow: uuid.UUID, who: str) -> None:
        self._do(
            self.container.escrows.confirm_purchase, Actor.user(self._party(escrow, who)), escrow
        )

    @rule(escrow=escrows)
    def dispute(self, escrow: uuid.UUID) -> None:
        self._do(
            self.container.escrows.dispute,
            Actor.user(self._party(escrow, "buyer_id")),
            escrow,
            "not as described",
        )

    @rule(escrow=escrows, refund=st.booleans())
    def resolve(self, escrow: uuid.UUID, refund: bool) -> None:
        action = "refund" if refund else "release"
        self._do(
            self.container.escrows.resolve_dispute,
            Actor.user(self.staff),
            escrow,
            action,
            "decided",
        )

    @rule(escrow=escrows, hours=st.sampled_from([1, 23, 25, 49]))
    def timers(self, escrow: uuid.UUID, hours: int) -> None:
        self.clock.advance(hours=hours)
        self._do(self.container.escrows.run_escrow_timers, Actor.platform("escrow-timer"), escrow)

    def _party(self, escrow: uuid.UUID, role: str) -> uuid.UUID:
        found = self.app.find(escrow, Escrow)
        return getattr(found, role) if found is not None else uuid.uuid4()

    # --- subscriptions ----------------------------------------------------------------------
    @rule(
        who=users,
        plan=st.sampled_from(["premium", "pro"]),
        period=st.sampled_from(["monthly", "yearly"]),
    )
    def subscribe(self, who: int, plan: str, period: str) -> None:
        self._do(self.container.subscriptions.subscribe, Actor.user(self.users[who]), plan, period)

    @rule(who=users)
    def cancel_subscription(self, who: int) -> None:
        self._do(self.container.subscriptions.cancel_subscription, Actor.user(self.users[who]), "")

    @rule(who=users, days=st.sampled_from([1, 29, 31, 366]))
    def renewals(self, who: int, days: int) -> None:
        self.clock.advance(days=days)
        self._do(
            self.container.subscriptions.renew_or_expire,
            Actor.platform("subscription-renewals"),
            self.users[who],
        )

    # --- after every step -------------------------------------------------------------------
    @invariant()
    def the_ledger_holds_and_the_read_models_equal_a_replay(self) -> None:
        head = self.app.recorder.max_notification_id() or 0
        assert self.container.board.wait_for(head, 10)
        audit = run_audit(self.app.recorder, self.app.mapper, self.container.store)
        assert audit.ledger.violations == {k: [] for k in audit.ledger.violations}
        assert audit.differences == []
        for owner, (available, held, pending) in audit.ledger.balances().items():
            wallet = self.app.find(wallet_id(owner), Wallet)
            assert wallet is not None
            assert (wallet.available, wallet.held, wallet.pending_withdrawal) == (
                available,
                held,
                pending,
            )


def test_money_state_machine() -> None:
    Marketplace.TestCase.settings = settings(
        max_examples=30,
        stateful_step_count=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    Marketplace.TestCase().runTest()
