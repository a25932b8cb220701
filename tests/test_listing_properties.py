"""Hypothesis: no sequence of listing commands reaches an invalid state, and the listings read
model always equals what replaying each aggregate's events gives."""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, rule
from sqlalchemy import func, select

from application.actor import Actor
from domain.listing import Listing
from projections.listings import favorites, listings
from tests.market_machine import MarketMachine

ARCHIVER = Actor.platform("listing-archiver")

STATUSES = {"pending", "active", "rejected", "reserved", "sold", "archived", "deleted"}


class ListingLifecycle(MarketMachine):
    listing_ids = Bundle("listing_ids")

    def __init__(self) -> None:
        super().__init__()
        self.escrows: dict[uuid.UUID, uuid.UUID] = {}  # listing -> reserving escrow

    def _do(self, command: Any, *args: Any) -> bool:
        """Whether the command was carried out (a refusal writes nothing)."""
        return self._attempt(command, *args)[0]

    @rule(
        target=listing_ids,
        seller=st.integers(0, 2),
        price=st.integers(1, 10**12),
        game=st.sampled_from(["pubg-mobile", "dota2", "roblox"]),
    )
    def create(self, seller: int, price: int, game: str) -> uuid.UUID:
        with self.container.read_your_writes():
            return self.container.listings.create_listing(
                Actor.user(self.users[seller]),
                game,
                {"title": f"Account {price}", "description": "Nice", "price": price},
            )

    @rule(listing_id=listing_ids)
    def approve(self, listing_id: uuid.UUID) -> None:
        self._do(self.container.listings.approve_listing, Actor.user(self.staff), listing_id)

    @rule(listing_id=listing_ids, reason=st.text(max_size=20))
    def reject(self, listing_id: uuid.UUID, reason: str) -> None:
        self._do(self.container.listings.reject_listing, Actor.user(self.staff), listing_id, reason)

    @rule(listing_id=listing_ids, who=st.integers(0, 2), price=st.integers(-5, 10**6))
    def edit(self, listing_id: uuid.UUID, who: int, price: int) -> None:
        self._do(
            self.container.listings.edit_listing,
            Actor.user(self.users[who]),
            listing_id,
            {"price": price},
        )

    @rule(listing_id=listing_ids, who=st.integers(0, 2))
    def delete(self, listing_id: uuid.UUID, who: int) -> None:
        self._do(self.container.listings.delete_listing, Actor.user(self.users[who]), listing_id)

    @rule(listing_id=listing_ids, buyer=st.integers(0, 2))
    def reserve(self, listing_id: uuid.UUID, buyer: int) -> None:
        escrow = uuid.uuid4()

        def reserve() -> None:
            listing = self.container.listings.listing(listing_id)
            listing.reserve(escrow, self.users[buyer])
            self.app.save(listing)

        if self._do(reserve):
            self.escrows[listing_id] = escrow

    @rule(listing_id=listing_ids, sell=st.booleans())
    def settle(self, listing_id: uuid.UUID, sell: bool) -> None:
        escrow = self.escrows.get(listing_id, uuid.uuid4())

        def settle() -> None:
            listing = self.container.listings.listing(listing_id)
            if sell:
                listing.sell(escrow, self.clock.now())
            else:
                listing.release(escrow)
            self.app.save(listing)

        if self._do(settle):
            self.escrows.pop(listing_id, None)

    @rule(listing_id=listing_ids)
    def archive(self, listing_id: uuid.UUID) -> None:
        self._do(self.container.listings.archive_listing, ARCHIVER, listing_id)

    @rule(listing_id=listing_ids, who=st.integers(0, 2), on=st.booleans())
    def favorite(self, listing_id: uuid.UUID, who: int, on: bool) -> None:
        command = self.container.listings.favorite if on else self.container.listings.unfavorite
        self._do(command, Actor.user(self.users[who]), listing_id)

    @rule(
        listing_id=listing_ids,
        viewer=st.sampled_from([None, 0, 1]),
        address=st.sampled_from(["10.0.0.1", "10.0.0.2"]),
        days=st.integers(0, 2),
    )
    def view(self, listing_id: uuid.UUID, viewer: int | None, address: str, days: int) -> None:
        self.clock.advance(days=days)
        actor = None if viewer is None else Actor.user(self.users[viewer])
        self._do(lambda: self.container.listings.record_view(actor, listing_id, address=address))

    @invariant()
    def the_read_model_equals_a_replay(self) -> None:
        with self.container.store.reader.connect() as conn:
            rows = {r.id: r for r in conn.execute(select(listings))}
            fav_counts: dict[Any, int] = dict(
                conn.execute(
                    select(favorites.c.listing_id, func.count()).group_by(favorites.c.listing_id)
                ).all()
            )
        for listing_id, row in rows.items():
            replayed: object = self.app.repository.get(listing_id)
            assert isinstance(replayed, Listing)
            assert replayed.status in STATUSES
            assert (row.status, row.price, row.title, row.is_premium) == (
                replayed.status,
                replayed.price,
                replayed.title,
                replayed.is_premium,
            )
            assert row.price > 0
            if replayed.status == "reserved":
                assert replayed.escrow_id is not None
            if replayed.status == "active":
                assert replayed.escrow_id is None  # a release forgets the escrow
            assert row.favorites_count == fav_counts.get(listing_id, 0) >= 0


def test_listing_state_machine() -> None:
    ListingLifecycle.TestCase.settings = settings(
        max_examples=25,
        stateful_step_count=30,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    ListingLifecycle.TestCase().runTest()
