"""The reviews and users projectors hold a batch's writes back, and the users projector reads a
review's stars back to re-rate its seller: any batch size must give the read models that
applying one event at a time gives, and the seller's rating the domain's rule."""

from __future__ import annotations

import uuid

from application.actor import Actor
from domain.review import seller_rating
from projections.reviews import reviews
from projections.users import review_ratings, users
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
PRICE = 100_000_00
TABLES = (users, review_ratings, reviews)


def a_busy_review_history(container: Container) -> tuple[uuid.UUID, uuid.UUID]:
    """Reviews written, edited twice, replied to, voted on and deleted, of two sellers."""
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    sellers = [container.accounts.register(f"s{i}@example.uz", PASSWORD) for i in range(2)]
    buyers = [container.accounts.register(f"b{i}@example.uz", PASSWORD) for i in range(3)]
    escrows = []
    for n, buyer in enumerate(buyers * 2):
        seller = sellers[n % 2]
        container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), PRICE)
        listing = container.listings.create_listing(
            Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": PRICE}
        )
        container.listings.approve_listing(Actor.user(staff), listing)
        escrow = container.escrows.purchase(Actor.user(buyer), listing).id
        container.escrows.confirm_purchase(Actor.user(buyer), escrow)
        escrows.append((buyer, seller, escrow))
    r = container.reviews
    written = [
        r.write_review(Actor.user(buyer), escrow, 1 + n % 5, f"#{n}")
        for n, (buyer, _, escrow) in enumerate(escrows)
    ]
    r.edit_review(Actor.user(escrows[0][0]), written[0], rating=5)
    r.edit_review(Actor.user(escrows[0][0]), written[0], rating=2, comment="changed")
    r.reply_to_review(Actor.user(escrows[1][1]), written[1], "Thanks")
    r.mark_helpful(Actor.user(buyers[1]), written[0])
    r.mark_helpful(Actor.user(sellers[0]), written[0])
    r.edit_review(Actor.user(escrows[2][0]), written[2], rating=4)
    r.delete_review(Actor.user(escrows[2][0]), written[2])
    r.delete_review(Actor.user(escrows[4][0]), written[4])
    return sellers[0], sellers[1]


def test_any_batch_size_projects_reviews_and_ratings_as_one_event_at_a_time(
    idle_container: Container,
) -> None:
    a_busy_review_history(idle_container)
    expected = one_event_at_a_time(idle_container, TABLES)
    assert len(expected["reviews"]) == 6
    assert_every_batch_size_agrees(idle_container, ["users", "reviews"], TABLES, expected)


def test_a_sellers_rating_is_the_average_of_the_reviews_left(idle_container: Container) -> None:
    first, second = a_busy_review_history(idle_container)
    idle_container.runners[0].catch_up()
    with idle_container.store.engine.connect() as conn:
        rated = {
            row.id: (row.rating_cents, row.reviews_count)
            for row in conn.execute(users.select().where(users.c.id.in_([first, second])))
        }
    # first: reviews #0 (1 -> 5 -> 2), #2 (3 -> 4, deleted), #4 (5, deleted): only #0 is left
    # second: reviews #1 (2), #3 (4), #5 (1)
    assert rated[first] == (seller_rating(2, 1, 500), 1) == (200, 1)
    assert rated[second] == (seller_rating(7, 3, 500), 3) == (233, 3)
