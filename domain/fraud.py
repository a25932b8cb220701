"""Fraud signals and their review by staff (CONTRACT §2.12 AD2).

Signals are detected by a read model from the events (projections/fraud.py); what staff decide
about one is an event of its own: a ``SignalReview`` whose id is the signal's, so a signal is
resolved at most once.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from eventsourcing.domain import Aggregate, event

MAX_NOTE = 1_000


class SignalReview(Aggregate):
    @staticmethod
    def create_id(signal_id: UUID, by: UUID, note: str, at: datetime) -> UUID:
        return signal_id

    class Resolved(Aggregate.Created):
        signal_id: UUID
        by: UUID
        note: str
        at: datetime

    @event(Resolved)
    def __init__(self, signal_id: UUID, by: UUID, note: str, at: datetime) -> None:
        self.signal_id = signal_id
        self.by = by
        self.note = note[:MAX_NOTE]
        self.at = at
