"""The listings read model's tables: listings (with their search text), the seller and game
names that search text is made of, favourites, and the pending reports that keep a listing out
of search."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)

from projections.runtime import metadata

listings = Table(
    "listings",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("seller_id", Uuid, nullable=False),
    Column("game_id", Uuid, nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=False),
    Column("price", BigInteger, nullable=False),
    Column("original_price", BigInteger),
    Column("status", String(16), nullable=False),
    Column("is_premium", Boolean, nullable=False),
    Column("views_count", Integer, nullable=False),
    Column("favorites_count", Integer, nullable=False),
    Column("warranty_days", Integer, nullable=False),
    Column("sale_percent", Integer),
    Column("sale_ends_at", DateTime(timezone=True)),
    Column("login_method", String(16), nullable=False),
    Column("level", String(50), nullable=False),
    Column("rank", String(50), nullable=False),
    Column("skins_count", Integer, nullable=False),
    Column("features", JSON, nullable=False),
    Column("images", JSON, nullable=False),
    Column("primary_image", String(500)),
    Column("reject_reason", Text),
    Column("search_text", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # enough users have pending reports of it (domain.report.hides_listing): not in search
    Column("under_review", Boolean, nullable=False, default=False),
    Index("ix_listings_public_order", "status", "is_premium", "created_at"),
    Index("ix_listings_game", "game_id", "status"),
    Index("ix_listings_seller", "seller_id", "status"),
    Index("ix_listings_price", "status", "price"),
)

# The seller's display name (domain.user.display_name) and the parts it is made of.
listing_sellers = Table(
    "listing_sellers",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("full_name", String(150), nullable=False),
    Column("username", String(50)),
    Column("email", String(254), nullable=False),
    Column("is_banned", Boolean, nullable=False, default=False),
)

listing_games = Table(
    "listing_games",
    metadata,
    Column("game_id", Uuid, primary_key=True),
    Column("name", String(100), nullable=False),
)

favorites = Table(
    "favorites",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Uuid, nullable=False),
    Column("listing_id", Uuid, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("user_id", "listing_id", name="uq_favorites_user_listing"),
    Index("ix_favorites_user", "user_id", "created_at"),
)


# The pending reports of each listing, by whom: what ``under_review`` is decided from.
listing_reports = Table(
    "listing_reports",
    metadata,
    Column("report_id", Uuid, primary_key=True),
    Column("listing_id", Uuid, nullable=False),
    Column("reporter_id", Uuid, nullable=False),
    Index("ix_listing_reports_listing", "listing_id"),
)


def search_text(title: str, description: str, game: str, seller: str) -> str:
    return " ".join((title, description, game, seller)).lower()
