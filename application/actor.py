"""Who acts: every command names its actor, and the application decides what they may do.

The API authenticates a request and hands the caller on as an ``Actor``; workers, webhooks and
the operator's command line act as ``Actor.system(...)``. Staff-only commands do not take the
actor's word for being staff: ``staff_member`` reads the User aggregate (the event store), so a
stale read model or a forged claim cannot grant a staff power.
"""

from __future__ import annotations

from uuid import UUID

import msgspec

from application.marketplace import Marketplace
from domain.errors import Forbidden
from domain.user import User


class Actor(msgspec.Struct, frozen=True):
    user_id: UUID | None
    system: str | None = None  # what acts for the platform: "escrow-timer", "operator"...

    @classmethod
    def user(cls, user_id: UUID) -> Actor:
        return cls(user_id=user_id)

    @classmethod
    def platform(cls, what: str) -> Actor:
        return cls(user_id=None, system=what)

    @property
    def is_system(self) -> bool:
        return self.system is not None

    def id(self) -> UUID:
        """The acting user's id; NotAllowed for the system, which owns nothing."""
        if self.user_id is None:
            raise NotAllowed
        return self.user_id


def staff_member(app: Marketplace, actor: Actor) -> UUID:
    """The id of the active staff member acting; NotAllowed for anyone else."""
    user = app.find(actor.user_id, User) if actor.user_id is not None else None
    if user is None or not user.is_staff or not user.is_active:
        raise NotAllowed
    return user.id


def is_staff(app: Marketplace, actor: Actor) -> bool:
    """Whether the actor is an active staff member (for rules where staff see more)."""
    try:
        staff_member(app, actor)
    except NotAllowed:
        return False
    return True


def platform_only(actor: Actor) -> str:
    """For commands only the platform's own processes run (timers, provider webhooks): what
    acts; NotAllowed for any user, staff included."""
    if actor.system is None:
        raise NotAllowed
    return actor.system


def staff_or_system(app: Marketplace, actor: Actor) -> UUID | None:
    """For commands staff and the platform's own processes may run: the staff id, or None."""
    if actor.is_system:
        return None
    return staff_member(app, actor)


def active_user(app: Marketplace, actor: Actor) -> UUID:
    """The id of the user acting, who must exist and be active (not banned, not deleted);
    NotAllowed for anyone else and for the platform, which offers and keeps nothing."""
    user = app.find(actor.user_id, User) if actor.user_id is not None else None
    if user is None or not user.is_active:
        raise NotAllowed
    return user.id


class NotAllowed(Forbidden):
    def __init__(self, message: str = "You do not have permission to perform this action.") -> None:
        super().__init__(message)
