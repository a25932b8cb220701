"""Each business rule is written once, in the domain; where a read model, a query or a schema
needs it, these tests hold the copy to the rule."""

from __future__ import annotations

import uuid

from api.bootstrap import Container
from api.seed import seed_games
from domain.escrow import Escrow, seller_earnings
from projections import escrows as escrow_views

PASSWORD = "Sup3r-Secret!"


def test_the_escrows_read_model_keeps_the_seller_earnings_the_domain_computes(
    container: Container,
) -> None:
    app = container.app
    seed_games(app)
    staff = app.create_user("staff@example.uz", PASSWORD, staff=True)
    seller = app.register("seller@example.uz", PASSWORD)
    buyer = app.register("buyer@example.uz", PASSWORD)
    app.credit_deposit(buyer, uuid.uuid4(), 10_000_000)
    listing = app.create_listing(
        seller, "pubg-mobile", {"title": "Acc", "description": "D", "price": 123_457}
    )
    app.approve_listing(staff, listing)
    with container.read_your_writes():
        escrow = app.purchase(buyer, listing)
        app.confirm_purchase(buyer, escrow.id)
    saved: object = app.repository.get(escrow.id)
    assert isinstance(saved, Escrow)
    with container.store.reader.connect() as conn:
        row = escrow_views.escrow(conn, escrow.id)
        sales = escrow_views.seller_sales(conn, seller)
    assert row is not None
    assert row.seller_earnings == saved.seller_earnings == seller_earnings(123_457, row.commission)
    assert sales == (1, saved.seller_earnings)
