"""Bans and staff powers: only active staff (or the platform) ban, unban, grant and revoke; a
ban takes a seller's listings out of the catalogue and out of sale at once, leaves their open
escrows to staff, and every such action is in the staff audit log with who did it."""

from __future__ import annotations

import uuid
from uuid import UUID

import pytest
from sqlalchemy import select

from application.actor import Actor, NotAllowed
from domain.errors import NotFound
from domain.user import CannotBanYourself, CannotChangeOwnStaff
from projections.listings import queries as listing_views
from projections.listings.tables import listings
from projections.staff_actions import audit_log
from tests.application.test_money_authorization import (
    OPERATOR,
    PRICE,
    SEED,
    Market,
    market,
    not_staff,
    refused_to,
)
from wibestore.container import Container

__all__ = ["market"]


def caught_up(container: Container) -> None:
    head = container.app.recorder.max_notification_id() or 0
    assert container.board.wait_for(head, 5.0)


def statuses(container: Container, seller: UUID) -> list[str]:
    caught_up(container)
    with container.store.reader.connect() as conn:
        rows = conn.execute(select(listings.c.status).where(listings.c.seller_id == seller))
        return sorted(rows.scalars())


def catalogue_ids(container: Container) -> set[UUID]:
    caught_up(container)
    with container.store.reader.connect() as conn:
        _, rows = listing_views.search(conn, listing_views.ListingFilter(), 0, 100)
    return {row.id for row in rows}


def new_listing(container: Container, m: Market, title: str) -> UUID:
    made = container.listings.create_listing(
        Actor.user(m.seller), "pubg-mobile", {"title": title, "description": "D", "price": PRICE}
    )
    container.listings.approve_listing(Actor.user(m.staff), made)
    return made


def test_only_active_staff_or_the_platform_ban_unban_and_change_staff(
    container: Container, market: Market
) -> None:
    m = market
    refused_to(
        container,
        not_staff(m)[:-1],  # the timer is the platform: the platform may
        NotAllowed,
        [
            lambda a: container.accounts.ban(a, m.stranger, "x"),
            lambda a: container.accounts.unban(a, m.banned),
            lambda a: container.accounts.set_staff(a, m.stranger, True),
            lambda a: container.accounts.set_staff(a, m.staff, False),
        ],
    )
    refused_to(
        container,
        [Actor.user(m.staff)],
        NotFound,
        [lambda a: container.accounts.ban(a, uuid.uuid4(), "nobody")],
    )
    refused_to(
        container,
        [Actor.user(m.staff)],
        CannotBanYourself,
        [lambda a: container.accounts.ban(a, m.staff, "me")],
    )
    refused_to(
        container,
        [Actor.user(m.staff)],
        CannotChangeOwnStaff,
        [lambda a: container.accounts.set_staff(a, m.staff, False)],
    )


def test_a_banned_sellers_listings_leave_the_catalogue_and_come_back_on_unban(
    container: Container, market: Market
) -> None:
    m = market
    on_sale = new_listing(container, m, "On sale")
    assert statuses(container, m.seller) == ["active", "reserved", "reserved"]
    assert on_sale in catalogue_ids(container)
    container.accounts.ban(Actor.user(m.staff), m.seller, "fraud")
    assert statuses(container, m.seller) == ["blocked", "reserved", "reserved"]
    assert on_sale not in catalogue_ids(container)
    with pytest.raises(NotFound):  # and not for sale, whatever the read model says
        container.escrows.purchase(Actor.user(m.stranger), on_sale)
    # Approved while the seller is banned: blocked too.
    container.accounts.unban(Actor.user(m.staff), m.seller)
    pending = container.listings.create_listing(
        Actor.user(m.seller), "pubg-mobile", {"title": "Later", "description": "D", "price": PRICE}
    )
    container.accounts.ban(Actor.user(m.staff), m.seller, "fraud again")
    container.listings.approve_listing(Actor.user(m.staff), pending)
    assert statuses(container, m.seller) == ["blocked", "blocked", "reserved", "reserved"]
    container.accounts.unban(OPERATOR, m.seller)
    assert statuses(container, m.seller) == ["active", "active", "reserved", "reserved"]
    assert {on_sale, pending} <= catalogue_ids(container)


def test_a_ban_leaves_open_escrows_to_staff(container: Container, market: Market) -> None:
    m = market
    container.accounts.ban(Actor.user(m.staff), m.seller, "fraud")
    state = container.escrows.resolve_dispute(Actor.user(m.staff), m.disputed, "refund", "Banned")
    assert state.status == "refunded"


def test_the_audit_log_names_who_acted(container: Container, market: Market) -> None:
    m = market
    container.payments.credit_deposit(SEED, m.stranger, uuid.uuid4(), PRICE)
    container.accounts.ban(Actor.user(m.staff), m.stranger, "spam")
    container.accounts.unban(Actor.user(m.staff), m.stranger)
    container.accounts.set_staff(Actor.user(m.staff), m.stranger, True)
    container.escrows.resolve_dispute(Actor.user(m.staff), m.disputed, "release", "Fine")
    container.payments.reject_withdrawal(Actor.user(m.staff), m.seller, m.withdrawal, "No card")
    caught_up(container)
    with container.store.reader.connect() as conn:
        total, rows = audit_log(conn, 0, 50)
    actions = [(r.action, r.staff_id, r.target_id) for r in rows]
    assert ("user.banned", m.staff, m.stranger) in actions
    assert ("user.unbanned", m.staff, m.stranger) in actions
    assert ("user.staff_granted", m.staff, m.stranger) in actions
    assert ("dispute.released", m.staff, m.disputed) in actions
    assert any(a == "withdrawal.rejected" and s == m.staff for a, s, _ in actions)
    approvals = [r for r in rows if r.action == "listing.approved"]
    assert len(approvals) == 2 and {r.staff_email for r in approvals} == {"staff@example.uz"}
    assert total == len(rows)
    assert [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
