"""The auditor compares each money read model with its replay at that read model's own
position: one being rebuilt (behind the others) is compared where it stands, not flagged."""

from __future__ import annotations

import uuid

from sqlalchemy import update

from application.actor import Actor
from projections.audit import run_audit
from projections.escrows import escrows
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
UZS = 100


def a_sale(container: Container) -> uuid.UUID:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 500_000 * UZS)
    listing = container.listings.create_listing(
        Actor.user(seller),
        "pubg-mobile",
        {"title": "Acc", "description": "D", "price": 100_000 * UZS},
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    escrow = container.escrows.purchase(Actor.user(buyer), listing)
    container.escrows.confirm_purchase(Actor.user(buyer), escrow.id)
    return escrow.id


def audit(container: Container) -> list[str]:
    return run_audit(container.app.recorder, container.app.mapper, container.store).differences


def test_a_read_model_rebuilt_from_zero_is_compared_at_its_own_position(
    idle_container: Container,
) -> None:
    a_sale(idle_container)
    runner = idle_container.runners[0]
    runner.catch_up()
    assert audit(idle_container) == []
    runner.rebuild_schema(["escrows"])  # empty, at position 0; the others at the head
    assert audit(idle_container) == []
    runner.catch_up()
    assert audit(idle_container) == []


def test_an_escrow_row_that_disagrees_with_the_replay_is_reported(
    idle_container: Container,
) -> None:
    escrow = a_sale(idle_container)
    idle_container.runners[0].catch_up()
    with idle_container.store.engine.begin() as conn:
        conn.execute(update(escrows).where(escrows.c.id == escrow).values(commission=1))
    assert [d.split(":")[0] for d in audit(idle_container)] == [f"escrow {escrow}"]
