"""Reports: users tell staff about listings and users that break the rules (CONTRACT §2.11,
§2.12 AD8-AD9, §3.8).

Who may: any active user files a report, of a listing that exists (not deleted) and/or a user
that exists (not deleted); a target that does not exist is a mistake in the request (400, its
field named), not a missing report. Only active staff (the event store says so) resolve or
dismiss one, once. Filing takes no automatic action on the target.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from application.actor import Actor, active_user, staff_member
from application.marketplace import Marketplace
from application.ports import Clock
from domain.listing import Listing
from domain.report import (
    Report,
    UnknownTarget,
    check_has_target,
    report_description,
    report_reason,
)
from domain.user import User


class ReportState(msgspec.Struct, frozen=True):
    """A report as a command left it: what its answer can say without reading a read model."""

    id: UUID
    status: str

    @classmethod
    def of(cls, report: Report) -> ReportState:
        return cls(id=report.id, status=report.status)


class Reports:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def file_report(
        self,
        actor: Actor,
        reason: str,
        description: str = "",
        *,
        listing_id: UUID | None = None,
        user_id: UUID | None = None,
    ) -> ReportState:
        reporter_id = active_user(self.app, actor)
        check_has_target(listing_id, user_id)  # refused before anything is loaded
        report_reason(reason)
        report_description(description)
        seller_id = self.reported_listing(listing_id).seller_id if listing_id else None
        if user_id is not None:
            self.reported_user(user_id)
        report = Report.file(
            reporter_id,
            reason,
            description,
            self.clock.now(),
            listing_id=listing_id,
            listing_seller_id=seller_id,
            user_id=user_id,
        )
        self.app.save(report)
        return ReportState.of(report)

    def resolve_report(
        self, actor: Actor, report_id: UUID, *, resolved: bool, note: str = ""
    ) -> ReportState:
        """Staff close a pending report: ``resolved`` (the report was right) or dismissed."""
        staff_id = staff_member(self.app, actor)

        def command() -> ReportState:
            report = self.app.load(report_id, Report, "Report not found.")
            if resolved:
                report.resolve(staff_id, note, self.clock.now())
            else:
                report.dismiss(staff_id, note, self.clock.now())
            self.app.save(report)
            return ReportState.of(report)

        return self.app.retrying(command)  # of two staff racing, the second is told it is done

    # --- loading ----------------------------------------------------------------------------
    def reported_listing(self, listing_id: UUID) -> Listing:
        listing = self.app.find(listing_id, Listing)
        if listing is None or listing.is_deleted:
            raise UnknownTarget("Listing not found.", "reported_listing_id")
        return listing

    def reported_user(self, user_id: UUID) -> User:
        user = self.app.find(user_id, User)
        if user is None or user.deleted_at is not None:
            raise UnknownTarget("User not found.", "reported_user_id")
        return user
