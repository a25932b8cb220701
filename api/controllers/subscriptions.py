"""CONTRACT §2.7 subscriptions: the plans, the caller's subscription, buying and cancelling."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import Engine

from api.accepted import ACCEPTED, Written, unless_caught_up
from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.errors import ApiError
from api.idempotency import once
from api.money_schemas import (
    PLANS_OUT,
    CancelBody,
    Envelope,
    MySubscription,
    SubscriptionPlan,
    SubscriptionPurchaseBody,
    UserSubscription,
    subscription_from_row,
)
from api.pagination import Page, page_of, window
from application.actor import Actor
from application.ports import Clock
from application.ports import IdempotencyRecords as IdempotencyStore
from application.subscriptions import Subscriptions
from projections import subscriptions as subscription_views

Req = Request[Any, Any, Any]
MY = "/api/v1/subscriptions/my/"
SIGNED_IN = [signed_in]


def subscription_out(reader: Engine, subscription_id: UUID, now: datetime) -> UserSubscription:
    with reader.connect() as conn:
        row = subscription_views.subscription(conn, subscription_id)
    return subscription_from_row(row, now)


class SubscriptionsController(Controller):
    path = "/api/v1/subscriptions"
    tags = ["subscriptions"]

    @get("/plans/", operation_id="subscription_plans", sync_to_thread=False)
    def plans(self, request: Req) -> Page[SubscriptionPlan]:
        return page_of(request, window(request), len(PLANS_OUT), PLANS_OUT)

    @get("/my/", operation_id="my_subscription", guards=SIGNED_IN, sync_to_thread=True)
    def my(
        self, caller: Inject[Caller], reader: Inject[Engine], clock: Inject[Clock]
    ) -> MySubscription:
        now = clock.now()
        with reader.connect() as conn:
            row = subscription_views.current_subscription(conn, caller.id, now)
        if row is None:
            return MySubscription(success=True, data=None, plan="free")
        return MySubscription(success=True, data=subscription_from_row(row, now), plan=row.plan)

    @post(
        "/purchase/",
        operation_id="purchase_subscription",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def purchase(
        self,
        request: Req,
        caller: Inject[Caller],
        subscriptions: Inject[Subscriptions],
        idempotency: Inject[IdempotencyStore],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        clock: Inject[Clock],
        data: JSONBody[SubscriptionPurchaseBody],
    ) -> Response[Envelope[UserSubscription]]:
        def command() -> tuple[int, Envelope[UserSubscription]]:
            plan = data.plan_slug or data.plan_id
            if not plan:
                raise ApiError(
                    400,
                    "INVALID",
                    "Subscription plan not found.",
                    {"plan_slug": ["This field is required."]},
                )
            with read_your_writes() as written:
                subscription_id = subscriptions.subscribe(caller.actor, plan, data.billing_period)
            message = "Subscription purchased successfully!"
            unless_caught_up(written, MY, message, id=subscription_id, status="active")
            return 201, Envelope(
                success=True,
                message=message,
                data=subscription_out(reader, subscription_id, clock.now()),
            )

        return once(idempotency, request, caller.id, data, command)

    @post(
        "/cancel/",
        status_code=200,
        operation_id="cancel_subscription",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel(
        self,
        actor: Inject[Actor],
        subscriptions: Inject[Subscriptions],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        clock: Inject[Clock],
        data: JSONBody[CancelBody | None] = None,
    ) -> Envelope[UserSubscription]:
        with read_your_writes() as written:
            cancelled = subscriptions.cancel_subscription(actor, data.reason if data else "")
        return self._cancelled(written, reader, clock, cancelled)

    @post(
        "/{subscription_id:uuid}/cancel/",
        status_code=200,
        operation_id="cancel_subscription_by_id",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel_by_id(
        self,
        actor: Inject[Actor],
        subscriptions: Inject[Subscriptions],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        clock: Inject[Clock],
        subscription_id: FromPath[UUID],
        data: JSONBody[CancelBody | None] = None,
    ) -> Envelope[UserSubscription]:
        with read_your_writes() as written:
            cancelled = subscriptions.cancel_subscription(
                actor, data.reason if data else "", subscription_id
            )
        return self._cancelled(written, reader, clock, cancelled)

    @staticmethod
    def _cancelled(
        written: Written, reader: Engine, clock: Clock, subscription_id: UUID
    ) -> Envelope[UserSubscription]:
        message = "Subscription cancelled. You can still use it until the end date."
        unless_caught_up(written, MY, message, id=subscription_id, status="cancelled")
        return Envelope(
            success=True,
            message=message,
            data=subscription_out(reader, subscription_id, clock.now()),
        )
