"""Payments: wallets, deposits, withdrawals, purchases through escrow and subscriptions
(CONTRACT §2.6-2.7, §3.3-3.6; DESIGN §3-4).

Every command that moves money saves all the aggregates it changes in ONE transaction, so a
crash leaves all of it or none. The event store's optimistic concurrency decides races: the
loser's save raises IntegrityError and writes nothing; commands whose outcome may differ on
fresh state are re-run (``retrying``) on the state the winner left.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate
from eventsourcing.persistence import IntegrityError

from application.listings import Listings
from domain.chat import ChatRoom, order_room_id
from domain.deposit import Deposit
from domain.errors import Conflict, NotFound
from domain.escrow import Escrow
from domain.listing import Listing, ListingUnavailable
from domain.subscription import Membership, membership_id, payment_reference, plan_named
from domain.wallet import InsufficientFunds, Wallet, revenue_owner, wallet_id

T = TypeVar("T")
ATTEMPTS = 10


class Payments(Listings):
    delivery_window = timedelta(hours=24)  # the seller's deadline; then the buyer is refunded
    confirmation_window = timedelta(hours=24)  # after delivery; then released to the seller

    # --- plumbing ---------------------------------------------------------------------------
    def retrying(self, command: Callable[[], T]) -> T:
        """Run ``command`` again on fresh state when a concurrent save got there first."""
        for attempt in range(ATTEMPTS):
            try:
                return command()
            except IntegrityError:
                if attempt == ATTEMPTS - 1:
                    raise Conflict("Too many simultaneous changes; please try again.") from None
                # Jittered backoff: contenders for one aggregate spread out instead of
                # colliding again in lockstep.
                time.sleep(random.uniform(0, 0.002 * 2**attempt))
        raise AssertionError("unreachable")

    def wallet(self, owner_id: UUID) -> Wallet:
        """The owner's wallet; a new, empty one when they never had money."""
        return self.find(wallet_id(owner_id), Wallet) or Wallet(owner_id=owner_id)

    def escrow(self, escrow_id: UUID) -> Escrow:
        return self.load(escrow_id, Escrow, "Escrow not found.")

    def membership(self, user_id: UUID) -> Membership:
        return self.find(membership_id(user_id), Membership) or Membership(user_id=user_id)

    # --- deposits ---------------------------------------------------------------------------
    def request_deposit(self, user_id: UUID, amount: int, method: str, provider: str) -> Deposit:
        deposit = Deposit.request(user_id, amount, method, provider, self.clock.now())
        self.save(deposit)
        return deposit

    def deposit(self, deposit_id: UUID) -> Deposit:
        return self.load(deposit_id, Deposit, "Transaction not found")

    def confirm_deposit(self, deposit_id: UUID, provider_transaction_id: str) -> bool:
        """The provider says it is paid: complete it and credit the wallet, once. True when
        this call credited it, False when an earlier report already had."""

        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if not deposit.complete(provider_transaction_id, self.clock.now()):
                return False
            wallet = self.wallet(deposit.user_id)
            wallet.deposit(deposit.id, deposit.amount)
            self.save(deposit, wallet)
            return True

        return self.retrying(command)

    def cancel_deposit(self, deposit_id: UUID, reason: str) -> bool:
        def command() -> bool:
            deposit = self.deposit(deposit_id)
            if deposit.cancel(reason, self.clock.now()):
                self.save(deposit)
                return True
            return False

        return self.retrying(command)

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
            self.save(deposit, wallet)

        self.retrying(command)

    # --- withdrawals ------------------------------------------------------------------------
    def request_withdrawal(self, user_id: UUID, amount: int, method: str) -> UUID:
        withdrawal_id = uuid.uuid4()

        def command() -> UUID:
            wallet = self.find(wallet_id(user_id), Wallet)
            if wallet is None:
                raise InsufficientFunds("Insufficient balance for withdrawal.")
            wallet.request_withdrawal(withdrawal_id, amount, method, self.clock.now())
            self.save(wallet)
            return withdrawal_id

        return self.retrying(command)

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
            wallet = self.load(wallet_id(owner_id), Wallet, "Withdrawal not found.")
            change(wallet)
            self.save(wallet)

        self.retrying(command)

    # --- purchases through escrow -----------------------------------------------------------
    def purchase(self, buyer_id: UUID, listing_id: UUID) -> Escrow:
        """Reserve the listing, hold the price and open the escrow and its order chat, in one
        save: of any number of racing buyers exactly one wins."""

        def command() -> Escrow:
            listing = self.listing(listing_id)
            now = self.clock.now()
            escrow = Escrow.open(
                buyer_id,
                listing.seller_id,
                listing.id,
                listing.price,
                self.seller_plan(listing.seller_id),
                now,
                self.delivery_window,
            )
            try:
                listing.reserve(escrow.id, buyer_id)
            except ListingUnavailable:
                if listing.status in ("reserved", "sold"):
                    raise Conflict("This listing has already been bought.") from None
                raise NotFound("Listing not found.") from None
            wallet = self.find(wallet_id(buyer_id), Wallet)
            if wallet is None:
                raise InsufficientFunds
            wallet.hold(escrow.id, listing.price)
            room = ChatRoom.for_order(escrow.id, listing.id, buyer_id, listing.seller_id, now)
            self.save(listing, wallet, escrow, room)
            return escrow

        return self.retrying(command)

    def deliver(
        self, seller_id: UUID, escrow_id: UUID, credentials: dict[str, str] | None
    ) -> Escrow:
        """The seller hands over the account: sealed for this escrow, from the request or
        from the listing's stored credentials."""

        def command() -> Escrow:
            escrow = self.escrow(escrow_id)
            escrow.check_party(seller_id)
            given = credentials
            if given is None:
                given = self.listing_credentials(escrow.listing_id)
                if given is None:
                    raise NoCredentials
            sealed = self.vault.seal(given, escrow.id)
            escrow.deliver(seller_id, sealed, self.clock.now(), self.confirmation_window)
            self.save(escrow)
            return escrow

        return self.retrying(command)

    def reveal_credentials(self, user_id: UUID, escrow_id: UUID, staff: bool) -> dict[str, Any]:

        def command() -> dict[str, Any]:
            escrow = self.escrow(escrow_id)
            sealed = escrow.reveal(user_id, self.clock.now(), staff=staff)
            self.save(escrow)
            return self.vault.open(sealed, escrow.id)

        return self.retrying(command)

    def confirm_purchase(self, buyer_id: UUID, escrow_id: UUID) -> Escrow:
        return self._settle(escrow_id, lambda e: e.confirm(buyer_id, self.clock.now()))

    def dispute(self, buyer_id: UUID, escrow_id: UUID, reason: str) -> Escrow:

        def command() -> Escrow:
            escrow = self.escrow(escrow_id)
            escrow.dispute(buyer_id, reason, self.clock.now())
            self.save(escrow)
            return escrow

        return self.retrying(command)

    def resolve_dispute(
        self, staff_id: UUID, escrow_id: UUID, refund: bool, resolution: str
    ) -> Escrow:
        def resolve(escrow: Escrow) -> None:
            escrow.resolve(refund, resolution, self.clock.now())

        escrow = self._settle(escrow_id, resolve)

        def join() -> None:
            room = self.find(order_room_id(escrow_id), ChatRoom)
            if room is not None and staff_id not in room.participants:
                room.join(staff_id, self.clock.now())
                self.save(room)

        self.retrying(join)
        return escrow

    def run_escrow_timers(self, escrow_id: UUID) -> str | None:
        """Refund a purchase the seller did not deliver in time, release one the buyer left
        unconfirmed; nothing when neither is due. Safe to run any number of times."""
        outcome: list[str] = []

        def due(escrow: Escrow) -> None:
            now = self.clock.now()
            if escrow.refund_if_undelivered(now) or escrow.release_if_due(now):
                outcome.append(escrow.status)

        self._settle(escrow_id, due)
        return outcome[-1] if outcome else None

    def _settle(self, escrow_id: UUID, change: Callable[[Escrow], None]) -> Escrow:
        """Apply ``change`` to the escrow and, when it settled, move the money and the listing
        with it in the same save."""

        def command() -> Escrow:
            escrow = self.escrow(escrow_id)
            was_open = not escrow.is_settled
            change(escrow)
            changed: list[Aggregate] = [escrow]
            if was_open and escrow.is_settled:
                changed += self._settlement(escrow)
            self.save(*changed)
            return escrow

        return self.retrying(command)

    def _settlement(self, escrow: Escrow) -> list[Aggregate]:
        buyer = self.load(wallet_id(escrow.buyer_id), Wallet)
        listing = self.load(escrow.listing_id, Listing)
        if escrow.status == "refunded":
            buyer.release(escrow.id)
            listing.release(escrow.id)
            return [buyer, listing]
        buyer.capture(escrow.id)
        seller = self.wallet(escrow.seller_id)
        seller.credit(escrow.id, escrow.seller_earnings, "sale")
        listing.sell(escrow.id, self.clock.now())
        changed: list[Aggregate] = [buyer, seller, listing]
        if escrow.commission:
            platform = self.wallet(revenue_owner(escrow.id))
            platform.credit(escrow.id, escrow.commission, "commission")
            changed.append(platform)
        return changed

    # --- subscriptions ----------------------------------------------------------------------
    def seller_plan(self, seller_id: UUID) -> str:
        """The plan that fixes a sale's commission: the seller's, as it stands now."""
        membership = self.find(membership_id(seller_id), Membership)
        return membership.plan_at(self.clock.now()) if membership else "free"

    def subscribe(self, user_id: UUID, plan_name: str, period: str) -> UUID:
        plan = plan_named(plan_name)
        subscription_id = uuid.uuid4()

        def command() -> UUID:
            now = self.clock.now()
            membership = self.membership(user_id)
            price = membership.subscribe(subscription_id, plan, period, now)
            wallet = self.find(wallet_id(user_id), Wallet)
            if wallet is None:
                raise InsufficientFunds
            self.save(
                membership,
                *self._pay_platform(wallet, payment_reference(subscription_id, now), price),
            )
            return subscription_id

        return self.retrying(command)

    def _pay_platform(self, wallet: Wallet, reference: UUID, price: int) -> list[Aggregate]:
        """A subscription payment: out of the user's wallet into the platform's revenue."""
        wallet.debit(reference, price, "subscription")
        platform = self.wallet(revenue_owner(reference))
        platform.credit(reference, price, "subscription")
        return [wallet, platform]

    def cancel_subscription(self, user_id: UUID, reason: str) -> UUID:
        def command() -> UUID:
            membership = self.membership(user_id)
            membership.cancel(reason, self.clock.now())
            self.save(membership)
            assert membership.subscription_id is not None
            return membership.subscription_id

        return self.retrying(command)

    def renew_or_expire(self, user_id: UUID) -> str | None:
        """At the end date: another month from the wallet when it renews and can pay,
        otherwise expired. None when the subscription is not due."""

        def command() -> str | None:
            now = self.clock.now()
            membership = self.find(membership_id(user_id), Membership)
            if membership is None or not membership.is_due(now):
                return None
            wallet = self.find(wallet_id(user_id), Wallet)
            price = membership.renewal_price()
            if membership.auto_renew and wallet is not None and wallet.available >= price:
                assert membership.subscription_id is not None and membership.end is not None
                reference = payment_reference(membership.subscription_id, membership.end)
                membership.renew(now)
                self.save(membership, *self._pay_platform(wallet, reference, price))
                return "renewed"
            membership.expire(now)
            self.save(membership)
            return "expired"

        return self.retrying(command)


class NoCredentials(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "This listing has no stored account details: send account_email and account_password.",
            field="credentials",
        )
