"""The Review aggregate: what the buyer of a released purchase says about its seller.

    (released escrow) --buyer writes--> written --author edits--> written
                                          |  \\--seller replies (once)
                                          |   \\-anyone else marks helpful (once each)
                                          +--author deletes--> deleted (gone for everyone)

One review per escrow: its id follows from the escrow's, so a second review of the same
purchase, however it races the first, collides with it in the event store. A seller's rating
is the average of the reviews they have, to two places; with none left it keeps its last value
(``seller_rating``, the one home of that rule, which the users read model applies).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound
from domain.escrow import Escrow

NAMESPACE = uuid.UUID("0b7c54f1-3a8e-4c1d-9f26-7e5a1d2c8b43")
MIN_RATING, MAX_RATING = 1, 5
MAX_COMMENT = 2000
MAX_REPLY = 2000
NEW_SELLER_RATING = 500  # hundredths: a seller nobody has reviewed shows "5.00"


def review_id(escrow_id: UUID) -> UUID:
    """The one review an escrow can have."""
    return uuid.uuid5(NAMESPACE, f"review:{escrow_id}")


def check_rating(rating: int) -> int:
    """A rating is a whole number of stars, 1 to 5 (a bool is not one)."""
    if isinstance(rating, bool) or not isinstance(rating, int):
        raise InvalidRating
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidRating
    return rating


def review_comment(comment: str | None) -> str:
    """A comment is optional; it is kept trimmed and at most MAX_COMMENT characters."""
    text = (comment or "").strip()
    if len(text) > MAX_COMMENT:
        raise DomainError(
            f"Ensure this field has no more than {MAX_COMMENT} characters.", field="comment"
        )
    return text


def review_reply(reply: str | None) -> str:
    """A seller's reply says something, in at most MAX_REPLY characters."""
    text = (reply or "").strip()
    if not text:
        raise DomainError("Reply is required.", field="reply")
    if len(text) > MAX_REPLY:
        raise DomainError(
            f"Ensure this field has no more than {MAX_REPLY} characters.", field="reply"
        )
    return text


def seller_rating(total: int, count: int, last: int) -> int:
    """A seller's rating in hundredths: the average of ``count`` reviews whose stars add up to
    ``total``, to two places (half to even, as the previous backend's ``round`` did); with no
    review left it keeps its ``last`` value (CONTRACT §3.7)."""
    if count <= 0:
        return last
    quotient, remainder = divmod(total * 100, count)
    if 2 * remainder > count or (2 * remainder == count and quotient % 2 == 1):
        quotient += 1
    return quotient


def check_reviewable(escrow: Escrow, by: UUID) -> None:
    """Only the buyer of a released purchase reviews it; to anyone else, and before the money
    reached the seller, there is no such transaction to review."""
    if escrow.buyer_id != by or escrow.status != "confirmed":
        raise NoReviewablePurchase


