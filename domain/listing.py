"""The Listing aggregate: one game account offered for sale, from moderation to sale.

pending --approve--> active --reserve--> reserved --sell--> sold
   |                   |  ^                  |
   +--reject--> rejected  +-----release------+
                       active --archive--> archived
any state but reserved and sold --delete--> deleted (soft)
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, get_args
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, Forbidden, NotFound

LoginMethod = Literal["email", "phone", "username", "social", "google", "facebook"]
LOGIN_METHODS = frozenset(get_args(LoginMethod))
# The bounds of a listing's fields (the API's request schema is built from them).
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000
MAX_WARRANTY_DAYS = 32767
MAX_SKINS = 1_000_000
MAX_SHORT = 50  # level, rank
MAX_FEATURES, MAX_FEATURE = 50, 200  # features, and the length of each
# What a seller writes about the account, taken as is (the API's ListingWrite has the same
# names), and its prices in tiyin.
DESCRIPTION_FIELDS = (
    "title",
    "description",
    "warranty_days",
    "sale_percent",
    "sale_ends_at",
    "login_method",
    "level",
    "rank",
    "skins_count",
    "features",
)
PRICE_FIELDS = ("price", "original_price")
# Everything an edit may change: the above, and what the application sets for the seller (the
# game, found by its slug or id; extra details; the credentials, sealed).
EDITABLE = frozenset(
    {*DESCRIPTION_FIELDS, *PRICE_FIELDS, "game_id", "additional_info", "sealed_credentials"}
)
MAX_IMAGES = 10


class Listing(Aggregate):
    class Created(Aggregate.Created):
        seller_id: UUID
        game_id: UUID
        title: str
        description: str
        price: int
        original_price: int | None
        warranty_days: int
        sale_percent: int | None
        sale_ends_at: datetime | None
        login_method: str
        level: str
        rank: str
        skins_count: int
        features: list[str]
        additional_info: dict[str, Any]
        sealed_credentials: str | None
        at: datetime

    class Edited(Aggregate.Event):
        changes: dict[str, Any]
        resubmitted: bool

    class Approved(Aggregate.Event):
        by: UUID
        at: datetime

    class Rejected(Aggregate.Event):
        by: UUID
        reason: str
        at: datetime

    class Deleted(Aggregate.Event):
        at: datetime

    class Archived(Aggregate.Event):
        at: datetime

    class Reserved(Aggregate.Event):
        escrow_id: UUID

    class Released(Aggregate.Event):
        escrow_id: UUID

    class Sold(Aggregate.Event):
        escrow_id: UUID
        at: datetime

    class ImagesAdded(Aggregate.Event):
        images: list[dict[str, Any]]

    class ImageRemoved(Aggregate.Event):
        image_id: str

    class PremiumSet(Aggregate.Event):
        is_premium: bool
        by: UUID | None = None  # the staff member

    @event(Created)
    def __init__(
        self,
        id: UUID,
        seller_id: UUID,
        game_id: UUID,
        title: str,
        description: str,
        price: int,
        original_price: int | None,
        warranty_days: int,
        sale_percent: int | None,
        sale_ends_at: datetime | None,
        login_method: str,
        level: str,
        rank: str,
        skins_count: int,
        features: list[str],
        additional_info: dict[str, Any],
        sealed_credentials: str | None,
        at: datetime,
    ) -> None:
        self.seller_id = seller_id
        self.game_id = game_id
        self.title = title
        self.description = description
        self.price = price
        self.original_price = original_price
        self.warranty_days = warranty_days
        self.sale_percent = sale_percent
        self.sale_ends_at = sale_ends_at
        self.login_method = login_method
        self.level = level
        self.rank = rank
        self.skins_count = skins_count
        self.features = features
        self.additional_info = additional_info
        self.sealed_credentials = sealed_credentials
        self.created_at = at
        self.status = "pending"
        self.is_premium = False
        self.images: list[dict[str, Any]] = []
        self.escrow_id: UUID | None = None
        self.reject_reason: str | None = None

    @classmethod
    def offer(
        cls,
        seller_id: UUID,
        game_id: UUID,
        at: datetime,
        *,
        listing_id: UUID | None = None,
        **fields: Any,
    ) -> Listing:
        """A seller puts an account up for sale; it waits for moderation."""
        values = {
            "original_price": None,
            "warranty_days": 0,
            "sale_percent": None,
            "sale_ends_at": None,
            "login_method": "email",
            "level": "",
            "rank": "",
            "skins_count": 0,
            "features": [],
            "additional_info": {},
            "sealed_credentials": None,
            **fields,
        }
        check_listing_fields(values)
        return cls(id=listing_id or uuid4(), seller_id=seller_id, game_id=game_id, at=at, **values)

    # --- rules ---------------------------------------------------------------------------
    @property
    def is_deleted(self) -> bool:
        return self.status == "deleted"

    def check_owned_by(self, user_id: UUID) -> None:
        if self.seller_id != user_id:
            raise NotTheOwner

    def check_status(self, *allowed: str, action: str) -> None:
        if self.status not in allowed:
            states = ", ".join(allowed[:-1]) + (" or " if len(allowed) > 1 else "") + allowed[-1]
            raise ListingStateError(f"Only {states} listings can be {action}.")

    # --- the owner -------------------------------------------------------------------------
    def edit(self, by: UUID, changes: dict[str, Any]) -> None:
        self.check_owned_by(by)
        self.check_status("pending", "active", "rejected", action="edited")
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidListing(f"{sorted(unknown)[0]} cannot be changed.", sorted(unknown)[0])
        check_listing_fields({**self._fields(), **changes})
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._edited(effective, resubmitted=self.status == "rejected")

    @event(Edited)
    def _edited(self, changes: dict[str, Any], resubmitted: bool) -> None:
        for name, value in changes.items():
            setattr(self, name, value)
        if resubmitted:  # a rejected listing that was fixed goes back to moderation
            self.status = "pending"
            self.reject_reason = None

    def delete(self, by: UUID, at: datetime) -> None:
        self.check_owned_by(by)
        self.check_status("pending", "active", "rejected", "archived", action="deleted")
        self._deleted(at)

    @event(Deleted)
    def _deleted(self, at: datetime) -> None:
        self.status = "deleted"

    def check_can_add_images(self, by: UUID, count: int) -> None:
        self.check_owned_by(by)
        self.check_status("pending", "active", "rejected", action="changed")
        if len(self.images) + count > MAX_IMAGES:
            raise InvalidListing(f"A listing has at most {MAX_IMAGES} images.", "images")

    def add_images(self, by: UUID, images: list[dict[str, Any]]) -> None:
        self.check_can_add_images(by, len(images))
        numbered = [
            {**image, "sort_order": len(self.images) + i, "is_primary": not self.images and i == 0}
            for i, image in enumerate(images)
        ]
        self._images_added(numbered)

    @event(ImagesAdded)
    def _images_added(self, images: list[dict[str, Any]]) -> None:
        self.images = [*self.images, *images]

    def remove_image(self, by: UUID, image_id: str) -> None:
        self.check_owned_by(by)
        if not any(image["id"] == image_id for image in self.images):
            raise ImageNotFound
        self._image_removed(image_id)

    @event(ImageRemoved)
    def _image_removed(self, image_id: str) -> None:
        self.images = without_image(self.images, image_id)

    # --- staff ----------------------------------------------------------------------------
    def approve(self, by: UUID, at: datetime) -> None:
        self.check_status("pending", action="approved")
        self._approved(by, at)

    @event(Approved)
    def _approved(self, by: UUID, at: datetime) -> None:
        self.status = "active"

    def reject(self, by: UUID, reason: str, at: datetime) -> None:
        self.check_status("pending", action="rejected")
        self._rejected(by, reason.strip(), at)  # the frontend may send "" (CONTRACT AD5)

    @event(Rejected)
    def _rejected(self, by: UUID, reason: str, at: datetime) -> None:
        self.status = "rejected"
        self.reject_reason = reason

    def set_premium(self, is_premium: bool, by: UUID | None = None) -> None:
        if self.is_premium != is_premium:
            self._premium_set(is_premium, by)

    @event(PremiumSet)
    def _premium_set(self, is_premium: bool, by: UUID | None) -> None:
        self.is_premium = is_premium

    # --- time -----------------------------------------------------------------------------
    def archive(self, at: datetime) -> None:
        self.check_status("active", action="archived")
        self._archived(at)

    @event(Archived)
    def _archived(self, at: datetime) -> None:
        self.status = "archived"

    # --- escrow ---------------------------------------------------------------------------
    def reserve(self, escrow_id: UUID, buyer_id: UUID) -> None:
        if buyer_id == self.seller_id:
            raise InvalidListing("You cannot buy your own listing.")
        if self.status != "active":
            raise ListingUnavailable
        self._reserved(escrow_id)

    @event(Reserved)
    def _reserved(self, escrow_id: UUID) -> None:
        self.status = "reserved"
        self.escrow_id = escrow_id

    def release(self, escrow_id: UUID) -> None:
        self._check_reserved_by(escrow_id)
        self._released(escrow_id)

    @event(Released)
    def _released(self, escrow_id: UUID) -> None:
        self.status = "active"
        self.escrow_id = None

    def sell(self, escrow_id: UUID, at: datetime) -> None:
        self._check_reserved_by(escrow_id)
        self._sold(escrow_id, at)

    @event(Sold)
    def _sold(self, escrow_id: UUID, at: datetime) -> None:
        self.status = "sold"

    def _check_reserved_by(self, escrow_id: UUID) -> None:
        if self.status != "reserved" or self.escrow_id != escrow_id:
            raise ListingStateError("This listing is not reserved by that purchase.")

    def _fields(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in EDITABLE}


def check_listing_fields(f: dict[str, Any]) -> None:
    """The rules every version of a listing keeps."""
    for name, longest in (("title", MAX_TITLE), ("description", MAX_DESCRIPTION)):
        if not str(f.get(name, "")).strip():
            raise InvalidListing("This field may not be blank.", name)
        if len(f[name]) > longest:
            raise InvalidListing(f"Ensure this field has no more than {longest} characters.", name)
    for name in ("level", "rank"):
        if len(f.get(name, "")) > MAX_SHORT:
            raise InvalidListing(
                f"Ensure this field has no more than {MAX_SHORT} characters.", name
            )
    features = f.get("features", [])
    if len(features) > MAX_FEATURES or any(len(x) > MAX_FEATURE for x in features):
        raise InvalidListing(
            f"At most {MAX_FEATURES} features of at most {MAX_FEATURE} characters each.",
            "features",
        )
    if f["price"] <= 0:
        raise InvalidListing("The price must be greater than zero.", "price")
    if f.get("original_price") is not None and f["original_price"] <= 0:
        raise InvalidListing("The original price must be greater than zero.", "original_price")
    if not 0 <= f.get("warranty_days", 0) <= MAX_WARRANTY_DAYS:
        raise InvalidListing(
            f"Warranty must be between 0 and {MAX_WARRANTY_DAYS} days.", "warranty_days"
        )
    if f.get("sale_percent") is not None and not 0 <= f["sale_percent"] <= 100:
        raise InvalidListing("Sale percent must be between 0 and 100.", "sale_percent")
    if f.get("login_method", "email") not in LOGIN_METHODS:
        raise InvalidListing(
            f"Login method must be one of {', '.join(sorted(LOGIN_METHODS))}.", "login_method"
        )
    if not 0 <= f.get("skins_count", 0) <= MAX_SKINS:
        raise InvalidListing(f"Skins count must be between 0 and {MAX_SKINS}.", "skins_count")


def without_image(images: list[dict[str, Any]], image_id: str) -> list[dict[str, Any]]:
    """``images`` less ``image_id``: when the primary one goes, the first one left becomes
    primary. ``ImageRemoved`` names only the image, so the listings projector applies this too."""
    kept = [dict(i) for i in images if i["id"] != image_id]
    if kept and not any(i["is_primary"] for i in kept):
        kept[0]["is_primary"] = True
    return kept


def discount_percentage(price: int, original_price: int | None) -> int | None:
    if original_price is None or original_price <= price:
        return None
    return (original_price - price) * 100 // original_price


class InvalidListing(DomainError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message, field=field)


class ListingStateError(DomainError):
    pass


class ListingUnavailable(DomainError):
    def __init__(self) -> None:
        super().__init__("This listing is not available for purchase.")


class NotTheOwner(Forbidden):
    def __init__(self) -> None:
        super().__init__("You do not have permission to perform this action.")


class ImageNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Image not found.")
