"""Wire schemas of payments, escrows and subscriptions (CONTRACT §2.0, §2.6, §2.7)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.listing_schemas import Amount, Listing
from api.schemas import Body, iso
from domain.money import format_amount
from domain.subscription import PLANS, Period, Plan
from domain.user import display_name

T = TypeVar("T")

METHOD_NAMESPACE = uuid.UUID("6a0d4c1e-7b2f-4e3a-8c9d-0e1f2a3b4c5d")
Reason = Annotated[str, Meta(max_length=2000)]
Method = Annotated[str, Meta(max_length=32)]


class PaymentMethod(msgspec.Struct):
    id: str
    name: str
    code: str
    icon: str
    is_active: bool


METHODS = {
    code: PaymentMethod(
        id=str(uuid.uuid5(METHOD_NAMESPACE, code)),
        name=name,
        code=code,
        icon=f"/static/payments/{code}.svg",
        is_active=True,
    )
    for code, name in (
        ("google_pay", "Google Pay"),
        ("visa", "Visa"),
        ("mastercard", "Mastercard"),
        ("apple_pay", "Apple Pay"),
    )
}


class Transaction(msgspec.Struct):
    id: str
    amount: str
    currency: str
    type: str
    status: str
    payment_method: PaymentMethod | None
    provider_transaction_id: str
    description: str
    metadata: dict[str, Any]
    processed_at: str | None
    failed_at: str | None
    created_at: str
    checkout_url: str | UnsetType = UNSET


def transaction_from_row(row: Any, checkout_url: str | UnsetType = UNSET) -> Transaction:
    return Transaction(
        id=str(row.id),
        amount=format_amount(row.amount),
        currency=row.currency,
        type=row.type,
        status=row.status,
        payment_method=METHODS.get(row.payment_method or ""),
        provider_transaction_id=row.provider_transaction_id,
        description=row.description,
        metadata=dict(row.meta or {}),
        processed_at=iso(row.processed_at),
        failed_at=iso(row.failed_at),
        created_at=iso(row.created_at) or "",
        checkout_url=checkout_url,
    )


def transaction_from_deposit(deposit: Any, checkout_url: str | UnsetType = UNSET) -> Transaction:
    """A new deposit's transaction from the Deposit its command saved, field for field what
    the transactions projector writes for ``Deposit.Requested`` (for when it has not caught up)."""
    return Transaction(
        id=str(deposit.id),
        amount=format_amount(deposit.amount),
        currency="UZS",
        type="deposit",
        status=deposit.status,
        payment_method=METHODS.get(deposit.method or ""),
        provider_transaction_id=deposit.provider_transaction_id,
        description=f"Deposit via {deposit.method}",
        metadata={"provider": deposit.provider},
        processed_at=None,
        failed_at=None,
        created_at=iso(deposit.requested_at) or "",
        checkout_url=checkout_url,
    )


class AdminTransaction(msgspec.Struct):
    id: str
    user: str
    user_name: str
    user_email: str
    amount: str
    type: str
    status: str
    payment_method: str | None
    created_at: str
    processed_at: str | None
    description: str
    metadata: dict[str, Any]


def admin_transaction_from_row(row: Any) -> AdminTransaction:
    method = METHODS.get(row.payment_method or "")
    return AdminTransaction(
        id=str(row.id),
        user=str(row.user_id),
        user_name=row.user_full_name or "",
        user_email=row.user_email or "",
        amount=format_amount(row.amount),
        type=row.type,
        status=row.status,
        payment_method=method.id if method else None,
        created_at=iso(row.created_at) or "",
        processed_at=iso(row.processed_at),
        description=row.description,
        metadata=dict(row.meta or {}),
    )


class EscrowFields(msgspec.Struct, kw_only=True):
    id: str
    listing_title: str
    buyer: str
    buyer_name: str
    seller: str
    seller_name: str
    amount: str
    commission_amount: str
    seller_earnings: str
    status: str
    buyer_confirmed_at: str | None
    seller_paid_at: str | None
    admin_released_at: str | None
    dispute_reason: str
    dispute_resolution: str
    created_at: str
    updated_at: str
    chat_room_id: str | None
    delivered_at: str | None
    deliver_by: str
    release_after: str | None


class Escrow(EscrowFields, kw_only=True):
    listing: str


class EscrowCard(EscrowFields, kw_only=True):
    """CONTRACT §2.2 compat for /profile/purchases/ and /sales/: the frontend draws these as
    listing cards, so each row also carries ``title``, ``price`` and the nested ``listing``."""

    listing: Listing | None
    listing_id: str
    title: str
    price: str


def _name(row: Any, prefix: str) -> str:
    """The display name of the escrow's buyer or seller; "" when their row is missing."""
    email = getattr(row, f"{prefix}_email", None)
    if email is None:
        return ""
    full_name = getattr(row, f"{prefix}_full_name", "")
    return display_name(full_name, getattr(row, f"{prefix}_username", None), email)


