"""The application decides who may moderate listings: staff only, checked against the event
store, whatever the caller claims."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest

from application.actor import Actor, NotAllowed
from domain.listing import Listing
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"


def a_pending_listing(container: Container) -> tuple[UUID, UUID]:
    seed_games(container.catalogue)
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": 100_000_00}
    )
    return seller, listing


def not_staff(container: Container, seller: UUID) -> list[Actor]:
    banned = container.accounts.create_user(
        Actor.platform("operator"), "banned@example.uz", PASSWORD, staff=True
    )
    container.accounts.ban(Actor.platform("operator"), banned, "fraud")
    return [
        Actor.user(seller),  # the seller themself
        Actor.user(uuid.uuid4()),  # nobody
        Actor.user(banned),  # staff once, banned since
        Actor.platform("escrow-timer"),  # the platform's own processes do not moderate
    ]


def test_only_active_staff_approve_reject_or_promote_a_listing(container: Container) -> None:
    seller, listing = a_pending_listing(container)
    for actor in not_staff(container, seller):
        with pytest.raises(NotAllowed):
            container.listings.approve_listing(actor, listing)
        with pytest.raises(NotAllowed):
            container.listings.reject_listing(actor, listing, "no")
        with pytest.raises(NotAllowed):
            container.listings.set_listing_premium(actor, listing, True)
    assert container.app.load(listing, Listing).status == "pending"  # nothing was written


def test_staff_approve_a_listing_in_their_own_name(container: Container) -> None:
    _, listing = a_pending_listing(container)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "mod@example.uz", PASSWORD, staff=True
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    assert container.app.load(listing, Listing).status == "active"
    approved = [e for e in container.app.events.get(listing) if isinstance(e, Listing.Approved)]
    assert [e.by for e in approved] == [staff]
