"""Realtime without a table: the public listings stream and the closing of sockets.

- ``listings``: what a catalogue page needs to update live (``/ws/listings/``): a listing was
  approved (it appears), its price changed, it was reserved by a purchase or released by a
  refund, sold, or removed (deleted, archived, rejected). Frames are
  ``{type: "listing", event, id, ...}``.
- ``user:<id>`` and ``session:<id>``: a ban, a deletion or a password reset ends every socket of
  the user; a logout (or a revoked refresh-token family) ends the sockets opened with that
  sign-in's tokens. Sockets close with 4401, as a request with those tokens would be refused.

It keeps no rows: a rebuild has nothing to rebuild, and its frames are published only when
following new events (projections/runtime.py), never for history.
"""

from __future__ import annotations

from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from domain.listing import Listing
from domain.money import format_amount
from domain.session import Session
from domain.user import User
from projections.runtime import Projector

LISTINGS = "listings"
REVOKED = 4401  # the close code of a socket whose tokens are no longer good


def listing_frame(listing_id: UUID, event: str, **more: Any) -> dict[str, Any]:
    return {"frame": {"type": "listing", "event": event, "id": str(listing_id), **more}}


def close(session_id: UUID | None = None) -> dict[str, Any]:
    return {"close": {"code": REVOKED, "session": str(session_id) if session_id else None}}


class LiveProjector(Projector):
    name = "live"
    version = 1
    first = True  # its frames reach sockets
    tables = ()

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events publish nothing."""

    # --- the catalogue ---------------------------------------------------------------------
    @apply.register
    def _(self, e: Listing.Approved, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "approved", status="active"))

    @apply.register
    def _(self, e: Listing.Edited, conn: Connection) -> None:
        if e.resubmitted:  # back to moderation: off the catalogue until approved again
            self.emit(LISTINGS, listing_frame(e.originator_id, "removed", status="pending"))
        elif "price" in e.changes:
            price = format_amount(int(e.changes["price"]))
            self.emit(LISTINGS, listing_frame(e.originator_id, "price_changed", price=price))

    @apply.register
    def _(self, e: Listing.Reserved, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "reserved", status="reserved"))

    @apply.register
    def _(self, e: Listing.Released, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "released", status="active"))

    @apply.register
    def _(self, e: Listing.Sold, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "sold", status="sold"))

    @apply.register
    def _(self, e: Listing.Deleted, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "removed", status="deleted"))

    @apply.register
    def _(self, e: Listing.Archived, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "removed", status="archived"))

    @apply.register
    def _(self, e: Listing.Rejected, conn: Connection) -> None:
        self.emit(LISTINGS, listing_frame(e.originator_id, "removed", status="rejected"))

    # --- sockets whose tokens are no longer good ---------------------------------------------
    @apply.register
    def _(self, e: Session.Revoked, conn: Connection) -> None:
        self.emit(f"session:{e.originator_id}", close(e.originator_id))

    @apply.register
    def _(self, e: User.Banned, conn: Connection) -> None:
        self.emit(f"user:{e.originator_id}", close())

    @apply.register
    def _(self, e: User.Deleted, conn: Connection) -> None:
        self.emit(f"user:{e.originator_id}", close())

    @apply.register
    def _(self, e: User.PasswordReset, conn: Connection) -> None:
        self.emit(f"user:{e.originator_id}", close())
