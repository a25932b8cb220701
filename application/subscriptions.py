"""Subscriptions: seller plans paid from the wallet, renewed or expired by the hour
(CONTRACT §2.7, §3.6). A user buys and cancels their own; only the platform's hourly job
renews or expires them."""

from __future__ import annotations

import uuid
from uuid import UUID

from eventsourcing.domain import Aggregate

from application.actor import Actor, platform_only
from application.marketplace import Marketplace
from application.payments import Payments
from application.ports import Clock
from domain.subscription import Membership, membership_id, payment_reference, plan_named
from domain.wallet import InsufficientFunds, Wallet, revenue_owner, wallet_id


class Subscriptions:
    def __init__(self, app: Marketplace, *, clock: Clock, payments: Payments) -> None:
        self.app = app
        self.clock = clock
        self.payments = payments

    def membership(self, user_id: UUID) -> Membership:
        return self.app.find(membership_id(user_id), Membership) or Membership(user_id=user_id)

    def seller_plan(self, seller_id: UUID) -> str:
        """The plan that fixes a sale's commission: the seller's, as it stands now."""
        membership = self.app.find(membership_id(seller_id), Membership)
        return membership.plan_at(self.clock.now()) if membership else "free"

    def subscribe(self, actor: Actor, plan_name: str, period: str) -> UUID:
        user_id = actor.id()
        plan = plan_named(plan_name)
        subscription_id = uuid.uuid4()

        def command() -> UUID:
            now = self.clock.now()
            membership = self.membership(user_id)
            price = membership.subscribe(subscription_id, plan, period, now)
            wallet = self.app.find(wallet_id(user_id), Wallet)
            if wallet is None:
                raise InsufficientFunds
            self.app.save(
                membership,
                *self._pay_platform(wallet, payment_reference(subscription_id, now), price),
            )
            return subscription_id

        return self.app.retrying(command)

    def _pay_platform(self, wallet: Wallet, reference: UUID, price: int) -> list[Aggregate]:
        """A subscription payment: out of the user's wallet into the platform's revenue."""
        wallet.debit(reference, price, "subscription")
        platform = self.payments.wallet(revenue_owner(reference))
        platform.credit(reference, price, "subscription")
        return [wallet, platform]

    def cancel_subscription(
        self, actor: Actor, reason: str, subscription_id: UUID | None = None
    ) -> UUID:
        """Stop the renewal of the actor's subscription (it runs to its end date). Naming a
        ``subscription_id``, it must be one the actor bought: anyone else's is not found."""
        user_id = actor.id()

        def command() -> UUID:
            membership = self.membership(user_id)
            if subscription_id is not None:
                membership.check_bought(subscription_id)
            membership.cancel(reason, self.clock.now())
            self.app.save(membership)
            assert membership.subscription_id is not None
            return membership.subscription_id

        return self.app.retrying(command)

    def notice_expiry(self, actor: Actor, user_id: UUID) -> bool:
        """Tell the member, once a period, that it ends within three days (the notification is
        the read model's). False when it does not end soon or was noticed already. The
        platform's daily job only."""
        platform_only(actor)

        def command() -> bool:
            membership = self.app.find(membership_id(user_id), Membership)
            if membership is None or not membership.notice_expiry(self.clock.now()):
                return False
            self.app.save(membership)
            return True

        return self.app.retrying(command)

    def renew_or_expire(self, actor: Actor, user_id: UUID) -> str | None:
        """At the end date: another month from the wallet when it renews and can pay,
        otherwise expired. None when the subscription is not due. The platform's job only."""
        platform_only(actor)

        def command() -> str | None:
            now = self.clock.now()
            membership = self.app.find(membership_id(user_id), Membership)
            if membership is None or not membership.is_due(now):
                return None
            wallet = self.app.find(wallet_id(user_id), Wallet)
            price = membership.renewal_price()
            if membership.auto_renew and wallet is not None and wallet.available >= price:
                assert membership.subscription_id is not None and membership.end is not None
                reference = payment_reference(membership.subscription_id, membership.end)
                membership.renew(now)
                self.app.save(membership, *self._pay_platform(wallet, reference, price))
                return "renewed"
            membership.expire(now)
            self.app.save(membership)
            return "expired"

        return self.app.retrying(command)
