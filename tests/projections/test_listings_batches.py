"""The listings projector holds a batch's writes back (projections/listings.py, HeldBack): any
batch size must give the read model that applying one event at a time gives."""

from __future__ import annotations

from uuid import UUID

import pytest
from sqlalchemy import select

from application.actor import Actor
from projections.listings import favorites, listing_games, listing_sellers, listings
from tests.conftest import FixedClock
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
OFFER = {"title": "Conqueror account", "description": "Glacier M416", "price": 1_500_000}


def a_busy_market(container: Container, clock: FixedClock) -> None:
    """Every kind of event the listings read model handles, several on the same listings."""
    app = container.app
    seed_games(container.catalogue)
    seller = container.accounts.register("seller@example.uz", PASSWORD, full_name="Sam Seller")
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )

    def offer(title: str, game: str = "pubg-mobile") -> UUID:
        clock.advance(seconds=1)
        return container.listings.create_listing(
            Actor.user(seller), game, {**OFFER, "title": title}
        )

    first, second, third, fourth = (offer(f"Listing {n}") for n in range(4))
    for listing_id in (first, second, third):
        container.listings.approve_listing(Actor.user(staff), listing_id)
    container.listings.set_listing_premium(Actor.user(staff), second, True)
    container.listings.edit_listing(
        Actor.user(seller), first, {"title": "Legendary account", "price": 990_000}
    )
    container.listings.reject_listing(Actor.user(staff), fourth, "blurry")
    container.listings.edit_listing(
        Actor.user(seller), fourth, {"description": "Sharp pictures now"}
    )
    container.listings.approve_listing(Actor.user(staff), fourth)
    listing = container.listings.listing(second)
    listing.add_images(
        seller,
        [{"id": f"img{n}", "url": f"/media/listings/{n}.jpg"} for n in range(3)],
    )
    app.save(listing)
    listing = container.listings.listing(second)
    listing.remove_image(seller, "img0")
    app.save(listing)
    container.listings.favorite(Actor.user(buyer), first)
    container.listings.favorite(Actor.user(buyer), second)
    container.listings.unfavorite(Actor.user(buyer), first)
    container.listings.favorite(Actor.user(buyer), first)
    container.listings.record_view(None, first, address="10.0.0.1")
    container.listings.record_view(Actor.user(buyer), first, address="10.0.0.2")
    container.listings.delete_listing(Actor.user(seller), third)
    container.accounts.update_profile(Actor.user(seller), {"full_name": "Samuel Seller"})
    container.catalogue.edit_game(Actor.user(staff), "pubg-mobile", {"name": "PUBG: Mobile"})
    fifth = offer("After the renames")
    container.listings.approve_listing(Actor.user(staff), fifth)
    container.listings.set_listing_premium(Actor.user(staff), fifth, True)
    container.listings.set_listing_premium(Actor.user(staff), fifth, False)
    container.listings.edit_listing(Actor.user(seller), fifth, {"game": "dota2"})
    container.listings.archive_listing(Actor.platform("listing-archiver"), fourth)
    offer("Last")
    container.accounts.update_profile(
        Actor.user(seller), {"full_name": "Sam the Seller"}
    )  # renames a held-back row


TABLES = (listings, listing_sellers, listing_games, favorites)


def test_any_batch_size_projects_what_one_event_at_a_time_does(
    idle_container: Container, clock: FixedClock
) -> None:
    a_busy_market(idle_container, clock)
    one_at_a_time = one_event_at_a_time(idle_container, TABLES)
    assert len(one_at_a_time["listings"]) == 6
    assert len(one_at_a_time["favorites"]) == 2
    assert_every_batch_size_agrees(idle_container, ["listings"], TABLES, one_at_a_time)


def search_text_of(container: Container, listing_id: UUID) -> str:
    with container.store.engine.connect() as conn:
        return str(
            conn.execute(select(listings.c.search_text).where(listings.c.id == listing_id)).scalar()
        )


def test_names_kept_from_a_batch_that_rolled_back_are_not_used(
    idle_container: Container,
) -> None:
    container, runner = idle_container, idle_container.runners[0]
    seed_games(container.catalogue)
    seller = container.accounts.register("seller@example.uz", PASSWORD, full_name="Before")
    runner.catch_up()
    listing_id = container.listings.create_listing(Actor.user(seller), "dota2", OFFER)
    container.accounts.update_profile(Actor.user(seller), {"full_name": "Rolled Back"})

    def crash(i: int) -> None:
        if i == 1:  # the rename is applied (in memory too); the process dies before COMMIT
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        runner.process_batch(before_commit=crash)
    runner.batch_size = 1
    runner.process_batch()  # Listing.Created alone, once more
    assert search_text_of(idle_container, listing_id).endswith("before")
    runner.catch_up()
    assert search_text_of(idle_container, listing_id).endswith("rolled back")
