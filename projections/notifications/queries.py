"""What the API and the application ask of the notifications read model."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine, Row, func, select

from projections.notifications.tables import notifications
from projections.paging import counted_page

NEWEST_FIRST = (notifications.c.position.desc(), notifications.c.id)


def notifications_of(
    conn: Connection, user_id: UUID, offset: int, limit: int
) -> tuple[int, list[Row[Any]]]:
    """A page of the user's notifications, newest first, and how many they have."""
    return counted_page(
        conn,
        notifications,
        select(notifications),
        notifications.c.user_id == user_id,
        NEWEST_FIRST,
        offset,
        limit,
    )


def prune_read(conn: Connection, before: datetime) -> int:
    """Delete the read notifications created before ``before``; how many (CONTRACT §3.9: a
    daily job keeps read ones 90 days). This is retention of a read model, not anyone's change
    of state: a rebuild derives them again and the next run deletes them again. Unread ones
    stay, however old, so the unread count never moves."""
    c = notifications.c
    deleted = conn.execute(notifications.delete().where(c.is_read, c.created_at < before))
    return int(deleted.rowcount)


def notification_of(conn: Connection, user_id: UUID, notification_id: UUID) -> Row[Any] | None:
    """The user's notification; None for anyone else's."""
    return conn.execute(
        select(notifications).where(
            notifications.c.id == notification_id, notifications.c.user_id == user_id
        )
    ).first()


def unread_count(conn: Connection, user_id: UUID) -> int:
    return int(
        conn.execute(
            select(func.count())
            .select_from(notifications)
            .where(notifications.c.user_id == user_id, notifications.c.is_read.is_(False))
        ).scalar_one()
    )


def notifications_after(
    conn: Connection, user_id: UUID, position: int, limit: int = 100
) -> list[Row[Any]]:
    """The user's notifications after log ``position``, oldest first (a reconnecting socket's
    gap)."""
    return list(
        conn.execute(
            select(notifications)
            .where(notifications.c.user_id == user_id, notifications.c.position > position)
            .order_by(notifications.c.position, notifications.c.id)
            .limit(limit)
        )
    )


def last_position(conn: Connection, user_id: UUID) -> int:
    """The log position of the user's newest notification (0 for none)."""
    newest = conn.execute(
        select(func.max(notifications.c.position)).where(notifications.c.user_id == user_id)
    ).scalar()
    return int(newest or 0)


def position_of(conn: Connection, user_id: UUID, notification_id: UUID) -> int | None:
    """The log position of the user's notification; None for one not theirs."""
    position = conn.execute(
        select(notifications.c.position).where(
            notifications.c.id == notification_id, notifications.c.user_id == user_id
        )
    ).scalar()
    return None if position is None else int(position)


class NotificationStates:
    """What the application asks of this read model before it records a read
    (application/ports.py NotificationStates)."""

    def __init__(self, reader: Engine) -> None:
        self.reader = reader

    def state_of(self, user_id: UUID, notification_id: UUID) -> tuple[int, bool] | None:
        with self.reader.connect() as conn:
            row = notification_of(conn, user_id, notification_id)
        return None if row is None else (int(row.position), bool(row.is_read))

    def unread_up_to(self, user_id: UUID) -> tuple[int, int]:
        c = notifications.c
        with self.reader.connect() as conn:
            newest, unread = conn.execute(
                select(func.max(c.position), func.count().filter(c.is_read.is_(False))).where(
                    c.user_id == user_id
                )
            ).one()
        return int(newest or 0), int(unread)
