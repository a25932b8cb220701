"""Hypothesis: no sequence of money commands (deposits, withdrawals, purchases, deliveries,
confirmations, disputes, resolutions, timers, subscriptions) by several users breaks a ledger
invariant, and after every step the read models equal a fresh replay of the event log.

Commands mostly pick a target they can succeed on (an escrow in the right state, a member with
a renewing subscription), sometimes any: the run must carry each of them out, not only see it
refused. The commission is checked against the machine's own model of who is on which plan,
not against the auditor (which replays the commission the events recorded)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, rule

from application.actor import Actor
from domain.deposit import Deposit
from domain.escrow import Escrow
from domain.listing import Listing
from domain.wallet import MIN_DEPOSIT, MIN_WITHDRAWAL, REVENUE_OWNERS, Wallet, wallet_id
from projections.audit import run_audit
from tests.market_machine import MarketMachine

UZS = 100
USERS = 4
amounts = st.integers(1_000, 400_000).map(lambda n: n * UZS)
users = st.integers(0, USERS - 1)
WEBHOOK = Actor.platform("payment-webhook")

# The business rules, written out here rather than imported: the platform's cut in percent
# and the monthly price (tiyin) of each plan; a year costs twelve months; a month is 30 days.
COMMISSION_PERCENT = {"free": 10, "premium": 8, "pro": 5}
MONTHLY_PRICE = {"premium": 50_000 * UZS, "pro": 100_000 * UZS}
PERIOD = {"monthly": timedelta(days=30), "yearly": timedelta(days=365)}


@dataclass
class Plan:
    """What the machine expects of one user's subscription."""

    name: str = "free"
    renewing: bool = False
    end: datetime | None = None

    def at(self, now: datetime) -> str:
        """The plan a sale's commission follows: a renewing subscription's until the timer
        renews or expires it, a cancelled one's until its end date."""
        if self.renewing or (self.end is not None and now < self.end):
            return self.name
        return "free"


