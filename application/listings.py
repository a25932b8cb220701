"""Listings: sellers offer accounts, staff moderate them, buyers favourite and view them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.actor import Actor, staff_member
from application.marketplace import Marketplace
from application.ports import Clock, CredentialsVault
from application.uploads import Uploads
from domain.errors import DomainError, NotFound
from domain.game import Game, game_id
from domain.listing import Listing
from domain.listing_activity import Favorite, ListingView, favorite_id, view_id

CREDENTIAL_FIELDS = ("account_email", "account_password")


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
        seller_id: UUID,
        game: str,
        fields: dict[str, Any],
        credentials: dict[str, str] | None = None,
    ) -> UUID:
        """``game`` is a slug or a UUID, as the frontend sends either."""
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
        user_id: UUID,
        listing_id: UUID,
        changes: dict[str, Any],
        credentials: dict[str, str] | None = None,
    ) -> None:
        listing = self.listing(listing_id)
        listing.check_owned_by(user_id)
        if "game" in changes:
            changes["game_id"] = self.active_game(changes.pop("game")).id
        if credentials:
            changes["sealed_credentials"] = self.vault.seal(credentials, listing.id)
        listing.edit(user_id, changes)
        self.app.save(listing)

    def delete_listing(self, user_id: UUID, listing_id: UUID) -> None:
        listing = self.listing(listing_id)
        listing.delete(user_id, self.clock.now())
        self.app.save(listing)

    def approve_listing(self, actor: Actor, listing_id: UUID) -> None:
        staff_id = staff_member(self.app, actor)
        listing = self.listing(listing_id)
        listing.approve(staff_id, self.clock.now())
        self.app.save(listing)

    def reject_listing(self, actor: Actor, listing_id: UUID, reason: str) -> None:
        staff_id = staff_member(self.app, actor)
        listing = self.listing(listing_id)
        listing.reject(staff_id, reason, self.clock.now())
        self.app.save(listing)

    def set_listing_premium(self, actor: Actor, listing_id: UUID, is_premium: bool) -> None:
        staff_member(self.app, actor)
        listing = self.listing(listing_id)
        listing.set_premium(is_premium)
        self.app.save(listing)

    def archive_listing(self, listing_id: UUID) -> None:
        listing = self.listing(listing_id)
        if listing.status == "active":
            listing.archive(self.clock.now())
            self.app.save(listing)

    def attach_listing_images(
        self, user_id: UUID, listing_id: UUID, files: list[bytes]
    ) -> list[dict[str, Any]]:
        """Clean, store and attach images; refused before anything is stored when the caller
        does not own the listing or it cannot take that many more."""
        listing = self.listing(listing_id)
        listing.check_can_add_images(user_id, len(files))
        images = [self.uploads.check_image(raw) for raw in files]  # one bad file: none is stored
        with self.uploads.kept_only_if_done() as stored:  # a lost save keeps none either
            for image in images:
                stored.append(self.uploads.store_image(image))
            before = len(listing.images)
            listing.add_images(user_id, [{"id": str(uuid.uuid4()), "url": i.url} for i in stored])
            self.app.save(listing)
        return listing.images[before:]

    def remove_listing_image(self, user_id: UUID, listing_id: UUID, image_id: str) -> None:
        listing = self.listing(listing_id)
        listing.remove_image(user_id, image_id)
        self.app.save(listing)

    def listing_credentials(self, listing_id: UUID) -> dict[str, str] | None:
        listing = self.listing(listing_id)
        if listing.sealed_credentials is None:
            return None
        return self.vault.open(listing.sealed_credentials, listing.id)

    # --- favourites and views ---------------------------------------------------------------
    def favorite(self, user_id: UUID, listing_id: UUID) -> bool:
        """Add to favourites; False when it already was one."""
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

    def unfavorite(self, user_id: UUID, listing_id: UUID) -> None:
        fav = self.app.find(favorite_id(user_id, listing_id), Favorite)
        if fav is None or not fav.is_on:
            raise NotFound("Not in favorites.")
        fav.remove()
        self.app.save(fav)

    def record_view(self, listing_id: UUID, viewer: str, on: datetime) -> bool:
        """Count one view per listing, viewer (user id or IP) and day; False when counted."""
        self.active_listing(listing_id)
        key = view_id(listing_id, viewer, on.date())
        if self.app.find(key, ListingView) is not None:
            return False
        return self._save_once(
            ListingView(listing_id=listing_id, viewer=viewer, day=on.date().isoformat())
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
