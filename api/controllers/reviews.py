"""CONTRACT §2.10 reviews: buyers review the sellers of their released purchases; the author
edits or deletes, the seller replies once, readers mark reviews helpful; anyone reads a
review and a seller's reviews. (A listing's reviews are served with the listing,
api/controllers/listings.py.)

Who may do what is the application's to decide (application/reviews.py); the answers read the
reviews read model once the command's events are in it (202 Accepted when they are not)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, delete, get, post, put
from litestar.params import FromPath, JSONBody
from sqlalchemy import Engine, Row

from api.accepted import ACCEPTED, unless_caught_up
from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.errors import ApiError
from api.money_schemas import Envelope
from api.pagination import PAGING_DOC, Page, Paging, Window, page_of
from api.query import query_of
from api.review_schemas import (
    EditReviewBody,
    ReplyBody,
    Review,
    WriteReviewBody,
    review_from_row,
)
from api.schemas import Message
from application.actor import Actor
from application.reviews import Reviews
from projections import reviews as review_views
from projections.users import active_user_row

Req = Request[Any, Any, Any]
SIGNED_IN = [signed_in]


def review_location(review_id: UUID) -> str:
    return f"/api/v1/reviews/{review_id}/"


def shown_review(request: Req, reader: Engine, review_id: UUID) -> Review:
    with reader.connect() as conn:
        row = review_views.review(conn, review_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Review not found.")
    return review_from_row(row, str(request.base_url))


def review_page(request: Req, w: Window, total: int, rows: list[Row[Any]]) -> Page[Review]:
    base = str(request.base_url)
    return page_of(request, w, total, [review_from_row(r, base) for r in rows])


class ReviewsController(Controller):
    path = "/api/v1/reviews"
    tags = ["reviews"]

    @post(
        "/",
        status_code=201,
        operation_id="write_review",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def write(
        self,
        request: Req,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[WriteReviewBody],
    ) -> Envelope[Review]:
        with read_your_writes() as written:
            review_id = reviews.write_review(actor, data.escrow_id, data.stars(), data.comment)
        message = "Review submitted successfully."
        unless_caught_up(written, review_location(review_id), message, id=review_id)
        return Envelope(
            success=True, message=message, data=shown_review(request, reader, review_id)
        )

    @get("/{review_id:uuid}/", operation_id="review", sync_to_thread=True)
    def review(
        self,
        request: Req,
        optional_caller: Inject[Caller | None],
        reader: Inject[Engine],
        review_id: FromPath[UUID],
    ) -> Review:
        return shown_review(request, reader, review_id)

    @get(
        "/user/{user_id:uuid}/",
        operation_id="user_reviews",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
    )
    def of_user(
        self,
        request: Req,
        optional_caller: Inject[Caller | None],
        reader: Inject[Engine],
        user_id: FromPath[UUID],
    ) -> Page[Review]:
        """The reviews a user received as a seller, newest first."""
        w = query_of(request, Paging).window()
        with reader.connect() as conn:
            if active_user_row(conn, user_id) is None:
                raise ApiError(404, "NOT_FOUND", "User not found.")
            total, rows = review_views.reviews_of_seller(conn, user_id, w.offset, w.limit)
        return review_page(request, w, total, rows)

    @put(
        "/{review_id:uuid}/",
        operation_id="edit_review",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def edit(
        self,
        request: Req,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        review_id: FromPath[UUID],
        data: JSONBody[EditReviewBody],
    ) -> Envelope[Review]:
        with read_your_writes() as written:
            reviews.edit_review(actor, review_id, **data.changes())
        unless_caught_up(written, review_location(review_id), "Review updated.", id=review_id)
        return Envelope(success=True, data=shown_review(request, reader, review_id))

    @delete(
        "/{review_id:uuid}/",
        status_code=200,
        operation_id="delete_review",
        guards=SIGNED_IN,
        sync_to_thread=True,
    )
    def remove(
        self,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        review_id: FromPath[UUID],
    ) -> Message:
        with read_your_writes():
            reviews.delete_review(actor, review_id)
        return Message(success=True, message="Review deleted.")

    @post(
        "/{review_id:uuid}/reply/",
        status_code=200,
        operation_id="reply_to_review",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def reply(
        self,
        request: Req,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        review_id: FromPath[UUID],
        data: JSONBody[ReplyBody],
    ) -> Envelope[Review]:
        return self._reply(request, actor, reviews, read_your_writes, reader, review_id, data)

    @post(
        "/{review_id:uuid}/response/",
        status_code=200,
        operation_id="respond_to_review",
        guards=SIGNED_IN,
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def response(
        self,
        request: Req,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        review_id: FromPath[UUID],
        data: JSONBody[ReplyBody],
    ) -> Envelope[Review]:
        """The same as ``reply/`` (the seed's name for it)."""
        return self._reply(request, actor, reviews, read_your_writes, reader, review_id, data)

    @staticmethod
    def _reply(
        request: Req,
        actor: Actor,
        reviews: Reviews,
        read_your_writes: ReadYourWrites,
        reader: Engine,
        review_id: UUID,
        data: ReplyBody,
    ) -> Envelope[Review]:
        with read_your_writes() as written:
            reviews.reply_to_review(actor, review_id, data.text())
        message = "Reply added."
        unless_caught_up(written, review_location(review_id), message, id=review_id)
        return Envelope(
            success=True, message=message, data=shown_review(request, reader, review_id)
        )

    @post(
        "/{review_id:uuid}/helpful/",
        status_code=200,
        operation_id="mark_review_helpful",
        guards=SIGNED_IN,
        sync_to_thread=True,
    )
    def helpful(
        self,
        actor: Inject[Actor],
        reviews: Inject[Reviews],
        read_your_writes: Inject[ReadYourWrites],
        review_id: FromPath[UUID],
    ) -> Message:
        with read_your_writes():
            reviews.mark_helpful(actor, review_id)
        return Message(success=True, message="Marked as helpful.")