class Marketplace(MarketMachine):
    listings = Bundle("listings")

    users_count = USERS

    def __init__(self) -> None:
        super().__init__()
        self.escrow_ids: list[uuid.UUID] = []
        self.deposit_ids: list[uuid.UUID] = []
        self.withdrawals: list[tuple[int, uuid.UUID]] = []  # (owner, withdrawal)
        self.pending: set[uuid.UUID] = set()  # withdrawals not yet paid, rejected or cancelled
        self.commission: dict[uuid.UUID, int] = {}  # escrow -> the model's commission
        self.plans = [Plan() for _ in range(USERS)]
        self.subscription_income = 0

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
        return self._list(0, funds[0] // 2, True)

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

    @rule(who=users, amount=amounts)
    def request_deposit(self, who: int, amount: int) -> None:
        deposit = self._do(
            self.container.payments.request_deposit,
            Actor.user(self.users[who]),
            amount,
            "visa",
            "sandbox",
        )
        if deposit is not None:
            self.deposit_ids.append(deposit.id)

    @rule(data=st.data())
    def confirm_deposit(self, data: st.DataObject) -> None:
        deposit = self._deposit(data)
        self._do(self.container.payments.confirm_deposit, WEBHOOK, deposit, "sbx")

    @rule(data=st.data())
    def cancel_deposit(self, data: st.DataObject) -> None:
        deposit = self._deposit(data)
        self._do(self.container.payments.cancel_deposit, WEBHOOK, deposit, "payer cancelled")

    def _deposit(self, data: st.DataObject) -> uuid.UUID:
        """Mostly a deposit still awaiting its payment (one is requested when there is none),
        sometimes any."""
        if data.draw(st.integers(0, 3), label="ready") == 0 and self.deposit_ids:
            return data.draw(st.sampled_from(self.deposit_ids), label="deposit")
        pending = [d for d in self.deposit_ids if self._deposit_status(d) == "pending"]
        if pending:
            return data.draw(st.sampled_from(pending), label="deposit")
        payer = Actor.user(self.users[data.draw(users, label="who")])
        request = self.container.payments.request_deposit
        made = self._prepare(request, payer, MIN_DEPOSIT, "visa", "sandbox")
        if made is None:
            return uuid.uuid4()
        self.deposit_ids.append(made.id)
        return made.id

    def _deposit_status(self, deposit: uuid.UUID) -> str:
        found = self.app.find(deposit, Deposit)
        return found.status if found is not None else ""

    @rule(who=users, amount=amounts)
    def withdraw(self, who: int, amount: int) -> None:
        withdrawal = self._do(
            self.container.payments.request_withdrawal, Actor.user(self.users[who]), amount, "visa"
        )
        if withdrawal:
            self.withdrawals.append((who, withdrawal))
            self.pending.add(withdrawal)

    @rule(data=st.data(), outcome=st.sampled_from(["approve", "reject", "cancel"]))
    def settle_withdrawal(self, data: st.DataObject, outcome: str) -> None:
        """Mostly a pending withdrawal (one is requested when there is none), sometimes any."""
        withdrawal = self._withdrawal(data)
        if withdrawal is None:
            return
        owner, wid = self.users[withdrawal[0]], withdrawal[1]
        staff = Actor.user(self.staff)
        if outcome == "approve":
            done = self._attempt(self.container.payments.approve_withdrawal, staff, owner, wid)
        elif outcome == "reject":
            reject = self.container.payments.reject_withdrawal
            done = self._attempt(reject, staff, owner, wid, "rejected")
        else:
            cancel = self.container.payments.cancel_withdrawal
            done = self._attempt(cancel, Actor.user(owner), wid)
        if done[0]:
            self.pending.discard(wid)
            self.carried_out["settle_withdrawal"] += 1  # any of the three

    def _withdrawal(self, data: st.DataObject) -> tuple[int, uuid.UUID] | None:
        if data.draw(st.integers(0, 3), label="ready") == 0 and self.withdrawals:
            return data.draw(st.sampled_from(self.withdrawals), label="withdrawal")
        pending = [w for w in self.withdrawals if w[1] in self.pending]
        if pending:
            return data.draw(st.sampled_from(pending), label="withdrawal")
        who = data.draw(users, label="who")
        user = self.users[who]
        credit = self.container.payments.credit_deposit
        self._prepare(credit, Actor.platform("seed"), user, uuid.uuid4(), MIN_WITHDRAWAL)
        request = self.container.payments.request_withdrawal
        withdrawal = self._prepare(request, Actor.user(user), MIN_WITHDRAWAL, "visa")
        if withdrawal is None:
            return None
        self.withdrawals.append((who, withdrawal))
        self.pending.add(withdrawal)
        return (who, withdrawal)

    # --- purchases --------------------------------------------------------------------------
    @rule(target=listings, seller=users, price=amounts, stored=st.booleans())
    def list_account(self, seller: int, price: int, stored: bool) -> Any:
        return self._list(seller, price, stored)

    def _list(self, seller: int, price: int, stored: bool) -> uuid.UUID:
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

    @rule(buyer=users, listing=listings)
    def purchase(self, buyer: int, listing: uuid.UUID) -> None:
        escrow = self._do(self.container.escrows.purchase, Actor.user(self.users[buyer]), listing)
        if escrow is not None:
            self._opened(escrow.id, listing)

    def _opened(self, escrow: uuid.UUID, listing: uuid.UUID) -> None:
        """Expect the commission of the seller's plan now, as the model has it."""
        found = self.app.find(listing, Listing)
        assert found is not None
        plan = self.plans[self.users.index(found.seller_id)].at(self.clock.now())
        self.escrow_ids.append(escrow)
        # half-even to the tiyin: Python rounds a Fraction's half to the even neighbour
        self.commission[escrow] = round(Fraction(found.price * COMMISSION_PERCENT[plan], 100))

    def _escrow(self, data: st.DataObject, *statuses: str) -> uuid.UUID:
        """Mostly an escrow the command can act on (in one of ``statuses``; one is made when
        there is none), sometimes any: its refusal is tested too."""
        if data.draw(st.integers(0, 3), label="ready") == 0 and self.escrow_ids:
            return data.draw(st.sampled_from(self.escrow_ids), label="escrow")
        ready = [e for e in self.escrow_ids if self._status(e) in statuses]
        if ready:
            return data.draw(st.sampled_from(ready), label="escrow")
        made = self._make_escrow(data, statuses[0])
        if made is not None:
            return made
        return data.draw(st.sampled_from(self.escrow_ids or [uuid.uuid4()]), label="escrow")

    def _make_escrow(self, data: st.DataObject, status: str) -> uuid.UUID | None:
        """A listing of one user bought by another (credited its price first), then delivered
        or disputed when ``status`` asks."""
        seller, buyer = data.draw(st.permutations(range(USERS)), label="parties")[:2]
        price = data.draw(amounts, label="price")
        listing = self._list(seller, price, True)
        credit = self.container.payments.credit_deposit
        self._prepare(credit, Actor.platform("seed"), self.users[buyer], uuid.uuid4(), price)
        escrow = self._prepare(
            self.container.escrows.purchase, Actor.user(self.users[buyer]), listing
        )
        if escrow is None:
            return None
        self._opened(escrow.id, listing)
        if status == "delivered":
            seller_actor = Actor.user(self.users[seller])
            self._prepare(self.container.escrows.deliver, seller_actor, escrow.id, None)
        elif status == "disputed":
            buyer_actor = Actor.user(self.users[buyer])
            self._prepare(self.container.escrows.dispute, buyer_actor, escrow.id, "wrong level")
        return escrow.id

    def _status(self, escrow: uuid.UUID) -> str:
        found = self.app.find(escrow, Escrow)
        return found.status if found is not None else ""

    @rule(data=st.data(), inline=st.booleans())
    def deliver(self, data: st.DataObject, inline: bool) -> None:
        escrow = self._escrow(data, "paid")
        seller = self._party(escrow, "seller_id")
        credentials = {"account_email": "x@y.uz", "account_password": "q"} if inline else None
        self._do(self.container.escrows.deliver, Actor.user(seller), escrow, credentials)

    @rule(data=st.data(), who=st.sampled_from(["buyer_id", "buyer_id", "seller_id"]))
    def confirm(self, data: st.DataObject, who: str) -> None:
        escrow = self._escrow(data, "paid", "delivered")
        self._do(
            self.container.escrows.confirm_purchase, Actor.user(self._party(escrow, who)), escrow
        )

    @rule(data=st.data())
    def dispute(self, data: st.DataObject) -> None:
        escrow = self._escrow(data, "paid", "delivered")
        self._do(
            self.container.escrows.dispute,
            Actor.user(self._party(escrow, "buyer_id")),
            escrow,
            "not as described",
        )

    @rule(data=st.data(), refund=st.booleans())
    def resolve(self, data: st.DataObject, refund: bool) -> None:
        escrow = self._escrow(data, "disputed")
        action = "refund" if refund else "release"
        self._do(
            self.container.escrows.resolve_dispute,
            Actor.user(self.staff),
            escrow,
            action,
            "decided",
        )

    @rule(data=st.data(), hours=st.sampled_from([1, 23, 25, 49]))
    def timers(self, data: st.DataObject, hours: int) -> None:
        escrow = self._escrow(data, "paid", "delivered")
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
        data=st.data(),
    )
    def subscribe(self, who: int, plan: str, period: str, data: st.DataObject) -> None:
        """Mostly by a user who can pay (credited the price first when short)."""
        wallet = self.app.find(wallet_id(self.users[who]), Wallet)
        price = (12 if period == "yearly" else 1) * MONTHLY_PRICE[plan]
        short = wallet is None or wallet.available < price
        if short and data.draw(st.integers(0, 3), label="ready") > 0:
            credit = self.container.payments.credit_deposit
            self._prepare(credit, Actor.platform("seed"), self.users[who], uuid.uuid4(), price)
        if self._do(
            self.container.subscriptions.subscribe, Actor.user(self.users[who]), plan, period
        ):
            self._subscribed(who, plan, period)

    def _subscribed(self, who: int, plan: str, period: str) -> None:
        self.plans[who] = Plan(plan, True, self.clock.now() + PERIOD[period])
        months = 12 if period == "yearly" else 1
        self.subscription_income += months * MONTHLY_PRICE[plan]

    @rule(data=st.data())
    def cancel_subscription(self, data: st.DataObject) -> None:
        """Mostly a member whose subscription renews (one subscribes when there is none)."""
        who = data.draw(users, label="who")
        if data.draw(st.integers(0, 3), label="ready") > 0:
            renewing = [u for u, plan in enumerate(self.plans) if plan.renewing]
            if renewing:
                who = data.draw(st.sampled_from(renewing), label="member")
            else:
                user = self.users[who]
                price = MONTHLY_PRICE["premium"]
                credit = self.container.payments.credit_deposit
                self._prepare(credit, Actor.platform("seed"), user, uuid.uuid4(), price)
                subscribe = self.container.subscriptions.subscribe
                if self._prepare(subscribe, Actor.user(user), "premium", "monthly"):
                    self._subscribed(who, "premium", "monthly")
        if self._do(
            self.container.subscriptions.cancel_subscription, Actor.user(self.users[who]), ""
        ):
            self.plans[who].renewing = False

    @rule(who=users, days=st.sampled_from([1, 29, 31, 366]))
    def renewals(self, who: int, days: int) -> None:
        self.clock.advance(days=days)
        outcome = self._do(
            self.container.subscriptions.renew_or_expire,
            Actor.platform("subscription-renewals"),
            self.users[who],
        )
        plan = self.plans[who]
        if outcome == "renewed":
            assert plan.end is not None
            plan.end += PERIOD["monthly"]
            self.subscription_income += MONTHLY_PRICE[plan.name]
        elif outcome == "expired":
            self.plans[who] = Plan()

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

    @invariant()
    def the_platform_earns_the_commission_of_the_sellers_plan_and_the_subscriptions(
        self,
    ) -> None:
        released = 0
        for escrow_id in self.escrow_ids:
            escrow = self.app.find(escrow_id, Escrow)
            assert escrow is not None
            assert escrow.commission == self.commission[escrow_id], escrow_id
            if escrow.status == "confirmed":
                released += self.commission[escrow_id]
        revenue = 0
        for owner in REVENUE_OWNERS:
            wallet = self.app.find(wallet_id(owner), Wallet)
            revenue += wallet.available if wallet is not None else 0
        assert revenue == released + self.subscription_income


def test_money_state_machine() -> None:
    Marketplace.run(
        settings(
            max_examples=30,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
    Marketplace.check_each_succeeded(
        [
            "confirm_deposit",
            "cancel_deposit",
            "request_withdrawal",
            "settle_withdrawal",  # approved, rejected or cancelled
            "purchase",
            "deliver",
            "confirm_purchase",
            "dispute",
            "resolve_dispute",
            "subscribe",
            "cancel_subscription",
        ]
    )
