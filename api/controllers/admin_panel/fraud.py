"""CONTRACT §2.12 AD2, the fraud figures, and the signals behind them: staff list the signals
the fraud read model detected (projections/fraud.py) and resolve each once, with a note."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath, FromQuery, JSONBody
from msgspec import Meta
from sqlalchemy import Engine

from api.dependencies import Inject, ReadYourWrites, staff_only
from api.errors import ApiError
from api.pagination import Page, page_of, window
from api.schemas import Body, Message, iso
from application.actor import Actor
from application.fraud import FraudReviews
from application.ports import Clock
from projections import escrows as escrow_views
from projections import fraud as fraud_views
from projections import reports as report_views

Req = Request[Any, Any, Any]
WEEK = timedelta(days=7)


class FraudStats(msgspec.Struct):
    suspicious_activities_unresolved: int
    suspicious_resolved_this_week: int
    escrow_disputed: int
    reports_pending: int


class FraudStatsEnvelope(msgspec.Struct):
    success: bool
    data: FraudStats


class Signal(msgspec.Struct):
    id: UUID
    kind: str
    user_id: UUID
    escrow_id: UUID | None
    amount: int | None  # tiyin
    detail: str
    detected_at: str
    resolved_at: str | None
    resolved_by: UUID | None
    resolution_note: str | None


class ResolveSignalBody(Body):
    note: Annotated[str, Meta(max_length=1_000)] = ""


def signal_of(row: Any) -> Signal:
    return Signal(
        id=row.id,
        kind=row.kind,
        user_id=row.user_id,
        escrow_id=row.escrow_id,
        amount=row.amount,
        detail=row.detail,
        detected_at=iso(row.detected_at) or "",
        resolved_at=iso(row.resolved_at),
        resolved_by=row.resolved_by,
        resolution_note=row.resolution_note,
    )


class FraudController(Controller):
    path = "/api/v1/admin-panel"
    tags = ["admin"]
    guards = [staff_only]

    @get("/stats/fraud/", operation_id="admin_fraud_stats", sync_to_thread=True)
    def stats(self, reader: Inject[Engine], clock: Inject[Clock]) -> FraudStatsEnvelope:
        with reader.connect() as conn:
            unresolved, resolved = fraud_views.signal_counts(conn, clock.now() - WEEK)
            disputed = escrow_views.escrow_counts(conn)["disputed"]
            pending = report_views.report_counts(conn)["pending"]
        return FraudStatsEnvelope(
            success=True,
            data=FraudStats(
                suspicious_activities_unresolved=unresolved,
                suspicious_resolved_this_week=resolved,
                escrow_disputed=disputed,
                reports_pending=pending,
            ),
        )

    @get("/fraud/signals/", operation_id="admin_fraud_signals", sync_to_thread=True)
    def signals(
        self, request: Req, reader: Inject[Engine], resolved: FromQuery[bool] = False
    ) -> Page[Signal]:
        """Open signals, newest first (``?resolved=true``: the resolved ones)."""
        w = window(request)
        with reader.connect() as conn:
            total, rows = fraud_views.signals(conn, w.offset, w.limit, resolved=resolved)
        return page_of(request, w, total, [signal_of(r) for r in rows])

    @post(
        "/fraud/signals/{signal_id:uuid}/resolve/",
        status_code=200,
        operation_id="admin_resolve_signal",
        sync_to_thread=True,
    )
    def resolve(
        self,
        actor: Inject[Actor],
        fraud: Inject[FraudReviews],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        signal_id: FromPath[UUID],
        data: JSONBody[ResolveSignalBody],
    ) -> Message:
        with reader.connect() as conn:
            if fraud_views.signal(conn, signal_id) is None:
                raise ApiError(404, "NOT_FOUND", "Signal not found.")
        with read_your_writes():
            fraud.resolve(actor, signal_id, data.note)
        return Message(success=True, message="Signal resolved.")