def _escrow_fields(row: Any) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "listing_title": row.listing_title or "",
        "buyer": str(row.buyer_id),
        "buyer_name": _name(row, "buyer"),
        "seller": str(row.seller_id),
        "seller_name": _name(row, "seller"),
        "amount": format_amount(row.amount),
        "commission_amount": format_amount(row.commission),
        "seller_earnings": format_amount(row.seller_earnings),
        "status": row.status,
        "buyer_confirmed_at": iso(row.buyer_confirmed_at),
        "seller_paid_at": iso(row.seller_paid_at),
        "admin_released_at": iso(row.admin_released_at),
        "dispute_reason": row.dispute_reason,
        "dispute_resolution": row.dispute_resolution,
        "created_at": iso(row.created_at) or "",
        "updated_at": iso(row.updated_at) or "",
        "chat_room_id": str(row.chat_room_id) if row.chat_room_id else None,
        "delivered_at": iso(row.delivered_at),
        "deliver_by": iso(row.deliver_by) or "",
        "release_after": iso(row.release_after),
    }


def escrow_from_row(row: Any) -> Escrow:
    return Escrow(listing=str(row.listing_id), **_escrow_fields(row))


def escrow_card_from_row(row: Any, card: Listing | None) -> EscrowCard:
    fields = _escrow_fields(row)
    return EscrowCard(
        listing=card,
        listing_id=str(row.listing_id),
        title=fields["listing_title"],
        price=fields["amount"],
        **fields,
    )


def dashboard_of(listed: tuple[int, int, int], sold: tuple[int, int]) -> dict[str, Any]:
    """CONTRACT §2.2 dashboard numbers of a seller: (active, sold, views) of their listings and
    (count, earnings) of their released sales."""
    active, sold_listings, views = listed
    sales_count, earned = sold
    return {
        "active_listings": active,
        "sold_listings": sold_listings,
        "total_views": views,
        "total_sales_count": sales_count,
        "total_sales_amount": format_amount(earned),
        "conversion": round(sales_count / views * 100, 2) if views else 0,
    }


class SubscriptionPlan(msgspec.Struct):
    id: str
    name: str
    slug: str
    price_monthly: str
    price_yearly: str
    commission_rate: str
    features: list[str]
    is_premium: bool
    is_pro: bool
    sort_order: int


def plan_out(plan: Plan) -> SubscriptionPlan:
    return SubscriptionPlan(
        id=str(plan.id),
        name=plan.name,
        slug=plan.slug,
        price_monthly=format_amount(plan.price_monthly),
        price_yearly=format_amount(plan.price_yearly),
        commission_rate=str(plan.commission_rate),
        features=list(plan.features),
        is_premium=plan.is_premium,
        is_pro=plan.is_pro,
        sort_order=plan.sort_order,
    )


