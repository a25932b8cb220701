"""CONTRACT §2.7 subscriptions, and §2.2's money pages of the profile (purchases, sales,
dashboard)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody

from api import idempotency
from api.accepted import ACCEPTED, unless_caught_up
from api.auth import authenticate, container_of
from api.errors import ApiError
from api.listing_schemas import listing_from_row
from api.money_schemas import (
    PLANS_OUT,
    CancelBody,
    EscrowCard,
    SubscriptionPlan,
    SubscriptionPurchaseBody,
    dashboard_of,
    escrow_card_from_row,
    subscription_from_row,
)
from api.pagination import Page, page_of, window
from projections import escrows as escrow_views
from projections import subscriptions as subscription_views
from projections.listings import queries as listing_views

Req = Request[Any, Any, Any]
MY = "/api/v1/subscriptions/my/"


def my_subscription(request: Req, user_id: UUID) -> dict[str, Any]:
    container = container_of(request)
    now = container.clock.now()
    with container.store.reader.connect() as conn:
        row = subscription_views.current_subscription(conn, user_id, now)
    if row is None:
        return {"success": True, "data": None, "plan": "free"}
    return {"success": True, "data": subscription_from_row(row, now), "plan": row.plan}


class SubscriptionsController(Controller):
    path = "/api/v1/subscriptions"
    tags = ["subscriptions"]

    @get("/plans/", operation_id="subscription_plans", sync_to_thread=False)
    def plans(self, request: Req) -> Page[SubscriptionPlan]:
        return page_of(request, window(request), len(PLANS_OUT), PLANS_OUT)

    @get("/my/", operation_id="my_subscription", sync_to_thread=True)
    def my(self, request: Req) -> dict[str, Any]:
        return my_subscription(request, authenticate(request).id)

    @post(
        "/purchase/", operation_id="purchase_subscription", sync_to_thread=True, responses=ACCEPTED
    )
    def purchase(self, request: Req, data: JSONBody[SubscriptionPurchaseBody]) -> Response[Any]:
        user = authenticate(request)
        container = container_of(request)

        def command() -> tuple[int, dict[str, Any]]:
            plan = data.plan_slug or data.plan_id
            if not plan:
                raise ApiError(
                    400,
                    "INVALID",
                    "Subscription plan not found.",
                    {"plan_slug": ["This field is required."]},
                )
            with container.read_your_writes() as written:
                subscription_id = container.subscriptions.subscribe(
                    user.id, plan, data.billing_period
                )
            message = "Subscription purchased successfully!"
            unless_caught_up(written, MY, message, id=subscription_id, status="active")
            now = container.clock.now()
            with container.store.reader.connect() as conn:
                row = subscription_views.subscription(conn, subscription_id)
            return 201, {
                "success": True,
                "message": message,
                "data": subscription_from_row(row, now),
            }

        return idempotency.once(container.idempotency, request, user.id, data, command)

    @post(
        "/cancel/",
        status_code=200,
        operation_id="cancel_subscription",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel(self, request: Req, data: JSONBody[CancelBody | None] = None) -> dict[str, Any]:
        return self._cancel(request, data)

    @post(
        "/{subscription_id:uuid}/cancel/",
        status_code=200,
        operation_id="cancel_subscription_by_id",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def cancel_by_id(
        self,
        request: Req,
        subscription_id: FromPath[UUID],
        data: JSONBody[CancelBody | None] = None,
    ) -> dict[str, Any]:
        user = authenticate(request)
        with container_of(request).store.reader.connect() as conn:
            row = subscription_views.subscription(conn, subscription_id)
        if row is None or row.user_id != user.id:
            raise ApiError(404, "NOT_FOUND", "Subscription not found.")
        return self._cancel(request, data)

    @staticmethod
    def _cancel(request: Req, data: CancelBody | None) -> dict[str, Any]:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes() as written:
            subscription_id = container.subscriptions.cancel_subscription(
                user.id, data.reason if data else ""
            )
        message = "Subscription cancelled. You can still use it until the end date."
        unless_caught_up(written, MY, message, id=subscription_id, status="cancelled")
        with container.store.reader.connect() as conn:
            row = subscription_views.subscription(conn, subscription_id)
        return {
            "success": True,
            "message": message,
            "data": subscription_from_row(row, container.clock.now()),
        }


def escrow_page(request: Req, escrows_of: Callable[..., Any]) -> Page[EscrowCard]:
    """A page of the caller's escrows (as buyer or as seller), each with its listing's card:
    three queries whatever the page's size (the count, the escrows, their listings)."""
    user = authenticate(request)
    w = window(request)
    with container_of(request).store.reader.connect() as conn:
        total, rows = escrows_of(conn, user.id, w.offset, w.limit)
        found = listing_views.cards_of(conn, {row.listing_id for row in rows}, user.id)
    base = str(request.base_url)
    cards = {listing_id: listing_from_row(row, base) for listing_id, row in found.items()}
    return page_of(
        request, w, total, [escrow_card_from_row(row, cards.get(row.listing_id)) for row in rows]
    )


class ProfileMoneyController(Controller):
    path = "/api/v1/profile"
    tags = ["profile"]

    @get("/purchases/", operation_id="profile_purchases", sync_to_thread=True)
    def purchases(self, request: Req) -> Page[EscrowCard]:
        return escrow_page(request, escrow_views.purchases_of)

    @get("/sales/", operation_id="profile_sales", sync_to_thread=True)
    def sales(self, request: Req) -> Page[EscrowCard]:
        return escrow_page(request, escrow_views.sales_of)

    @get("/dashboard/", operation_id="profile_dashboard", sync_to_thread=True)
    def dashboard(self, request: Req) -> dict[str, Any]:
        user = authenticate(request)
        with container_of(request).store.reader.connect() as conn:
            listed = listing_views.seller_counts(conn, user.id)
            sold = escrow_views.seller_sales(conn, user.id)
        return dashboard_of(listed, sold)
