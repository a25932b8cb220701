"""The application decides who may review: the buyer of a released purchase writes one review
of its seller; the author edits or deletes it; only the reviewed seller replies, once; anyone
else active marks it helpful, once. Every refusal writes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from application.actor import Actor, NotAllowed
from domain.review import (
    AlreadyReplied,
    InvalidRating,
    NoReviewablePurchase,
    NotTheSeller,
    OwnReview,
    Review,
    ReviewExists,
    ReviewNotFound,
    review_id,
)
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
PRICE = 100_000_00
OPERATOR = Actor.platform("operator")
SEED = Actor.platform("seed")
TIMER = Actor.platform("escrow-timer")


@dataclass(frozen=True)
class Market:
    staff: UUID
    banned: UUID  # bought and had the purchase released, banned since
    seller: UUID
    buyer: UUID
    stranger: UUID
    released: UUID  # the buyer's purchase, released to the seller: not reviewed yet
    reviewed: UUID  # the buyer's other released purchase, reviewed
    delivered: UUID  # the buyer's purchase, delivered but not released
    banned_purchase: UUID  # the banned user's released purchase
    review: UUID  # the buyer's review of ``reviewed``


@pytest.fixture
def market(container: Container) -> Market:
    seed_games(container.catalogue)
    accounts, escrows = container.accounts, container.escrows
    staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
    seller = accounts.register("seller@example.uz", PASSWORD)
    buyer = accounts.register("buyer@example.uz", PASSWORD)
    stranger = accounts.register("eve@example.uz", PASSWORD)
    banned = accounts.register("banned@example.uz", PASSWORD)
    for user in (buyer, banned):
        container.payments.credit_deposit(SEED, user, uuid.uuid4(), 5 * PRICE)

    def bought(by: UUID, title: str, release: bool = True) -> UUID:
        listing = container.listings.create_listing(
            Actor.user(seller), "pubg-mobile", {"title": title, "description": "D", "price": PRICE}
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        escrow = escrows.purchase(Actor.user(by), listing).id
        escrows.deliver(Actor.user(seller), escrow, {"account_email": "a@b.uz"})
        if release:
            escrows.confirm_purchase(Actor.user(by), escrow)
        return escrow

    released, reviewed = bought(buyer, "Released"), bought(buyer, "Reviewed")
    delivered = bought(buyer, "Delivered", release=False)
    banned_purchase = bought(banned, "Banned's")
    accounts.ban(OPERATOR, banned, "fraud")
    review = container.reviews.write_review(Actor.user(buyer), reviewed, 4, "Fine")
    return Market(
        staff=staff,
        banned=banned,
        seller=seller,
        buyer=buyer,
        stranger=stranger,
        released=released,
        reviewed=reviewed,
        delivered=delivered,
        banned_purchase=banned_purchase,
        review=review,
    )


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def refused(
    container: Container, error: type[Exception], attempts: list[Callable[[], Any]]
) -> None:
    """Each attempt raises ``error``, and none of them writes an event."""
    before = head(container)
    for attempt in attempts:
        with pytest.raises(error):
            attempt()
    assert head(container) == before


def test_only_the_buyer_of_a_released_purchase_reviews_it(
    container: Container, market: Market
) -> None:
    m, write = market, container.reviews.write_review
    refused(
        container,
        NoReviewablePurchase,
        [
            *(
                partial(write, Actor.user(who), m.released, 5)
                for who in (m.seller, m.stranger, m.staff)
            ),
            partial(write, Actor.user(m.buyer), m.delivered, 5),  # not released
            partial(write, Actor.user(m.buyer), uuid.uuid4(), 5),  # no such purchase
            partial(write, Actor.user(m.buyer), m.review, 5),  # not a purchase at all
        ],
    )
    refused(
        container,
        NotAllowed,
        [
            partial(write, Actor.user(m.banned), m.banned_purchase, 5),
            partial(write, Actor.user(uuid.uuid4()), m.released, 5),  # nobody
            partial(write, TIMER, m.released, 5),  # the platform reviews nothing
        ],
    )
    written = write(Actor.user(m.buyer), m.released, 5, "Great")
    assert written == review_id(m.released)


@pytest.mark.parametrize("rating", [0, 6, -5])
def test_a_rating_outside_1_to_5_is_refused_before_anything_is_read(
    container: Container, market: Market, rating: int
) -> None:
    refused(
        container,
        InvalidRating,
        [
            partial(
                container.reviews.write_review, Actor.user(market.buyer), market.released, rating
            ),
            partial(
                container.reviews.write_review, Actor.user(market.stranger), uuid.uuid4(), rating
            ),
            partial(container.reviews.edit_review, Actor.user(market.buyer), market.review, rating),
        ],
    )


def test_a_purchase_is_reviewed_once(container: Container, market: Market) -> None:
    refused(
        container,
        ReviewExists,
        [partial(container.reviews.write_review, Actor.user(market.buyer), market.reviewed, 1)],
    )


def test_of_racing_reviews_of_one_purchase_exactly_one_is_written(
    container: Container, market: Market
) -> None:
    def attempt(rating: int) -> str:
        try:
            container.reviews.write_review(Actor.user(market.buyer), market.released, rating)
        except ReviewExists:
            return "refused"
        return "written"

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = list(pool.map(attempt, [1, 2, 3, 4, 5, 1, 2, 3]))
    assert outcomes.count("written") == 1
    review: object = container.app.repository.get(review_id(market.released))
    assert isinstance(review, Review)
    assert review.version == 1  # written once, never overwritten by a racer


def test_only_the_author_edits_or_deletes_a_review(container: Container, market: Market) -> None:
    m, reviews = market, container.reviews
    others = [Actor.user(who) for who in (m.seller, m.stranger, m.staff, uuid.uuid4())]
    refused(
        container,
        ReviewNotFound,
        [
            *(partial(reviews.edit_review, who, m.review, 1, "Bad") for who in others),
            *(partial(reviews.delete_review, who, m.review) for who in others),
            partial(reviews.edit_review, Actor.user(m.buyer), uuid.uuid4(), 1),
            partial(reviews.delete_review, Actor.user(m.buyer), uuid.uuid4()),
        ],
    )
    refused(
        container,
        NotAllowed,
        [
            partial(reviews.edit_review, TIMER, m.review, 1),
            partial(reviews.delete_review, TIMER, m.review),
        ],
    )
    before = head(container)
    reviews.edit_review(Actor.user(m.buyer), m.review, rating=4, comment="Fine")  # no change
    assert head(container) == before
    reviews.edit_review(Actor.user(m.buyer), m.review, rating=2)
    reviews.delete_review(Actor.user(m.buyer), m.review)
    assert head(container) == before + 2


def test_only_the_reviewed_seller_replies_and_only_once(
    container: Container, market: Market
) -> None:
    m, reply = market, container.reviews.reply_to_review
    refused(
        container,
        NotTheSeller,
        [partial(reply, Actor.user(who), m.review, "Hi") for who in (m.buyer, m.stranger, m.staff)],
    )
    refused(container, NotAllowed, [partial(reply, TIMER, m.review, "Hi")])
    refused(container, ReviewNotFound, [partial(reply, Actor.user(m.seller), uuid.uuid4(), "Hi")])
    reply(Actor.user(m.seller), m.review, "Thank you!")
    refused(container, AlreadyReplied, [partial(reply, Actor.user(m.seller), m.review, "Again")])


def test_helpful_votes_are_counted_once_per_person_and_never_the_authors(
    container: Container, market: Market
) -> None:
    m, helpful = market, container.reviews.mark_helpful
    refused(container, OwnReview, [partial(helpful, Actor.user(m.buyer), m.review)])
    refused(
        container,
        NotAllowed,
        [partial(helpful, TIMER, m.review), partial(helpful, Actor.user(m.banned), m.review)],
    )
    refused(container, ReviewNotFound, [partial(helpful, Actor.user(m.stranger), uuid.uuid4())])
    assert helpful(Actor.user(m.stranger), m.review) is True
    before = head(container)
    assert helpful(Actor.user(m.stranger), m.review) is False
    assert head(container) == before
    assert helpful(Actor.user(m.seller), m.review) is True
    review: object = container.app.repository.get(m.review)
    assert isinstance(review, Review)
    assert review.helpful_count == 2


def test_a_deleted_review_is_gone_for_every_command(container: Container, market: Market) -> None:
    m, reviews = market, container.reviews
    reviews.delete_review(Actor.user(m.buyer), m.review)
    refused(
        container,
        ReviewNotFound,
        [
            partial(reviews.edit_review, Actor.user(m.buyer), m.review, 5),
            partial(reviews.delete_review, Actor.user(m.buyer), m.review),
            partial(reviews.reply_to_review, Actor.user(m.seller), m.review, "Hi"),
            partial(reviews.mark_helpful, Actor.user(m.stranger), m.review),
        ],
    )
    # ... and its purchase stays reviewed: one review per purchase, ever
    refused(
        container, ReviewExists, [partial(reviews.write_review, Actor.user(m.buyer), m.reviewed, 5)]
    )
