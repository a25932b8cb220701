"""Hypothesis: whatever users buy, deliver, confirm, dispute, message, read and get banned
for, every row of the notifications read model is what an independent replay of the event log
says (who is told, of which event, of what type, and whether they have read it), and a rebuild
from position 0 gives the same rows with the same ids."""

from __future__ import annotations

import uuid
from typing import Any
from uuid import UUID

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, invariant, multiple, rule
from sqlalchemy import select

from application.actor import Actor
from domain.chat import ChatRoom, direct_room_id
from domain.deposit import Deposit
from domain.escrow import Escrow
from domain.inbox import Inbox
from domain.listing import Listing
from domain.user import User
from projections.notifications import NotificationsProjector, notification_id, notifications
from tests.market_machine import MarketMachine
from tests.projections.batches import rows_of

PRICE = 100_000_00
USERS = 4  # users 0 and 1 sell, 2 and 3 buy; anyone may try anything
people = st.integers(0, USERS - 1)
Row = tuple[UUID, int, str, bool]  # recipient, position, type, is read


def replayed(app: Any) -> dict[UUID, Row]:
    """The notifications the log implies, by id: a replay written apart from the projector."""
    told: dict[UUID, Row] = {}
    sellers: dict[UUID, UUID] = {}  # listing -> seller
    parties: dict[UUID, tuple[UUID, UUID]] = {}  # escrow -> buyer, seller
    payers: dict[UUID, UUID] = {}  # deposit -> user
    inboxes: dict[UUID, UUID] = {}  # inbox -> user
    staff: set[UUID] = set()
    banned: set[UUID] = set()
    for n in app.recorder.select_notifications(start=1, limit=10**9):
        e = app.mapper.to_domain_event(n)

        def tell(users: Any, kind: str, e: Any = e, position: int = n.id) -> None:
            for user in users:
                key = notification_id(e.originator_id, e.originator_version, user)
                told[key] = (user, position, kind, False)

        on_duty = sorted(staff - banned)
        match e:
            case Listing.Created():
                sellers[e.originator_id] = e.seller_id
            case Listing.Approved() | Listing.Rejected():
                tell([sellers[e.originator_id]], "listing")
            case Deposit.Requested():
                payers[e.originator_id] = e.user_id
            case Deposit.Completed():
                tell([payers[e.originator_id]], "payment")
            case Escrow.Opened():
                parties[e.originator_id] = (e.buyer_id, e.seller_id)
                tell([e.seller_id], "sale")
            case Escrow.Delivered():
                tell([parties[e.originator_id][0]], "purchase")
            case Escrow.Disputed():
                tell(parties[e.originator_id], "dispute")
                tell(on_duty, "admin")
            case Escrow.Released() | Escrow.Refunded() if e.by == "staff":
                tell(parties[e.originator_id], "dispute")
                tell([s for s in on_duty if s != e.staff_id], "admin")
            case Escrow.Released():
                tell([parties[e.originator_id][1]], "sale")
            case ChatRoom.MessagePosted():
                tell(e.notify, "message")
            case User.StaffGranted():
                staff.add(e.originator_id)
            case User.Banned():
                banned.add(e.originator_id)
                tell([e.originator_id], "system")
            case User.Unbanned():
                banned.discard(e.originator_id)
                tell([e.originator_id], "system")
            case Inbox.Opened():
                inboxes[e.originator_id] = e.user_id
            case Inbox.Read():
                user, position, kind, _ = told[e.notification_id]
                assert user == inboxes[e.originator_id]
                told[e.notification_id] = (user, position, kind, True)
            case Inbox.AllRead():
                for key, (user, position, kind, _read) in told.items():
                    if user == inboxes[e.originator_id] and position <= e.up_to:
                        told[key] = (user, position, kind, True)
    return told


