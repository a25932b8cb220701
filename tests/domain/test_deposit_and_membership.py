"""Deposit and Membership: given events, when a command, then events or an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.deposit import Deposit, DepositClosed, MissingReference
from domain.errors import DomainError, NotFound
from domain.subscription import PLANS_BY_SLUG, Membership, plan_named
from domain.wallet import MIN_DEPOSIT, InvalidAmount

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def names(aggregate: Deposit | Membership) -> list[str]:
    return [type(e).__name__ for e in aggregate.collect_events()]


def test_a_deposit_completes_once_however_often_the_provider_reports_it() -> None:
    deposit = Deposit.request(uuid.uuid4(), MIN_DEPOSIT, "visa", "sandbox", NOW)
    assert deposit.complete("sbx_1", NOW) is True
    assert deposit.complete("sbx_1", NOW) is False
    assert names(deposit) == ["Requested", "Completed"]
    with pytest.raises(DepositClosed):
        deposit.cancel("changed my mind", NOW)


@pytest.mark.parametrize("reference", ["", "   "])
def test_a_deposit_is_completed_only_with_the_providers_reference(reference: str) -> None:
    deposit = Deposit.request(uuid.uuid4(), MIN_DEPOSIT, "visa", "sandbox", NOW)
    with pytest.raises(MissingReference):
        deposit.complete(reference, NOW)
    assert deposit.status == "pending"
    assert deposit.collect_events()[-1].__class__ is Deposit.Requested


def test_a_cancelled_deposit_can_never_be_paid() -> None:
    deposit = Deposit.request(uuid.uuid4(), MIN_DEPOSIT, "visa", "sandbox", NOW)
    assert deposit.cancel("payer cancelled", NOW) is True
    assert deposit.cancel("payer cancelled", NOW) is False
    with pytest.raises(DepositClosed):
        deposit.complete("sbx_1", NOW)


@pytest.mark.parametrize("amount", [0, -100, MIN_DEPOSIT - 1, 10**13 * 100])
def test_a_deposit_outside_the_limits_is_refused(amount: int) -> None:
    with pytest.raises(InvalidAmount):
        Deposit.request(uuid.uuid4(), amount, "visa", "sandbox", NOW)


def test_plans_are_found_by_slug_or_id_and_free_is_not_for_sale() -> None:
    premium = PLANS_BY_SLUG["premium"]
    assert plan_named("premium") is premium
    assert plan_named(str(premium.id)) is premium
    assert premium.price_yearly == 12 * premium.price_monthly
    for name in ("free", "gold", ""):
        with pytest.raises(NotFound):
            plan_named(name)


def test_a_cancelled_subscription_counts_until_its_end_date_then_expires() -> None:
    membership = Membership(user_id=uuid.uuid4())
    price = membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "monthly", NOW)
    assert price == PLANS_BY_SLUG["pro"].price_monthly
    membership.cancel("too expensive", NOW + timedelta(days=1))
    assert membership.plan_at(NOW + timedelta(days=29)) == "pro"
    assert membership.plan_at(NOW + timedelta(days=30)) == "free"
    with pytest.raises(DomainError, match="not due"):
        membership.renew(NOW + timedelta(days=31))  # cancelled: no renewal
    membership.expire(NOW + timedelta(days=31))
    assert membership.status == "expired"
    assert names(membership) == ["Started", "Subscribed", "Cancelled", "Expired"]
    with pytest.raises(DomainError, match="No active subscription"):
        membership.cancel("", NOW + timedelta(days=32))


def test_a_renewal_adds_a_month_from_the_end_of_the_last_period() -> None:
    membership = Membership(user_id=uuid.uuid4())
    membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["premium"], "yearly", NOW)
    with pytest.raises(DomainError):
        membership.renew(NOW + timedelta(days=364))
    membership.renew(NOW + timedelta(days=366))
    assert membership.end == NOW + timedelta(days=395)
    assert membership.plan_at(NOW + timedelta(days=380)) == "premium"


def test_a_new_purchase_replaces_the_running_subscription() -> None:
    membership = Membership(user_id=uuid.uuid4())
    first, second = uuid.uuid4(), uuid.uuid4()
    membership.subscribe(first, PLANS_BY_SLUG["premium"], "monthly", NOW)
    membership.subscribe(second, PLANS_BY_SLUG["pro"], "monthly", NOW + timedelta(days=3))
    events = membership.collect_events()
    assert isinstance(events[-1], Membership.Subscribed)
    assert events[-1].replaces == first
    assert membership.plan_at(NOW + timedelta(days=4)) == "pro"
    with pytest.raises(DomainError, match="billing period"):
        membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "weekly", NOW)


def test_a_period_ending_within_three_days_is_noticed_once() -> None:
    membership = Membership(user_id=uuid.uuid4())
    subscription = uuid.uuid4()
    membership.subscribe(subscription, PLANS_BY_SLUG["premium"], "monthly", NOW)
    assert membership.notice_expiry(NOW + timedelta(days=26)) is False  # 4 days left
    assert membership.notice_expiry(NOW + timedelta(days=27)) is True
    assert membership.notice_expiry(NOW + timedelta(days=28)) is False  # once a period
    noticed = membership.collect_events()[-1]
    assert isinstance(noticed, Membership.ExpiryNoticed)
    assert (noticed.subscription_id, noticed.user_id) == (subscription, membership.user_id)
    assert (noticed.plan, noticed.end, noticed.renews) == ("premium", NOW + timedelta(30), True)


def test_a_renewed_period_is_noticed_again_before_its_own_end() -> None:
    membership = Membership(user_id=uuid.uuid4())
    membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "monthly", NOW)
    assert membership.notice_expiry(NOW + timedelta(days=28)) is True
    membership.renew(NOW + timedelta(days=30))
    assert membership.notice_expiry(NOW + timedelta(days=31)) is False
    assert membership.notice_expiry(NOW + timedelta(days=58)) is True
    assert names(membership).count("ExpiryNoticed") == 2


def test_an_ended_or_absent_subscription_is_never_noticed() -> None:
    membership = Membership(user_id=uuid.uuid4())
    assert membership.notice_expiry(NOW) is False  # never subscribed
    membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "monthly", NOW)
    membership.cancel("", NOW)
    assert membership.notice_expiry(NOW + timedelta(days=30)) is False  # its end has come
    membership.expire(NOW + timedelta(days=30))
    assert membership.notice_expiry(NOW + timedelta(days=31)) is False
    assert "ExpiryNoticed" not in names(membership)


def test_a_cancelled_period_is_noticed_as_not_renewing() -> None:
    membership = Membership(user_id=uuid.uuid4())
    membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "monthly", NOW)
    membership.cancel("", NOW)
    assert membership.notice_expiry(NOW + timedelta(days=29)) is True
    noticed = membership.collect_events()[-1]
    assert isinstance(noticed, Membership.ExpiryNoticed)
    assert noticed.renews is False
