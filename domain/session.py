"""A refresh-token family: one sign-in, rotated on every refresh.

Each refresh presents the family's current token id and gets a new one. Presenting a token that
was already rotated away means it leaked: the whole family is revoked, so neither the thief nor
the owner can refresh again (OAuth 2.0 Security BCP, refresh token reuse detection).
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError


class Outcome(Enum):
    ROTATED = "rotated"
    REUSE_DETECTED = "reuse_detected"


class Session(Aggregate):
    class Revoked(Aggregate.Event):  # named here: the sessions read model handles it
        reason: str

    @event("Started")
    def __init__(self, user_id: UUID, token_id: str, at: datetime) -> None:
        self.user_id = user_id
        self.token_id = token_id
        self.revoked_because: str | None = None
        self.started_at = at

    @property
    def is_revoked(self) -> bool:
        return self.revoked_because is not None

    def check_not_revoked(self) -> None:
        if self.is_revoked:
            raise SessionRevoked

    def rotate(self, presented_token_id: str, new_token_id: str) -> Outcome:
        """Swap the presented token for a new one, or revoke the family on reuse."""
        self.check_not_revoked()
        if presented_token_id != self.token_id:
            self._revoked("reuse")
            return Outcome.REUSE_DETECTED
        self._rotated(new_token_id)
        return Outcome.ROTATED

    @event("Rotated")
    def _rotated(self, token_id: str) -> None:
        self.token_id = token_id

    def end(self, reason: str = "logout") -> None:
        if not self.is_revoked:
            self._revoked(reason)

    @event(Revoked)
    def _revoked(self, reason: str) -> None:
        self.revoked_because = reason


class SessionRevoked(DomainError):
    def __init__(self) -> None:
        super().__init__("Token is blacklisted")
