"""The Wallet aggregate: one per user, and the platform's revenue wallets (see REVENUE_SHARDS).

Balances are integer tiyin in three pots: ``available`` (spendable), ``held`` (reserved by
open escrows, one hold per escrow) and ``pending_withdrawal`` (requested, not yet paid out).
No pot ever goes negative, and every movement names what caused it, so each one happens once.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound

NAMESPACE = uuid.UUID("0c7d5a2e-3f4b-4c8d-9e1a-7b6c5d4e3f21")
PLATFORM = uuid.UUID("00000000-0000-0000-0000-00000000f1a7")  # the platform, as an owner
# The platform's revenue is kept in several wallets, chosen by the payment's reference: one
# wallet would be credited by every sale and serialise them all on its version.
REVENUE_SHARDS = 16
REVENUE_OWNERS = tuple(uuid.uuid5(PLATFORM, f"revenue:{i}") for i in range(REVENUE_SHARDS))
MIN_DEPOSIT = 1_000 * 100
MIN_WITHDRAWAL = 10_000 * 100


def wallet_id(owner_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"wallet:{owner_id}")


def revenue_owner(reference: UUID) -> UUID:
    """The platform revenue wallet (its owner id) that takes the payment ``reference``."""
    return REVENUE_OWNERS[reference.int % REVENUE_SHARDS]


_REVENUE = frozenset(REVENUE_OWNERS)


def is_platform(owner_id: UUID) -> bool:
    return owner_id in _REVENUE


def check_record_owner(viewer: UUID, owner: UUID) -> None:
    """A wallet's records (deposits, withdrawals, purchases, sales...) are its owner's alone:
    to anyone else they do not exist."""
    if viewer != owner:
        raise NotYourTransaction


class Wallet(Aggregate):
    class Opened(Aggregate.Created):
        owner_id: UUID

    class Deposited(Aggregate.Event):
        deposit_id: UUID
        amount: int

    class WithdrawalRequested(Aggregate.Event):
        withdrawal_id: UUID
        amount: int
        method: str
        at: datetime

    class WithdrawalCompleted(Aggregate.Event):
        withdrawal_id: UUID
        amount: int
        by: UUID
        at: datetime

    class WithdrawalReturned(Aggregate.Event):
        withdrawal_id: UUID
        amount: int
        outcome: str  # "rejected" by staff or "cancelled" by the owner
        reason: str
        at: datetime
        by: UUID | None = None  # the staff member who rejected it

    class HoldPlaced(Aggregate.Event):
        escrow_id: UUID
        amount: int

    class HoldCaptured(Aggregate.Event):
        escrow_id: UUID
        amount: int

    class HoldReleased(Aggregate.Event):
        escrow_id: UUID
        amount: int

    class Credited(Aggregate.Event):
        reference: UUID
        amount: int
        reason: str

    class Debited(Aggregate.Event):
        reference: UUID
        amount: int
        reason: str

    @staticmethod
    def create_id(owner_id: UUID, **_: Any) -> UUID:
        return wallet_id(owner_id)

    @event(Opened)
    def __init__(self, owner_id: UUID) -> None:
        self.owner_id = owner_id
        self.available = 0
        self.pending_withdrawal = 0
        self.holds: dict[str, int] = {}  # escrow id -> amount
        self.withdrawals: dict[str, int] = {}  # open withdrawal id -> amount
        self.withdrawals_requested: set[str] = set()  # every withdrawal id, open or settled
        self.references: set[str] = set()  # deposits, credits and debits already applied

    @property
    def held(self) -> int:
        return sum(self.holds.values())

    # --- rules ---------------------------------------------------------------------------
    def check_positive(self, amount: int) -> None:
        if amount <= 0:
            raise InvalidAmount

    def check_funds(self, amount: int) -> None:
        if amount > self.available:
            raise InsufficientFunds

    def has_applied(self, reference: UUID) -> bool:
        return str(reference) in self.references

    def check_withdrawal_is_here(self, withdrawal_id: UUID) -> None:
        """Only the owner settles their withdrawal: one requested from another wallet is not
        found here (an open or settled one of this wallet is, whatever its state)."""
        if str(withdrawal_id) not in self.withdrawals_requested:
            raise NotYourTransaction

    # --- money in and out ----------------------------------------------------------------
    def deposit(self, deposit_id: UUID, amount: int) -> None:
        """Credit a confirmed deposit; a second delivery of the same deposit changes nothing."""
        self.check_positive(amount)
        if not self.has_applied(deposit_id):
            self._deposited(deposit_id, amount)

    @event(Deposited)
    def _deposited(self, deposit_id: UUID, amount: int) -> None:
        self.available += amount
        self.references.add(str(deposit_id))

    def request_withdrawal(
        self, withdrawal_id: UUID, amount: int, method: str, at: datetime
    ) -> None:
        self.check_positive(amount)
        if amount < MIN_WITHDRAWAL:
            raise InvalidAmount(f"The minimum withdrawal is {MIN_WITHDRAWAL // 100} UZS.")
        if amount > self.available:
            raise InsufficientFunds("Insufficient balance for withdrawal.")
        self._withdrawal_requested(withdrawal_id, amount, method, at)

    @event(WithdrawalRequested)
    def _withdrawal_requested(
        self, withdrawal_id: UUID, amount: int, method: str, at: datetime
    ) -> None:
        self.available -= amount
        self.pending_withdrawal += amount
        self.withdrawals[str(withdrawal_id)] = amount
        self.withdrawals_requested.add(str(withdrawal_id))

    def complete_withdrawal(self, withdrawal_id: UUID, by: UUID, at: datetime) -> None:
        """Staff paid it out: the money leaves the system."""
        self._withdrawal_completed(withdrawal_id, self._open_withdrawal(withdrawal_id), by, at)

    @event(WithdrawalCompleted)
    def _withdrawal_completed(
        self, withdrawal_id: UUID, amount: int, by: UUID, at: datetime
    ) -> None:
        self.pending_withdrawal -= amount
        del self.withdrawals[str(withdrawal_id)]

    def return_withdrawal(
        self,
        withdrawal_id: UUID,
        outcome: str,
        reason: str,
        at: datetime,
        by: UUID | None = None,
    ) -> None:
        """Rejected by staff ``by`` or cancelled by the owner: the money is available again."""
        amount = self._open_withdrawal(withdrawal_id)
        self._withdrawal_returned(withdrawal_id, amount, outcome, reason, at, by)

    @event(WithdrawalReturned)
    def _withdrawal_returned(
        self,
        withdrawal_id: UUID,
        amount: int,
        outcome: str,
        reason: str,
        at: datetime,
        by: UUID | None,
    ) -> None:
        self.pending_withdrawal -= amount
        self.available += amount
        del self.withdrawals[str(withdrawal_id)]

    def _open_withdrawal(self, withdrawal_id: UUID) -> int:
        try:
            return self.withdrawals[str(withdrawal_id)]
        except KeyError:
            raise NoSuchWithdrawal from None

    # --- escrow holds --------------------------------------------------------------------
    def hold(self, escrow_id: UUID, amount: int) -> None:
        self.check_positive(amount)
        if str(escrow_id) in self.holds:
            raise DomainError("This purchase already holds funds.")
        self.check_funds(amount)
        self._hold_placed(escrow_id, amount)

    @event(HoldPlaced)
    def _hold_placed(self, escrow_id: UUID, amount: int) -> None:
        self.available -= amount
        self.holds[str(escrow_id)] = amount

    def capture(self, escrow_id: UUID) -> int:
        """The held money leaves this wallet (to the seller and the platform)."""
        amount = self._hold_of(escrow_id)
        self._hold_captured(escrow_id, amount)
        return amount

    @event(HoldCaptured)
    def _hold_captured(self, escrow_id: UUID, amount: int) -> None:
        del self.holds[str(escrow_id)]

    def release(self, escrow_id: UUID) -> None:
        """The purchase is refunded: the held money is available again."""
        self._hold_released(escrow_id, self._hold_of(escrow_id))

    @event(HoldReleased)
    def _hold_released(self, escrow_id: UUID, amount: int) -> None:
        del self.holds[str(escrow_id)]
        self.available += amount

    def _hold_of(self, escrow_id: UUID) -> int:
        try:
            return self.holds[str(escrow_id)]
        except KeyError:
            raise DomainError("This purchase holds no funds here.") from None

    # --- credits and debits --------------------------------------------------------------
    def credit(self, reference: UUID, amount: int, reason: str) -> None:
        self.check_positive(amount)
        if not self.has_applied(reference):
            self._credited(reference, amount, reason)

    @event(Credited)
    def _credited(self, reference: UUID, amount: int, reason: str) -> None:
        self.available += amount
        self.references.add(str(reference))

    def debit(self, reference: UUID, amount: int, reason: str) -> None:
        self.check_positive(amount)
        if self.has_applied(reference):
            return
        self.check_funds(amount)
        self._debited(reference, amount, reason)

    @event(Debited)
    def _debited(self, reference: UUID, amount: int, reason: str) -> None:
        self.available -= amount
        self.references.add(str(reference))


class InvalidAmount(DomainError):
    def __init__(self, message: str = "The amount must be greater than zero.") -> None:
        super().__init__(message, field="amount")


class InsufficientFunds(DomainError):
    """Answered 402 on the wire."""

    def __init__(self, message: str = "Insufficient balance.") -> None:
        super().__init__(message)


class NotYourTransaction(NotFound):
    def __init__(self) -> None:
        super().__init__("Transaction not found.")


class NoSuchWithdrawal(DomainError):
    def __init__(self) -> None:
        super().__init__("Withdrawal not found or already processed.")
