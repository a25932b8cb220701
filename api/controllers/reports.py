"""CONTRACT §2.11: users report listings and users, and list their reports; staff list every
report and close one with PATCH (the frontend's hook, §2.13). The staff panel's queue and its
resolve action (AD8, AD9) are served with the rest of ``/api/v1/admin-panel/``.

The guards answer 401 to the anonymous and 403 to non-staff on staff routes; the application
decides again (an active reporter; active staff, from the event store).
"""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.dependencies import Inject, ReadYourWrites, signed_in, staff_only
from api.errors import ApiError
from api.money_schemas import Envelope
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import documented, query_of
from api.report_schemas import (
    Report,
    ReportBody,
    ReportUpdateBody,
    StaffReport,
    report_from_row,
    staff_report_from_row,
)
from application.actor import Actor
from application.reports import Reports
from projections import reports as report_views

Req = Request[Any, Any, Any]
FILED = "Report submitted. Our team will review it shortly."
MINE = "/api/v1/reports/my/"
EVERY = "/api/v1/reports/"


class ReportSearch(Paging, frozen=True, kw_only=True):
    """Staff's list: every report, or those with ``status``."""

    status: Literal["pending", "reviewing", "resolved", "dismissed"] | None = None


def report_row(reader: Engine, report_id: UUID) -> Any:
    with reader.connect() as conn:
        row = report_views.report(conn, report_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Report not found.")
    return row


class ReportsController(Controller):
    path = "/api/v1/reports"
    tags = ["reports"]

    @post(
        "/",
        status_code=201,
        operation_id="file_report",
        sync_to_thread=True,
        responses=ACCEPTED,
        guards=[signed_in],
    )
    def file(
        self,
        request: Req,
        actor: Inject[Actor],
        reports: Inject[Reports],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[ReportBody],
    ) -> Envelope[Report]:
        with read_your_writes() as written:
            filed = reports.file_report(
                actor,
                data.reason,
                data.description or "",
                listing_id=data.reported_listing_id,
                user_id=data.reported_user_id,
            )
        unless_caught_up(written, MINE, FILED, id=filed.id, status=filed.status)
        row = report_row(reader, filed.id)
        return Envelope(
            success=True, message=FILED, data=report_from_row(row, str(request.base_url))
        )

    @get(
        "/my/",
        operation_id="my_reports",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
        guards=[signed_in],
    )
    def mine(self, request: Req, actor: Inject[Actor], reader: Inject[Engine]) -> Page[Report]:
        """The caller's reports, newest first."""
        w = query_of(request, Paging).window()
        with reader.connect() as conn:
            total, rows = report_views.reports_by(conn, actor.id(), w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, total, [report_from_row(r, base) for r in rows])

    @get(
        "/",
        operation_id="all_reports",
        sync_to_thread=True,
        operation_class=documented(ReportSearch),
        guards=[staff_only],
    )
    def every(self, request: Req, reader: Inject[Engine]) -> Page[StaffReport]:
        """Every report (``?status=`` for one status), newest first."""
        query = query_of(request, ReportSearch)
        w = query.window()
        with reader.connect() as conn:
            total, rows = report_views.all_reports(conn, w.offset, w.limit, query.status)
        base = str(request.base_url)
        return page_of(request, w, total, [staff_report_from_row(r, base) for r in rows])

    @patch(
        "/{report_id:uuid}/",
        operation_id="update_report",
        sync_to_thread=True,
        responses=ACCEPTED,
        guards=[staff_only],
    )
    def update(
        self,
        request: Req,
        actor: Inject[Actor],
        reports: Inject[Reports],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        report_id: FromPath[UUID],
        data: JSONBody[ReportUpdateBody],
    ) -> StaffReport:
        """Staff close a pending report: ``status`` resolved or dismissed, with a note."""
        with read_your_writes() as written:
            closed = reports.resolve_report(
                actor, report_id, resolved=data.status == "resolved", note=data.note
            )
        unless_caught_up(
            written, EVERY, f"Report {closed.status}.", id=closed.id, status=closed.status
        )
        return staff_report_from_row(report_row(reader, report_id), str(request.base_url))
