"""Listings: sellers offer accounts, staff moderate them, buyers favourite and view them.

Who may do what is decided here, from the actor: an active user offers a listing and
favourites one; only its seller changes, deletes or illustrates it, or reads back the
credentials stored with it; only active staff (the event store says so) moderate; only the
platform archives (the daily task). Anyone views, a user or an anonymous address.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal
from uuid import UUID

import msgspec
from eventsourcing.persistence import IntegrityError

from application.actor import Actor, active_user, platform_only, staff_member
from application.marketplace import Marketplace
from application.ports import Clock, CredentialsVault
from application.uploads import Uploads
from domain.errors import DomainError, NotFound
from domain.game import Game, game_id
from domain.listing import Listing
from domain.listing_activity import Favorite, ListingView, favorite_id, view_id


class ListingImage(msgspec.Struct, frozen=True):
    """An image attached to a listing, as the listing keeps it."""

    id: str
    url: str
    is_primary: bool
    sort_order: int


class Listings:
    def __init__(
        self, app: Marketplace, *, clock: Clock, vault: CredentialsVault, uploads: Uploads
    ) -> None:
        self.app = app
        self.clock = clock
        self.vault = vault
        self.uploads = uploads

    def create_listing(
        self,
        actor: Actor,
        game: str,
        fields: dict[str, Any],
        credentials: dict[str, str] | None = None,
    ) -> UUID:
        """``game`` is a slug or a UUID, as the frontend sends either."""
        seller_id = active_user(self.app, actor)
        listing_id = uuid.uuid4()
        sealed = self.vault.seal(credentials, listing_id) if credentials else None
        listing = Listing.offer(
            seller_id,
            self.active_game(game).id,
            self.clock.now(),
            listing_id=listing_id,
            sealed_credentials=sealed,
            **fields,
        )
        self.app.save(listing)
        return listing.id

    def edit_listing(
        self,
        actor: Actor,
        listing_id: UUID,
        changes: dict[str, Any],
        credentials: dict[str, str] | None = None,
    ) -> None:
        user_id = actor.id()
        listing = self.listing(listing_id)
        listing.check_owned_by(user_id)
        if "game" in changes:
            changes["game_id"] = self.active_game(changes.pop("game")).id
        if credentials:
            changes["sealed_credentials"] = self.vault.seal(credentials, listing.id)
        listing.edit(user_id, changes)
        self.app.save(listing)

    def delete_listing(self, actor: Actor, listing_id: UUID) -> None:
        listing = self.listing(listing_id)
        listing.delete(actor.id(), self.clock.now())
        self.app.save(listing)

    def approve_listing(self, actor: Actor, listing_id: UUID) -> None:
        self.moderate_listing(actor, listing_id, status="active")

    def reject_listing(self, actor: Actor, listing_id: UUID, reason: str) -> None:
        self.moderate_listing(actor, listing_id, status="rejected", reason=reason)

    def set_listing_premium(self, actor: Actor, listing_id: UUID, is_premium: bool) -> None:
        self.moderate_listing(actor, listing_id, is_premium=is_premium)

    def moderate_listing(
        self,
        actor: Actor,
        listing_id: UUID,
        *,
        status: Literal["active", "rejected"] | None = None,
        reason: str = "",
        is_premium: bool | None = None,
    ) -> None:
        """Approve (``status="active"``) or reject a listing and/or set whether it is premium,
        in one save: staff only."""
        staff_id = staff_member(self.app, actor)
        listing = self.listing(listing_id)
        now = self.clock.now()
        if status == "active":
            listing.approve(staff_id, now)
        elif status == "rejected":
            listing.reject(staff_id, reason, now)
        if is_premium is not None:
            listing.set_premium(is_premium, staff_id)
        self.app.save(listing)

    def archive_listing(self, actor: Actor, listing_id: UUID) -> None:
        """The daily task's: a listing unsold for long leaves the shop (skipped unless active)."""
        platform_only(actor)
        listing = self.listing(listing_id)
        if listing.status == "active":
            listing.archive(self.clock.now())
            self.app.save(listing)

    def attach_listing_images(
        self, actor: Actor, listing_id: UUID, files: list[bytes]
    ) -> list[ListingImage]:
        """Clean, store and attach images; refused before anything is stored when the caller
        does not own the listing or it cannot take that many more, and ImageRejected (none
        kept) when one of the files is not an image we take."""
        user_id = actor.id()
        listing = self.listing(listing_id)
        listing.check_can_add_images(user_id, len(files))
        images = [self.uploads.check_image(raw) for raw in files]  # one bad file: none is stored
        with self.uploads.kept_only_if_done() as stored:  # a lost save keeps none either
            for image in images:
                stored.append(self.uploads.store_image(image))
            before = len(listing.images)
            listing.add_images(user_id, [{"id": str(uuid.uuid4()), "url": i.url} for i in stored])
            self.app.save(listing)
        return [msgspec.convert(image, ListingImage) for image in listing.images[before:]]

    def remove_listing_image(self, actor: Actor, listing_id: UUID, image_id: str) -> None:
        listing = self.listing(listing_id)
        listing.remove_image(actor.id(), image_id)
        self.app.save(listing)

    def listing_credentials(self, actor: Actor, listing_id: UUID) -> dict[str, str] | None:
        """The account credentials its seller stored with the listing (to deliver them when
        it is bought); for its seller only."""
        listing = self.listing(listing_id)
        listing.check_owned_by(actor.id())
        if listing.sealed_credentials is None:
            return None
        return self.vault.open(listing.sealed_credentials, listing.id)

    # --- favourites and views ---------------------------------------------------------------
    def favorite(self, actor: Actor, listing_id: UUID) -> bool:
        """Add to favourites; False when it already was one."""
        user_id = active_user(self.app, actor)
        self.active_listing(listing_id)
        fav = self.app.find(favorite_id(user_id, listing_id), Favorite)
        if fav is None:
            fav = Favorite(user_id=user_id, listing_id=listing_id, at=self.clock.now())
        elif fav.is_on:
            return False
        else:
            fav.add(self.clock.now())
        self._save_once(fav)
        return True

    def unfavorite(self, actor: Actor, listing_id: UUID) -> None:
        fav = self.app.find(favorite_id(actor.id(), listing_id), Favorite)
        if fav is None or not fav.is_on:
            raise NotFound("Not in favorites.")
        fav.remove()
        self.app.save(fav)

    def record_view(self, actor: Actor | None, listing_id: UUID, *, address: str) -> bool:
        """Count one view per listing, viewer and day: a user by their id, an anonymous
        viewer (``actor`` None) by their address. False when already counted."""
        viewer = f"user:{actor.id()}" if actor is not None else f"ip:{address}"
        self.active_listing(listing_id)
        today = self.clock.now().date()
        if self.app.find(view_id(listing_id, viewer, today), ListingView) is not None:
            return False
        return self._save_once(
            ListingView(listing_id=listing_id, viewer=viewer, day=today.isoformat())
        )

    def _save_once(self, aggregate: Favorite | ListingView) -> bool:
        try:
            self.app.save(aggregate)
        except IntegrityError:  # the same favourite or view, recorded by a racing request
            return False
        return True

    # --- loading ----------------------------------------------------------------------------
    def listing(self, listing_id: UUID) -> Listing:
        listing = self.app.load(listing_id, Listing, "Listing not found.")
        if listing.is_deleted:
            raise NotFound("Listing not found.")
        return listing

    def active_listing(self, listing_id: UUID) -> Listing:
        listing = self.listing(listing_id)
        if listing.status != "active":
            raise NotFound("Listing not found.")
        return listing

    def active_game(self, ref: str | UUID) -> Game:
        try:
            gid = ref if isinstance(ref, UUID) else UUID(ref)
        except ValueError:
            gid = game_id(str(ref))
        game = self.app.find(gid, Game)
        if game is None or not game.is_active:
            raise UnknownGame
        return game


class UnknownGame(DomainError):
    def __init__(self) -> None:
        super().__init__("Game not found.", field="game")
