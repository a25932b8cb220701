"""CONTRACT §2.9: the caller's notifications, newest first; reading one or all; the unread
count. (The same list and read under /profile/notifications/ are api/controllers/profile.py's.)

The notifications are the read model's (projections/notifications/); reading is recorded by
the application (application/notifications.py), which finds another user's notification no
more than an unknown one: 404. Commands answer once the read model has their events."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from sqlalchemy import Engine

from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.notification_schemas import (
    Done,
    MarkedRead,
    Notification,
    UnreadCount,
    notification_from_row,
)
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import query_of
from application.actor import Actor
from application.notifications import Notifications
from projections import notifications as notification_views

Req = Request[Any, Any, Any]


def notification_page(request: Req, reader: Engine, caller: Caller) -> Page[Notification]:
    w = query_of(request, Paging).window()
    with reader.connect() as conn:
        total, rows = notification_views.notifications_of(conn, caller.id, w.offset, w.limit)
    return page_of(request, w, total, [notification_from_row(r) for r in rows])


class NotificationsController(Controller):
    path = "/api/v1/notifications"
    tags = ["notifications"]
    guards = [signed_in]

    @get("/", operation_id="notifications", sync_to_thread=True, operation_class=PAGING_DOC)
    def index(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Notification]:
        return notification_page(request, reader, caller)

    @post(
        "/{notification_id:uuid}/read/",
        status_code=200,
        operation_id="read_notification",
        sync_to_thread=True,
    )
    def read(
        self,
        actor: Inject[Actor],
        notifications: Inject[Notifications],
        read_your_writes: Inject[ReadYourWrites],
        notification_id: FromPath[UUID],
    ) -> Done:
        with read_your_writes():
            notifications.mark_read(actor, notification_id)
        return Done(success=True)

    @post("/read-all/", status_code=200, operation_id="read_all_notifications", sync_to_thread=True)
    def read_all(
        self,
        actor: Inject[Actor],
        notifications: Inject[Notifications],
        read_your_writes: Inject[ReadYourWrites],
    ) -> MarkedRead:
        with read_your_writes():
            marked = notifications.mark_all_read(actor)
        return MarkedRead(success=True, marked_count=marked)

    @get("/unread-count/", operation_id="unread_notifications", sync_to_thread=True)
    def unread(self, caller: Inject[Caller], reader: Inject[Engine]) -> UnreadCount:
        with reader.connect() as conn:
            return UnreadCount(unread_count=notification_views.unread_count(conn, caller.id))
