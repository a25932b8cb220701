"""Subscription plans and the Membership aggregate (one per user) that records what they paid for.

A purchase replaces whatever plan the user had and runs for 30 days (monthly) or 365 (yearly).
Cancelling stops the renewal; the plan still counts until its end date. At the end date a
renewing subscription is bought again for a month from the wallet, or else it expires.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Literal
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound

NAMESPACE = uuid.UUID("8e0f6a2b-1c3d-4e5f-a6b7-c8d9e0f1a2b3")
UZS = 100
Period = Literal["monthly", "yearly"]
PERIOD_DAYS: dict[Period, int] = {"monthly": 30, "yearly": 365}
EXPIRY_NOTICE = timedelta(days=3)  # members hear of their period's end this long before it


@dataclass(frozen=True)
class Plan:
    slug: str
    name: str
    price_monthly: int  # tiyin
    commission_rate: Decimal
    features: tuple[str, ...]
    is_premium: bool
    is_pro: bool
    sort_order: int

    @property
    def id(self) -> UUID:
        return uuid.uuid5(NAMESPACE, f"plan:{self.slug}")

    @property
    def price_yearly(self) -> int:
        return 12 * self.price_monthly

    def price(self, period: str) -> int:
        return self.price_yearly if period == "yearly" else self.price_monthly


PLANS = (
    Plan(
        "free", "Free", 0, Decimal("0.10"),
        ("10% commission", "Basic support", "Standard listing"), False, False, 0,
    ),
    Plan(
        "premium", "Premium", 50_000 * UZS, Decimal("0.08"),
        ("8% commission", "Priority support", "Featured listings", "Analytics"), True, False, 1,
    ),
    Plan(
        "pro", "Pro", 100_000 * UZS, Decimal("0.05"),
        (
            "5% commission", "24/7 support", "Top featured listings", "Advanced analytics",
            "API access",
        ),
        True, True, 2,
    ),
)  # fmt: skip
PLANS_BY_SLUG = {p.slug: p for p in PLANS}


# A subscription's status while it runs: renewing ("active") until the timer renews or expires
# it at its end date, or running out ("cancelled") to its end date. Then "expired".
RENEWING = "active"
RUNNING_OUT = "cancelled"
RUNNING = (RENEWING, RUNNING_OUT)


def counts_at(status: str, end: datetime | None, at: datetime) -> bool:
    """Whether a subscription counts at ``at`` (its plan's commission, /subscriptions/my/): a
    renewing one until the timer renews or expires it, a cancelled one until its end date.
    The subscriptions read model's query says the same in SQL (tests hold them together)."""
    return status == RENEWING or (status == RUNNING_OUT and end is not None and at < end)


def is_due(status: str, end: datetime | None, at: datetime) -> bool:
    """Whether a running subscription has reached its end date: the timer renews or expires it."""
    return status in RUNNING and end is not None and at >= end


def plan_named(name: str) -> Plan:
    """A paid plan by slug or id (the frontend sends either)."""
    for plan in PLANS:
        if name in (plan.slug, str(plan.id)) and plan.price_monthly > 0:
            return plan
    raise NotFound("Subscription plan not found.")


def membership_id(user_id: UUID) -> UUID:
    return uuid.uuid5(NAMESPACE, f"membership:{user_id}")


def payment_reference(subscription_id: UUID, start: datetime) -> UUID:
    """The wallet debit of one paid period: the same period is never paid twice."""
    return uuid.uuid5(NAMESPACE, f"payment:{subscription_id}:{start.isoformat()}")


class Membership(Aggregate):
    class Started(Aggregate.Created):
        user_id: UUID

    class Subscribed(Aggregate.Event):
        subscription_id: UUID
        user_id: UUID
        plan: str
        period: str
        price: int
        start: datetime
        end: datetime
        replaces: UUID | None

    class Renewed(Aggregate.Event):
        subscription_id: UUID
        price: int
        start: datetime
        end: datetime

    class Cancelled(Aggregate.Event):
        subscription_id: UUID
        reason: str
        at: datetime

    class Expired(Aggregate.Event):
        subscription_id: UUID
        user_id: UUID
        at: datetime

    class ExpiryNoticed(Aggregate.Event):
        """The member was told (a notification) that the period ending at ``end`` ends
        soon; ``renews``: whether it will renew from the wallet then."""

        subscription_id: UUID
        user_id: UUID
        plan: str
        end: datetime
        renews: bool
        at: datetime

    @staticmethod
    def create_id(user_id: UUID, **_: object) -> UUID:
        return membership_id(user_id)

    @event(Started)
    def __init__(self, user_id: UUID) -> None:
        self.user_id = user_id
        self.subscription_id: UUID | None = None
        self.subscription_ids: set[str] = set()  # every subscription this member has bought
        self.plan = "free"
        self.status = "none"
        self.end: datetime | None = None
        self.auto_renew = False
        self.noticed_end: datetime | None = None  # the period end last noticed

    def plan_at(self, at: datetime) -> str:
        """The plan that counts at ``at`` (see ``counts_at``), else free."""
        return self.plan if counts_at(self.status, self.end, at) else "free"

    def subscribe(self, subscription_id: UUID, plan: Plan, period: str, at: datetime) -> int:
        """Start ``plan`` now, replacing the current subscription; return the price to debit."""
        if period not in PERIOD_DAYS:
            raise DomainError("Choose a monthly or yearly billing period.", field="billing_period")
        price = plan.price(period)
        replaces = self.subscription_id if self.status in RUNNING else None
        end = at + timedelta(days=PERIOD_DAYS[period])
        self._subscribed(subscription_id, self.user_id, plan.slug, period, price, at, end, replaces)
        return price

    @event(Subscribed)
    def _subscribed(
        self,
        subscription_id: UUID,
        user_id: UUID,
        plan: str,
        period: str,
        price: int,
        start: datetime,
        end: datetime,
        replaces: UUID | None,
    ) -> None:
        self.subscription_id = subscription_id
        self.subscription_ids.add(str(subscription_id))
        self.plan = plan
        self.status = RENEWING
        self.end = end
        self.auto_renew = True

    def check_bought(self, subscription_id: UUID) -> None:
        """A subscription is its member's alone: anyone else's is not found."""
        if str(subscription_id) not in self.subscription_ids:
            raise NotFound("Subscription not found.")

    def cancel(self, reason: str, at: datetime) -> None:
        if self.status != RENEWING or self.subscription_id is None:
            raise DomainError("No active subscription found.")
        self._cancelled(self.subscription_id, reason, at)

    @event(Cancelled)
    def _cancelled(self, subscription_id: UUID, reason: str, at: datetime) -> None:
        self.status = RUNNING_OUT
        self.auto_renew = False

    def is_due(self, at: datetime) -> bool:
        return is_due(self.status, self.end, at)

    def ends_soon(self, at: datetime) -> bool:
        """Whether the running period ends within EXPIRY_NOTICE of ``at`` (not yet ended)."""
        return (
            self.status in RUNNING and self.end is not None and at < self.end <= at + EXPIRY_NOTICE
        )

    def notice_expiry(self, at: datetime) -> bool:
        """Record, once per period, that its end is near (the timer asks daily). False,
        writing nothing, when it is not near or was noticed already."""
        if not self.ends_soon(at) or self.end == self.noticed_end:
            return False
        assert self.subscription_id is not None and self.end is not None
        self._expiry_noticed(
            self.subscription_id, self.user_id, self.plan, self.end, self.auto_renew, at
        )
        return True

    @event(ExpiryNoticed)
    def _expiry_noticed(
        self,
        subscription_id: UUID,
        user_id: UUID,
        plan: str,
        end: datetime,
        renews: bool,
        at: datetime,
    ) -> None:
        self.noticed_end = end

    def renewal_price(self) -> int:
        return PLANS_BY_SLUG[self.plan].price_monthly

    def renew(self, at: datetime) -> None:
        """Another month of the same plan, from the end of the last one."""
        if not self.is_due(at) or not self.auto_renew or self.subscription_id is None:
            raise DomainError("This subscription is not due for renewal.")
        assert self.end is not None
        start = self.end
        self._renewed(self.subscription_id, self.renewal_price(), start, start + timedelta(30))

    @event(Renewed)
    def _renewed(self, subscription_id: UUID, price: int, start: datetime, end: datetime) -> None:
        self.end = end

    def expire(self, at: datetime) -> None:
        if not self.is_due(at) or self.subscription_id is None:
            raise DomainError("This subscription has not ended.")
        self._expired(self.subscription_id, self.user_id, at)

    @event(Expired)
    def _expired(self, subscription_id: UUID, user_id: UUID, at: datetime) -> None:
        self.status = "expired"
        self.plan = "free"
        self.auto_renew = False
