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
from hypothesis.stateful import initialize, invariant, rule
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
picks = st.integers(0, 100)
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
                tell([s for s in on_duty if s != e.seller_id], "admin")  # to moderate
            case Listing.Edited() if e.resubmitted:
                tell([s for s in on_duty if s != sellers[e.originator_id]], "admin")
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
    """Purchases move on by rules that pick among the escrows at the right step (so that
    each step is mostly carried out, not refused)."""

    users_count = USERS

    def __init__(self) -> None:
        super().__init__()
        self.parties: dict[UUID, tuple[UUID, UUID]] = {}  # escrow -> buyer, seller
        self.status: dict[UUID, str] = {}  # escrow -> paid, delivered, disputed or settled
        with self.container.read_your_writes():
            for buyer in self.users[2:]:
                self.container.payments.credit_deposit(
                    Actor.platform("seed"), buyer, uuid.uuid4(), 50 * PRICE
                )

    def _at(self, statuses: tuple[str, ...], pick: int) -> UUID | None:
        """One of the escrows in ``statuses``, or None when there is none."""
        found = [e for e, status in self.status.items() if status in statuses]
        return found[pick % len(found)] if found else None

    def _move(self, escrow: UUID, to: str, command: Any, *args: Any) -> None:
        if self._attempt(command, *args)[0]:
            self.status[escrow] = to

    @initialize()
    def purchases_at_each_step(self) -> None:
        """Each buyer has bought from one seller: two purchases paid, one delivered, one
        in dispute (so that the steps after each have something to act on from the start)."""
        for buyer, seller in ((2, 0), (3, 1)):
            for then in ("paid", "paid", "delivered", "disputed"):
                self.buy(buyer, seller, then)

    @rule(
        buyer=st.sampled_from([2, 3]),
        seller=st.sampled_from([0, 1]),
        then=st.sampled_from(["paid", "delivered", "disputed"]),
    )
    def buy(self, buyer: int, seller: int, then: str) -> None:
        """A purchase, taken on at once to ``then`` (those steps are ``advance``'s too)."""
        c, sold_by, bought_by = self.container, self.users[seller], self.users[buyer]
        listing = self._prepare(
            c.listings.create_listing,
            Actor.user(sold_by),
            "pubg-mobile",
            {"title": "Acc", "description": "D", "price": PRICE},
        )
        if listing is None:  # the seller is banned
            return
        self._prepare(c.listings.approve_listing, Actor.user(self.staff), listing)
        escrow = self._prepare(c.escrows.purchase, Actor.user(bought_by), listing)
        if escrow is None:  # the buyer is banned
            return
        self.parties[escrow.id] = (bought_by, sold_by)
        self.status[escrow.id] = "paid"
        credentials = {"login": "l", "password": "p"}
        if then != "paid" and self._prepare(
            c.escrows.deliver, Actor.user(sold_by), escrow.id, credentials
        ):
            self.status[escrow.id] = "delivered"
            if then == "disputed" and self._prepare(
                c.escrows.dispute, Actor.user(bought_by), escrow.id, "Broken"
            ):
                self.status[escrow.id] = "disputed"

    @rule(pick=picks, choice=st.booleans())
    def advance(self, pick: int, choice: bool) -> None:
        """The next step of a purchase (one rule for all: each is then tried in most runs):
        paid -> delivered or confirmed; delivered -> confirmed or disputed; disputed ->
        refunded or released by staff."""
        escrow = self._at(("paid", "delivered", "disputed"), pick)
        if escrow is None:
            return
        escrows, status = self.container.escrows, self.status[escrow]
        buyer, seller = (Actor.user(u) for u in self.parties[escrow])
        if status == "disputed":
            action = "refund" if choice else "release"
            staff = Actor.user(self.staff)
            self._move(escrow, "settled", escrows.resolve_dispute, staff, escrow, action, "Ok.")
        elif status == "delivered" and choice:
            self._move(escrow, "disputed", escrows.dispute, buyer, escrow, "Broken")
        elif status == "paid" and choice:
            credentials = {"login": "l", "password": "p"}
            self._move(escrow, "delivered", escrows.deliver, seller, escrow, credentials)
        else:
            self._move(escrow, "settled", escrows.confirm_purchase, buyer, escrow)

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

    @rule(who=people, pick=picks)
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

    @rule(who=people)
    def ban(self, who: int) -> None:
        """Ban the user, or lift their ban."""
        accounts, user = self.container.accounts, self.users[who]
        banned = self.app.load(user, User).is_active is False
        command = accounts.unban if banned else accounts.ban
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
