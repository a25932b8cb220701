"""CONTRACT §2.12 AD8-AD9: the staff's queue of pending reports, oldest first, and their
answer to one: resolve it, or dismiss it (any other action), with a note.

Rows embed the reported listing as ``{id, title}`` and the reporter's e-mail, as the admin page
reads them (AD8's compat note). The guard turns non-staff away (403); the application checks
staff again, against the event store, and refuses a second answer.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath, JSONBody
from sqlalchemy import Engine

from api.dependencies import Inject, ReadYourWrites, staff_only
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import query_of
from api.report_schemas import ReportResolveBody, StaffReport, staff_report_from_row
from api.schemas import Message
from application.actor import Actor
from application.reports import Reports
from projections import reports as report_views

Req = Request[Any, Any, Any]


class AdminReportsController(Controller):
    path = "/api/v1/admin-panel/reports"
    tags = ["admin"]
    guards = [staff_only]

    @get("/", operation_id="admin_reports", sync_to_thread=True, operation_class=PAGING_DOC)
    def pending(self, request: Req, reader: Inject[Engine]) -> Page[StaffReport]:
        w = query_of(request, Paging).window()
        with reader.connect() as conn:
            total, rows = report_views.pending_reports(conn, w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, total, [staff_report_from_row(r, base) for r in rows])

    @post(
        "/{report_id:uuid}/resolve/",
        status_code=200,
        operation_id="resolve_report",
        sync_to_thread=True,
    )
    def resolve(
        self,
        actor: Inject[Actor],
        reports: Inject[Reports],
        read_your_writes: Inject[ReadYourWrites],
        report_id: FromPath[UUID],
        data: JSONBody[ReportResolveBody],
    ) -> Message:
        with read_your_writes():
            reports.resolve_report(actor, report_id, resolved=data.resolves, note=data.note)
        return Message(
            success=True, message="Report resolved." if data.resolves else "Report dismissed."
        )
