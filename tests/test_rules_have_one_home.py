"""Each business rule is written once, in the domain; where a read model, a query or a schema
needs it, these tests hold the copy to the rule."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

import msgspec
from sqlalchemy import select

from api.listing_schemas import ListingFields, LoginMethod
from application.actor import Actor
from domain.escrow import Escrow, seller_earnings
from domain.listing import EDITABLE, LOGIN_METHODS
from domain.subscription import PLANS_BY_SLUG, Membership, counts_at, is_due
from domain.user import display_name
from projections import escrows as escrow_views
from projections import subscriptions as subscription_views
from projections.listings import listing_sellers, listings
from projections.listings import queries as listing_views
from projections.users import user_row
from tests.images import encoded
from tests.ledger import settled
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"


def test_the_escrows_read_model_keeps_the_seller_earnings_the_domain_computes(
    container: Container,
) -> None:
    app = container.app
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 10_000_000)
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": 123_457}
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    with container.read_your_writes():
        escrow = container.escrows.purchase(Actor.user(buyer), listing)
        container.escrows.confirm_purchase(Actor.user(buyer), escrow.id)
    saved: object = app.repository.get(escrow.id)
    assert isinstance(saved, Escrow)
    with container.store.reader.connect() as conn:
        row = escrow_views.escrow(conn, escrow.id)
        sales = escrow_views.seller_sales(conn, seller)
    assert row is not None
    assert row.seller_earnings == saved.seller_earnings == seller_earnings(123_457, row.commission)
    assert sales == (1, saved.seller_earnings)


def test_listings_find_a_seller_by_the_display_name_the_domain_gives_as_the_profile_changes(
    container: Container,
) -> None:
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("boss@example.uz", PASSWORD, full_name="Ann Lee")
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": 100_000}
    )
    container.listings.approve_listing(Actor.user(staff), listing)

    def shown_and_found() -> tuple[str, list[str]]:
        settled(container)
        with container.store.reader.connect() as conn:
            user: Any = user_row(conn, seller)
            kept = conn.execute(
                select(listing_sellers.c.name).where(listing_sellers.c.user_id == seller)
            ).scalar_one()
            found = [
                term
                for term in ("ann lee", "zed", "boss")
                if listing_views.search(conn, listing_views.ListingFilter(search=term), 0, 5)[0]
            ]
        shown = display_name(user.full_name, user.username, user.email)
        assert kept == shown
        return shown, found

    assert shown_and_found() == ("Ann Lee", ["ann lee"])
    container.accounts.update_profile(
        Actor.user(seller), {"username": "zed"}
    )  # the full name still shows
    assert shown_and_found() == ("Ann Lee", ["ann lee"])
    container.accounts.update_profile(Actor.user(seller), {"full_name": ""})
    assert shown_and_found() == ("zed", ["zed"])
    container.accounts.update_profile(Actor.user(seller), {"username": ""})
    assert shown_and_found() == ("boss", ["boss"])


def test_the_listings_read_model_promotes_the_primary_image_as_the_listing_does(
    container: Container,
) -> None:
    seed_games(container.catalogue)
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Acc", "description": "D", "price": 100_000}
    )
    container.listings.attach_listing_images(
        Actor.user(seller), listing, [encoded("PNG") for _ in range(3)]
    )

    def images() -> tuple[list[dict[str, Any]], str | None]:
        settled(container)
        with container.store.reader.connect() as conn:
            row = conn.execute(
                select(listings.c.images, listings.c.primary_image).where(listings.c.id == listing)
            ).one()
        assert row.images == container.listings.listing(listing).images
        return row.images, row.primary_image

    first, second, third = images()[0]
    assert images()[1] == first["url"]
    container.listings.remove_listing_image(
        Actor.user(seller), listing, second["id"]
    )  # not the primary: nothing moves
    assert images()[1] == first["url"]
    container.listings.remove_listing_image(
        Actor.user(seller), listing, first["id"]
    )  # the primary: the next one is
    kept, primary = images()
    assert [(i["id"], i["is_primary"]) for i in kept] == [(third["id"], True)]
    assert primary == third["url"]


def test_the_listing_schema_writes_every_field_the_domain_lets_a_seller_edit() -> None:
    body = msgspec.convert(
        {
            "game_id": "pubg-mobile",
            "title": "Acc",
            "description": "D",
            "price": "100.00",
            "original_price": "150.00",
            "warranty_days": 7,
            "sale_percent": 10,
            "sale_ends_at": "2030-01-01T00:00:00Z",
            "login_method": "google",
            "level": "80",
            "rank": "Ace",
            "skins_count": 12,
            "features": ["M416 Glacier"],
            "account_email": "acc@game.uz",
            "account_password": "hunter2",
            "account_additional_info": {"server": "EU"},
            "weapon_type": "AR",
        },
        ListingFields,
    )
    written = set(body.changes())
    if body.game_ref() is not None:  # the application finds the game and sets game_id
        written.add("game_id")
    if body.credentials():  # the application seals them
        written.add("sealed_credentials")
    assert written == EDITABLE


def test_the_schema_accepts_the_login_methods_the_domain_does() -> None:
    assert set(get_args(LoginMethod)) == LOGIN_METHODS


NOW = datetime(2030, 1, 1, 12, tzinfo=UTC)


def test_a_renewing_subscription_counts_past_its_end_date_until_the_timer_renews_it() -> None:
    membership = Membership(user_id=uuid.uuid4())
    membership.subscribe(uuid.uuid4(), PLANS_BY_SLUG["pro"], "monthly", NOW)
    after_the_end = NOW + timedelta(days=30, minutes=5)
    assert membership.is_due(after_the_end)
    assert membership.plan_at(after_the_end) == "pro"
    membership.cancel("", NOW + timedelta(days=1))
    assert membership.plan_at(after_the_end) == "free"


def test_the_subscriptions_queries_count_and_find_due_what_the_domain_rules_do(
    container: Container,
) -> None:
    table = subscription_views.subscriptions
    cases = {
        uuid.uuid4(): (status, NOW + offset)
        for status in ("active", "cancelled", "expired")
        for offset in (
            -timedelta(days=1),
            -timedelta(seconds=1),
            timedelta(0),
            timedelta(seconds=1),
            timedelta(days=1),
        )
    }
    with container.store.writing() as conn:
        conn.execute(
            table.insert(),
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": user,
                    "plan": "pro",
                    "period": "monthly",
                    "status": status,
                    "start_date": end - timedelta(days=30),
                    "end_date": end,
                    "auto_renew": "y",
                    "cancel_reason": "",
                    "payment_history": [],
                    "created_at": end - timedelta(days=30),
                }
                for user, (status, end) in cases.items()
            ],
        )
    with container.store.reader.connect() as conn:
        counted = {
            user: subscription_views.current_subscription(conn, user, NOW) is not None
            for user in cases
        }
        due = set(subscription_views.due_members(conn, NOW))
    assert counted == {user: counts_at(status, end, NOW) for user, (status, end) in cases.items()}
    assert due == {user for user, (status, end) in cases.items() if is_due(status, end, NOW)}
    assert any(counted.values()) and due  # the cases reach both sides of each rule
