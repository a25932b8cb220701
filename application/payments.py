"""Payments: wallets, deposits and withdrawals (CONTRACT §2.6, §3.3; DESIGN §3-4).

Every command that moves money saves all the aggregates it changes in ONE transaction, so a
crash leaves all of it or none; races are decided by the event store and re-run on fresh
state (``Marketplace.retrying``).

Who may: a user moves their own money (deposits, withdrawals, cancelling their withdrawal);
staff settle withdrawals; only the platform (the provider's webhook) confirms or cancels a
deposit; staff or the platform (the demo seed) credit one paid outside a provider.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime
from uuid import UUID

import msgspec

from application.actor import Actor, platform_only, staff_member, staff_or_system
from application.marketplace import Marketplace
from application.ports import Clock
from domain.deposit import Deposit
from domain.wallet import InsufficientFunds, NotYourTransaction, Wallet, wallet_id


class DepositSummary(msgspec.Struct, frozen=True):
    """A deposit as its payer and the payment provider see it (no aggregate leaves here)."""

    id: UUID
    user_id: UUID
    amount: int
    method: str
    provider: str
    status: str
    provider_transaction_id: str
    requested_at: datetime

    @classmethod
    def of(cls, deposit: Deposit) -> DepositSummary:
        return cls(
            id=deposit.id,
            user_id=deposit.user_id,
            amount=deposit.amount,
            method=deposit.method,
            provider=deposit.provider,
            status=deposit.status,
            provider_transaction_id=deposit.provider_transaction_id,
            requested_at=deposit.requested_at,
        )


class Payments:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def wallet(self, owner_id: UUID) -> Wallet:
        """The owner's wallet; a new, empty one when they never had money."""
        return self.app.find(wallet_id(owner_id), Wallet) or Wallet(owner_id=owner_id)

    # --- deposits ---------------------------------------------------------------------------
    def request_deposit(
        self, actor: Actor, amount: int, method: str, provider: str
    ) -> DepositSummary:
        deposit = Deposit.request(actor.id(), amount, method, provider, self.clock.now())
        self.app.save(deposit)
        return DepositSummary.of(deposit)

    def deposit(self, deposit_id: UUID) -> Deposit:
        return self.app.load(deposit_id, Deposit, "Transaction not found")

    def deposit_summary(self, deposit_id: UUID) -> DepositSummary:
        """For the provider's checkout page, which its link's token opens."""
        return DepositSummary.of(self.deposit(deposit_id))

    def awaiting_payment(self, deposit_id: UUID) -> DepositSummary:
        """The deposit, while the payer may still pay or cancel it; DepositClosed after."""
        deposit = self.deposit(deposit_id)
        deposit.check_awaiting_payment()
        return DepositSummary.of(deposit)

    def confirm_deposit(self, actor: Actor, deposit_id: UUID, provider_transaction_id: str) -> bool:
        """The provider says it is paid: complete it and credit the wallet, once. True when
        this call credited it, False when an earlier report already had."""
        platform_only(actor)

        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if not deposit.complete(provider_transaction_id, self.clock.now()):
                return False
            wallet = self.wallet(deposit.user_id)
            wallet.deposit(deposit.id, deposit.amount)
            self.app.save(deposit, wallet)
            return True

        return self.app.retrying(command)

    def cancel_deposit(self, actor: Actor, deposit_id: UUID, reason: str) -> bool:
        """The provider says the payer cancelled: the deposit closes unpaid (True), once."""
        platform_only(actor)

        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if deposit.cancel(reason, self.clock.now()):
                self.app.save(deposit)
                return True
            return False

        return self.app.retrying(command)

    def credit_deposit(
        self,
        actor: Actor,
        owner_id: UUID,
        deposit_id: UUID,
        amount: int,
        provider: str = "manual",
    ) -> None:
        """A deposit paid outside a provider's flow (demo data, staff): still a Deposit, so
        every credit in the ledger names its cause."""
        staff_or_system(self.app, actor)

        def command() -> None:
            now = self.clock.now()
            deposit = Deposit.request(owner_id, amount, provider, provider, now, deposit_id)
            deposit.complete(f"{provider}:{deposit.id}", now)
            wallet = self.wallet(owner_id)
            wallet.deposit(deposit.id, deposit.amount)
            self.app.save(deposit, wallet)

        self.app.retrying(command)

    # --- withdrawals ------------------------------------------------------------------------
    def request_withdrawal(self, actor: Actor, amount: int, method: str) -> UUID:
        user_id = actor.id()
        withdrawal_id = uuid.uuid4()

        def command() -> UUID:
            wallet = self.app.find(wallet_id(user_id), Wallet)
            if wallet is None:
                raise InsufficientFunds("Insufficient balance for withdrawal.")
            wallet.request_withdrawal(withdrawal_id, amount, method, self.clock.now())
            self.app.save(wallet)
            return withdrawal_id

        return self.app.retrying(command)

    def approve_withdrawal(self, actor: Actor, owner_id: UUID, withdrawal_id: UUID) -> None:
        """Staff paid ``owner_id``'s withdrawal out."""
        staff_id = staff_member(self.app, actor)
        self._settle_withdrawal(
            owner_id, lambda w: w.complete_withdrawal(withdrawal_id, staff_id, self.clock.now())
        )

    def reject_withdrawal(
        self, actor: Actor, owner_id: UUID, withdrawal_id: UUID, reason: str
    ) -> None:
        """Staff refuse to pay it out: the money is available to its owner again."""
        staff_id = staff_member(self.app, actor)
        self._settle_withdrawal(
            owner_id,
            lambda w: w.return_withdrawal(
                withdrawal_id, "rejected", reason, self.clock.now(), by=staff_id
            ),
        )

    def cancel_withdrawal(self, actor: Actor, withdrawal_id: UUID) -> None:
        """The owner takes their request back; anyone else's withdrawal is not found."""
        owner_id = actor.id()

        def command() -> None:
            wallet = self.app.find(wallet_id(owner_id), Wallet)
            if wallet is None:
                raise NotYourTransaction
            wallet.check_withdrawal_is_here(withdrawal_id)
            wallet.return_withdrawal(withdrawal_id, "cancelled", "", self.clock.now())
            self.app.save(wallet)

        self.app.retrying(command)

    def _settle_withdrawal(self, owner_id: UUID, change: Callable[[Wallet], None]) -> None:
        def command() -> None:
            wallet = self.app.load(wallet_id(owner_id), Wallet, "Withdrawal not found.")
            change(wallet)
            self.app.save(wallet)

        self.app.retrying(command)
