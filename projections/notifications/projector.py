"""NotificationsProjector: who is told what of each event (one handler per event)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import singledispatchmethod
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Table, select, update

from domain.chat import ChatRoom, message_id
from domain.deposit import Deposit
from domain.escrow import Escrow
from domain.inbox import Inbox
from domain.listing import Listing
from domain.money import format_amount
from domain.report import Report
from domain.review import Review
from domain.subscription import PLANS_BY_SLUG, Membership
from domain.user import User
from domain.wallet import Wallet
from projections.held import HeldRows
from projections.notifications.queries import unread_count
from projections.notifications.tables import (
    BALANCE,
    DISPUTES,
    LISTINGS,
    LOOKUPS,
    MAX_TITLE,
    MODERATION,
    PLANS,
    PURCHASES,
    REPORTS,
    SALES,
    channel_of,
    frame_of,
    known_deposits,
    known_escrows,
    known_inboxes,
    known_listings,
    known_reports,
    known_staff,
    known_wallets,
    notification_id,
    notifications,
    title_of,
    unread_frame,
    utc,
    when,
)
from projections.runtime import Projector


@dataclass(frozen=True)
class Notice:
    """What a notification says; each recipient gets it as their own row."""

    kind: str  # a code of TYPES
    title: str
    message: str
    data: dict[str, Any]
    link: str = ""


def at_of(e: Any) -> datetime:
    """When the event happened: its ``at``, else when it was recorded."""
    at: datetime | None = getattr(e, "at", None)
    return at if at is not None else e.timestamp


def escrow_data(escrow: Mapping[str, Any]) -> dict[str, Any]:
    return {"escrow_id": str(escrow["id"]), "listing_id": str(escrow["listing_id"])}


class NotificationsProjector(Projector):
    """New notifications and lookups are held back per batch and written at its end; the
    unread counts the frames carry are kept per batch."""

    name = "notifications"
    version = 2  # 2: staff are told of listings to moderate and of new reports
    first = True  # its frames reach sockets
    tables = (notifications, *LOOKUPS, known_staff)

    def __init__(self) -> None:
        self.held = {t.name: HeldRows(t) for t in LOOKUPS}
        self.new: list[dict[str, Any]] = []
        self.unread: dict[UUID, int] = {}  # users' unread counts, as of this batch

    def begin_batch(self, conn: Connection, position: int) -> None:
        for held in self.held.values():
            held.clear()
        self.new, self.unread = [], {}

    def end_batch(self, conn: Connection, position: int) -> None:
        self._write(conn)

    def _write(self, conn: Connection) -> None:
        for held in self.held.values():
            held.write(conn)
        if self.new:
            conn.execute(notifications.insert(), self.new)
            self.new = []

    # --- what handlers use -----------------------------------------------------------------
    def _keep(self, table: Table, row: dict[str, Any]) -> None:
        self.held[table.name].insert(row)

    def _known(self, table: Table, key: UUID, conn: Connection) -> dict[str, Any]:
        """A lookup row, with what this batch holds for it."""
        held = self.held[table.name]
        row = held.row(key)
        if row is None:
            found = conn.execute(select(table).where(table.c.id == key)).one()
            row = {**found._mapping, **held.changes.get(key, {})}
        return row

    def _staff(self, conn: Connection, but: UUID | None = None) -> list[UUID]:
        c = known_staff.c
        query = select(c.user_id).where(c.banned.is_(False), c.user_id != but)
        return list(conn.execute(query.order_by(c.user_id)).scalars())

    def _unread_count(self, conn: Connection, user_id: UUID) -> int:
        if user_id not in self.unread:  # then this batch has told them nothing yet
            self.unread[user_id] = unread_count(conn, user_id)
        return self.unread[user_id]

    def tell(self, conn: Connection, e: Any, recipients: Iterable[UUID], notice: Notice) -> None:
        """``notice`` of event ``e`` for each of ``recipients`` (each once), with its frames."""
        for user_id in dict.fromkeys(recipients):
            row = {
                "id": notification_id(e.originator_id, e.originator_version, user_id),
                "user_id": user_id,
                "position": self.position,
                "type": notice.kind,
                "title": title_of(notice.title),
                "message": notice.message,
                "data": notice.data,
                "link": notice.link,
                "is_read": False,
                "read_at": None,
                "created_at": at_of(e),
            }
            self.new.append(row)
            self.unread[user_id] = self._unread_count(conn, user_id) + 1
            self.emit(channel_of(user_id), {"frame": frame_of(row)})
            self.emit(channel_of(user_id), {"frame": unread_frame(self.unread[user_id])})

    def _read(self, conn: Connection, inbox_id: UUID, condition: Any, at: datetime) -> None:
        """Mark read the inbox owner's unread notifications meeting ``condition``."""
        user_id = self._known(known_inboxes, inbox_id, conn)["user_id"]
        self._write(conn)  # the update must see this batch's notifications
        c = notifications.c
        conn.execute(
            update(notifications)
            .where(c.user_id == user_id, c.is_read.is_(False), condition)
            .values(is_read=True, read_at=at)
        )
        self.unread[user_id] = unread_count(conn, user_id)
        self.emit(channel_of(user_id), {"frame": unread_frame(self.unread[user_id])})

    @singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Other events tell nobody anything."""

    # --- the lookups -----------------------------------------------------------------------
    @apply.register
    def _(self, e: Listing.Created, conn: Connection) -> None:
        row = {"id": e.originator_id, "seller_id": e.seller_id, "title": title_of(e.title)}
        self._keep(known_listings, row)
        self._to_moderate(conn, e, row)

    @apply.register
    def _(self, e: Listing.Edited, conn: Connection) -> None:
        if "title" in e.changes:
            title = title_of(str(e.changes["title"]))
            self.held[known_listings.name].change(e.originator_id, {"title": title})
        if e.resubmitted:  # a rejected listing, fixed, waits for staff again
            self._to_moderate(conn, e, self._known(known_listings, e.originator_id, conn))

    @apply.register
    def _(self, e: Wallet.Opened, conn: Connection) -> None:
        self._keep(known_wallets, {"id": e.originator_id, "owner_id": e.owner_id})

    @apply.register
    def _(self, e: Deposit.Requested, conn: Connection) -> None:
        row = {"id": e.originator_id, "user_id": e.user_id, "amount": e.amount}
        self._keep(known_deposits, row)

    @apply.register
    def _(self, e: Report.Filed, conn: Connection) -> None:
        self._keep(known_reports, {"id": e.originator_id, "reporter_id": e.reporter_id})
        data = {"report_id": str(e.originator_id), "reason": e.reason}
        if e.reported_listing_id is not None:
            data["listing_id"] = str(e.reported_listing_id)
        if e.reported_user_id is not None:
            data["user_id"] = str(e.reported_user_id)
        notice = Notice("admin", f"New report: {e.reason}", e.description, data, REPORTS)
        self.tell(conn, e, self._staff(conn, but=e.reporter_id), notice)

    @apply.register
    def _(self, e: Inbox.Opened, conn: Connection) -> None:
        self._keep(known_inboxes, {"id": e.originator_id, "user_id": e.user_id})

    @apply.register
    def _(self, e: User.StaffGranted, conn: Connection) -> None:
        conn.execute(known_staff.delete().where(known_staff.c.user_id == e.originator_id))
        conn.execute(known_staff.insert().values(user_id=e.originator_id, banned=False))

    @apply.register
    def _(self, e: User.StaffRevoked, conn: Connection) -> None:
        conn.execute(known_staff.delete().where(known_staff.c.user_id == e.originator_id))

    def _to_moderate(self, conn: Connection, e: Any, listing: Mapping[str, Any]) -> None:
        """Staff are told of a listing waiting for them (CONTRACT §3.9's admin notice), all
        but its seller."""
        data = {"listing_id": str(e.originator_id)}
        notice = Notice("admin", "New listing needs moderation", listing["title"], data, MODERATION)
        self.tell(conn, e, self._staff(conn, but=listing["seller_id"]), notice)

    # --- purchases ---------------------------------------------------------------------------
    @apply.register
    def _(self, e: Escrow.Opened, conn: Connection) -> None:
        title = self._known(known_listings, e.listing_id, conn)["title"]
        escrow = {
            "id": e.originator_id,
            "buyer_id": e.buyer_id,
            "seller_id": e.seller_id,
            "listing_id": e.listing_id,
            "title": title,
        }
        self._keep(known_escrows, escrow)
        said = f"A buyer paid for “{title}”. Deliver the account by {when(e.deliver_by)}."
        notice = Notice("sale", f"New sale: {title}", said, escrow_data(escrow), SALES)
        self.tell(conn, e, [e.seller_id], notice)

    @apply.register
    def _(self, e: Escrow.Delivered, conn: Connection) -> None:
        escrow = self._known(known_escrows, e.originator_id, conn)
        said = (
            "The seller delivered the account. Check it, then confirm the purchase or open a "
            f"dispute by {when(e.release_after)}."
        )
        title = f"Delivered: {escrow['title']}"
        notice = Notice("purchase", title, said, escrow_data(escrow), PURCHASES)
        self.tell(conn, e, [escrow["buyer_id"]], notice)

    @apply.register
    def _(self, e: Escrow.Disputed, conn: Connection) -> None:
        escrow = self._known(known_escrows, e.originator_id, conn)
        title = f"Dispute opened: {escrow['title']}"
        data = {**escrow_data(escrow), "reason": e.reason}
        said = "The buyer opened a dispute. Our team will review it."
        self.tell(conn, e, [escrow["buyer_id"]], Notice("dispute", title, said, data, PURCHASES))
        self.tell(conn, e, [escrow["seller_id"]], Notice("dispute", title, said, data, SALES))
        self.tell(conn, e, self._staff(conn), Notice("admin", title, e.reason, data, DISPUTES))

    @apply.register
    def _(self, e: Escrow.Released, conn: Connection) -> None:
        escrow = self._known(known_escrows, e.originator_id, conn)
        if e.by == "staff":
            self._resolved(conn, e, escrow, "the payment was released to the seller.")
            return
        if e.by == "buyer":
            title, said = "Purchase confirmed", "The buyer confirmed the delivery."
        else:
            title, said = "Payment released", "The confirmation window has passed."
        said += " The payment is on your balance."
        notice = Notice("sale", f"{title}: {escrow['title']}", said, escrow_data(escrow), SALES)
        self.tell(conn, e, [escrow["seller_id"]], notice)

    @apply.register
    def _(self, e: Escrow.Refunded, conn: Connection) -> None:
        escrow = self._known(known_escrows, e.originator_id, conn)
        if e.by == "staff":
            self._resolved(conn, e, escrow, "the purchase was refunded to the buyer.")
            return
        title, data = f"Purchase refunded: {escrow['title']}", escrow_data(escrow)
        said = f"{e.reason} Your payment is back on your balance.".strip()
        self.tell(conn, e, [escrow["buyer_id"]], Notice("purchase", title, said, data, PURCHASES))
        if e.by == "timer":  # the seller missed the delivery deadline
            self.tell(conn, e, [escrow["seller_id"]], Notice("sale", title, e.reason, data, SALES))

    def _resolved(
        self, conn: Connection, e: Escrow.Released | Escrow.Refunded, escrow: Any, outcome: str
    ) -> None:
        """Staff resolved a dispute: both parties and the other staff are told."""
        title, data = f"Dispute resolved: {escrow['title']}", escrow_data(escrow)
        note = e.resolution if isinstance(e, Escrow.Released) else e.reason
        said = f"Resolved: {outcome} {note}".strip()
        self.tell(conn, e, [escrow["buyer_id"]], Notice("dispute", title, said, data, PURCHASES))
        self.tell(conn, e, [escrow["seller_id"]], Notice("dispute", title, said, data, SALES))
        staff = self._staff(conn, but=e.staff_id)
        self.tell(conn, e, staff, Notice("admin", title, said, data, DISPUTES))

    # --- chat, listings, money, subscriptions -------------------------------------------------
    @apply.register
    def _(self, e: ChatRoom.MessagePosted, conn: Connection) -> None:
        room = e.originator_id
        data = {
            "room_id": str(room),
            "message_id": str(message_id(room, e.seq)),
            "sender_id": str(e.sender_id),
        }
        preview = e.content[:MAX_TITLE] if e.message_type == "text" else f"[{e.message_type}]"
        self.tell(
            conn, e, e.notify, Notice("message", "New message", preview, data, f"/chat/{room}")
        )

    @apply.register
    def _(self, e: Listing.Approved, conn: Connection) -> None:
        self._moderated(conn, e, "approved", "Your listing is now visible to buyers.")

    @apply.register
    def _(self, e: Listing.Rejected, conn: Connection) -> None:
        self._moderated(conn, e, "rejected", e.reason or "Your listing was not approved.")

    def _moderated(self, conn: Connection, e: Any, outcome: str, said: str) -> None:
        listing = self._known(known_listings, e.originator_id, conn)
        title = f"Listing {outcome}: {listing['title']}"
        data = {"listing_id": str(e.originator_id)}
        self.tell(conn, e, [listing["seller_id"]], Notice("listing", title, said, data, LISTINGS))

    @apply.register
    def _(self, e: Deposit.Completed, conn: Connection) -> None:
        deposit = self._known(known_deposits, e.originator_id, conn)
        amount = format_amount(deposit["amount"])
        said = f"{amount} UZS was added to your balance."
        data = {"deposit_id": str(e.originator_id), "amount": amount}
        notice = Notice("payment", "Deposit credited", said, data, BALANCE)
        self.tell(conn, e, [deposit["user_id"]], notice)

    @apply.register
    def _(self, e: Wallet.WithdrawalCompleted, conn: Connection) -> None:
        self._withdrawal(conn, e, "Withdrawal approved", "was paid out.")

    @apply.register
    def _(self, e: Wallet.WithdrawalReturned, conn: Connection) -> None:
        if e.outcome == "rejected":  # not when the owner cancelled it themselves
            self._withdrawal(conn, e, "Withdrawal rejected", f"is back on your balance. {e.reason}")

    def _withdrawal(self, conn: Connection, e: Any, title: str, outcome: str) -> None:
        owner = self._known(known_wallets, e.originator_id, conn)["owner_id"]
        amount = format_amount(e.amount)
        data = {"withdrawal_id": str(e.withdrawal_id), "amount": amount}
        said = f"{amount} UZS {outcome}".strip()
        self.tell(conn, e, [owner], Notice("payment", title, said, data, BALANCE))

    @apply.register
    def _(self, e: Membership.ExpiryNoticed, conn: Connection) -> None:
        plan = PLANS_BY_SLUG[e.plan].name if e.plan in PLANS_BY_SLUG else e.plan
        if e.renews:
            title, said = "renews soon", f"It renews from your balance on {when(e.end)}."
        else:
            title, said = "ends soon", f"It ends on {when(e.end)}. Renew it to keep its benefits."
        data = {"subscription_id": str(e.subscription_id), "plan": e.plan}
        data["end_date"] = utc(e.end).isoformat()
        notice = Notice("subscription_expiring", f"Your {plan} plan {title}", said, data, PLANS)
        self.tell(conn, e, [e.user_id], notice)

    # --- trust ------------------------------------------------------------------------------
    @apply.register
    def _(self, e: Review.Written, conn: Connection) -> None:
        data = {"review_id": str(e.originator_id), "rating": e.rating}
        data.update(escrow_id=str(e.escrow_id), listing_id=str(e.listing_id))
        title, link = f"New review: {e.rating} of 5", f"/seller/{e.reviewee_id}"
        self.tell(conn, e, [e.reviewee_id], Notice("review", title, e.comment, data, link))

    @apply.register
    def _(self, e: Report.Resolved, conn: Connection) -> None:
        self._looked_at(conn, e, "resolved")

    @apply.register
    def _(self, e: Report.Dismissed, conn: Connection) -> None:
        self._looked_at(conn, e, "dismissed")

    def _looked_at(
        self, conn: Connection, e: Report.Resolved | Report.Dismissed, outcome: str
    ) -> None:
        reporter = self._known(known_reports, e.originator_id, conn)["reporter_id"]
        said = e.note or "Thank you for telling us."
        data = {"report_id": str(e.originator_id)}
        self.tell(conn, e, [reporter], Notice("report", f"Your report was {outcome}", said, data))

    @apply.register
    def _(self, e: User.Banned, conn: Connection) -> None:
        self._set_banned(conn, e.originator_id, True)
        said = e.reason or "Contact support to learn more."
        self.tell(
            conn, e, [e.originator_id], Notice("system", "Your account was suspended", said, {})
        )

    @apply.register
    def _(self, e: User.Unbanned, conn: Connection) -> None:
        self._set_banned(conn, e.originator_id, False)
        said = "You can sign in and trade again."
        self.tell(
            conn, e, [e.originator_id], Notice("system", "Your account was restored", said, {})
        )

    @staticmethod
    def _set_banned(conn: Connection, user_id: UUID, banned: bool) -> None:
        c = known_staff.c
        conn.execute(update(known_staff).where(c.user_id == user_id).values(banned=banned))

    # --- reads ------------------------------------------------------------------------------
    @apply.register
    def _(self, e: Inbox.Read, conn: Connection) -> None:
        self._read(conn, e.originator_id, notifications.c.id == e.notification_id, e.at)

    @apply.register
    def _(self, e: Inbox.AllRead, conn: Connection) -> None:
        self._read(conn, e.originator_id, notifications.c.position <= e.up_to, e.at)
