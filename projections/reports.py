"""The reports read model: one row per report (CONTRACT §2.0 Report), for its reporter's list
and for staff.

Rows come from Report events only. Queries join in the reporter's public profile and e-mail
(staff see who reported, AD8) and the reported listing's title, in the one query that reads
the page: no query per row.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Index,
    Row,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    select,
)

from domain.report import Report
from projections.held import HeldRows
from projections.listings import listings
from projections.paging import counted_page
from projections.runtime import Projector, metadata
from projections.users import users

reports = Table(
    "reports",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reporter_id", Uuid, nullable=False),
    Column("reported_listing_id", Uuid),
    Column("reported_user_id", Uuid),
    Column("reason", String(50), nullable=False),
    Column("description", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("resolution_note", Text, nullable=False),
    Column("resolved_by", Uuid),
    Column("resolved_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("reports_reporter_newest", "reporter_id", "created_at"),
    Index("reports_status_oldest", "status", "created_at"),
)


class ReportsProjector(Projector):
    """Reports are held back per batch (projections/held.py)."""

    name = "reports"
    version = 1
    tables = (reports,)

    def __init__(self) -> None:
        self.reports = HeldRows(reports)

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.reports.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        self.reports.write(conn)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events leave reports untouched."""

    @apply.register
    def _(self, e: Report.Filed, conn: Connection) -> None:
        self.reports.insert(
            {
                "id": e.originator_id,
                "reporter_id": e.reporter_id,
                "reported_listing_id": e.reported_listing_id,
                "reported_user_id": e.reported_user_id,
                "reason": e.reason,
                "description": e.description,
                "status": "pending",
                "resolution_note": "",
                "resolved_by": None,
                "resolved_at": None,
                "created_at": e.at,
            }
        )

    @apply.register
    def _(self, e: Report.Resolved, conn: Connection) -> None:
        self._closed(e, "resolved")

    @apply.register
    def _(self, e: Report.Dismissed, conn: Connection) -> None:
        self._closed(e, "dismissed")

    def _closed(self, e: Report.Resolved | Report.Dismissed, status: str) -> None:
        values = {"status": status, "resolved_by": e.by, "resolution_note": e.note}
        self.reports.change(e.originator_id, {**values, "resolved_at": e.at})


# --- queries ------------------------------------------------------------------------------
reporters = users.alias("reporters")


def _report_query() -> Any:
    """Each report with its reporter's users row (columns ``reporter_*``: their public profile
    and e-mail) and its listing's title (``reported_listing_title``, None without a listing)."""
    return (
        select(
            reports,
            # every users column, so the reporter's profile follows the users read model
            *(
                column.label(f"reporter_{column.name}")
                for column in reporters.c
                if column.name != "id"
            ),
            listings.c.title.label("reported_listing_title"),
        )
        .join(reporters, reporters.c.id == reports.c.reporter_id)
        .join(listings, listings.c.id == reports.c.reported_listing_id, isouter=True)
    )


REPORT = _report_query().where(reports.c.id == bindparam("report_id"))  # built once


def report(conn: Connection, report_id: UUID) -> Row[Any] | None:
    return conn.execute(REPORT, {"report_id": report_id}).first()


def reports_where(
    conn: Connection, condition: Any, offset: int, limit: int, oldest_first: bool = False
) -> tuple[int, list[Row[Any]]]:
    """The count of reports matching ``condition`` and one page of them (two queries)."""
    order = reports.c.created_at.asc() if oldest_first else reports.c.created_at.desc()
    return counted_page(
        conn, reports, _report_query(), condition, (order, reports.c.id), offset, limit
    )


def reports_by(
    conn: Connection, reporter_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """What ``reporter_id`` reported, newest first (GET /reports/my/)."""
    return reports_where(conn, reports.c.reporter_id == reporter_id, offset, limit)


def all_reports(
    conn: Connection, offset: int, limit: int, status: str | None = None
) -> tuple[int, list[Row[Any]]]:
    """Every report (or those with ``status``), newest first: staff's GET /reports/."""
    condition = reports.c.status == status if status else reports.c.id.is_not(None)
    return reports_where(conn, condition, offset, limit)


def pending_reports(conn: Connection, offset: int, limit: int) -> tuple[int, list[Row[Any]]]:
    """The staff's queue (AD8): pending reports, oldest first."""
    return reports_where(conn, reports.c.status == "pending", offset, limit, oldest_first=True)


def report_counts(conn: Connection) -> dict[str, int]:
    """The dashboard's reports (AD1): pending ones, and all."""
    pending, total = conn.execute(
        select(func.count().filter(reports.c.status == "pending"), func.count()).select_from(
            reports
        )
    ).one()
    return {"pending": pending, "total": total}
