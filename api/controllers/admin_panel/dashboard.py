"""CONTRACT §2.12 AD1: the staff dashboard's figures, from the read models, one query per
section (never the event log)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import msgspec
from litestar import Controller, get
from sqlalchemy import Engine

from api.dependencies import Inject, staff_only
from application.ports import Clock
from projections import escrows as escrow_views
from projections import reports as report_views
from projections import transactions as transaction_views
from projections import users as user_views
from projections.listings import queries as listing_views

MONTH = timedelta(days=30)


class Volumes(msgspec.Struct):
    total_volume: float  # UZS, a JSON number as the contract has it (display only)
    month_volume: float


class EscrowFigures(msgspec.Struct):
    active: int
    disputed: int
    completed: int
    total_commission: float


class DashboardData(msgspec.Struct):
    users: dict[str, int]
    listings: dict[str, int]
    transactions: Volumes
    escrow: EscrowFigures
    reports: dict[str, int]


class DashboardEnvelope(msgspec.Struct):
    success: bool
    data: DashboardData


def uzs(minor: int) -> float:
    return round(minor / 100, 2)


class DashboardController(Controller):
    path = "/api/v1/admin-panel"
    tags = ["admin"]
    guards = [staff_only]

    @get("/dashboard/", operation_id="admin_dashboard", sync_to_thread=True)
    def dashboard(self, reader: Inject[Engine], clock: Inject[Clock]) -> DashboardEnvelope:
        now = clock.now()
        with reader.connect() as conn:
            users = user_views.user_counts(conn, now)
            listings = listing_views.listing_counts(conn)
            total, month = transaction_views.completed_volumes(conn, now - MONTH)
            escrow: dict[str, Any] = escrow_views.escrow_counts(conn)
            reports = report_views.report_counts(conn)
        escrow["total_commission"] = uzs(escrow["total_commission"])
        return DashboardEnvelope(
            success=True,
            data=DashboardData(
                users=users,
                listings=listings,
                transactions=Volumes(total_volume=uzs(total), month_volume=uzs(month)),
                escrow=EscrowFigures(**escrow),
                reports=reports,
            ),
        )
