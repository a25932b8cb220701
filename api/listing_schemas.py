"""Wire shapes of listings (CONTRACT §2.0 Listing, ListingCompact, ListingWrite, Favorite).

The request's bounds are the domain's (domain/listing.py): a body that breaks one is refused
before any command runs, with the field named, and the domain checks the same numbers."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.schemas import Body, UserPublic, absolute, iso, public_user_from_row
from domain.listing import (
    DESCRIPTION_FIELDS,
    MAX_DESCRIPTION,
    MAX_FEATURE,
    MAX_FEATURES,
    MAX_SHORT,
    MAX_SKINS,
    MAX_TITLE,
    MAX_WARRANTY_DAYS,
    PRICE_FIELDS,
    LoginMethod,
    discount_percentage,
)
from domain.money import format_amount, parse_amount

Amount = Annotated[str, Meta(max_length=32)] | int | float
Short = Annotated[str, Meta(max_length=MAX_SHORT)]
GameRef = Annotated[str, Meta(min_length=1, max_length=120)]
Secret = Annotated[str, Meta(max_length=500)]
Feature = Annotated[str, Meta(max_length=MAX_FEATURE)]


class ListingImage(msgspec.Struct):
    id: str
    image: str
    is_primary: bool
    sort_order: int


class GameRefOut(msgspec.Struct):
    id: str
    slug: str
    name: str
    icon: str
    image: str | None
    color: str


class Listing(msgspec.Struct):
    """The full Listing, also used for list cards (a superset of ListingCompact)."""

    id: str
    seller: UserPublic
    game: GameRefOut
    game_id: str
    game_id_alias: str = msgspec.field(name="gameId")  # the profile page reads `gameId`
    game_name: str
    game_slug: str
    game_icon: str
    title: str
    description: str
    price: str
    original_price: str | None
    discount_percentage: int | None
    status: str
    is_premium: bool
    views_count: int
    favorites_count: int
    warranty_days: int
    sale_percent: int | None
    sale_ends_at: str | None
    login_method: str
    level: str
    rank: str
    skins_count: int
    features: list[Any]
    images: list[ListingImage]
    primary_image: str | None
    is_favorited: bool
    rejection_reason: str | None
    created_at: str
    updated_at: str


class Favorite(msgspec.Struct):
    """A favourite (integer id, CONTRACT §1.3), with the listing's card fields copied to the
    top level too, so the frontend's cards render (CONTRACT §2.2 Compat)."""

    id: int
    listing_id: str
    listing: Listing
    created_at: str
    title: str
    description: str
    price: str
    original_price: str | None
    discount_percentage: int | None
    game: GameRefOut
    game_id: str
    game_id_alias: str = msgspec.field(name="gameId")
    game_name: str
    game_slug: str
    game_icon: str
    seller: UserPublic
    images: list[ListingImage]
    primary_image: str | None
    status: str
    is_premium: bool
    views_count: int
    favorites_count: int
    warranty_days: int
    is_favorited: bool


