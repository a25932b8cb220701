"""The Deposit aggregate: money a user asked to pay in, until the provider confirms or cancels.

    pending --confirmed by the provider--> completed (the wallet is credited in the same save)
       \\-----cancelled by the payer or the provider--> cancelled

A provider that reports the same payment twice finds it completed and changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import Conflict, DomainError
from domain.wallet import MIN_DEPOSIT, InvalidAmount

MAX_AMOUNT = 10**13 * 100  # 15 digits of UZS: the contract's largest amount, in tiyin


class Deposit(Aggregate):
    class Requested(Aggregate.Created):
        user_id: UUID
        amount: int
        method: str
        provider: str
        at: datetime

    class Completed(Aggregate.Event):
        provider_transaction_id: str
        at: datetime

    class Cancelled(Aggregate.Event):
        reason: str
        at: datetime

    @event(Requested)
    def __init__(
        self, user_id: UUID, amount: int, method: str, provider: str, at: datetime
    ) -> None:
        self.user_id = user_id
        self.amount = amount
        self.method = method
        self.provider = provider
        self.status = "pending"
        self.provider_transaction_id = ""
        self.requested_at = at

    @classmethod
    def request(
        cls,
        user_id: UUID,
        amount: int,
        method: str,
        provider: str,
        at: datetime,
        deposit_id: UUID | None = None,
    ) -> Deposit:
        if amount < MIN_DEPOSIT:
            raise InvalidAmount(f"The minimum deposit is {MIN_DEPOSIT // 100} UZS.")
        if amount >= MAX_AMOUNT:
            raise InvalidAmount("Ensure that there are no more than 15 digits in total.")
        return cls._create(
            cls.Requested,
            id=deposit_id or uuid.uuid4(),
            user_id=user_id,
            amount=amount,
            method=method,
            provider=provider,
            at=at,
        )

    def check_awaiting_payment(self) -> None:
        """A payment is answered once: confirmed or cancelled, it is closed."""
        if self.status != "pending":
            raise DepositClosed(f"This payment is already {self.status}.")

    def complete(self, provider_transaction_id: str, at: datetime) -> bool:
        """True when this call completed it; False when it already was (a repeated report)."""
        if self.status == "completed":
            return False
        if self.status == "cancelled":
            raise DepositClosed("This deposit was cancelled.")
        self.check_reference_is_given(provider_transaction_id)
        self._completed(provider_transaction_id, at)
        return True

    @staticmethod
    def check_reference_is_given(provider_transaction_id: str) -> None:
        """Every credited deposit names the provider's payment, so an auditor can trace it."""
        if not provider_transaction_id.strip():
            raise MissingReference("A completed deposit names the provider's payment reference.")

    @event(Completed)
    def _completed(self, provider_transaction_id: str, at: datetime) -> None:
        self.status = "completed"
        self.provider_transaction_id = provider_transaction_id

    def cancel(self, reason: str, at: datetime) -> bool:
        if self.status == "cancelled":
            return False
        if self.status == "completed":
            raise DepositClosed("This deposit is already paid.")
        self._cancelled(reason, at)
        return True

    @event(Cancelled)
    def _cancelled(self, reason: str, at: datetime) -> None:
        self.status = "cancelled"


class DepositClosed(Conflict):
    pass


class MissingReference(DomainError):
    pass
