"""Payments: wallets and purchases through escrow (CONTRACT §2.6, DESIGN §3-4).

A purchase reserves the listing, holds the buyer's money and opens the escrow in ONE save:
the event store's optimistic concurrency lets exactly one of any number of racing buyers win,
and a refused purchase writes nothing.
"""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.listings import Listings
from domain.errors import Conflict
from domain.escrow import Escrow
from domain.wallet import InsufficientFunds, Wallet, wallet_id

DELIVERY_WINDOW = timedelta(hours=24)


class Payments(Listings):
    def wallet(self, owner_id: UUID) -> Wallet:
        """The owner's wallet; a new, empty one when they never had money."""
        return self.find(wallet_id(owner_id), Wallet) or Wallet(owner_id=owner_id)

    def credit_deposit(self, owner_id: UUID, deposit_id: UUID, amount: int) -> None:
        """A confirmed deposit reaches the wallet, once however often it is reported."""
        wallet = self.wallet(owner_id)
        wallet.deposit(deposit_id, amount)
        self.save(wallet)

    def purchase(self, buyer_id: UUID, listing_id: UUID) -> Escrow:
        listing = self.listing(listing_id)
        escrow = Escrow.open(
            buyer_id,
            listing.seller_id,
            listing.id,
            listing.price,
            self.seller_plan(listing.seller_id),
            self.clock.now(),
            DELIVERY_WINDOW,
        )
        listing.reserve(escrow.id, buyer_id)
        wallet = self.find(wallet_id(buyer_id), Wallet)
        if wallet is None:
            raise InsufficientFunds
        wallet.hold(escrow.id, listing.price)
        try:
            self.save(listing, wallet, escrow)
        except IntegrityError as e:  # another purchase (or wallet movement) got there first
            if self.listing(listing_id).status != "active":
                raise Conflict("This listing was just bought by someone else.") from e
            raise Conflict("Your balance changed meanwhile; please try again.") from e
        return escrow

    def seller_plan(self, seller_id: UUID) -> str:
        """The seller's subscription plan, which fixes the commission. Every seller is on
        the free plan until subscriptions (issue 4, part 5) record otherwise."""
        return "free"
