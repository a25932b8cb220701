"""Hypothesis: whatever reviews are written, edited, deleted, replied to and voted on, by
whoever tries, every user's projected rating and review count equal a recomputation from the
Review events in the log (the average of the reviews left, to two places; the last value when
none is left; 5.00 for a seller never reviewed)."""

from __future__ import annotations

import uuid
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any
from uuid import UUID

from eventsourcing.utils import get_topic
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, initialize, invariant, multiple, rule
from sqlalchemy import select

from application.actor import Actor
from domain.review import Review, review_id
from projections.users import users
from tests.market_machine import MarketMachine

PRICE = 100_000_00
USERS = 4  # users 0 and 1 sell, 2 and 3 buy; anyone may try anything
people = st.integers(0, USERS - 1)
stars = st.sampled_from([1, 2, 3, 4, 5] * 3 + [0, 6])  # 0 and 6 are refused
# Mostly the one whose turn it is (the buyer writes, the author edits, the seller replies):
# None; sometimes anyone, who is then mostly refused.
acting = st.sampled_from([None] * 2 * USERS + list(range(USERS)))
seldom = st.sampled_from([True, False, False])  # a deleted review is gone for good
TOPICS = [get_topic(t) for t in (Review.Written, Review.Edited, Review.Deleted)]


def recomputed(app: Any) -> dict[UUID, tuple[int, int]]:
    """(rating in hundredths, reviews) of every reviewed seller, replayed from the log."""
    left: dict[UUID, tuple[UUID, int]] = {}  # review -> (seller, stars), while not deleted
    rating: dict[UUID, int] = {}
    for notification in app.recorder.select_notifications(start=1, limit=10**9, topics=TOPICS):
        e = app.mapper.to_domain_event(notification)
        if isinstance(e, Review.Written):
            left[e.originator_id] = (e.reviewee_id, e.rating)
            seller = e.reviewee_id
        elif isinstance(e, Review.Edited):
            seller = left[e.originator_id][0]
            left[e.originator_id] = (seller, e.rating)
        else:
            seller = left.pop(e.originator_id)[0]
        kept = [n for s, n in left.values() if s == seller]
        if kept:
            average = Decimal(sum(kept)) / Decimal(len(kept))
            rating[seller] = int(average.quantize(Decimal("0.01"), ROUND_HALF_EVEN) * 100)
    counts = {s: sum(1 for t, _ in left.values() if t == s) for s in rating}
    return {s: (rating[s], counts[s]) for s in rating}


class Reviewing(MarketMachine):
    purchases = Bundle("purchases")
    reviews = Bundle("reviews")

    users_count = USERS

    def __init__(self) -> None:
        super().__init__()
        self.parties: dict[UUID, tuple[UUID, UUID]] = {}  # escrow and review -> buyer, seller

    def _actor(self, who: int | None, subject: UUID, seller: bool = False) -> Actor:
        if who is not None:
            return Actor.user(self.users[who])
        buyer, sold_by = self.parties.get(subject, (self.users[2], self.users[0]))
        return Actor.user(sold_by if seller else buyer)

    def _do(self, command: Any, *args: Any) -> Any:
        return self._attempt(command, *args)[1]

    @initialize(target=purchases)
    def buy_and_release(self) -> Any:
        """Each buyer bought twice from each seller, released; and once more, not released."""
        c = self.container
        bought = []
        with c.read_your_writes():
            for buyer in self.users[2:]:
                c.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 5 * PRICE)
                for n, seller in enumerate([*self.users[:2], *self.users[:2], self.users[0]]):
                    listing = c.listings.create_listing(
                        Actor.user(seller),
                        "pubg-mobile",
                        {"title": "Acc", "description": "D", "price": PRICE},
                    )
                    c.listings.approve_listing(Actor.user(self.staff), listing)
                    escrow = c.escrows.purchase(Actor.user(buyer), listing).id
                    if n < 4:
                        c.escrows.confirm_purchase(Actor.user(buyer), escrow)
                    bought.append(escrow)
                    self.parties[escrow] = self.parties[review_id(escrow)] = (buyer, seller)
        return multiple(*bought)

    @rule(target=reviews, who=acting, escrow=purchases, rating=stars)
    def write(self, who: int | None, escrow: UUID, rating: int) -> Any:
        reviews = self.container.reviews
        self._do(reviews.write_review, self._actor(who, escrow), escrow, rating)
        return review_id(escrow)  # written now, before, or never (then it stays unknown)

    @rule(who=acting, review=reviews, rating=st.none() | stars, comment=st.none() | st.just("e"))
    def edit(self, who: int | None, review: UUID, rating: int | None, comment: str | None) -> None:
        reviews = self.container.reviews
        self._do(reviews.edit_review, self._actor(who, review), review, rating, comment)

    @rule(who=acting, review=reviews, now=seldom)
    def delete(self, who: int | None, review: UUID, now: bool) -> None:
        if now:
            self._do(self.container.reviews.delete_review, self._actor(who, review), review)

    @rule(who=acting, review=reviews)
    def reply(self, who: int | None, review: UUID) -> None:
        reviews = self.container.reviews
        self._do(reviews.reply_to_review, self._actor(who, review, seller=True), review, "Ok")

    @rule(who=people, review=reviews)
    def helpful(self, who: int, review: UUID) -> None:
        self._do(self.container.reviews.mark_helpful, Actor.user(self.users[who]), review)

    @invariant()
    def projected_ratings_equal_a_recomputation_from_the_review_events(self) -> None:
        head = self.app.recorder.max_notification_id() or 0
        assert self.container.board.wait_for(head, 10)
        expected = recomputed(self.app)
        with self.container.store.reader.connect() as conn:
            projected = {
                row.id: (row.rating_cents, row.reviews_count)
                for row in conn.execute(
                    select(users.c.id, users.c.rating_cents, users.c.reviews_count)
                )
            }
        for user, shown in projected.items():
            assert shown == expected.get(user, (500, 0)), user


def test_review_state_machine() -> None:
    Reviewing.run(
        settings(
            max_examples=20,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
    Reviewing.check_each_succeeded(
        ["write_review", "edit_review", "delete_review", "reply_to_review", "mark_helpful"]
    )
