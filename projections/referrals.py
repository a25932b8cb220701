"""The referrals read model: who signed up through whose referral link (CONTRACT §2.2, §3.11).

A user's code is derived from their id (``domain.user.referral_code``), so only the sign-ups
that named a code are stored; a user's ``referred_count`` is how many named theirs.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import Column, Connection, Index, String, Table, Uuid, func, select

from domain.user import User, referral_code
from projections.runtime import Projector, metadata

referrals = Table(
    "referrals",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("referred_by_code", String(16), nullable=False),
    Index("ix_referrals_code", "referred_by_code"),
)


class ReferralsProjector(Projector):
    name = "referrals"
    version = 1
    tables = (referrals,)

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.rows.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        if self.rows:
            conn.execute(referrals.insert(), self.rows)
            self.rows.clear()

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events refer nobody."""

    @apply.register
    def _(self, e: User.Referred, conn: Connection) -> None:
        self.rows.append({"user_id": e.originator_id, "referred_by_code": e.code})


def referred_count(conn: Connection, user_id: UUID) -> int:
    code = referral_code(user_id)
    query = select(func.count()).select_from(referrals).where(referrals.c.referred_by_code == code)
    return int(conn.execute(query).scalar_one())
