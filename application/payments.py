"""Payments: wallets, deposits and withdrawals (CONTRACT §2.6, §3.3; DESIGN §3-4).

Every command that moves money saves all the aggregates it changes in ONE transaction, so a
crash leaves all of it or none; races are decided by the event store and re-run on fresh
state (``Marketplace.retrying``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from uuid import UUID

from application.marketplace import Marketplace
from application.ports import Clock
from domain.deposit import Deposit
from domain.wallet import InsufficientFunds, Wallet, wallet_id


class Payments:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def wallet(self, owner_id: UUID) -> Wallet:
        """The owner's wallet; a new, empty one when they never had money."""
        return self.app.find(wallet_id(owner_id), Wallet) or Wallet(owner_id=owner_id)

    # --- deposits ---------------------------------------------------------------------------
    def request_deposit(self, user_id: UUID, amount: int, method: str, provider: str) -> Deposit:
        deposit = Deposit.request(user_id, amount, method, provider, self.clock.now())
        self.app.save(deposit)
        return deposit

    def deposit(self, deposit_id: UUID) -> Deposit:
        return self.app.load(deposit_id, Deposit, "Transaction not found")

    def confirm_deposit(self, deposit_id: UUID, provider_transaction_id: str) -> bool:
        """The provider says it is paid: complete it and credit the wallet, once. True when
        this call credited it, False when an earlier report already had."""

        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if not deposit.complete(provider_transaction_id, self.clock.now()):
                return False
            wallet = self.wallet(deposit.user_id)
            wallet.deposit(deposit.id, deposit.amount)
            self.app.save(deposit, wallet)
            return True

        return self.app.retrying(command)

    def cancel_deposit(self, deposit_id: UUID, reason: str) -> bool:
        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if deposit.cancel(reason, self.clock.now()):
                self.app.save(deposit)
                return True
            return False

        return self.app.retrying(command)

    def credit_deposit(
        self, owner_id: UUID, deposit_id: UUID, amount: int, provider: str = "manual"
    ) -> None:
        """A deposit paid outside a provider's flow (demo data, staff): still a Deposit, so
        every credit in the ledger names its cause."""

        def command() -> None:
            now = self.clock.now()
            deposit = Deposit.request(owner_id, amount, provider, provider, now, deposit_id)
            deposit.complete(f"{provider}:{deposit.id}", now)
            wallet = self.wallet(owner_id)
            wallet.deposit(deposit.id, deposit.amount)
            self.app.save(deposit, wallet)

        self.app.retrying(command)

    # --- withdrawals ------------------------------------------------------------------------
    def request_withdrawal(self, user_id: UUID, amount: int, method: str) -> UUID:
        withdrawal_id = uuid.uuid4()

        def command() -> UUID:
            wallet = self.app.find(wallet_id(user_id), Wallet)
            if wallet is None:
                raise InsufficientFunds("Insufficient balance for withdrawal.")
            wallet.request_withdrawal(withdrawal_id, amount, method, self.clock.now())
            self.app.save(wallet)
            return withdrawal_id

        return self.app.retrying(command)

    def approve_withdrawal(self, staff_id: UUID, owner_id: UUID, withdrawal_id: UUID) -> None:
        self._settle_withdrawal(
            owner_id, lambda w: w.complete_withdrawal(withdrawal_id, staff_id, self.clock.now())
        )

    def reject_withdrawal(self, owner_id: UUID, withdrawal_id: UUID, reason: str) -> None:
        self._settle_withdrawal(
            owner_id,
            lambda w: w.return_withdrawal(withdrawal_id, "rejected", reason, self.clock.now()),
        )

    def cancel_withdrawal(self, owner_id: UUID, withdrawal_id: UUID) -> None:
        self._settle_withdrawal(
            owner_id,
            lambda w: w.return_withdrawal(withdrawal_id, "cancelled", "", self.clock.now()),
        )

    def _settle_withdrawal(self, owner_id: UUID, change: Callable[[Wallet], None]) -> None:
        def command() -> None:
            wallet = self.app.load(wallet_id(owner_id), Wallet, "Withdrawal not found.")
            change(wallet)
            self.app.save(wallet)

        self.app.retrying(command)