class ListingFields(Body):
    """ListingWrite; every field optional here, POST and PUT check what they require."""

    game: GameRef | UnsetType = UNSET
    game_id: GameRef | UnsetType = UNSET
    title: Annotated[str, Meta(max_length=MAX_TITLE)] | UnsetType = UNSET
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION)] | UnsetType = UNSET
    price: Amount | UnsetType = UNSET
    original_price: Amount | UnsetType | None = UNSET
    warranty_days: Annotated[int, Meta(ge=0, le=MAX_WARRANTY_DAYS)] | UnsetType = UNSET
    sale_percent: Annotated[int, Meta(ge=0, le=100)] | UnsetType | None = UNSET
    sale_ends_at: datetime | UnsetType | None = UNSET
    login_method: LoginMethod | UnsetType = UNSET
    account_email: Secret | UnsetType = UNSET
    account_password: Secret | UnsetType = UNSET
    account_additional_info: dict[str, Any] | UnsetType = UNSET
    level: Short | UnsetType = UNSET
    rank: Short | UnsetType = UNSET
    skins_count: Annotated[int, Meta(ge=0, le=MAX_SKINS)] | UnsetType = UNSET
    features: Annotated[list[Feature], Meta(max_length=MAX_FEATURES)] | UnsetType = UNSET
    weapon_type: Short | UnsetType = UNSET

    def game_ref(self) -> str | None:
        value = self.game_id if self.game_id is not UNSET else self.game
        return None if value is UNSET else str(value)

    def changes(self) -> dict[str, Any]:
        """The domain's field names and units (tiyin) for what the body carries."""
        out: dict[str, Any] = {}
        for name in DESCRIPTION_FIELDS:
            value = getattr(self, name)
            if value is not UNSET:
                out[name] = value
        for name in PRICE_FIELDS:
            value = getattr(self, name)
            if value is not UNSET:
                out[name] = None if value is None else parse_amount(value, name)
        info = dict(self.account_additional_info or {}) if self.account_additional_info else {}
        if self.weapon_type is not UNSET:
            info["weapon_type"] = self.weapon_type
        if info:
            out["additional_info"] = info
        return out

    def credentials(self) -> dict[str, str] | None:
        creds = {
            k: getattr(self, k)
            for k in ("account_email", "account_password")
            if getattr(self, k) is not UNSET and getattr(self, k)
        }
        return creds or None


class RejectBody(Body):
    reason: Annotated[str, Meta(max_length=2000)] = ""


class ModerationBody(Body):
    status: Literal["active", "rejected"] | UnsetType = UNSET
    reason: Annotated[str, Meta(max_length=2000)] = ""
    is_premium: bool | UnsetType = UNSET


def listing_from_row(row: Any, base: str) -> Listing:
    images = [
        ListingImage(
            id=i["id"],
            image=absolute(i["url"], base) or "",
            is_primary=bool(i["is_primary"]),
            sort_order=int(i["sort_order"]),
        )
        for i in sorted(row.images or [], key=lambda i: i["sort_order"])
    ]
    seller = public_user_from_row(row, base, prefix="seller_")
    game = GameRefOut(
        id=str(row.game_id),
        slug=row.game_slug,
        name=row.game_name,
        icon=row.game_icon,
        image=absolute(row.game_image, base),
        color=row.game_color,
    )
    return Listing(
        id=str(row.id),
        seller=seller,
        game=game,
        game_id=str(row.game_id),
        game_id_alias=str(row.game_id),
        game_name=row.game_name,
        game_slug=row.game_slug,
        game_icon=row.game_icon,
        title=row.title,
        description=row.description,
        price=format_amount(row.price),
        original_price=format_amount(row.original_price)
        if row.original_price is not None
        else None,
        discount_percentage=discount_percentage(row.price, row.original_price),
        status=row.status,
        is_premium=row.is_premium,
        views_count=row.views_count,
        favorites_count=row.favorites_count,
        warranty_days=row.warranty_days,
        sale_percent=row.sale_percent,
        sale_ends_at=iso(row.sale_ends_at),
        login_method=row.login_method,
        level=row.level,
        rank=row.rank,
        skins_count=row.skins_count,
        features=list(row.features or []),
        images=images,
        primary_image=absolute(row.primary_image, base),
        is_favorited=bool(row.is_favorited),
        rejection_reason=row.reject_reason,
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
    )


CARD_FIELDS = tuple(
    f for f in Favorite.__struct_fields__ if f not in ("id", "listing_id", "listing", "created_at")
)


def favorite_from_row(row: Any, base: str) -> Favorite:
    listing = listing_from_row(row, base)
    card = {f: getattr(listing, f) for f in CARD_FIELDS}
    return Favorite(
        id=row.favorite_id,
        listing_id=listing.id,
        listing=listing,
        created_at=iso(row.favorited_at) or "",
        **card,
    )
