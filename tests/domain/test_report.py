"""Report: a user reports a listing or a user; staff resolve or dismiss it, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from domain.report import (
    HIDE_AFTER_REPORTERS,
    MAX_DESCRIPTION,
    MAX_NOTE,
    MAX_REASON,
    AlreadyResolved,
    InvalidReport,
    NoTarget,
    Report,
    hides_listing,
)

NOW = datetime(2026, 11, 1, 12, tzinfo=UTC)
REPORTER, SELLER, STAFF, OTHER_STAFF = (uuid.uuid4() for _ in range(4))
LISTING = uuid.uuid4()


def filed() -> Report:
    report = Report.file(
        REPORTER,
        "scam",
        "Sold me a banned account",
        NOW,
        listing_id=LISTING,
        listing_seller_id=SELLER,
    )
    report.collect_events()
    return report


def events(report: Report) -> list[object]:
    return list(report.collect_events())


def test_a_report_of_a_listing_is_filed_pending_with_its_reason() -> None:
    report = Report.file(
        REPORTER, " scam ", " Fake level ", NOW, listing_id=LISTING, listing_seller_id=SELLER
    )
    (e,) = events(report)
    assert isinstance(e, Report.Filed)
    assert (e.reporter_id, e.reported_listing_id, e.reported_user_id) == (REPORTER, LISTING, None)
    assert (e.reason, e.description, e.at) == ("scam", "Fake level", NOW)
    assert (report.status, report.resolved_by, report.resolution_note) == ("pending", None, "")


def test_a_report_may_name_a_user_or_a_listing_and_its_seller_together() -> None:
    assert Report.file(REPORTER, "other", "", NOW, user_id=SELLER).reported_user_id == SELLER
    both = Report.file(
        REPORTER, "scam", "", NOW, listing_id=LISTING, listing_seller_id=SELLER, user_id=SELLER
    )
    assert (both.reported_listing_id, both.reported_user_id) == (LISTING, SELLER)


def test_a_report_of_nothing_is_refused() -> None:
    with pytest.raises(NoTarget) as refused:
        Report.file(REPORTER, "scam", "", NOW)
    assert refused.value.field == "reported_listing_id"


def test_nobody_reports_themselves_or_their_own_listing() -> None:
    with pytest.raises(InvalidReport, match="yourself") as himself:
        Report.file(REPORTER, "scam", "", NOW, user_id=REPORTER)
    assert himself.value.field == "reported_user_id"
    with pytest.raises(InvalidReport, match="own listing") as own:
        Report.file(REPORTER, "scam", "", NOW, listing_id=LISTING, listing_seller_id=REPORTER)
    assert own.value.field == "reported_listing_id"


@pytest.mark.parametrize("reason", ["", "   ", "x" * (MAX_REASON + 1)])
def test_a_blank_or_overlong_reason_is_refused(reason: str) -> None:
    with pytest.raises(InvalidReport) as refused:
        Report.file(REPORTER, reason, "", NOW, user_id=SELLER)
    assert refused.value.field == "reason"


def test_any_short_reason_is_taken_as_the_previous_backend_took_it() -> None:
    assert Report.file(REPORTER, "spam", "", NOW, user_id=SELLER).reason == "spam"


def test_an_overlong_description_is_refused() -> None:
    with pytest.raises(InvalidReport) as refused:
        Report.file(REPORTER, "scam", "d" * (MAX_DESCRIPTION + 1), NOW, user_id=SELLER)
    assert refused.value.field == "description"


def test_staff_resolve_a_pending_report_with_a_note_and_the_event_names_them() -> None:
    report = filed()
    later = NOW + timedelta(hours=2)
    report.resolve(STAFF, " Listing removed ", later)
    (e,) = events(report)
    assert isinstance(e, Report.Resolved)
    assert (e.by, e.note, e.at) == (STAFF, "Listing removed", later)
    assert (report.status, report.resolved_by, report.resolved_at) == ("resolved", STAFF, later)


def test_staff_dismiss_a_pending_report() -> None:
    report = filed()
    report.dismiss(STAFF, "", NOW)
    (e,) = events(report)
    assert isinstance(e, Report.Dismissed)
    assert (report.status, report.resolution_note) == ("dismissed", "")


@pytest.mark.parametrize("first", ["resolve", "dismiss"])
@pytest.mark.parametrize("second", ["resolve", "dismiss"])
def test_a_report_is_looked_at_once(first: str, second: str) -> None:
    report = filed()
    getattr(report, first)(STAFF, "done", NOW)
    events(report)
    with pytest.raises(AlreadyResolved, match="already been"):
        getattr(report, second)(OTHER_STAFF, "again", NOW)
    assert events(report) == []
    assert report.resolved_by == STAFF


def test_an_overlong_note_is_refused_and_the_report_stays_pending() -> None:
    report = filed()
    with pytest.raises(InvalidReport) as refused:
        report.resolve(STAFF, "n" * (MAX_NOTE + 1), NOW)
    assert refused.value.field == "note"
    assert (report.status, events(report)) == ("pending", [])


def test_enough_different_reporters_keep_a_listing_out_of_search() -> None:
    assert not hides_listing(HIDE_AFTER_REPORTERS - 1)
    assert hides_listing(HIDE_AFTER_REPORTERS)