class Review(Aggregate):
    class Written(Aggregate.Created):
        escrow_id: UUID
        listing_id: UUID
        reviewer_id: UUID
        reviewee_id: UUID
        rating: int
        comment: str
        at: datetime

    class Edited(Aggregate.Event):
        rating: int
        comment: str
        at: datetime

    class Deleted(Aggregate.Event):
        at: datetime

    class Replied(Aggregate.Event):
        reply: str
        at: datetime

    class MarkedHelpful(Aggregate.Event):
        by: UUID
        at: datetime

    @staticmethod
    def create_id(escrow_id: UUID, **_: Any) -> UUID:
        return review_id(escrow_id)

    @event(Written)
    def __init__(
        self,
        escrow_id: UUID,
        listing_id: UUID,
        reviewer_id: UUID,
        reviewee_id: UUID,
        rating: int,
        comment: str,
        at: datetime,
    ) -> None:
        self.escrow_id = escrow_id
        self.listing_id = listing_id
        self.reviewer_id = reviewer_id
        self.reviewee_id = reviewee_id
        self.rating = rating
        self.comment = comment
        self.reply: str | None = None
        self.helpful: set[UUID] = set()
        self.is_deleted = False

    @classmethod
    def write(
        cls, escrow: Escrow, by: UUID, rating: int, comment: str | None, at: datetime
    ) -> Review:
        """The buyer's review of a released purchase's seller."""
        check_reviewable(escrow, by)
        return cls(
            escrow_id=escrow.id,
            listing_id=escrow.listing_id,
            reviewer_id=by,
            reviewee_id=escrow.seller_id,
            rating=check_rating(rating),
            comment=review_comment(comment),
            at=at,
        )

    @property
    def helpful_count(self) -> int:
        return len(self.helpful)

    # --- rules ---------------------------------------------------------------------------
    def check_exists(self) -> None:
        if self.is_deleted:
            raise ReviewNotFound

    def check_author(self, user_id: UUID) -> None:
        """The author's own review; anyone else's is answered as if it did not exist."""
        self.check_exists()
        if user_id != self.reviewer_id:
            raise ReviewNotFound

    # --- the author ----------------------------------------------------------------------
    def edit(
        self, by: UUID, at: datetime, rating: int | None = None, comment: str | None = None
    ) -> bool:
        """Change the rating and/or the comment; False (and no event) when nothing changes."""
        new_rating = self.rating if rating is None else check_rating(rating)
        new_comment = self.comment if comment is None else review_comment(comment)
        self.check_author(by)
        if (new_rating, new_comment) == (self.rating, self.comment):
            return False
        self._edited(new_rating, new_comment, at)
        return True

    @event(Edited)
    def _edited(self, rating: int, comment: str, at: datetime) -> None:
        self.rating = rating
        self.comment = comment

    def delete(self, by: UUID, at: datetime) -> None:
        self.check_author(by)
        self._deleted(at)

    @event(Deleted)
    def _deleted(self, at: datetime) -> None:
        self.is_deleted = True

    # --- the seller ----------------------------------------------------------------------
    def respond(self, by: UUID, reply: str | None, at: datetime) -> None:
        """The reviewed seller's one reply."""
        text = review_reply(reply)
        self.check_exists()
        if by != self.reviewee_id:
            raise NotTheSeller
        if self.reply is not None:
            raise AlreadyReplied
        self._replied(text, at)

    @event(Replied)
    def _replied(self, reply: str, at: datetime) -> None:
        self.reply = reply

    # --- other readers -------------------------------------------------------------------
    def mark_helpful(self, by: UUID, at: datetime) -> bool:
        """Someone other than its author found it helpful; counted once per person (False,
        and no event, the second time)."""
        self.check_exists()
        if by == self.reviewer_id:
            raise OwnReview
        if by in self.helpful:
            return False
        self._marked_helpful(by, at)
        return True

    @event(MarkedHelpful)
    def _marked_helpful(self, by: UUID, at: datetime) -> None:
        self.helpful.add(by)


class InvalidRating(DomainError):
    def __init__(self) -> None:
        super().__init__("Rating must be between 1 and 5.", field="rating")


class NoReviewablePurchase(NotFound):
    """Someone else's purchase, or one not released to the seller (yet, or ever)."""

    def __init__(self) -> None:
        super().__init__("Transaction not found or not completed.")


class ReviewExists(DomainError):
    def __init__(self) -> None:
        super().__init__("Review already exists for this transaction.")


class ReviewNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("Review not found.")


class NotTheSeller(DomainError):
    def __init__(self) -> None:
        super().__init__("Only the reviewed seller can reply.")


class AlreadyReplied(DomainError):
    def __init__(self) -> None:
        super().__init__("Reply already exists for this review.")


class OwnReview(DomainError):
    def __init__(self) -> None:
        super().__init__("You cannot mark your own review as helpful.")
