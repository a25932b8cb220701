"""Hypothesis: no sequence of listing commands reaches an invalid state, and the listings read
model always equals what replaying each aggregate's events gives. Reservations and settlements
mostly pick a listing they can succeed on, and the run must carry each command out."""

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
        # in the order they happened, never sorted: ids are random, and a draw from them must
        # pick the same listing when hypothesis replays the same choices
        self.favorited: dict[tuple[uuid.UUID, int], None] = {}  # (listing, user), as a set
        self.created: list[uuid.UUID] = []

    def _do(self, command: Any, *args: Any) -> bool:
        """Whether the command was carried out (a refusal writes nothing)."""
        return self._attempt(command, *args)[0]

    def _target(self, data: st.DataObject, drawn: uuid.UUID, status: str) -> uuid.UUID:
        """Mostly a listing in ``status`` (one is brought there when there is none), the
        command can succeed on; otherwise the one drawn, whose refusal is tested too."""
        if data.draw(st.integers(0, 3), label="ready") == 0:
            return drawn
        ready = list(self.escrows) if status == "reserved" else self._in(status)
        if not ready:
            made = self._make(data, status)
            ready = [made] if made is not None else [drawn]
        return data.draw(st.sampled_from(ready), label="listing")

    def _make(self, data: st.DataObject, status: str) -> uuid.UUID | None:
        """An active listing, reserved when ``status`` asks (these commands are not counted)."""
        seller = data.draw(st.integers(0, 2), label="seller")
        with self.container.read_your_writes():
            listing = self.container.listings.create_listing(
                Actor.user(self.users[seller]),
                "pubg-mobile",
                {"title": "Account", "description": "Nice", "price": 100},
            )
            self.container.listings.approve_listing(Actor.user(self.staff), listing)
            if status == "reserved":
                found = self.container.listings.listing(listing)
                escrow = uuid.uuid4()
                found.reserve(escrow, self.users[(seller + 1) % 3])
                self.app.save(found)
                self.escrows[listing] = escrow
        self.created.append(listing)
        return listing

    def _in(self, status: str) -> list[uuid.UUID]:
        with self.container.store.reader.connect() as conn:
            rows = conn.execute(select(listings.c.id).where(listings.c.status == status))
            found = {r.id for r in rows}
        return [listing for listing in self.created if listing in found]

    @rule(
        target=listing_ids,
        seller=st.integers(0, 2),
        price=st.integers(1, 10**12),
        game=st.sampled_from(["pubg-mobile", "dota2", "roblox"]),
    )
    def create(self, seller: int, price: int, game: str) -> uuid.UUID:
        with self.container.read_your_writes():
            listing = self.container.listings.create_listing(
                Actor.user(self.users[seller]),
                game,
                {"title": f"Account {price}", "description": "Nice", "price": price},
            )
        self.created.append(listing)
        return listing

    @rule(listing_id=listing_ids)
    def approve(self, listing_id: uuid.UUID) -> None:
        self._do(self.container.listings.approve_listing, Actor.user(self.staff), listing_id)

    @rule(listing_id=listing_ids, reason=st.text(max_size=20))
    def reject(self, listing_id: uuid.UUID, reason: str) -> None:
        self._do(self.container.listings.reject_listing, Actor.user(self.staff), listing_id, reason)

    def _owner_mostly(self, data: st.DataObject, listing_id: uuid.UUID, who: int) -> int:
        """Mostly the listing's seller (who may), otherwise the user drawn."""
        found = self.app.find(listing_id, Listing)
        if found is not None and data.draw(st.integers(0, 3), label="owner") > 0:
            return self.users.index(found.seller_id)
        return who

    @rule(
        listing_id=listing_ids, data=st.data(), who=st.integers(0, 2), price=st.integers(-5, 10**6)
    )
    def edit(self, listing_id: uuid.UUID, data: st.DataObject, who: int, price: int) -> None:
        who = self._owner_mostly(data, listing_id, who)
        self._do(
            self.container.listings.edit_listing,
            Actor.user(self.users[who]),
            listing_id,
            {"price": price},
        )

    @rule(listing_id=listing_ids, data=st.data(), who=st.integers(0, 2))
    def delete(self, listing_id: uuid.UUID, data: st.DataObject, who: int) -> None:
        who = self._owner_mostly(data, listing_id, who)
        self._do(self.container.listings.delete_listing, Actor.user(self.users[who]), listing_id)

    @rule(listing_id=listing_ids, data=st.data(), buyer=st.integers(0, 2))
    def reserve(self, listing_id: uuid.UUID, data: st.DataObject, buyer: int) -> None:
        listing_id = self._target(data, listing_id, "active")
        escrow = uuid.uuid4()

        def reserve() -> None:
            listing = self.container.listings.listing(listing_id)
            listing.reserve(escrow, self.users[buyer])
            self.app.save(listing)

        if self._do(reserve):
            self.escrows[listing_id] = escrow

    @rule(listing_id=listing_ids, data=st.data(), sell=st.booleans())
    def settle(self, listing_id: uuid.UUID, data: st.DataObject, sell: bool) -> None:
        listing_id = self._target(data, listing_id, "reserved")
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

    @rule(listing_id=listing_ids, data=st.data(), who=st.integers(0, 2), on=st.booleans())
    def favorite(self, listing_id: uuid.UUID, data: st.DataObject, who: int, on: bool) -> None:
        if on:
            listing_id = self._target(data, listing_id, "active")
        elif data.draw(st.integers(0, 3), label="ready") > 0:
            if not self.favorited:  # one is favourited first
                listing_id = self._target(data, listing_id, "active")
                liker = Actor.user(self.users[who])
                if self._prepare(self.container.listings.favorite, liker, listing_id) is not None:
                    self.favorited[(listing_id, who)] = None
            if self.favorited:
                listing_id, who = data.draw(st.sampled_from(list(self.favorited)), label="fav")
        command = self.container.listings.favorite if on else self.container.listings.unfavorite
        if self._do(command, Actor.user(self.users[who]), listing_id):
            if on:
                self.favorited[(listing_id, who)] = None
            else:
                self.favorited.pop((listing_id, who), None)

    @rule(
        listing_id=listing_ids,
        viewer=st.sampled_from([None, 0, 1]),
        address=st.sampled_from(["10.0.0.1", "10.0.0.2"]),
        days=st.integers(0, 2),
        data=st.data(),
    )
    def view(
        self,
        listing_id: uuid.UUID,
        viewer: int | None,
        address: str,
        days: int,
        data: st.DataObject,
    ) -> None:
        self.clock.advance(days=days)
        listing_id = self._target(data, listing_id, "active")
        actor = None if viewer is None else Actor.user(self.users[viewer])

        def record_view() -> bool:
            return self.container.listings.record_view(actor, listing_id, address=address)

        self._do(record_view)

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
    ListingLifecycle.run(
        settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
    ListingLifecycle.check_each_succeeded(
        [
            "approve_listing",
            "reject_listing",
            "edit_listing",
            "delete_listing",
            "reserve",
            "settle",
            "archive_listing",
            "favorite",
            "unfavorite",
            "record_view",
        ]
    )
