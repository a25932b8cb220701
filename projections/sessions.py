"""The sessions read model: sign-ins (refresh-token families) that were revoked, and the token
gate that reads it.

An access token names its session (the ``sid`` claim). Logging out, reusing a rotated refresh
token and signing out an inactive user revoke the session; its access tokens must be refused
from the next request on, in every API process, not when they expire. The gate is the one query
``authenticate`` already made per request (the caller's users row) with one more indexed
lookup in it, so a revocation costs no extra round trip and is seen by every process as soon as
the projector has committed it, which read-your-writes waits for before the logout answers.
Password resets, bans and deletions move the user's ``tokens_valid_after`` instead (users).
"""

from __future__ import annotations

from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Insert,
    Row,
    String,
    Table,
    Uuid,
    bindparam,
    exists,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite

from domain.session import Session
from projections.runtime import Projector, metadata
from projections.users import USER_ROW

revoked_sessions = Table(
    "revoked_sessions",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("reason", String(32), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=False),
)


class SessionsProjector(Projector):
    name = "sessions"
    version = 1
    tables = (revoked_sessions,)

    def __init__(self) -> None:
        self.revoked: list[dict[str, Any]] = []

    def begin_batch(self, conn: Connection, position: int) -> None:
        self.revoked.clear()

    def end_batch(self, conn: Connection, position: int) -> None:
        if self.revoked:  # a row the API wrote through already (see record_revocation) stays
            conn.execute(_insert_ignoring_duplicates(conn), self.revoked)

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events revoke nothing."""

    @apply.register
    def _(self, e: Session.Revoked, conn: Connection) -> None:
        # A session is revoked once (Session.end and rotate check it first).
        self.revoked.append(_row(e.originator_id, e.reason, e.timestamp))


def record_revocation(conn: Connection, session_id: UUID, reason: str, at: datetime) -> None:
    """Write a revocation through, the row its projector will write (``at`` is the event's
    timestamp): for a logout whose read models did not catch up (a projector down), so every
    API process refuses the session's tokens at once all the same."""
    conn.execute(_insert_ignoring_duplicates(conn), [_row(session_id, reason, at)])


def _row(session_id: UUID, reason: str, at: datetime) -> dict[str, Any]:
    return {"id": session_id, "reason": reason[:32], "revoked_at": at}


def _insert_ignoring_duplicates(conn: Connection) -> Insert:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(revoked_sessions).on_conflict_do_nothing(index_elements=["id"])


# --- queries ------------------------------------------------------------------------------

# Built once, like USER_ROW: every authenticated request runs it.
TOKEN_HOLDER_ROW = USER_ROW.add_columns(
    exists(
        select(revoked_sessions.c.id).where(revoked_sessions.c.id == bindparam("session_id"))
    ).label("session_revoked")
)


def token_holder_row(conn: Connection, user_id: UUID, session_id: UUID | None) -> Row[Any] | None:
    """The user's row (as ``user_row``) with ``session_revoked``: whether ``session_id`` was
    revoked (False for None, a token minted before access tokens named their session)."""
    return conn.execute(TOKEN_HOLDER_ROW, {"user_id": user_id, "session_id": session_id}).first()