class Notifying(MarketMachine):
    escrows = Bundle("escrows")
    users_count = USERS

    def __init__(self) -> None:
        super().__init__()
        self.parties: dict[UUID, tuple[UUID, UUID]] = {}  # escrow -> buyer, seller
        with self.container.read_your_writes():
            for buyer in self.users[2:]:
                self.container.payments.credit_deposit(
                    Actor.platform("seed"), buyer, uuid.uuid4(), 20 * PRICE
                )

    @rule(
        target=escrows,
        buyer=st.sampled_from([2, 3]),
        seller=st.sampled_from([0, 1]),
        delivered=st.booleans(),
    )
    def buy(self, buyer: int, seller: int, delivered: bool) -> Any:
        """A purchase, delivered at once or not (disputes need a delivery)."""
        c, sold_by, bought_by = self.container, self.users[seller], self.users[buyer]
        listing = self._prepare(
            c.listings.create_listing,
            Actor.user(sold_by),
            "pubg-mobile",
            {"title": "Acc", "description": "D", "price": PRICE},
        )
        if listing is None:  # the seller is banned
            return multiple()
        self._prepare(c.listings.approve_listing, Actor.user(self.staff), listing)
        ok, escrow = self._attempt(c.escrows.purchase, Actor.user(bought_by), listing)
        if not ok:
            return multiple()
        self.parties[escrow.id] = (bought_by, sold_by)
        if delivered:
            credentials = {"login": "l", "password": "p"}
            self._prepare(c.escrows.deliver, Actor.user(sold_by), escrow.id, credentials)
        return escrow.id

    @rule(escrow=escrows)
    def deliver(self, escrow: UUID) -> None:
        seller = Actor.user(self.parties[escrow][1])
        credentials = {"login": "l", "password": "p"}
        self._attempt(self.container.escrows.deliver, seller, escrow, credentials)

    @rule(escrow=escrows)
    def confirm(self, escrow: UUID) -> None:
        buyer = Actor.user(self.parties[escrow][0])
        self._attempt(self.container.escrows.confirm_purchase, buyer, escrow)

    @rule(escrow=escrows)
    def dispute(self, escrow: UUID) -> None:
        buyer = Actor.user(self.parties[escrow][0])
        self._attempt(self.container.escrows.dispute, buyer, escrow, "Broken")

    @rule(escrow=escrows, action=st.sampled_from(["refund", "release"]))
    def resolve(self, escrow: UUID, action: str) -> None:
        resolve = self.container.escrows.resolve_dispute
        self._attempt(resolve, Actor.user(self.staff), escrow, action, "Decided.")

    @rule(sender=people, other=people, watching=st.booleans())
    def message(self, sender: int, other: int, watching: bool) -> None:
        if sender == other:
            return
        a, b = self.users[sender], self.users[other]
        present = frozenset({b}) if watching else frozenset()

        def post() -> None:
            now = self.clock.now()
            app = self.app
            room = app.find(direct_room_id(a, b, None), ChatRoom) or ChatRoom.direct(
                a, b, None, now
            )
            room.post(a, "Hello", now, present=present)
            app.save(room)

        post.__name__ = "post_message"
        self._attempt(post)

    @rule(who=people, pick=st.integers(0, 40))
    def read(self, who: int, pick: int) -> None:
        user = self.users[who]
        with self.container.store.reader.connect() as conn:
            mine = list(
                conn.execute(
                    select(notifications.c.id)
                    .where(notifications.c.user_id == user)
                    .order_by(notifications.c.position, notifications.c.id)
                ).scalars()
            )
        if mine:
            mark_read = self.container.notifications.mark_read
            self._attempt(mark_read, Actor.user(user), mine[pick % len(mine)])

    @rule(who=people)
    def read_all(self, who: int) -> None:
        self._attempt(self.container.notifications.mark_all_read, Actor.user(self.users[who]))

    @rule(who=people, banned=st.booleans())
    def ban(self, who: int, banned: bool) -> None:
        accounts, user = self.container.accounts, self.users[who]
        command = accounts.ban if banned else accounts.unban
        self._attempt(command, Actor.user(self.staff), user)

    @rule()
    def rebuild(self) -> None:
        """A rebuild from 0 gives every row again, ids and reads included."""
        self._settle()
        runner = self.container.runners[0]
        tables = NotificationsProjector.tables
        standing = rows_of(self.container, tables)
        runner.rebuild_schema(["notifications"])
        runner.catch_up()
        assert rows_of(self.container, tables) == standing

    def _settle(self) -> None:
        head = self.app.recorder.max_notification_id() or 0
        assert self.container.board.wait_for(head, 10)

    @invariant()
    def projected_notifications_equal_a_replay_of_the_log(self) -> None:
        self._settle()
        c = notifications.c
        with self.container.store.reader.connect() as conn:
            projected = {
                row.id: (row.user_id, row.position, row.type, row.is_read)
                for row in conn.execute(select(c.id, c.user_id, c.position, c.type, c.is_read))
            }
        assert projected == replayed(self.app)


def test_notification_state_machine() -> None:
    Notifying.run(
        settings(
            max_examples=20,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
    )
    Notifying.check_each_succeeded(
        [
            "purchase",
            "deliver",
            "confirm_purchase",
            "dispute",
            "resolve_dispute",
            "post_message",
            "mark_read",
            "mark_all_read",
            "ban",
            "unban",
        ]
    )
