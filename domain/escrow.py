"""The Escrow aggregate: one purchase, from the buyer's paid hold to exactly one settlement.

    paid --deliver--> delivered --confirm / auto-release--> confirmed (released to the seller)
     |  \\                |
     |   +--dispute--+---+--> disputed --resolve: release--> confirmed
     |               |                 \\-resolve: refund---> refunded
     +--deadline missed / declined------------------------> refunded

It settles once: ``release`` and ``refund`` are allowed only while it is open, so a confirm
racing an auto-release or a dispute loses cleanly in the event store.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound
from domain.subscription import PLANS_BY_SLUG

OPEN = frozenset({"paid", "delivered", "disputed"})
RESOLUTIONS = {"refund": True, "release": False}  # staff's answer to a dispute: refund it?


def commission_for(price: int, plan: str) -> int:
    """The platform's cut of ``price`` (tiyin) for a seller on ``plan`` (its commission rate,
    the free plan's for an unknown one), half-even to the tiyin."""
    rate = PLANS_BY_SLUG.get(plan, PLANS_BY_SLUG["free"]).commission_rate
    return int((Decimal(price) * rate).quantize(Decimal(1), rounding=ROUND_HALF_EVEN))


def seller_earnings(price: int, commission: int) -> int:
    """What a released sale credits its seller: the price less the platform's commission."""
    return price - commission


# --- rules that also hold where only a read model's row is at hand -------------------------
def check_visible_to(viewer: UUID, buyer_id: UUID, seller_id: UUID, *, staff: bool) -> None:
    """A purchase is seen by its buyer, its seller and staff; to anyone else it does not exist."""
    if viewer not in (buyer_id, seller_id) and not staff:
        raise NotAParty


def dispute_reason(reason: str) -> str:
    """A dispute says what went wrong."""
    if not reason.strip():
        raise DomainError("Dispute reason is required.", field="reason")
    return reason.strip()


def refunds(action: str) -> bool:
    """Staff resolve a dispute by refunding the buyer ("refund") or paying the seller
    ("release"); True for a refund."""
    try:
        return RESOLUTIONS[action]
    except KeyError:
        raise InvalidResolution from None


