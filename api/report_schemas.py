"""Report wire schemas (CONTRACT §2.0 Report, §2.11, §2.12 AD8-AD9) and their builders.

A reporter sees the contract's Report. Staff see a superset (AD8's compat note): the reported
listing embedded as ``{id, title}`` and the reporter's ``email``, which the admin page reads.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from msgspec import UNSET, Meta, UnsetType

from api.schemas import Body, UserPublic, iso, public_user_from_row
from domain.report import MAX_DESCRIPTION, MAX_NOTE, MAX_REASON

Note = Annotated[str, Meta(max_length=MAX_NOTE)]
Outcome = Literal["resolved", "dismissed"]  # domain.report.OUTCOMES (a test holds them equal)


class ReportBody(Body):
    """POST /reports/: what is reported (a listing, a user or both) and why."""

    reason: Annotated[str, Meta(max_length=MAX_REASON)]
    reported_user_id: UUID | None = None
    reported_listing_id: UUID | None = None
    description: Annotated[str, Meta(max_length=MAX_DESCRIPTION)] | None = ""  # null: none


class ReportUpdateBody(Body):
    """PATCH /reports/{id}/ (staff): close the report; the note as ``resolution`` (the
    frontend's name) or ``resolution_note`` (the Report's)."""

    status: Outcome
    resolution: Note | UnsetType = UNSET
    resolution_note: Note | UnsetType = UNSET

    @property
    def note(self) -> str:
        for given in (self.resolution, self.resolution_note):
            if isinstance(given, str):
                return given
        return ""


class ReportResolveBody(Body):
    """AD9: ``action`` "resolve" resolves the report, anything else dismisses it."""

    action: Annotated[str, Meta(max_length=32)]
    note: Note = ""

    @property
    def resolves(self) -> bool:
        return self.action == "resolve"


class Report(msgspec.Struct):
    id: UUID
    reporter: UserPublic
    reported_user: UUID | None
    reported_listing: UUID | None
    reason: str
    description: str
    evidence: list[Any]
    status: str
    resolution_note: str
    resolved_at: str | None
    created_at: str


class StaffReporter(UserPublic):
    email: str


class ReportedListing(msgspec.Struct):
    id: UUID
    title: str


class StaffReport(msgspec.Struct):
    """What staff see of a report: the Report, with the listing and the reporter's e-mail."""

    id: UUID
    reporter: StaffReporter
    reported_user: UUID | None
    reported_listing: ReportedListing | None
    reason: str
    description: str
    evidence: list[Any]
    status: str
    resolution_note: str
    resolved_by: UUID | None
    resolved_at: str | None
    created_at: str


def report_from_row(row: Any, base_url: str) -> Report:
    return Report(
        id=row.id,
        reporter=public_user_from_row(row, base_url, prefix="reporter_"),
        reported_user=row.reported_user_id,
        reported_listing=row.reported_listing_id,
        reason=row.reason,
        description=row.description,
        evidence=[],  # the contract's: it cannot be set through the API
        status=row.status,
        resolution_note=row.resolution_note,
        resolved_at=iso(row.resolved_at),
        created_at=iso(row.created_at) or "",
    )


def staff_report_from_row(row: Any, base_url: str) -> StaffReport:
    reporter = public_user_from_row(row, base_url, prefix="reporter_")
    listing = (
        ReportedListing(id=row.reported_listing_id, title=row.reported_listing_title or "")
        if row.reported_listing_id is not None
        else None
    )
    return StaffReport(
        id=row.id,
        reporter=StaffReporter(**msgspec.structs.asdict(reporter), email=row.reporter_email),
        reported_user=row.reported_user_id,
        reported_listing=listing,
        reason=row.reason,
        description=row.description,
        evidence=[],
        status=row.status,
        resolution_note=row.resolution_note,
        resolved_by=row.resolved_by,
        resolved_at=iso(row.resolved_at),
        created_at=iso(row.created_at) or "",
    )
