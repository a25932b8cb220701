"""Wire schemas of reviews (CONTRACT §2.0 Review, §2.10): request bodies, bounded by the
domain's limits, and the Review built from a row of the reviews read model."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.errors import ApiError
from api.schemas import Body, UserPublic, iso, public_user_from_row
from domain.review import MAX_COMMENT, MAX_REPLY

# A rating is a JSON integer; the domain checks it is 1 to 5 ("Rating must be between 1 and
# 5."). Litestar converts bodies laxly, which would take "5" for 5: a string (or null) is let
# through as it came and refused by ``stars``, in the words a form expects.
Rating = Annotated[
    int | str | None, Meta(description="Stars, 1 to 5, as a JSON integer (not a string).")
]
Comment = Annotated[str, Meta(max_length=MAX_COMMENT)]
ReplyText = Annotated[str, Meta(max_length=MAX_REPLY)]


def stars(rating: int | str | None) -> int:
    """The rating sent, if it is an integer (the domain checks its range)."""
    if rating is None:
        raise _rating_error("This field may not be null.")
    if isinstance(rating, str):
        raise _rating_error("A valid integer is required.")
    return rating


def _rating_error(message: str) -> ApiError:
    return ApiError(400, "INVALID", f"rating: {message}", {"rating": [message]})


class WriteReviewBody(Body):
    escrow_id: UUID
    rating: Rating
    comment: Comment | None = None

    def stars(self) -> int:
        return stars(self.rating)


class EditReviewBody(Body):
    rating: Rating | UnsetType = UNSET
    comment: Comment | UnsetType | None = UNSET

    def changes(self) -> dict[str, Any]:
        """What the author sent: a rating, a comment (null clears it), or both."""
        out: dict[str, Any] = {}
        if self.rating is not UNSET:
            out["rating"] = stars(self.rating)
        if self.comment is not UNSET:
            out["comment"] = self.comment or ""
        return out


class ReplyBody(Body):
    """The seller's reply: ``reply`` (what the frontend sends), or ``response`` (the word of
    the ``/response/`` alias)."""

    reply: ReplyText | UnsetType = UNSET
    response: ReplyText | UnsetType = UNSET

    def text(self) -> str:
        if self.reply is not UNSET:
            return self.reply
        return self.response if self.response is not UNSET else ""


class Review(msgspec.Struct):
    id: UUID
    reviewer: UserPublic
    reviewee: UserPublic
    listing: UUID | None
    escrow: UUID | None
    rating: int
    comment: str
    is_moderated: bool
    reply: str
    reply_at: str | None
    created_at: str
    helpful_count: int  # beyond the contract: helpful votes are counted, once per user


def review_from_row(row: Any, base_url: str) -> Review:
    """A Review from a row of ``projections.reviews`` queries (both parties' columns labelled
    ``reviewer_*`` and ``reviewee_*``)."""
    return Review(
        id=row.id,
        reviewer=public_user_from_row(row, base_url, prefix="reviewer_"),
        reviewee=public_user_from_row(row, base_url, prefix="reviewee_"),
        listing=row.listing_id,
        escrow=row.escrow_id,
        rating=row.rating,
        comment=row.comment,
        is_moderated=row.is_moderated,
        reply=row.reply,
        reply_at=iso(row.reply_at),
        created_at=iso(row.created_at) or "",
        helpful_count=row.helpful_count,
    )
