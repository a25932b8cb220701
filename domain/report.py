"""The Report aggregate: a user tells staff that a listing or a user breaks the rules.

    pending --resolve (staff, a note)--> resolved
       \\----dismiss (staff, a note)----> dismissed

A report names what it is about (a listing, a user or both; never nothing), never its own
reporter or the reporter's own listing, and says why (CONTRACT §3.8: the reasons the frontend
offers are ``REASONS``, but any short reason is taken, as the previous backend took it). Staff
look at it once: the event records who did and what they noted; a second look is refused.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

REASONS = ("scam", "false_info", "inappropriate", "other")  # the frontend's choices
MAX_REASON = 50
MAX_DESCRIPTION = 2000
MAX_NOTE = 2000
OUTCOMES = ("resolved", "dismissed")
# Pending reports of one listing from this many different users take it out of search until
# staff have answered enough of them (README "Contract notes").
HIDE_AFTER_REPORTERS = 3


# --- rules that also hold before anything is loaded -----------------------------------------
def report_reason(reason: str) -> str:
    """Why the report is made: not blank, at most MAX_REASON characters."""
    reason = reason.strip()
    if not reason:
        raise InvalidReport("This field may not be blank.", "reason")
    if len(reason) > MAX_REASON:
        raise InvalidReport(
            f"Ensure this field has no more than {MAX_REASON} characters.", "reason"
        )
    return reason


def report_description(description: str) -> str:
    description = description.strip()
    if len(description) > MAX_DESCRIPTION:
        raise InvalidReport(
            f"Ensure this field has no more than {MAX_DESCRIPTION} characters.", "description"
        )
    return description


def check_has_target(listing_id: UUID | None, user_id: UUID | None) -> None:
    """A report is about something: a listing, a user, or both."""
    if listing_id is None and user_id is None:
        raise NoTarget


def check_not_self(reporter_id: UUID, user_id: UUID | None, listing_seller_id: UUID | None) -> None:
    """Nobody reports themselves or their own listing."""
    if user_id == reporter_id:
        raise InvalidReport("You cannot report yourself.", "reported_user_id")
    if listing_seller_id == reporter_id:
        raise InvalidReport("You cannot report your own listing.", "reported_listing_id")


def hides_listing(pending_reporters: int) -> bool:
    """Whether a listing that ``pending_reporters`` different users have pending reports of
    is kept out of search until staff look at them."""
    return pending_reporters >= HIDE_AFTER_REPORTERS


def resolution_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidReport(f"Ensure this field has no more than {MAX_NOTE} characters.", "note")
    return note


class Report(Aggregate):
    class Filed(Aggregate.Created):
        reporter_id: UUID
        reported_listing_id: UUID | None
        reported_user_id: UUID | None
        reason: str
        description: str
        at: datetime

    class Resolved(Aggregate.Event):
        by: UUID  # the staff member
        note: str
        at: datetime

    class Dismissed(Aggregate.Event):
        by: UUID
        note: str
        at: datetime

    @event(Filed)
    def __init__(
        self,
        id: UUID,
        reporter_id: UUID,
        reported_listing_id: UUID | None,
        reported_user_id: UUID | None,
        reason: str,
        description: str,
        at: datetime,
    ) -> None:
        self.reporter_id = reporter_id
        self.reported_listing_id = reported_listing_id
        self.reported_user_id = reported_user_id
        self.reason = reason
        self.description = description
        self.filed_at = at
        self.status = "pending"
        self.resolved_by: UUID | None = None
        self.resolution_note = ""
        self.resolved_at: datetime | None = None

    @classmethod
    def file(
        cls,
        reporter_id: UUID,
        reason: str,
        description: str,
        at: datetime,
        *,
        listing_id: UUID | None = None,
        listing_seller_id: UUID | None = None,
        user_id: UUID | None = None,
    ) -> Report:
        """``listing_seller_id`` is the seller of ``listing_id``: nobody reports their own."""
        check_has_target(listing_id, user_id)
        check_not_self(reporter_id, user_id, listing_seller_id)
        return cls(
            id=uuid4(),
            reporter_id=reporter_id,
            reported_listing_id=listing_id,
            reported_user_id=user_id,
            reason=report_reason(reason),
            description=report_description(description),
            at=at,
        )

    # --- rules ---------------------------------------------------------------------------
    @property
    def is_pending(self) -> bool:
        return self.status == "pending"

    def check_pending(self) -> None:
        if not self.is_pending:
            raise AlreadyResolved(self.status)

    # --- staff ----------------------------------------------------------------------------
    def resolve(self, by: UUID, note: str, at: datetime) -> None:
        self.check_pending()
        self._resolved(by, resolution_note(note), at)

    @event(Resolved)
    def _resolved(self, by: UUID, note: str, at: datetime) -> None:
        self._closed("resolved", by, note, at)

    def dismiss(self, by: UUID, note: str, at: datetime) -> None:
        self.check_pending()
        self._dismissed(by, resolution_note(note), at)

    @event(Dismissed)
    def _dismissed(self, by: UUID, note: str, at: datetime) -> None:
        self._closed("dismissed", by, note, at)

    def _closed(self, status: str, by: UUID, note: str, at: datetime) -> None:
        self.status = status
        self.resolved_by = by
        self.resolution_note = note
        self.resolved_at = at


class InvalidReport(DomainError):
    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, field=field)


class NoTarget(InvalidReport):
    def __init__(self) -> None:
        super().__init__(
            "Say what you are reporting: reported_listing_id, reported_user_id or both.",
            "reported_listing_id",
        )


class UnknownTarget(InvalidReport):
    """The listing or user a report names does not exist: the request is wrong (400), not
    the report missing (404)."""


class AlreadyResolved(DomainError):
    def __init__(self, status: str) -> None:
        super().__init__(f"This report has already been {status}.")
