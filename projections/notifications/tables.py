"""The notifications read model's tables, and what a notification looks like on the wire:
its id (from the event that caused it), its frame and its channel."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Row,
    String,
    Table,
    Text,
    Uuid,
)

from projections.runtime import metadata

NAMESPACE = uuid.UUID("4d2a8c61-7e3f-4b90-a5d1-6f0e2c9b8a47")
MAX_TITLE = 200
# Each type's (name, icon): the ``type`` object of CONTRACT §2.0 is made from its code.
TYPES: dict[str, tuple[str, str]] = {
    "sale": ("Sale", "💰"),
    "purchase": ("Purchase", "🛒"),
    "dispute": ("Dispute", "⚖️"),
    "admin": ("Admin notice", "🛡️"),
    "message": ("Message", "💬"),
    "listing": ("Listing", "📦"),
    "payment": ("Payment", "💳"),
    "subscription_expiring": ("Subscription expiring", "⏰"),
    "review": ("Review", "⭐"),
    "report": ("Report", "🚩"),
    "system": ("System", "🔔"),
}
SALES, PURCHASES, LISTINGS = "/profile?tab=sales", "/profile?tab=purchases", "/profile?tab=listings"
BALANCE, DISPUTES, PLANS = "/profile?tab=balance", "/admin/disputes", "/premium"
MODERATION, REPORTS = "/admin/listings", "/admin/reports"

notifications = Table(
    "notifications",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("position", BigInteger, nullable=False),  # of the event it came from
    Column("type", String(32), nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),
    Column("message", Text, nullable=False),
    Column("data", JSON, nullable=False),
    Column("link", String(300), nullable=False),
    Column("is_read", Boolean, nullable=False),
    Column("read_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("notifications_user_newest", "user_id", "position"),
    Index("notifications_user_unread", "user_id", "is_read"),
)
# What the handlers look up, fed by the events of those aggregates.
known_listings = Table(
    "notification_listings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seller_id", Uuid, nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),
)
known_escrows = Table(
    "notification_escrows",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("buyer_id", Uuid, nullable=False),
    Column("seller_id", Uuid, nullable=False),
    Column("listing_id", Uuid, nullable=False),
    Column("title", String(MAX_TITLE), nullable=False),  # the listing's, when bought
)
known_wallets = Table(
    "notification_wallets",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("owner_id", Uuid, nullable=False),
)
known_deposits = Table(
    "notification_deposits",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("amount", BigInteger, nullable=False),
)
known_reports = Table(
    "notification_reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reporter_id", Uuid, nullable=False),
)
known_inboxes = Table(
    "notification_inboxes",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("user_id", Uuid, nullable=False),
)
LOOKUPS = (
    known_listings,
    known_escrows,
    known_wallets,
    known_deposits,
    known_reports,
    known_inboxes,
)  # written held back (projections/held.py)
known_staff = Table(
    "notification_staff",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("banned", Boolean, nullable=False),
)


def notification_id(source: UUID, version: int, recipient: UUID) -> UUID:
    """The id of what the event (``source``, ``version``) tells ``recipient``: the same on
    every rebuild."""
    return uuid.uuid5(NAMESPACE, f"{source}:{version}:{recipient}")


def title_of(text: str) -> str:
    return text if len(text) <= MAX_TITLE else text[: MAX_TITLE - 1] + "…"


def when(at: datetime) -> str:
    return utc(at).strftime("%Y-%m-%d %H:%M UTC")


def utc(at: datetime) -> datetime:
    """SQLite gives datetimes back naive; they were stored in UTC."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def frame_of(row: Mapping[str, Any] | Row[Any]) -> dict[str, Any]:
    """A notification as the socket sends it (CONTRACT §4.3: no ``type`` key; UTC time)."""
    n = row._mapping if isinstance(row, Row) else row
    return {
        "id": str(n["id"]),
        "title": n["title"],
        "message": n["message"],
        "data": dict(n["data"]),
        "created_at": utc(n["created_at"]).isoformat(),
    }


def channel_of(user_id: UUID) -> str:
    """The realtime channel of the user's notification frames."""
    return f"notifications:{user_id}"


def unread_frame(count: int) -> dict[str, Any]:
    return {"type": "unread_count", "unread_count": count}
