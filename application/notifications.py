"""Notifications: a user reads theirs, one or all (CONTRACT §2.9, §2.2).

The notifications themselves are the read model's (projections/notifications/), derived
from the events that concern each user; what is recorded here is the reading, as the user's
Inbox events, so that a rebuilt read model keeps it. Who may: a user reads only their own
notifications; another's id is not found (404), as an unknown one is. Reading one already
read, or "read all" with nothing unread, writes nothing.
"""

from __future__ import annotations

from uuid import UUID

from application.actor import Actor
from application.marketplace import Marketplace
from application.ports import Clock, NotificationStates
from domain.inbox import Inbox, NotificationNotFound, inbox_id


class Notifications:
    def __init__(self, app: Marketplace, *, clock: Clock, states: NotificationStates) -> None:
        self.app = app
        self.clock = clock
        self.states = states

    def inbox(self, user_id: UUID) -> Inbox:
        return self.app.find(inbox_id(user_id), Inbox) or Inbox(user_id=user_id)

    def mark_read(self, actor: Actor, notification_id: UUID) -> None:
        user_id = actor.id()
        state = self.states.state_of(user_id, notification_id)
        if state is None:
            raise NotificationNotFound
        position, is_read = state
        if is_read:
            return

        def command() -> None:
            inbox = self.inbox(user_id)
            if inbox.read(notification_id, position, self.clock.now()):
                self.app.save(inbox)

        self.app.retrying(command)

    def mark_all_read(self, actor: Actor) -> int:
        """Mark read every notification the user has now; how many were unread."""
        user_id = actor.id()
        newest, unread = self.states.unread_up_to(user_id)
        if unread == 0:
            return 0

        def command() -> None:
            inbox = self.inbox(user_id)
            if inbox.read_all(newest, self.clock.now()):
                self.app.save(inbox)

        self.app.retrying(command)
        return unread
