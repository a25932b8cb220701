"""CONTRACT §2.0 Notification and the answers of §2.9, from the notifications read model's
rows (projections/notifications/)."""

from __future__ import annotations

from typing import Any

import msgspec

from api.schemas import iso
from projections.notifications import TYPES


class NotificationType(msgspec.Struct):
    code: str
    name: str
    icon: str


class Notification(msgspec.Struct):
    id: str
    type: NotificationType | None
    title: str
    message: str
    data: dict[str, Any]
    is_read: bool
    read_at: str | None
    link: str
    created_at: str


class Done(msgspec.Struct):
    success: bool


class MarkedRead(msgspec.Struct):
    success: bool
    marked_count: int


class UnreadCount(msgspec.Struct):
    unread_count: int


def notification_type(code: str) -> NotificationType | None:
    known = TYPES.get(code)
    return NotificationType(code=code, name=known[0], icon=known[1]) if known else None


def notification_from_row(row: Any) -> Notification:
    return Notification(
        id=str(row.id),
        type=notification_type(row.type),
        title=row.title,
        message=row.message,
        data=dict(row.data),
        is_read=bool(row.is_read),
        read_at=iso(row.read_at),
        link=row.link,
        created_at=iso(row.created_at) or "",
    )
