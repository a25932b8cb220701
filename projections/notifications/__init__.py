"""The notifications read model: what each user is told of the events that concern them
(CONTRACT §2.0 Notification, §2.9, §3.9), newest first, with what they have read.

Notifications are derived, never stored as events: a purchase tells its seller, a delivery
the buyer, a dispute both parties and staff, a listing waiting for moderation and a new
report the staff, a chat message the participants who had no socket open on the room, and
so on (one handler per event below). A notification's id comes from the event that caused
it (its originator, version and recipient), and its ``position`` is that event's place in
the log, so a rebuild from 0 gives the same rows with the same ids.
What a user has read is the Inbox's events (domain/inbox.py): a rebuild keeps it too.

What the handlers need to know of other aggregates (an escrow's parties and listing title, a
wallet's owner, who is staff) they keep in small tables of their own, fed by the events, so
this read model rebuilds alone.

Realtime (CONTRACT §4.3): each new notification is emitted on ``notifications:<id>`` as its
frame, then the user's unread count; a read emits the count again. (Not on ``user:<id>``:
every socket of the user, chat sockets too, follows that one for its close message.)
``frame_of`` makes the frame, for the projector and for a socket catching a client up alike.

- ``tables``: the notifications, the lookups, ids, frames and channels;
- ``projector``: NotificationsProjector;
- ``queries``: pages, counts, catch-up, the retention cleanup, NotificationStates.
"""

from __future__ import annotations

from projections.notifications.projector import NotificationsProjector
from projections.notifications.queries import (
    NotificationStates,
    last_position,
    notification_of,
    notifications_after,
    notifications_of,
    position_of,
    prune_read,
    unread_count,
)
from projections.notifications.tables import (
    TYPES,
    channel_of,
    frame_of,
    notification_id,
    notifications,
    unread_frame,
)

__all__ = [
    "TYPES",
    "NotificationStates",
    "NotificationsProjector",
    "channel_of",
    "frame_of",
    "last_position",
    "notification_id",
    "notification_of",
    "notifications",
    "notifications_after",
    "notifications_of",
    "position_of",
    "prune_read",
    "unread_count",
    "unread_frame",
]