PLANS_OUT = [plan_out(p) for p in PLANS]
PLANS_BY_SLUG_OUT = {p.slug: p for p in PLANS_OUT}


class UserSubscription(msgspec.Struct):
    id: str
    plan: SubscriptionPlan
    status: str
    start_date: str
    end_date: str
    auto_renew: bool
    is_expired: bool
    cancelled_at: str | None
    created_at: str
    billing_period: str
    payment_history: list[dict[str, Any]]


def subscription_from_row(row: Any, now: datetime) -> UserSubscription:
    from projections.users import as_utc

    end = as_utc(row.end_date)
    return UserSubscription(
        id=str(row.id),
        plan=PLANS_BY_SLUG_OUT[row.plan],
        status=row.status,
        start_date=iso(row.start_date) or "",
        end_date=iso(row.end_date) or "",
        auto_renew=row.auto_renew == "y",
        is_expired=end is not None and end < now,
        cancelled_at=iso(row.cancelled_at),
        created_at=iso(row.created_at) or "",
        billing_period=row.period,
        payment_history=[
            {**p, "amount": format_amount(int(p["amount"]))} for p in (row.payment_history or [])
        ],
    )


class Envelope(msgspec.Struct, Generic[T]):
    success: bool
    data: T
    message: str | UnsetType = UNSET


class MySubscription(msgspec.Struct):
    """CONTRACT §2.7: the caller's subscription (None on the free plan) and their plan."""

    success: bool
    data: UserSubscription | None
    plan: str


class Dashboard(msgspec.Struct):
    """CONTRACT §2.2: a seller's numbers."""

    active_listings: int
    sold_listings: int
    total_views: int
    total_sales_count: int
    total_sales_amount: str
    conversion: float


class DeliveredAccount(msgspec.Struct):
    """The account the seller delivered, as they sent it (only the fields they filled in)."""

    account_email: str | UnsetType = UNSET
    account_password: str | UnsetType = UNSET
    account_login: str | UnsetType = UNSET
    notes: str | UnsetType = UNSET


class WebhookAnswer(msgspec.Struct):
    """CONTRACT §2.6 P10: ``{"status", "message"?}`` or ``{"error"}``."""

    status: str | UnsetType = UNSET
    message: str | UnsetType = UNSET
    error: str | UnsetType = UNSET


class Balance(msgspec.Struct):
    balance: str
    currency: str
    held: str
    pending_withdrawal: str


# --- request bodies -----------------------------------------------------------------------
class DepositBody(Body):
    amount: Amount
    payment_method: Method = ""


class WithdrawBody(Body):
    amount: Amount
    payment_method: Method = ""


class PurchaseBody(Body):
    listing_id: uuid.UUID
    payment_method: Method | None = None


class DeliverBody(Body):
    account_email: Annotated[str, Meta(max_length=254)] | None = None
    account_password: Annotated[str, Meta(max_length=256)] | None = None
    account_login: Annotated[str, Meta(max_length=254)] | None = None
    notes: Annotated[str, Meta(max_length=2000)] | None = None

    def credentials(self) -> dict[str, str] | None:
        given = {
            k: v
            for k, v in msgspec.structs.asdict(self).items()
            if isinstance(v, str) and v.strip()
        }
        return given or None


class DisputeBody(Body):
    reason: Reason | None = None


class ResolveBody(Body):
    action: Annotated[str, Meta(max_length=32)]
    resolution: Reason = ""


class WithdrawalRejectBody(Body):
    reason: Reason = ""


class CheckoutBody(Body):
    action: Literal["confirm", "cancel"]


class SubscriptionPurchaseBody(Body):
    plan_slug: Annotated[str, Meta(max_length=64)] | None = None
    plan_id: Annotated[str, Meta(max_length=64)] | None = None
    billing_period: Period = "monthly"


class CancelBody(Body):
    reason: Reason = ""
