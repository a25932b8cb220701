"""Reviews: buyers rate the sellers of their released purchases (CONTRACT §2.10, §3.7).

Who may: an active user who bought a released purchase reviews its seller, once; the author
edits or deletes their review (anyone else is told it does not exist: 404); only the reviewed
seller replies, once (anyone else is refused: 400, as the contract words it); any active user
but the author marks a review helpful, counted once each. A refusal writes nothing.
"""

from __future__ import annotations

from uuid import UUID

from application.actor import Actor, active_user
from application.marketplace import Marketplace
from application.ports import Clock
from domain.escrow import Escrow
from domain.review import (
    NoReviewablePurchase,
    Review,
    ReviewExists,
    ReviewNotFound,
    check_rating,
    review_comment,
    review_reply,
)


class Reviews:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def review(self, review_id: UUID) -> Review:
        """A review that exists (written and not deleted); ReviewNotFound otherwise."""
        review = self.app.find(review_id, Review)
        if review is None:
            raise ReviewNotFound
        review.check_exists()
        return review

    def write_review(
        self, actor: Actor, escrow_id: UUID, rating: int, comment: str | None = None
    ) -> UUID:
        """The buyer's review of a released purchase's seller. A second review of the same
        purchase, even one racing the first, is refused (ReviewExists)."""
        reviewer = active_user(self.app, actor)
        check_rating(rating)  # refused before anything is loaded
        review_comment(comment)

        def command() -> UUID:
            escrow = self.app.find(escrow_id, Escrow)
            if escrow is None:
                raise NoReviewablePurchase
            review = Review.write(escrow, reviewer, rating, comment, self.clock.now())
            if self.app.find(review.id, Review) is not None:
                raise ReviewExists
            self.app.save(review)  # a racing first review wins here; the retry sees it
            return review.id

        return self.app.retrying(command)

    def edit_review(
        self, actor: Actor, review_id: UUID, rating: int | None = None, comment: str | None = None
    ) -> None:
        author = actor.id()
        if rating is not None:
            check_rating(rating)
        if comment is not None:
            review_comment(comment)

        def command() -> None:
            review = self.review(review_id)
            if review.edit(author, self.clock.now(), rating=rating, comment=comment):
                self.app.save(review)

        self.app.retrying(command)

    def delete_review(self, actor: Actor, review_id: UUID) -> None:
        author = actor.id()

        def command() -> None:
            review = self.review(review_id)
            review.delete(author, self.clock.now())
            self.app.save(review)

        self.app.retrying(command)

    def reply_to_review(self, actor: Actor, review_id: UUID, reply: str | None) -> None:
        """The reviewed seller's one reply."""
        seller = active_user(self.app, actor)
        review_reply(reply)

        def command() -> None:
            review = self.review(review_id)
            review.respond(seller, reply, self.clock.now())
            self.app.save(review)

        self.app.retrying(command)

    def mark_helpful(self, actor: Actor, review_id: UUID) -> bool:
        """Count the actor's vote; False when they had voted already (nothing is written)."""
        voter = active_user(self.app, actor)

        def command() -> bool:
            review = self.review(review_id)
            if not review.mark_helpful(voter, self.clock.now()):
                return False
            self.app.save(review)
            return True

        return self.app.retrying(command)
