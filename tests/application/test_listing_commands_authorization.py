"""The application decides who may do what with a listing, whatever the API let through: an
active user offers one; only its seller changes, deletes or illustrates it or reads its stored
credentials; staff moderate; only the platform archives; the platform neither offers, owns,
favourites, views nor uploads. Every refusal writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from application.actor import Actor, NotAllowed
from domain.errors import Forbidden, NotFound
from domain.listing import Listing, NotTheOwner
from tests.images import encoded
from wibestore.container import Container
from wibestore.seed import seed_games
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
OFFER = {"title": "Conqueror account", "description": "Glacier M416", "price": 1_500_000}
CREDENTIALS = {"account_email": "acc@mail.uz", "account_password": "hunter2-secret"}
PLATFORM = Actor.platform("escrow-timer")
ARCHIVER = Actor.platform("listing-archiver")


class Market:
    def __init__(self, container: Container) -> None:
        self.container = container
        seed_games(container.catalogue)
        self.seller = Actor.user(container.accounts.register("seller@example.uz", PASSWORD))
        self.buyer = Actor.user(container.accounts.register("buyer@example.uz", PASSWORD))
        self.staff = Actor.user(
            container.accounts.create_user(
                Actor.platform("operator"), "mod@example.uz", PASSWORD, staff=True
            )
        )
        banned = container.accounts.register("banned@example.uz", PASSWORD)
        container.accounts.ban(Actor.platform("operator"), banned, "fraud")
        self.banned = Actor.user(banned)
        self.listing = container.listings.create_listing(
            self.seller, "pubg-mobile", OFFER, CREDENTIALS
        )
        container.listings.approve_listing(self.staff, self.listing)
        self.image = container.listings.attach_listing_images(
            self.seller, self.listing, [encoded("PNG")]
        )[0].id

    def position(self) -> int:
        return self.container.app.recorder.max_notification_id() or 0


@pytest.fixture
def market(container: Container) -> Market:
    return Market(container)


@pytest.fixture
def unchanged(market: Market, settings: Settings) -> Iterator[None]:
    """Around the refusals: no event is written and no file is stored."""
    before, files = market.position(), stored_files(settings.media_dir)
    yield
    assert market.position() == before
    assert stored_files(settings.media_dir) == files


def stored_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def refused(error: type[Exception], command: Callable[..., Any], *args: Any, **kw: Any) -> None:
    with pytest.raises(error):
        command(*args, **kw)


def test_only_an_active_user_offers_a_listing(market: Market, unchanged: None) -> None:
    create = market.container.listings.create_listing
    for actor in (PLATFORM, Actor.user(uuid.uuid4()), market.banned):
        refused(NotAllowed, create, actor, "pubg-mobile", OFFER)


def test_only_the_seller_changes_deletes_or_illustrates_a_listing(
    market: Market, unchanged: None
) -> None:
    listings, listing = market.container.listings, market.listing
    for actor in (market.buyer, market.staff, Actor.user(uuid.uuid4())):  # not the seller
        refused(NotTheOwner, listings.edit_listing, actor, listing, {"title": "Mine now"})
        refused(NotTheOwner, listings.delete_listing, actor, listing)
        refused(NotTheOwner, listings.attach_listing_images, actor, listing, [encoded("PNG")])
        refused(NotTheOwner, listings.remove_listing_image, actor, listing, market.image)
    for command, args in (
        (listings.edit_listing, (listing, {"title": "Ours"})),
        (listings.delete_listing, (listing,)),
        (listings.attach_listing_images, (listing, [encoded("PNG")])),
        (listings.remove_listing_image, (listing, market.image)),
    ):
        refused(NotAllowed, command, PLATFORM, *args)  # the platform owns no listing


def test_only_the_seller_reads_the_credentials_stored_with_a_listing(
    market: Market, unchanged: None
) -> None:
    read = market.container.listings.listing_credentials
    for actor in (market.buyer, market.staff, Actor.user(uuid.uuid4()), PLATFORM):
        refused(Forbidden, read, actor, market.listing)
    assert read(market.seller, market.listing) == CREDENTIALS


def test_only_staff_moderate_and_only_the_platform_archives(
    market: Market, unchanged: None
) -> None:
    listings, listing = market.container.listings, market.listing
    for actor in (market.seller, market.buyer, market.banned, PLATFORM):
        refused(NotAllowed, listings.moderate_listing, actor, listing, is_premium=True)
    for actor in (market.seller, market.buyer, market.staff):
        refused(NotAllowed, listings.archive_listing, actor, listing)
    assert market.container.app.load(listing, Listing).status == "active"


def test_the_platform_favourites_and_views_nothing(market: Market, unchanged: None) -> None:
    listings, listing = market.container.listings, market.listing
    for actor in (PLATFORM, Actor.user(uuid.uuid4()), market.banned):
        refused(NotAllowed, listings.favorite, actor, listing)
    refused(NotAllowed, listings.unfavorite, PLATFORM, listing)
    refused(NotAllowed, listings.record_view, PLATFORM, listing, address="10.0.0.1")


def test_a_user_cannot_take_back_someone_elses_favourite(market: Market) -> None:
    listings = market.container.listings
    assert listings.favorite(market.buyer, market.listing)
    before = market.position()
    refused(NotFound, listings.unfavorite, market.seller, market.listing)
    assert market.position() == before
    listings.unfavorite(market.buyer, market.listing)


def test_only_users_upload_images(market: Market, unchanged: None) -> None:
    uploads = market.container.uploads
    refused(NotAllowed, uploads.upload_image, PLATFORM, encoded("PNG"))
    refused(NotAllowed, uploads.upload_images, PLATFORM, [encoded("PNG"), encoded("JPEG")])


def test_what_each_may_do_they_do_in_their_own_name(market: Market) -> None:
    listings, listing = market.container.listings, market.listing
    listings.edit_listing(market.seller, listing, {"title": "Legendary account"})
    assert listings.favorite(market.buyer, listing)
    assert listings.record_view(market.buyer, listing, address="10.0.0.1")
    assert listings.record_view(None, listing, address="10.0.0.1")  # anonymous, by address
    assert not listings.record_view(None, listing, address="10.0.0.1")  # once a day
    listings.moderate_listing(market.staff, listing, is_premium=True)
    listings.archive_listing(ARCHIVER, listing)
    aggregate = market.container.app.load(listing, Listing)
    assert (aggregate.title, aggregate.is_premium, aggregate.status) == (
        "Legendary account",
        True,
        "archived",
    )
    uploaded = market.container.uploads.upload_image(market.buyer, encoded("PNG"))
    assert uploaded.content_type == "image/png"
