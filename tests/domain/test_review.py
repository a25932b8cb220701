"""Review: given events, when a command, then these events or this error."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import pytest
from hypothesis import given as for_all
from hypothesis import strategies as st

from domain.errors import DomainError
from domain.escrow import Escrow
from domain.review import (
    NEW_SELLER_RATING,
    AlreadyReplied,
    InvalidRating,
    NoReviewablePurchase,
    NotTheSeller,
    OwnReview,
    Review,
    ReviewNotFound,
    review_id,
    seller_rating,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
DAY = timedelta(hours=24)
BUYER, SELLER, STRANGER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


def replayed(events: Sequence[Any]) -> Any:
    """The aggregate these events make, as the event store would load it."""
    aggregate = None
    for e in events:
        aggregate = e.mutate(aggregate)
    return aggregate


def released_purchase() -> Escrow:
    """Given: a purchase opened and released to the seller (from its events)."""
    escrow = Escrow.open(BUYER, SELLER, uuid.uuid4(), 15_000_000, "free", NOW, DAY)
    escrow.confirm(BUYER, NOW)
    loaded: Escrow = replayed(escrow.collect_events())
    return loaded


def given(*commands: Any) -> Review:
    """Given: a review written by the buyer (4 stars) and then ``commands`` applied to it; the
    review as loaded from those events, with nothing pending."""
    review = Review.write(released_purchase(), BUYER, 4, "Fine", NOW)
    for command in commands:
        command(review)
    loaded: Review = replayed(review.collect_events())
    return loaded


def then(review: Review) -> list[tuple[str, dict[str, Any]]]:
    """The events the command recorded: their names and business fields."""
    skip = {"originator_id", "originator_version", "timestamp", "originator_topic"}
    return [
        (type(e).__name__, {k: v for k, v in e.__dict__.items() if k not in skip})
        for e in review.collect_events()
    ]


# --- writing ----------------------------------------------------------------------------------
def test_the_buyer_of_a_released_purchase_reviews_its_seller() -> None:
    escrow = released_purchase()
    review = Review.write(escrow, BUYER, 5, "  Great seller  ", NOW)
    assert review.id == review_id(escrow.id)
    assert then(review) == [
        (
            "Written",
            {
                "escrow_id": escrow.id,
                "listing_id": escrow.listing_id,
                "reviewer_id": BUYER,
                "reviewee_id": SELLER,
                "rating": 5,
                "comment": "Great seller",
                "at": NOW,
            },
        )
    ]


def test_a_comment_is_optional() -> None:
    review = Review.write(released_purchase(), BUYER, 3, None, NOW)
    assert review.comment == ""


def test_a_purchase_has_one_review_id_whoever_writes_it() -> None:
    escrow = released_purchase()
    assert Review.write(escrow, BUYER, 5, "", NOW).id == Review.write(escrow, BUYER, 1, "", NOW).id


@pytest.mark.parametrize("who", [SELLER, STRANGER])
def test_nobody_but_the_buyer_reviews_a_purchase(who: uuid.UUID) -> None:
    with pytest.raises(NoReviewablePurchase, match=r"Transaction not found or not completed\."):
        Review.write(released_purchase(), who, 5, "", NOW)


def test_a_purchase_not_released_to_the_seller_cannot_be_reviewed() -> None:
    paid = Escrow.open(BUYER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)
    delivered = Escrow.open(BUYER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)
    delivered.deliver(SELLER, "sealed", NOW, DAY)
    disputed = Escrow.open(BUYER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)
    disputed.dispute(BUYER, "Wrong level", NOW)
    refunded = Escrow.open(BUYER, SELLER, uuid.uuid4(), 100, "free", NOW, DAY)
    refunded.dispute(BUYER, "Wrong level", NOW)
    refunded.resolve(True, "refund", NOW, STRANGER)
    for escrow in (paid, delivered, disputed, refunded):
        with pytest.raises(NoReviewablePurchase):
            Review.write(escrow, BUYER, 5, "", NOW)


@pytest.mark.parametrize("rating", [0, 6, -1, 100, True])
def test_a_rating_is_a_whole_number_of_stars_from_1_to_5(rating: int) -> None:
    with pytest.raises(InvalidRating, match=r"^Rating must be between 1 and 5\.$"):
        Review.write(released_purchase(), BUYER, rating, "", NOW)


def test_a_comment_is_bounded() -> None:
    with pytest.raises(DomainError, match="no more than 2000") as refused:
        Review.write(released_purchase(), BUYER, 5, "x" * 2001, NOW)
    assert refused.value.field == "comment"


# --- the author edits and deletes -------------------------------------------------------------
def test_the_author_edits_the_rating_and_the_comment() -> None:
    review = given()
    assert review.edit(BUYER, NOW, rating=2, comment="Slow to answer") is True
    assert then(review) == [("Edited", {"rating": 2, "comment": "Slow to answer", "at": NOW})]


def test_an_edit_of_one_field_keeps_the_other() -> None:
    review = given()
    review.edit(BUYER, NOW, rating=5)
    assert then(review) == [("Edited", {"rating": 5, "comment": "Fine", "at": NOW})]


def test_an_edit_that_changes_nothing_records_nothing() -> None:
    review = given()
    assert review.edit(BUYER, NOW, rating=4, comment="Fine") is False
    assert review.edit(BUYER, NOW) is False
    assert then(review) == []


@pytest.mark.parametrize("who", [SELLER, STRANGER])
def test_nobody_but_the_author_edits_or_deletes(who: uuid.UUID) -> None:
    review = given()
    with pytest.raises(ReviewNotFound):
        review.edit(who, NOW, rating=1)
    with pytest.raises(ReviewNotFound):
        review.delete(who, NOW)
    assert then(review) == []


@pytest.mark.parametrize("rating", [0, 6])
def test_an_edit_keeps_the_rating_in_bounds(rating: int) -> None:
    review = given()
    with pytest.raises(InvalidRating):
        review.edit(BUYER, NOW, rating=rating)
    assert then(review) == []


def test_the_author_deletes_and_then_it_is_gone_for_everyone() -> None:
    review = given()
    review.delete(BUYER, NOW)
    assert then(review) == [("Deleted", {"at": NOW})]
    gone = given(lambda r: r.delete(BUYER, NOW))
    for attempt in (
        lambda: gone.edit(BUYER, NOW, rating=1),
        lambda: gone.delete(BUYER, NOW),
        lambda: gone.respond(SELLER, "Thanks", NOW),
        lambda: gone.mark_helpful(STRANGER, NOW),
    ):
        with pytest.raises(ReviewNotFound):
            attempt()
    assert then(gone) == []


# --- the seller replies once ------------------------------------------------------------------
def test_the_reviewed_seller_replies_once() -> None:
    review = given()
    review.respond(SELLER, " Thank you! ", NOW)
    assert then(review) == [("Replied", {"reply": "Thank you!", "at": NOW})]
    replied = given(lambda r: r.respond(SELLER, "Thank you!", NOW))
    with pytest.raises(AlreadyReplied, match=r"Reply already exists for this review\."):
        replied.respond(SELLER, "And again", NOW)
    assert then(replied) == []


@pytest.mark.parametrize("who", [BUYER, STRANGER])
def test_nobody_but_the_reviewed_seller_replies(who: uuid.UUID) -> None:
    review = given()
    with pytest.raises(NotTheSeller, match=r"Only the reviewed seller can reply\."):
        review.respond(who, "Hello", NOW)
    assert then(review) == []


@pytest.mark.parametrize("text", ["", "   ", None, "x" * 2001])
def test_a_reply_says_something_in_bounds(text: str | None) -> None:
    review = given()
    with pytest.raises(DomainError) as refused:
        review.respond(SELLER, text, NOW)
    assert refused.value.field == "reply"
    assert then(review) == []


# --- helpful votes ----------------------------------------------------------------------------
def test_helpful_votes_are_counted_once_per_person() -> None:
    review = given(lambda r: r.mark_helpful(STRANGER, NOW))
    assert review.helpful_count == 1
    assert review.mark_helpful(STRANGER, NOW) is False
    assert then(review) == []
    assert review.mark_helpful(SELLER, NOW) is True
    assert then(review) == [("MarkedHelpful", {"by": SELLER, "at": NOW})]
    assert review.helpful_count == 2


def test_the_author_does_not_vote_for_their_own_review() -> None:
    review = given()
    with pytest.raises(OwnReview):
        review.mark_helpful(BUYER, NOW)
    assert then(review) == []


# --- the seller's rating ----------------------------------------------------------------------
def test_a_seller_nobody_reviewed_is_rated_5() -> None:
    assert seller_rating(0, 0, NEW_SELLER_RATING) == 500


def test_a_seller_with_no_review_left_keeps_the_last_rating() -> None:
    assert seller_rating(0, 0, 367) == 367


@pytest.mark.parametrize(
    ("ratings", "cents"),
    [([5], 500), ([4, 5], 450), ([1, 2, 2], 167), ([5, 5, 4], 467), ([1] * 7 + [2], 112)],
)
def test_the_rating_is_the_average_to_two_places(ratings: list[int], cents: int) -> None:
    assert seller_rating(sum(ratings), len(ratings), 500) == cents


@for_all(st.lists(st.integers(1, 5), min_size=1, max_size=300))
def test_the_rating_rounds_half_to_even_as_decimal_arithmetic_does(ratings: list[int]) -> None:
    exact = Decimal(sum(ratings)) / Decimal(len(ratings))
    expected = exact.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    assert seller_rating(sum(ratings), len(ratings), 500) == int(expected * 100)
