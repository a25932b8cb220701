"""Staff review fraud signals (CONTRACT §2.12 AD2): only active staff resolve one, once.

Which signals exist is the read model's (projections/fraud.py); the API finds the signal
there (404 for an unknown one) before it asks this service to resolve it.
"""

from __future__ import annotations

from uuid import UUID

from application.actor import Actor, staff_member
from application.marketplace import Marketplace
from application.ports import Clock
from domain.errors import Conflict
from domain.fraud import SignalReview


class FraudReviews:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def resolve(self, actor: Actor, signal_id: UUID, note: str = "") -> None:
        staff_id = staff_member(self.app, actor)
        if self.app.find(signal_id, SignalReview) is not None:
            raise Conflict("This signal is already resolved.")
        review = SignalReview(signal_id, staff_id, note, self.clock.now())
        self.app.save(review)  # a racing resolution of the same signal loses here
