"""The reports read model: any batch size projects what one event at a time does; its queries
list a reporter's reports newest first and staff's queue oldest first, each page with the
reporter and the listing's title joined in, in one query. And the listings read model marks a
listing under review while enough different users have pending reports of it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select

from application.actor import Actor
from domain.report import HIDE_AFTER_REPORTERS
from projections import reports as report_views
from projections.listings import listing_reports, listings
from tests.conftest import FixedClock
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
OPERATOR = Actor.platform("operator")


def some_reports(container: Container, clock: FixedClock) -> dict[str, uuid.UUID]:
    """Five reports by two users, filed a minute apart; two closed by staff."""
    seed_games(container.catalogue)
    accounts = container.accounts
    staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
    seller = accounts.register("seller@example.uz", PASSWORD)
    ann = accounts.register("ann@example.uz", PASSWORD)
    bob = accounts.register("bob@example.uz", PASSWORD)
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Conqueror", "description": "D", "price": 100}
    )
    reports = container.reports
    made = {"staff": staff, "seller": seller, "ann": ann, "bob": bob, "listing": listing}
    for name, reporter, target in (
        ("first", ann, {"listing_id": listing}),
        ("second", bob, {"listing_id": listing, "user_id": seller}),
        ("third", ann, {"user_id": seller}),
        ("fourth", bob, {"user_id": ann}),
        ("fifth", ann, {"listing_id": listing}),
    ):
        clock.advance(minutes=1)
        made[name] = reports.file_report(Actor.user(reporter), "scam", name, **target).id
    clock.advance(minutes=1)
    reports.resolve_report(Actor.user(staff), made["second"], resolved=True, note="Banned")
    reports.resolve_report(Actor.user(staff), made["fourth"], resolved=False)
    return made


def test_any_batch_size_projects_what_one_event_at_a_time_does(
    idle_container: Container, clock: FixedClock
) -> None:
    some_reports(idle_container, clock)
    one_at_a_time = one_event_at_a_time(idle_container, [report_views.reports])
    statuses = sorted(row[6] for row in one_at_a_time["reports"])
    assert statuses == ["dismissed", "pending", "pending", "pending", "resolved"]
    assert_every_batch_size_agrees(
        idle_container, ["reports"], [report_views.reports], one_at_a_time
    )


def test_a_reporter_sees_their_reports_newest_first_and_staff_the_pending_oldest_first(
    container: Container, clock: FixedClock
) -> None:
    with container.read_your_writes():
        made = some_reports(container, clock)
    by_id = {v: k for k, v in made.items()}
    with container.store.reader.connect() as conn:
        total, mine = report_views.reports_by(conn, made["ann"], 0, 2)
        _, queue = report_views.pending_reports(conn, 0, 20)
        every, _ = report_views.all_reports(conn, 0, 20)
        closed, resolved = report_views.all_reports(conn, 0, 20, status="resolved")
        row = report_views.report(conn, made["second"])
    assert (total, [by_id[r.id] for r in mine]) == (3, ["fifth", "third"])
    assert [by_id[r.id] for r in queue] == ["first", "third", "fifth"]
    assert (every, closed, [by_id[r.id] for r in resolved]) == (5, 1, ["second"])
    assert row is not None
    assert (row.reporter_email, row.reported_listing_title) == ("bob@example.uz", "Conqueror")
    assert (row.status, row.resolution_note, row.resolved_by) == (
        "resolved",
        "Banned",
        made["staff"],
    )
    assert [r.reported_listing_title for r in queue] == ["Conqueror", None, "Conqueror"]


def test_a_page_of_reports_costs_two_queries_whatever_its_length(
    container: Container, clock: FixedClock
) -> None:
    with container.read_your_writes():
        some_reports(container, clock)
    statements: list[Any] = []

    def count(*args: Any) -> None:
        statements.append(args)

    engine = container.store.reader
    event.listen(engine, "before_cursor_execute", count)
    try:
        with engine.connect() as conn:
            _, rows = report_views.all_reports(conn, 0, 20)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(rows) == 5
    assert len(statements) == 2  # the count and the page, reporters and listings joined in


def under_review(container: Container, listing: uuid.UUID) -> bool:
    with container.store.reader.connect() as conn:
        flag = conn.execute(
            select(listings.c.under_review).where(listings.c.id == listing)
        ).scalar_one()
    return bool(flag)


def test_a_listing_is_under_review_while_enough_different_users_have_pending_reports_of_it(
    container: Container,
) -> None:
    seed_games(container.catalogue)
    accounts, reports = container.accounts, container.reports
    staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
    seller = accounts.register("seller@example.uz", PASSWORD)
    users = [
        accounts.register(f"user{n}@example.uz", PASSWORD) for n in range(HIDE_AFTER_REPORTERS)
    ]
    listing = container.listings.create_listing(
        Actor.user(seller), "pubg-mobile", {"title": "Conqueror", "description": "D", "price": 100}
    )
    first, *others = users
    with container.read_your_writes():
        filed = [
            reports.file_report(Actor.user(first), "scam", listing_id=listing).id
            for _ in range(HIDE_AFTER_REPORTERS)  # one user, many times: one reporter
        ]
        reports.file_report(Actor.user(first), "scam", user_id=seller)  # not of the listing
    assert not under_review(container, listing)
    with container.read_your_writes():
        last = [reports.file_report(Actor.user(u), "scam", listing_id=listing).id for u in others]
    assert under_review(container, listing)
    with container.read_your_writes():
        reports.resolve_report(Actor.user(staff), filed[0], resolved=False)
    assert under_review(container, listing)  # the first user still has pending reports of it
    with container.read_your_writes():
        reports.resolve_report(Actor.user(staff), last[-1], resolved=True, note="Checked")
    assert not under_review(container, listing)  # staff looked: fewer reporters are waiting


def test_any_batch_size_marks_what_one_event_at_a_time_marks(
    idle_container: Container, clock: FixedClock
) -> None:
    made = some_reports(idle_container, clock)
    for n in range(HIDE_AFTER_REPORTERS):
        user = idle_container.accounts.register(f"crowd{n}@example.uz", PASSWORD)
        idle_container.reports.file_report(Actor.user(user), "scam", listing_id=made["listing"])
    tables = [listings, listing_reports]
    one_at_a_time = one_event_at_a_time(idle_container, tables)
    flag = [c.name for c in listings.c].index("under_review")
    assert [row[flag] for row in one_at_a_time["listings"]] == [True]
    assert len(one_at_a_time["listing_reports"]) == 2 + HIDE_AFTER_REPORTERS  # pending only
    assert_every_batch_size_agrees(idle_container, ["listings"], tables, one_at_a_time)
