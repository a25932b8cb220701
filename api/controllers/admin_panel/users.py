"""CONTRACT §2.12 AD10-AD11 and the seed's user endpoint: staff list users, ban and unban them,
grant and revoke staff; and the audit log of what staff did (the later revision's
``audit-log/``). Each command checks staff again in the application, against the event store."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy import Engine

from api.dependencies import Inject, ReadYourWrites, staff_only
from api.errors import ApiError
from api.pagination import Page, page_of, window
from api.query import query_of
from api.schemas import Body, Message, User, iso, user_from_row
from application.accounts import Accounts
from application.actor import Actor
from projections import staff_actions as audit
from projections import users as user_views

Req = Request[Any, Any, Any]
Reason = Annotated[str, Meta(max_length=500)]
_TRUE, _FALSE = {"true", "1", "yes"}, {"false", "0", "no"}


class AdminUser(User, kw_only=True):
    """The User, plus what staff act on: whether the account is active (not banned, not
    deleted)."""

    is_active: bool


class UserSearch(msgspec.Struct, frozen=True, kw_only=True):
    """AD10's filters. The frontend may send others, and values of its own: a flag that is not
    true or false is ignored, as the contract's previous backend ignored them all."""

    search: Annotated[str, Meta(max_length=200)] | None = None
    is_staff: str | None = None
    is_active: str | None = None
    is_banned: str | None = None
    is_verified: str | None = None

    def filter(self) -> user_views.UserFilter:
        banned = _flag(self.is_banned)
        return user_views.UserFilter(
            search=(self.search or "").strip() or None,
            is_staff=_flag(self.is_staff),
            is_active=_flag(self.is_active) if banned is None else not banned,
            is_verified=_flag(self.is_verified),
        )


def _flag(value: str | None) -> bool | None:
    text = (value or "").strip().lower()
    return True if text in _TRUE else False if text in _FALSE else None


class BanBody(Body):
    action: Literal["ban", "unban"]
    reason: Reason = ""


class UserChangeBody(Body):
    """The seed's PATCH: ``is_active`` false bans, true unbans; ``is_staff`` grants or revokes."""

    is_active: bool | UnsetType = UNSET
    is_staff: bool | UnsetType = UNSET
    reason: Reason = ""


class StaffAction(msgspec.Struct):
    id: int
    at: str
    staff_id: UUID | None
    staff_email: str | None
    action: str
    target_type: str
    target_id: UUID
    detail: str


def admin_user(reader: Engine, user_id: UUID, base: str) -> AdminUser:
    with reader.connect() as conn:
        row = user_views.user_row(conn, user_id)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "User not found.")
    return _admin_user(row, base)


def _admin_user(row: Any, base: str) -> AdminUser:
    return AdminUser(**msgspec.structs.asdict(user_from_row(row, base)), is_active=row.is_active)


class AdminUsersController(Controller):
    path = "/api/v1/admin-panel"
    tags = ["admin"]
    guards = [staff_only]

    @get("/users/", operation_id="admin_users", sync_to_thread=True)
    def users(self, request: Req, reader: Inject[Engine]) -> Page[AdminUser]:
        """All users, newest first; ``search`` (e-mail, name, username) and flags."""
        f = query_of(request, UserSearch).filter()
        w = window(request)
        with reader.connect() as conn:
            total, rows = user_views.users_page(conn, f, w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, total, [_admin_user(r, base) for r in rows])

    @get("/users/{user_id:uuid}/", operation_id="admin_user", sync_to_thread=True)
    def user(self, request: Req, reader: Inject[Engine], user_id: FromPath[UUID]) -> AdminUser:
        return admin_user(reader, user_id, str(request.base_url))

    @post(
        "/users/{user_id:uuid}/ban/", status_code=200, operation_id="ban_user", sync_to_thread=True
    )
    def ban(
        self,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        user_id: FromPath[UUID],
        data: JSONBody[BanBody],
    ) -> Message:
        """AD11: the ban takes effect at once (the user's tokens answer 401 from the next
        request, their listings leave the catalogue); their open escrows stay for staff."""
        with read_your_writes():
            if data.action == "ban":
                accounts.ban(actor, user_id, data.reason)
            else:
                accounts.unban(actor, user_id)
        return Message(
            success=True, message="User banned." if data.action == "ban" else "User unbanned."
        )

    @patch("/users/{user_id:uuid}/", operation_id="change_user", sync_to_thread=True)
    def change(
        self,
        request: Req,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        user_id: FromPath[UUID],
        data: JSONBody[UserChangeBody],
    ) -> AdminUser:
        with read_your_writes():
            accounts.change_standing(
                actor,
                user_id,
                active=None if isinstance(data.is_active, UnsetType) else data.is_active,
                staff=None if isinstance(data.is_staff, UnsetType) else data.is_staff,
                reason=data.reason,
            )
        return admin_user(reader, user_id, str(request.base_url))

    @get("/audit-log/", operation_id="admin_audit_log", sync_to_thread=True)
    def audit_log(self, request: Req, reader: Inject[Engine]) -> Page[StaffAction]:
        """What staff (or the platform's operator) did, newest first, and who did it."""
        w = window(request)
        with reader.connect() as conn:
            total, rows = audit.audit_log(conn, w.offset, w.limit)
        return page_of(request, w, total, [_action(r) for r in rows])


def _action(row: Any) -> StaffAction:
    at: datetime = row.at
    return StaffAction(
        id=row.id,
        at=iso(at) or "",
        staff_id=row.staff_id,
        staff_email=row.staff_email,
        action=row.action,
        target_type=row.target_type,
        target_id=row.target_id,
        detail=row.detail,
    )
