"""The application decides who may report what and who looks at reports: an active user
reports a listing or a user that exists (never nothing, themselves or their own listing); only
active staff (checked against the event store) resolve or dismiss, once. Every refusal writes
nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any
from uuid import UUID

import pytest

from application.actor import Actor, NotAllowed
from domain.errors import DomainError, NotFound
from domain.report import AlreadyResolved, NoTarget, Report, UnknownTarget
from wibestore.container import Container
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"
OPERATOR = Actor.platform("operator")


@dataclass(frozen=True)
class Market:
    staff: UUID
    banned: UUID  # staff once, banned since
    seller: UUID
    reporter: UUID
    gone: UUID  # a user who deleted their account
    listing: UUID  # the seller's, active
    deleted_listing: UUID  # the seller's, deleted


@pytest.fixture
def market(container: Container) -> Market:
    seed_games(container.catalogue)
    accounts, listings = container.accounts, container.listings
    staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
    banned = accounts.create_user(OPERATOR, "banned@example.uz", PASSWORD, staff=True)
    accounts.ban(OPERATOR, banned, "fraud")
    seller = accounts.register("seller@example.uz", PASSWORD)
    reporter = accounts.register("reporter@example.uz", PASSWORD)
    gone = accounts.register("gone@example.uz", PASSWORD)
    accounts.delete_account(Actor.user(gone), PASSWORD)

    def listing(title: str) -> UUID:
        made = listings.create_listing(
            Actor.user(seller), "pubg-mobile", {"title": title, "description": "D", "price": 100}
        )
        listings.approve_listing(Actor.user(staff), made)
        return made

    deleted = listing("Deleted")
    listings.delete_listing(Actor.user(seller), deleted)
    return Market(
        staff=staff,
        banned=banned,
        seller=seller,
        reporter=reporter,
        gone=gone,
        listing=listing("Active"),
        deleted_listing=deleted,
    )


def head(container: Container) -> int:
    return container.app.recorder.max_notification_id() or 0


def refused(container: Container, error: type[Exception], attempt: Callable[[], Any]) -> Any:
    """The attempt raises ``error`` and writes no event; the error, for a closer look."""
    before = head(container)
    with pytest.raises(error) as raised:
        attempt()
    assert head(container) == before
    return raised.value


def test_an_active_user_reports_a_listing_a_user_or_both(
    container: Container, market: Market
) -> None:
    m, reports = market, container.reports
    me = Actor.user(m.reporter)
    listing = reports.file_report(me, "scam", "Fake rank", listing_id=m.listing)
    user = reports.file_report(me, "inappropriate", user_id=m.seller)
    both = reports.file_report(me, "other", listing_id=m.listing, user_id=m.seller)
    for state in (listing, user, both):
        assert state.status == "pending"
    saved = container.app.load(both.id, Report)
    assert (saved.reporter_id, saved.reported_listing_id, saved.reported_user_id) == (
        m.reporter,
        m.listing,
        m.seller,
    )


def test_only_an_active_user_files_a_report(container: Container, market: Market) -> None:
    m, reports = market, container.reports
    for actor in (
        Actor.user(m.banned),
        Actor.user(m.gone),
        Actor.user(uuid.uuid4()),  # nobody
        Actor.platform("escrow-timer"),  # the platform reports nobody
    ):
        refused(
            container,
            NotAllowed,
            partial(reports.file_report, actor, "scam", listing_id=m.listing),
        )


def test_a_report_of_nothing_or_of_what_does_not_exist_is_refused_naming_the_field(
    container: Container, market: Market
) -> None:
    m, reports = market, container.reports
    me = Actor.user(m.reporter)
    refused(container, NoTarget, lambda: reports.file_report(me, "scam"))
    for listing in (uuid.uuid4(), m.deleted_listing, m.seller):  # a user's id is no listing
        error = refused(
            container,
            UnknownTarget,
            partial(reports.file_report, me, "scam", listing_id=listing),
        )
        assert (error.field, error.message) == ("reported_listing_id", "Listing not found.")
    for user in (uuid.uuid4(), m.gone, m.listing):  # nor a listing's id a user
        error = refused(
            container, UnknownTarget, partial(reports.file_report, me, "scam", user_id=user)
        )
        assert (error.field, error.message) == ("reported_user_id", "User not found.")
    # a known listing does not carry an unknown user through
    refused(
        container,
        UnknownTarget,
        lambda: reports.file_report(me, "scam", listing_id=m.listing, user_id=uuid.uuid4()),
    )


def test_an_unknown_target_is_not_a_missing_report() -> None:
    """An unknown target is the request's mistake (400), never a 404 of the report."""
    assert issubclass(UnknownTarget, DomainError)
    assert not issubclass(UnknownTarget, NotFound)


def test_nobody_reports_themselves_or_their_own_listing_or_without_a_reason(
    container: Container, market: Market
) -> None:
    m, reports = market, container.reports
    seller = Actor.user(m.seller)
    error = refused(
        container, DomainError, lambda: reports.file_report(seller, "scam", user_id=m.seller)
    )
    assert error.field == "reported_user_id"
    error = refused(
        container, DomainError, lambda: reports.file_report(seller, "scam", listing_id=m.listing)
    )
    assert error.field == "reported_listing_id"
    error = refused(
        container,
        DomainError,
        lambda: reports.file_report(Actor.user(m.reporter), "  ", listing_id=m.listing),
    )
    assert error.field == "reason"


def test_only_active_staff_resolve_or_dismiss_a_report(
    container: Container, market: Market
) -> None:
    m, reports = market, container.reports
    report = reports.file_report(Actor.user(m.reporter), "scam", listing_id=m.listing).id
    for actor in (
        Actor.user(m.reporter),
        Actor.user(m.seller),
        Actor.user(m.banned),  # staff, but banned
        Actor.user(uuid.uuid4()),
        Actor.platform("operator"),  # staff look at reports, not the platform's processes
    ):
        for resolved in (True, False):
            refused(
                container,
                NotAllowed,
                partial(reports.resolve_report, actor, report, resolved=resolved),
            )
    assert container.app.load(report, Report).status == "pending"


def test_staff_resolve_a_report_once_and_the_event_records_who(
    container: Container, market: Market
) -> None:
    m, reports = market, container.reports
    staff = Actor.user(m.staff)
    report = reports.file_report(Actor.user(m.reporter), "scam", listing_id=m.listing).id
    assert reports.resolve_report(staff, report, resolved=True, note="Removed").status == "resolved"
    events = container.app.repository.event_store.get(report)
    resolved = [e for e in events if isinstance(e, Report.Resolved)]
    assert [(e.by, e.note) for e in resolved] == [(m.staff, "Removed")]
    for again in (True, False):
        error = refused(
            container,
            AlreadyResolved,
            partial(reports.resolve_report, staff, report, resolved=again, note="x"),
        )
        assert error.message == "This report has already been resolved."


def test_resolving_an_unknown_report_is_not_found(container: Container, market: Market) -> None:
    m, reports = market, container.reports
    for unknown in (uuid.uuid4(), m.listing):  # a listing's id is no report
        error = refused(
            container,
            NotFound,
            partial(reports.resolve_report, Actor.user(m.staff), unknown, resolved=False),
        )
        assert error.message == "Report not found."
