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
    escrow_card_from_row,
    subscription_from_row,
)
from api.pagination import Page, page_of, window
from api.schemas import money
from application.actor import Actor
from projections import listing_queries
from projections import money_queries as q

Req = Request[Any, Any, Any]
MY = "/api/v1/subscriptions/my/"


def my_subscription(request: Req, user_id: UUID) -> dict[str, Any]:
    container = container_of(request)
    now = container.clock.now()
    with container.store.reader.connect() as conn:
        row = q.current_subscription(conn, user_id, now)
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
                    Actor.user(user.id), plan, data.billing_period
                )
            message = "Subscription purchased successfully!"
            unless_caught_up(written, MY, message, id=subscription_id, status="active")
            now = container.clock.now()
            with container.store.reader.connect() as conn:
                row = q.subscription(conn, subscription_id)
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
        return self._cancel(request, data, subscription_id)

    @staticmethod
    def _cancel(
        request: Req, data: CancelBody | None, subscription_id: UUID | None = None
    ) -> dict[str, Any]:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes() as written:
            subscription_id = container.subscriptions.cancel_subscription(
                Actor.user(user.id), data.reason if data else "", subscription_id
            )
        message = "Subscription cancelled. You can still use it until the end date."
        unless_caught_up(written, MY, message, id=subscription_id, status="cancelled")
        with container.store.reader.connect() as conn:
            row = q.subscription(conn, subscription_id)
        return {
            "success": True,
            "message": message,
            "data": subscription_from_row(row, container.clock.now()),
        }


def escrow_cards(request: Req, rows: list[Any], viewer_id: UUID) -> list[EscrowCard]:
    base = str(request.base_url)
    with container_of(request).store.reader.connect() as conn:
        cards = []
        for row in rows:
            listing = listing_queries.detail(conn, row.listing_id, viewer_id)
            card = listing_from_row(listing, base) if listing is not None else None
            cards.append(escrow_card_from_row(row, card))
    return cards


def escrow_page(request: Req, escrows_of: Callable[..., Any]) -> Page[EscrowCard]:
    """A page of the caller's escrows (as buyer or as seller), as cards."""
    user = authenticate(request)
    w = window(request)
    with container_of(request).store.reader.connect() as conn:
        total, rows = escrows_of(conn, user.id, w.offset, w.limit)
    return page_of(request, w, total, escrow_cards(request, rows, user.id))


class ProfileMoneyController(Controller):
    path = "/api/v1/profile"
    tags = ["profile"]

    @get("/purchases/", operation_id="profile_purchases", sync_to_thread=True)
    def purchases(self, request: Req) -> Page[EscrowCard]:
        return escrow_page(request, q.purchases_of)

    @get("/sales/", operation_id="profile_sales", sync_to_thread=True)
    def sales(self, request: Req) -> Page[EscrowCard]:
        return escrow_page(request, q.sales_of)

    @get("/dashboard/", operation_id="profile_dashboard", sync_to_thread=True)
    def dashboard(self, request: Req) -> dict[str, Any]:
        user = authenticate(request)
        with container_of(request).store.reader.connect() as conn:
            numbers = q.dashboard(conn, user.id)
        numbers["total_sales_amount"] = money(numbers["total_sales_amount"])
        return numbers
