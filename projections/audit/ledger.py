"""The auditor's ledger: a replay of the money events from position 0 that checks the ledger
invariants of DESIGN.md §4 and writes one row per money movement.

It is independent of the aggregates' own bookkeeping (it recomputes every balance from the
events) and of the read models (which the audit's report compares with it: report.py).

1. Conservation: all wallets' available + held + pending == deposits credited - withdrawals paid.
2. No balance (available, held, pending) is ever negative, after any event.
3. An open escrow's hold equals its price; an escrow settles exactly once, to release or refund.
4. A released escrow: seller credit + platform commission == price.
5. A listing is reserved by at most one open escrow and sold at most once.
6. Every money event names its cause: a completed deposit, an escrow, a subscription payment.
7. A production ledger credits no deposit from a provider that moves no real money (the sandbox,
   demo data): such a credit is money minted, whatever the other invariants say.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple
from uuid import UUID

from domain.deposit import Deposit
from domain.escrow import Escrow
from domain.listing import Listing
from domain.subscription import Membership, payment_reference
from domain.wallet import Wallet, is_platform, wallet_id

INVARIANTS = {
    "1_conservation": "sum of all balances == deposits credited - withdrawals paid",
    "2_no_negative_balance": "no available, held or pending balance is ever negative",
    "3_escrow_hold_and_single_settlement": "an open escrow's hold equals its price; "
    "each escrow settles exactly once",
    "4_release_splits_the_price": "seller credit + platform commission == price",
    "5_listing_reserved_once_sold_once": "a listing is reserved by at most one open escrow "
    "and sold at most once",
    "6_every_movement_has_a_cause": "each money event is traceable to what caused it",
    "7_production_deposits_are_real": "a production ledger credits no sandbox or demo deposit",
}
# Providers whose "payments" are not money anyone paid: fine in development and demos, minted
# money in production.
PLAY_MONEY_PROVIDERS = frozenset({"sandbox", "demo"})
MONEY_TYPES = (Wallet, Deposit, Escrow, Membership)
LISTING_EVENTS = (Listing.Reserved, Listing.Released, Listing.Sold)


@dataclass
class Balance:
    owner: UUID
    available: int = 0
    holds: dict[UUID, int] = field(default_factory=dict)
    pending: dict[UUID, int] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return sum(self.holds.values())

    @property
    def pending_withdrawal(self) -> int:
        return sum(self.pending.values())


@dataclass
class EscrowState:
    buyer: UUID
    seller: UUID
    listing: UUID
    price: int
    commission: int
    status: str = "paid"
    settlements: int = 0
    captured: int = 0
    returned: int = 0
    seller_credit: int = 0
    platform_credit: int = 0


class Row(NamedTuple):
    """One money movement, kept raw during the replay and formatted for the CSV."""

    position: int
    at: datetime
    event: str
    owner: UUID
    kind: str
    amount: int
    available: int
    held: int
    pending: int
    escrow: UUID | None
    cause: UUID

    def values(self) -> list[Any]:
        account = f"platform:{self.owner}" if is_platform(self.owner) else str(self.owner)
        return [
            self.position,
            self.at.isoformat(),
            self.event,
            account,
            self.kind,
            self.amount,
            self.available,
            self.held,
            self.pending,
            str(self.escrow or ""),
            str(self.cause),
        ]


LEDGER_FIELDS = (
    "position",
    "at",
    "event",
    "account",
    "kind",
    "amount",
    "available_delta",
    "held_delta",
    "pending_delta",
    "escrow",
    "cause",
)


class Ledger:
    def __init__(self, *, production: bool = False) -> None:
        self.production = production  # check invariant 7 (see PLAY_MONEY_PROVIDERS)
        self.wallets: dict[UUID, Balance] = {}
        self.escrows: dict[UUID, EscrowState] = {}
        self.deposits: dict[UUID, Deposit.Requested] = {}
        self.deposit_status: dict[UUID, str] = {}
        self.reserved_by: dict[UUID, UUID] = {}
        self.sold: dict[UUID, int] = defaultdict(int)
        self.payments: dict[UUID, int] = {}  # subscription payment reference -> price
        self.deposits_credited = 0
        self.by_provider: dict[str, list[int]] = {}  # provider -> [deposits, amount credited]
        self.withdrawals_paid = 0
        self.events = 0
        self.last_position = 0
        self.rows: list[Row] = []
        self.violations: dict[str, list[str]] = {name: [] for name in INVARIANTS}
        self._causes: list[tuple[int, str, UUID, UUID, int]] = []  # checked at the end

    # --- replay -----------------------------------------------------------------------------
    def apply(self, position: int, e: Any) -> None:
        self.events += 1
        self.last_position = position
        if isinstance(e, Wallet.Event):
            self._wallet(position, e)
        elif isinstance(e, Deposit.Requested):
            self.deposits[e.originator_id] = e
            self.deposit_status[e.originator_id] = "pending"
        elif isinstance(e, Deposit.Completed):
            self.deposit_status[e.originator_id] = "completed"
        elif isinstance(e, Deposit.Cancelled):
            self.deposit_status[e.originator_id] = "cancelled"
        elif isinstance(e, Escrow.Event):
            self._escrow(position, e)
        elif isinstance(e, LISTING_EVENTS):
            self._listing(position, e)
        elif isinstance(e, Membership.Subscribed | Membership.Renewed):
            self.payments[payment_reference(e.subscription_id, e.start)] = e.price

    def _wallet(self, position: int, e: Any) -> None:
        wid = e.originator_id
        if isinstance(e, Wallet.Opened):
            self.wallets[wid] = Balance(owner=e.owner_id)
            return
        w = self.wallets.get(wid)
        if w is None:
            self._violate("6_every_movement_has_a_cause", position, "event for an unopened wallet")
            w = self.wallets[wid] = Balance(owner=wid)
        name = type(e).__name__
        da = dh = dp = 0
        escrow: UUID | None = None
        cause: UUID
        if isinstance(e, Wallet.Deposited):
            da, cause = e.amount, e.deposit_id
            self.deposits_credited += e.amount
            self._provider(position, e.deposit_id, e.amount)
            self._causes.append((position, "deposit", e.deposit_id, w.owner, e.amount))
        elif isinstance(e, Wallet.WithdrawalRequested):
            da, dp, cause = -e.amount, e.amount, e.withdrawal_id
            w.pending[e.withdrawal_id] = e.amount
        elif isinstance(e, Wallet.WithdrawalCompleted):
            dp, cause = -e.amount, e.withdrawal_id
            self._close_withdrawal(position, w, e.withdrawal_id, e.amount)
            self.withdrawals_paid += e.amount
        elif isinstance(e, Wallet.WithdrawalReturned):
            da, dp, cause = e.amount, -e.amount, e.withdrawal_id
            self._close_withdrawal(position, w, e.withdrawal_id, e.amount)
        elif isinstance(e, Wallet.HoldPlaced):
            da, dh, cause = -e.amount, e.amount, e.escrow_id
            escrow = e.escrow_id
            w.holds[e.escrow_id] = e.amount
            self._causes.append((position, "hold", e.escrow_id, w.owner, e.amount))
        elif isinstance(e, Wallet.HoldCaptured | Wallet.HoldReleased):
            released = isinstance(e, Wallet.HoldReleased)
            da, dh, cause = (e.amount if released else 0), -e.amount, e.escrow_id
            escrow = e.escrow_id
            if w.holds.pop(e.escrow_id, None) != e.amount:
                self._violate(
                    "3_escrow_hold_and_single_settlement", position, f"{name} != hold placed"
                )
            state = self.escrows.get(e.escrow_id)
            if state is not None:
                if released:
                    state.returned += e.amount
                else:
                    state.captured += e.amount
        elif isinstance(e, Wallet.Credited):
            da, cause = e.amount, e.reference
            escrow = e.reference if e.reason in ("sale", "commission") else None
            self._causes.append((position, e.reason, e.reference, w.owner, e.amount))
        elif isinstance(e, Wallet.Debited):
            da, cause = -e.amount, e.reference
            self._causes.append((position, e.reason, e.reference, w.owner, e.amount))
        else:
            return
        w.available += da
        # Holds and pending withdrawals are event amounts: a negative one is the only way they
        # could go below zero (closing one checks it matches what was opened).
        if w.available < 0 or e.amount < 0:
            self._violate("2_no_negative_balance", position, f"wallet of {w.owner} after {name}")
        self.rows.append(
            Row(
                position,
                e.timestamp,
                f"Wallet.{name}",
                w.owner,
                _KINDS.get(name, name),
                abs(da) or abs(dh) or abs(dp),
                da,
                dh,
                dp,
                escrow,
                cause,
            )
        )

    def _provider(self, position: int, deposit_id: UUID, amount: int) -> None:
        requested = self.deposits.get(deposit_id)  # a missing one fails invariant 6 at the end
        provider = requested.provider if requested is not None else "unknown"
        totals = self.by_provider.setdefault(provider, [0, 0])
        totals[0] += 1
        totals[1] += amount
        if self.production and provider in PLAY_MONEY_PROVIDERS:
            self._violate(
                "7_production_deposits_are_real",
                position,
                f"deposit {deposit_id} of {amount} credited by the {provider} provider",
            )

    def _close_withdrawal(self, position: int, w: Balance, wid: UUID, amount: int) -> None:
        if w.pending.pop(wid, None) != amount:
            self._violate("2_no_negative_balance", position, "withdrawal closed twice or resized")

    def _escrow(self, position: int, e: Any) -> None:
        if isinstance(e, Escrow.Opened):
            self.escrows[e.originator_id] = EscrowState(
                e.buyer_id, e.seller_id, e.listing_id, e.price, e.commission
            )
            return
        state = self.escrows.get(e.originator_id)
        if state is None:
            self._violate("6_every_movement_has_a_cause", position, "event of an unopened escrow")
            return
        if isinstance(e, Escrow.Released | Escrow.Refunded):
            state.settlements += 1
            if state.settlements > 1:
                self._violate(
                    "3_escrow_hold_and_single_settlement",
                    position,
                    f"escrow {e.originator_id} settled twice",
                )
            state.status = "confirmed" if isinstance(e, Escrow.Released) else "refunded"
        elif isinstance(e, Escrow.Delivered):
            state.status = "delivered"
        elif isinstance(e, Escrow.Disputed):
            state.status = "disputed"

    def _listing(self, position: int, e: Any) -> None:
        listing = e.originator_id
        if isinstance(e, Listing.Reserved):
            holder = self.reserved_by.get(listing)
            if holder is not None:
                self._violate(
                    "5_listing_reserved_once_sold_once",
                    position,
                    f"listing {listing} reserved while held by escrow {holder}",
                )
            self.reserved_by[listing] = e.escrow_id
        elif isinstance(e, Listing.Released):
            self.reserved_by.pop(listing, None)
        elif isinstance(e, Listing.Sold):
            self.reserved_by.pop(listing, None)
            self.sold[listing] += 1
            if self.sold[listing] > 1:
                self._violate(
                    "5_listing_reserved_once_sold_once", position, f"{listing} sold twice"
                )

    def _violate(self, invariant: str, position: int, what: str) -> None:
        self.violations[invariant].append(f"position {position}: {what}")

    # --- the end of the log -----------------------------------------------------------------
    def finish(self) -> Ledger:
        """Check what only the whole log can tell (call once, after the last event)."""
        self._check_causes()
        total = sum(w.available + w.held + w.pending_withdrawal for w in self.wallets.values())
        expected = self.deposits_credited - self.withdrawals_paid
        if total != expected:
            self._violate(
                "1_conservation",
                self.last_position,
                f"balances sum to {total}, deposits - withdrawals = {expected}",
            )
        for escrow_id, s in self.escrows.items():
            buyer = self.wallets.get(wallet_id(s.buyer))
            hold = buyer.holds.get(escrow_id) if buyer else None
            if s.status in ("paid", "delivered", "disputed") and hold != s.price:
                self._violate(
                    "3_escrow_hold_and_single_settlement",
                    self.last_position,
                    f"open escrow {escrow_id} holds {hold}, price {s.price}",
                )
            if s.status == "confirmed" and (
                s.captured != s.price
                or s.seller_credit + s.platform_credit != s.price
                or s.platform_credit != s.commission
            ):
                self._violate(
                    "4_release_splits_the_price",
                    self.last_position,
                    f"escrow {escrow_id}: captured {s.captured}, seller {s.seller_credit}, "
                    f"platform {s.platform_credit}, price {s.price}",
                )
            if s.status == "refunded" and s.returned != s.price:
                self._violate(
                    "3_escrow_hold_and_single_settlement",
                    self.last_position,
                    f"refunded escrow {escrow_id} returned {s.returned} of {s.price}",
                )
        return self

    def _check_causes(self) -> None:
        for position, kind, cause, owner, amount in self._causes:
            ok = False
            if kind == "deposit":
                d = self.deposits.get(cause)
                ok = (
                    d is not None
                    and d.user_id == owner
                    and d.amount == amount
                    and self.deposit_status.get(cause) == "completed"
                )
            elif kind == "hold":
                s = self.escrows.get(cause)
                ok = s is not None and s.buyer == owner and s.price == amount
            elif kind == "sale":
                s = self.escrows.get(cause)
                ok = s is not None and s.seller == owner and s.status == "confirmed"
                if s is not None:
                    s.seller_credit += amount
            elif kind == "commission":
                s = self.escrows.get(cause)
                ok = s is not None and is_platform(owner) and s.status == "confirmed"
                if s is not None:
                    s.platform_credit += amount
            elif kind == "subscription":
                ok = self.payments.get(cause) == amount
            if not ok:
                self._violate(
                    "6_every_movement_has_a_cause", position, f"{kind} {amount} with cause {cause}"
                )

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    def balances(self) -> dict[UUID, tuple[int, int, int]]:
        """Owner -> (available, held, pending withdrawal)."""
        return {w.owner: (w.available, w.held, w.pending_withdrawal) for w in self.wallets.values()}


_KINDS = {
    "Deposited": "deposit",
    "WithdrawalRequested": "withdrawal_requested",
    "WithdrawalCompleted": "withdrawal_paid",
    "WithdrawalReturned": "withdrawal_returned",
    "HoldPlaced": "escrow_hold",
    "HoldCaptured": "escrow_capture",
    "HoldReleased": "escrow_refund",
    "Credited": "credit",
    "Debited": "debit",
}
