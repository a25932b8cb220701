"""Listing: given events, when a command, then events or an error."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from domain.listing import (
    ImageNotFound,
    InvalidListing,
    Listing,
    ListingStateError,
    ListingUnavailable,
    NotTheOwner,
    discount_percentage,
)

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SELLER, BUYER, STAFF = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def offered(**fields: Any) -> Listing:
    listing = Listing.offer(
        SELLER,
        uuid.uuid4(),
        NOW,
        title="Level 80 account",
        description="All skins",
        price=15_000_000,
        **fields,
    )
    listing.collect_events()
    return listing


def active() -> Listing:
    listing = offered()
    listing.approve(STAFF, NOW)
    listing.collect_events()
    return listing


def events(listing: Listing) -> list[str]:
    return [type(e).__name__ for e in listing.collect_events()]


def test_a_new_listing_waits_for_moderation() -> None:
    listing = Listing.offer(SELLER, uuid.uuid4(), NOW, title="T", description="D", price=100)
    assert events(listing) == ["Created"]
    assert listing.status == "pending"
    assert listing.login_method == "email"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": " "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"description": ""}, "description"),
        ({"price": 0}, "price"),
        ({"price": -5}, "price"),
        ({"warranty_days": 40000}, "warranty_days"),
        ({"login_method": "carrier-pigeon"}, "login_method"),
        ({"skins_count": -1}, "skins_count"),
        ({"sale_percent": 101}, "sale_percent"),
        ({"original_price": 0}, "original_price"),
    ],
)
def test_an_invalid_listing_is_refused(fields: dict[str, Any], field: str) -> None:
    values = {"title": "T", "description": "D", "price": 100, **fields}
    with pytest.raises(InvalidListing) as caught:
        Listing.offer(SELLER, uuid.uuid4(), NOW, **values)
    assert caught.value.field == field


def test_staff_approve_a_pending_listing_once() -> None:
    listing = offered()
    listing.approve(STAFF, NOW)
    assert (events(listing), listing.status) == (["Approved"], "active")
    with pytest.raises(ListingStateError, match=r"^Only pending listings can be approved\.$"):
        listing.approve(STAFF, NOW)


def test_a_rejection_keeps_its_reason_and_a_fix_resubmits() -> None:
    listing = offered()
    listing.reject(STAFF, "Blurry screenshots", NOW)
    assert (listing.status, listing.reject_reason) == ("rejected", "Blurry screenshots")
    listing.edit(SELLER, {"description": "Sharp screenshots"})
    assert listing.status == "pending"
    assert events(listing) == ["Rejected", "Edited"]


def test_only_the_owner_edits_and_the_status_stays() -> None:
    listing = active()
    with pytest.raises(NotTheOwner):
        listing.edit(BUYER, {"price": 1})
    listing.edit(SELLER, {"price": 12_000_000, "title": "Level 80 account"})
    emitted = listing.collect_events()
    assert emitted[0].changes == {"price": 12_000_000}  # type: ignore[attr-defined]
    assert listing.status == "active"


def test_an_edit_cannot_break_the_rules_or_touch_read_only_fields() -> None:
    listing = active()
    with pytest.raises(InvalidListing):
        listing.edit(SELLER, {"price": 0})
    with pytest.raises(InvalidListing):
        listing.edit(SELLER, {"status": "active"})
    assert events(listing) == []


def test_a_purchase_reserves_then_sells_or_releases() -> None:
    listing = active()
    escrow = uuid.uuid4()
    listing.reserve(escrow, BUYER)
    with pytest.raises(ListingUnavailable):
        listing.reserve(uuid.uuid4(), uuid.uuid4())
    with pytest.raises(ListingStateError):
        listing.sell(uuid.uuid4(), NOW)
    listing.release(escrow)
    assert listing.status == "active"
    listing.reserve(escrow, BUYER)
    listing.sell(escrow, NOW)
    assert listing.status == "sold"
    assert events(listing) == ["Reserved", "Released", "Reserved", "Sold"]
    with pytest.raises(ListingStateError):
        listing.edit(SELLER, {"price": 1})


def test_a_seller_cannot_buy_their_own_listing() -> None:
    with pytest.raises(InvalidListing):
        active().reserve(uuid.uuid4(), SELLER)


@pytest.mark.parametrize("setup", ["pending", "reserved", "sold", "deleted"])
def test_only_an_active_listing_can_be_reserved(setup: str) -> None:
    listing = offered()
    if setup != "pending":
        listing.approve(STAFF, NOW)
        if setup in ("reserved", "sold"):
            listing.reserve(uuid.uuid4(), BUYER)
        if setup == "sold":
            listing.sell(listing.escrow_id, NOW)  # type: ignore[arg-type]
        if setup == "deleted":
            listing.delete(SELLER, NOW)
    with pytest.raises(ListingUnavailable):
        listing.reserve(uuid.uuid4(), BUYER)


def test_a_reserved_listing_cannot_be_deleted_but_an_active_one_can() -> None:
    listing = active()
    listing.reserve(uuid.uuid4(), BUYER)
    with pytest.raises(ListingStateError):
        listing.delete(SELLER, NOW)
    other = active()
    with pytest.raises(NotTheOwner):
        other.delete(BUYER, NOW)
    other.delete(SELLER, NOW)
    assert other.is_deleted


def test_only_active_listings_are_archived() -> None:
    listing = active()
    listing.archive(NOW)
    assert listing.status == "archived"
    with pytest.raises(ListingStateError):
        offered().archive(NOW)


def test_the_first_image_is_primary_and_removing_it_promotes_the_next() -> None:
    listing = offered()
    listing.add_images(
        SELLER, [{"id": "a", "url": "/media/a.jpg"}, {"id": "b", "url": "/media/b.jpg"}]
    )
    assert [(i["id"], i["is_primary"], i["sort_order"]) for i in listing.images] == [
        ("a", True, 0),
        ("b", False, 1),
    ]
    listing.remove_image(SELLER, "a")
    assert [(i["id"], i["is_primary"]) for i in listing.images] == [("b", True)]
    with pytest.raises(ImageNotFound):
        listing.remove_image(SELLER, "a")


def test_the_discount_is_computed_from_the_original_price() -> None:
    assert discount_percentage(75, 100) == 25
    assert discount_percentage(100, 100) is None
    assert discount_percentage(100, None) is None
    assert discount_percentage(1, 3) == 66