class Escrow(Aggregate):
    class Opened(Aggregate.Created):
        buyer_id: UUID
        seller_id: UUID
        listing_id: UUID
        price: int
        commission: int
        at: datetime
        deliver_by: datetime

    class Delivered(Aggregate.Event):
        sealed_credentials: str
        at: datetime
        release_after: datetime

    class CredentialsRevealed(Aggregate.Event):
        by: UUID
        at: datetime

    class Disputed(Aggregate.Event):
        reason: str
        at: datetime

    class Released(Aggregate.Event):
        by: str  # "buyer", "staff" or "timer"
        resolution: str
        at: datetime
        staff_id: UUID | None = None  # the staff member who resolved the dispute

    class Refunded(Aggregate.Event):
        by: str
        reason: str
        at: datetime
        staff_id: UUID | None = None

    @event(Opened)
    def __init__(
        self,
        buyer_id: UUID,
        seller_id: UUID,
        listing_id: UUID,
        price: int,
        commission: int,
        at: datetime,
        deliver_by: datetime,
    ) -> None:
        self.buyer_id = buyer_id
        self.seller_id = seller_id
        self.listing_id = listing_id
        self.price = price
        self.commission = commission
        self.opened_at = at
        self.deliver_by = deliver_by
        self.status = "paid"
        self.sealed_credentials: str | None = None
        self.release_after: datetime | None = None
        self.dispute_reason: str | None = None

    @classmethod
    def open(
        cls,
        buyer_id: UUID,
        seller_id: UUID,
        listing_id: UUID,
        price: int,
        plan: str,
        at: datetime,
        delivery_window: timedelta,
    ) -> Escrow:
        if buyer_id == seller_id:
            raise DomainError("You cannot buy your own listing.")
        if price <= 0:
            raise DomainError("The price must be greater than zero.")
        return cls(
            buyer_id=buyer_id,
            seller_id=seller_id,
            listing_id=listing_id,
            price=price,
            commission=commission_for(price, plan),
            at=at,
            deliver_by=at + delivery_window,
        )

    @property
    def seller_earnings(self) -> int:
        return seller_earnings(self.price, self.commission)

    @property
    def is_settled(self) -> bool:
        return self.status not in OPEN

    # --- rules ---------------------------------------------------------------------------
    def check_seller(self, user_id: UUID) -> None:
        if user_id != self.seller_id:
            raise NotAParty

    def check_buyer(self, user_id: UUID) -> None:
        if user_id != self.buyer_id:
            raise NotAParty

    def check_disputed(self) -> None:
        if self.status != "disputed":
            raise NoOpenDispute

    def check_status(self, *allowed: str, action: str) -> None:
        if self.status not in allowed:
            raise EscrowStateError(f"A {self.status} purchase cannot be {action}.")

    # --- the seller ----------------------------------------------------------------------
    def deliver(
        self, by: UUID, sealed_credentials: str, at: datetime, confirmation_window: timedelta
    ) -> None:
        self.check_seller(by)
        self.check_status("paid", action="delivered")
        self._delivered(sealed_credentials, at, at + confirmation_window)

    @event(Delivered)
    def _delivered(self, sealed_credentials: str, at: datetime, release_after: datetime) -> None:
        self.status = "delivered"
        self.sealed_credentials = sealed_credentials
        self.release_after = release_after

    # --- the buyer -----------------------------------------------------------------------
    def reveal(self, by: UUID, at: datetime, *, staff: bool = False) -> str:
        """The delivered credentials, to the buyer or staff; every reveal is recorded."""
        if by != self.buyer_id and not staff:
            raise NotAParty
        if self.sealed_credentials is None:
            raise EscrowStateError("The seller has not delivered yet.")
        self._revealed(by, at)
        return self.sealed_credentials

    @event(CredentialsRevealed)
    def _revealed(self, by: UUID, at: datetime) -> None:
        pass

    def confirm(self, by: UUID, at: datetime) -> None:
        self.check_buyer(by)
        self.check_status("paid", "delivered", action="confirmed")
        self._released("buyer", "", at)

    def dispute(self, by: UUID, reason: str, at: datetime) -> None:
        self.check_buyer(by)
        self.check_status("paid", "delivered", action="disputed")
        self._disputed(dispute_reason(reason), at)

    @event(Disputed)
    def _disputed(self, reason: str, at: datetime) -> None:
        self.status = "disputed"
        self.dispute_reason = reason

    # --- staff and timers ----------------------------------------------------------------
    def resolve(self, refund: bool, resolution: str, at: datetime, staff_id: UUID) -> None:
        self.check_disputed()
        if refund:
            self._refunded("staff", resolution, at, staff_id)
        else:
            self._released("staff", resolution, at, staff_id)

    def refund_if_undelivered(self, at: datetime) -> bool:
        """The seller missed the delivery deadline: refund (idempotent for the timer)."""
        if self.status != "paid" or at < self.deliver_by:
            return False
        self._refunded("timer", "The seller did not deliver in time.", at)
        return True

    def release_if_due(self, at: datetime) -> bool:
        """The buyer neither confirmed nor disputed in time: release (idempotent)."""
        if self.status != "delivered" or self.release_after is None or at < self.release_after:
            return False
        self._released("timer", "", at)
        return True

    @event(Released)
    def _released(
        self, by: str, resolution: str, at: datetime, staff_id: UUID | None = None
    ) -> None:
        self.status = "confirmed"

    @event(Refunded)
    def _refunded(self, by: str, reason: str, at: datetime, staff_id: UUID | None = None) -> None:
        self.status = "refunded"


class NotAParty(NotFound):
    """Someone else's purchase: answered as if it did not exist, so ids reveal nothing."""

    def __init__(self) -> None:
        super().__init__("Escrow not found.")


class EscrowStateError(DomainError):
    pass


class NoOpenDispute(EscrowStateError, NotFound):
    """Resolving a purchase that is not (or no longer) in dispute: there is no dispute."""

    def __init__(self) -> None:
        super().__init__("Dispute not found.")


class InvalidResolution(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid action.", field="action")
