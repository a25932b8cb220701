"""Escrows: purchases held in escrow until the buyer has the account (CONTRACT §2.7, §3.4-3.5;
DESIGN §3-4). A purchase debits the buyer, opens the escrow and reserves the listing in one
save; a settlement moves the money and the listing with it, once.

Who may: the buyer buys, confirms and disputes; the seller delivers; the buyer and staff see
the delivered credentials; staff resolve disputes; only the platform's timer settles what is
due. A user who is not the party a command needs is told the escrow does not exist
(``NotAParty``, 404); anyone but staff resolving a dispute, or anyone but the platform running
the timers, is refused (``NotAllowed``, 403).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.domain import Aggregate

from application.actor import Actor, is_staff, platform_only, staff_member
from application.listings import Listings
from application.marketplace import Marketplace
from application.payments import Payments
from application.ports import Clock, CredentialsVault
from application.subscriptions import Subscriptions
from domain.chat import ChatRoom, order_room_id
from domain.errors import Conflict, NotFound
from domain.escrow import Escrow, dispute_reason, refunds
from domain.listing import Listing, ListingUnavailable
from domain.user import User
from domain.wallet import InsufficientFunds, Wallet, revenue_owner, wallet_id


class EscrowState(msgspec.Struct, frozen=True):
    """An escrow as a command left it: what its answer can say without reading a read model."""

    id: UUID
    status: str
    listing_id: UUID

    @classmethod
    def of(cls, escrow: Escrow) -> EscrowState:
        return cls(id=escrow.id, status=escrow.status, listing_id=escrow.listing_id)


class Escrows:
    def __init__(
        self,
        app: Marketplace,
        *,
        clock: Clock,
        vault: CredentialsVault,
        listings: Listings,
        payments: Payments,
        subscriptions: Subscriptions,
        delivery_window: timedelta,
        confirmation_window: timedelta,
    ) -> None:
        self.app = app
        self.clock = clock
        self.vault = vault
        self.listings = listings
        self.payments = payments
        self.subscriptions = subscriptions
        self.delivery_window = delivery_window  # the seller's deadline; then a refund
        self.confirmation_window = confirmation_window  # after delivery; then released

    def escrow(self, escrow_id: UUID) -> Escrow:
        return self.app.load(escrow_id, Escrow, "Escrow not found.")

    # --- purchases through escrow -----------------------------------------------------------
    def purchase(self, actor: Actor, listing_id: UUID) -> EscrowState:
        """Reserve the listing, hold the price and open the escrow and its order chat, in one
        save: of any number of racing buyers exactly one wins."""
        buyer_id = actor.id()

        def command() -> EscrowState:
            listing = self.listings.listing(listing_id)
            seller = self.app.find(listing.seller_id, User)
            if seller is None or not seller.is_active:  # a banned seller sells nothing
                raise NotFound("Listing not found.")
            now = self.clock.now()
            escrow = Escrow.open(
                buyer_id,
                listing.seller_id,
                listing.id,
                listing.price,
                self.subscriptions.seller_plan(listing.seller_id),
                now,
                self.delivery_window,
            )
            try:
                listing.reserve(escrow.id, buyer_id)
            except ListingUnavailable:
                if listing.status in ("reserved", "sold"):
                    raise Conflict("This listing has already been bought.") from None
                raise NotFound("Listing not found.") from None
            wallet = self.app.find(wallet_id(buyer_id), Wallet)
            if wallet is None:
                raise InsufficientFunds
            wallet.hold(escrow.id, listing.price)
            room = ChatRoom.for_order(escrow.id, listing.id, buyer_id, listing.seller_id, now)
            self.app.save(listing, wallet, escrow, room)
            return EscrowState.of(escrow)

        return self.app.retrying(command)

    def deliver(
        self, actor: Actor, escrow_id: UUID, credentials: dict[str, str] | None
    ) -> EscrowState:
        """The seller hands over the account: sealed for this escrow, from the request or
        from the listing's stored credentials."""
        seller_id = actor.id()

        def command() -> EscrowState:
            escrow = self.escrow(escrow_id)
            escrow.check_seller(seller_id)  # before the listing's credentials are opened
            given = credentials
            if given is None:
                # opened for the escrow's seller; the escrow refuses anyone else as deliverer
                seller = Actor.user(escrow.seller_id)
                given = self.listings.listing_credentials(seller, escrow.listing_id)
                if given is None:
                    raise NoCredentials
            sealed = self.vault.seal(given, escrow.id)
            escrow.deliver(seller_id, sealed, self.clock.now(), self.confirmation_window)
            self.app.save(escrow)
            return EscrowState.of(escrow)

        return self.app.retrying(command)

    def reveal_credentials(self, actor: Actor, escrow_id: UUID) -> dict[str, Any]:
        """The delivered account, to the buyer or to staff (the event store's word); every
        reveal is recorded."""
        user_id = actor.id()

        def command() -> dict[str, Any]:
            escrow = self.escrow(escrow_id)
            staff = user_id != escrow.buyer_id and is_staff(self.app, actor)
            sealed = escrow.reveal(user_id, self.clock.now(), staff=staff)
            self.app.save(escrow)
            return self.vault.open(sealed, escrow.id)

        return self.app.retrying(command)

    def confirm_purchase(self, actor: Actor, escrow_id: UUID) -> EscrowState:
        buyer_id = actor.id()
        return self._settle(escrow_id, lambda e: e.confirm(buyer_id, self.clock.now()))

    def dispute(self, actor: Actor, escrow_id: UUID, reason: str) -> EscrowState:
        buyer_id = actor.id()
        reason = dispute_reason(reason)  # refused before anything is loaded

        def command() -> EscrowState:
            escrow = self.escrow(escrow_id)
            escrow.dispute(buyer_id, reason, self.clock.now())
            self.app.save(escrow)
            return EscrowState.of(escrow)

        return self.app.retrying(command)

    def resolve_dispute(
        self, actor: Actor, escrow_id: UUID, action: str, resolution: str
    ) -> EscrowState:
        """Staff answer a dispute: ``action`` "refund" (to the buyer) or "release" (to the
        seller). An escrow not in dispute has no dispute to resolve (404)."""
        staff_id = staff_member(self.app, actor)

        def resolve(escrow: Escrow) -> None:
            escrow.check_disputed()
            escrow.resolve(refunds(action), resolution, self.clock.now(), staff_id)

        escrow = self._settle(escrow_id, resolve, missing="Dispute not found.")

        def join() -> None:
            room = self.app.find(order_room_id(escrow_id), ChatRoom)
            if room is not None and staff_id not in room.participants:
                room.join(staff_id, self.clock.now())
                self.app.save(room)

        self.app.retrying(join)
        return escrow

    def run_escrow_timers(self, actor: Actor, escrow_id: UUID) -> str | None:
        """Refund a purchase the seller did not deliver in time, release one the buyer left
        unconfirmed; nothing when neither is due. Safe to run any number of times. The
        platform's timer only: users settle through confirm, disputes and staff."""
        platform_only(actor)
        outcome: list[str] = []

        def due(escrow: Escrow) -> None:
            now = self.clock.now()
            if escrow.refund_if_undelivered(now) or escrow.release_if_due(now):
                outcome.append(escrow.status)

        self._settle(escrow_id, due)
        return outcome[-1] if outcome else None

    def _settle(
        self,
        escrow_id: UUID,
        change: Callable[[Escrow], None],
        missing: str = "Escrow not found.",
    ) -> EscrowState:
        """Apply ``change`` to the escrow and, when it settled, move the money and the listing
        with it in the same save."""

        def command() -> EscrowState:
            escrow = self.app.load(escrow_id, Escrow, missing)
            was_open = not escrow.is_settled
            change(escrow)
            changed: list[Aggregate] = [escrow]
            if was_open and escrow.is_settled:
                changed += self._settlement(escrow)
            self.app.save(*changed)
            return EscrowState.of(escrow)

        return self.app.retrying(command)

    def _settlement(self, escrow: Escrow) -> list[Aggregate]:
        buyer = self.app.load(wallet_id(escrow.buyer_id), Wallet)
        listing = self.app.load(escrow.listing_id, Listing)
        if escrow.status == "refunded":
            buyer.release(escrow.id)
            listing.release(escrow.id)
            return [buyer, listing]
        buyer.capture(escrow.id)
        seller = self.payments.wallet(escrow.seller_id)
        seller.credit(escrow.id, escrow.seller_earnings, "sale")
        listing.sell(escrow.id, self.clock.now())
        changed: list[Aggregate] = [buyer, seller, listing]
        if escrow.commission:
            platform = self.payments.wallet(revenue_owner(escrow.id))
            platform.credit(escrow.id, escrow.commission, "commission")
            changed.append(platform)
        return changed


class NoCredentials(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "This listing has no stored account details: send account_email and account_password.",
            field="credentials",
        )
