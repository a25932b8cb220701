"""The notifications read model: who is told what of each event, the frames it emits for the
user's socket, and that any batch size projects what one event at a time does."""

from __future__ import annotations

import json
import uuid
from typing import Any

from application.actor import Actor
from domain.chat import ChatRoom, message_id
from projections import notifications as views
from projections.notifications import NotificationsProjector
from projections.runtime import ProjectionRunner
from tests.conftest import FixedClock
from tests.projections.batches import assert_every_batch_size_agrees, one_event_at_a_time
from wibestore.container import Container
from wibestore.seed import seed_games
from workers import tasks

PASSWORD = "Sup3r-Secret!"
OPERATOR = Actor.platform("operator")
PRICE = 100_000_00


class People:
    def __init__(self, container: Container) -> None:
        seed_games(container.catalogue)
        accounts = container.accounts
        self.staff = accounts.create_user(OPERATOR, "staff@example.uz", PASSWORD, staff=True)
        self.seller = accounts.register("seller@example.uz", PASSWORD)
        self.buyer = accounts.register("buyer@example.uz", PASSWORD)


def told(container: Container, user: uuid.UUID) -> list[Any]:
    """The user's notifications, newest first."""
    container.board.wait_for(container.app.recorder.max_notification_id() or 0, 10)
    with container.store.reader.connect() as conn:
        return views.notifications_of(conn, user, 0, 100)[1]


def titles(container: Container, user: uuid.UUID) -> list[str]:
    return [n.title for n in told(container, user)]


def listing_of(container: Container, p: People, title: str = "Conqueror") -> uuid.UUID:
    return container.listings.create_listing(
        Actor.user(p.seller), "pubg-mobile", {"title": title, "description": "D", "price": PRICE}
    )


def test_moderation_tells_the_seller(container: Container) -> None:
    p = People(container)
    rejected = listing_of(container, p, "Cheap")
    container.listings.reject_listing(Actor.user(p.staff), rejected, "Blurry screenshots.")
    approved = listing_of(container, p)
    container.listings.approve_listing(Actor.user(p.staff), approved)
    newest, oldest = told(container, p.seller)
    assert (newest.type, newest.title) == ("listing", "Listing approved: Conqueror")
    assert (oldest.title, oldest.message) == ("Listing rejected: Cheap", "Blurry screenshots.")
    assert oldest.data == {"listing_id": str(rejected)}


def test_withdrawals_approved_or_rejected_tell_their_owner(container: Container) -> None:
    p = People(container)
    container.payments.credit_deposit(OPERATOR, p.seller, uuid.uuid4(), 3 * PRICE)
    first = container.payments.request_withdrawal(Actor.user(p.seller), PRICE, "card")
    second = container.payments.request_withdrawal(Actor.user(p.seller), PRICE, "card")
    third = container.payments.request_withdrawal(Actor.user(p.seller), PRICE, "card")
    container.payments.approve_withdrawal(Actor.user(p.staff), p.seller, first)
    container.payments.reject_withdrawal(Actor.user(p.staff), p.seller, second, "Wrong card.")
    container.payments.cancel_withdrawal(Actor.user(p.seller), third)  # their own doing: untold
    rejected, approved, credited = told(container, p.seller)
    assert (credited.title, credited.message) == (
        "Deposit credited",
        "300000.00 UZS was added to your balance.",
    )
    assert (approved.title, approved.data) == (
        "Withdrawal approved",
        {"withdrawal_id": str(first), "amount": "100000.00"},
    )
    assert rejected.title == "Withdrawal rejected"
    assert rejected.message == "100000.00 UZS is back on your balance. Wrong card."


def test_a_review_tells_the_seller_and_a_closed_report_its_reporter(container: Container) -> None:
    p = People(container)
    container.payments.credit_deposit(OPERATOR, p.buyer, uuid.uuid4(), PRICE)
    listing = listing_of(container, p)
    container.listings.approve_listing(Actor.user(p.staff), listing)
    escrow = container.escrows.purchase(Actor.user(p.buyer), listing).id
    container.escrows.confirm_purchase(Actor.user(p.buyer), escrow)
    review = container.reviews.write_review(Actor.user(p.buyer), escrow, 4, "Fine account")
    written = told(container, p.seller)[0]
    assert (written.type, written.title, written.message) == (
        "review",
        "New review: 4 of 5",
        "Fine account",
    )
    assert written.data["review_id"] == str(review)
    reports = container.reports
    one = reports.file_report(Actor.user(p.buyer), "scam", "x", user_id=p.seller).id
    two = reports.file_report(Actor.user(p.buyer), "other", "y", listing_id=listing).id
    reports.resolve_report(Actor.user(p.staff), one, resolved=True, note="Warned.")
    reports.resolve_report(Actor.user(p.staff), two, resolved=False)
    dismissed, resolved = told(container, p.buyer)[:2]
    assert (resolved.title, resolved.message) == ("Your report was resolved", "Warned.")
    assert (dismissed.title, dismissed.data) == (
        "Your report was dismissed",
        {"report_id": str(two)},
    )


def test_staff_are_told_of_listings_to_moderate_and_of_new_reports_but_not_of_their_own(
    container: Container,
) -> None:
    p = People(container)
    other = container.accounts.create_user(OPERATOR, "other@example.uz", PASSWORD, staff=True)
    listing = listing_of(container, p, "Cheap")
    container.listings.reject_listing(Actor.user(p.staff), listing, "Blurry screenshots.")
    container.listings.edit_listing(Actor.user(p.seller), listing, {"title": "Clear"})
    report = container.reports.file_report(
        Actor.user(p.staff), "scam", "Asked to pay outside.", user_id=p.seller, listing_id=listing
    ).id
    resubmitted, created = told(container, p.staff)
    for notice, title in ((created, "Cheap"), (resubmitted, "Clear")):
        assert (notice.type, notice.title, notice.message) == (
            "admin",
            "New listing needs moderation",
            title,
        )
        assert (notice.data, notice.link) == ({"listing_id": str(listing)}, "/admin/listings")
    filed = told(container, other)[0]
    assert (filed.type, filed.title, filed.message) == (
        "admin",
        "New report: scam",
        "Asked to pay outside.",
    )
    assert filed.data == {
        "report_id": str(report),
        "reason": "scam",
        "listing_id": str(listing),
        "user_id": str(p.seller),
    }
    assert filed.link == "/admin/reports"
    assert len(told(container, other)) == 3  # the two to moderate, the report
    assert "New listing needs moderation" not in titles(container, p.seller)


def test_a_ban_and_its_end_tell_the_user(container: Container) -> None:
    p = People(container)
    container.accounts.ban(Actor.user(p.staff), p.buyer, "Scamming")
    container.accounts.unban(Actor.user(p.staff), p.buyer)
    assert titles(container, p.buyer) == ["Your account was restored", "Your account was suspended"]
    assert told(container, p.buyer)[1].message == "Scamming"


def test_a_message_tells_the_participants_without_an_open_socket(
    container: Container, clock: FixedClock
) -> None:
    p = People(container)
    room = ChatRoom.direct(p.buyer, p.seller, None, clock.now())
    room.post(p.buyer, "Is it still for sale?", clock.now())
    room.post(p.seller, "Yes", clock.now(), present=frozenset({p.buyer}))  # buyer watching
    container.app.save(room)
    (message,) = told(container, p.seller)
    assert (message.type, message.title, message.message) == (
        "message",
        "New message",
        "Is it still for sale?",
    )
    assert message.data == {
        "room_id": str(room.id),
        "message_id": str(message_id(room.id, 1)),
        "sender_id": str(p.buyer),
    }
    assert message.link == f"/chat/{room.id}"
    assert told(container, p.buyer) == []


def test_the_daily_timer_tells_a_member_once_that_their_plan_ends_soon(
    container: Container, clock: FixedClock
) -> None:
    p = People(container)
    with container.read_your_writes():  # the timer finds them in the subscriptions read model
        container.payments.credit_deposit(OPERATOR, p.seller, uuid.uuid4(), PRICE)
        container.subscriptions.subscribe(Actor.user(p.seller), "premium", "monthly")
        container.subscriptions.cancel_subscription(Actor.user(p.seller), "")
    tasks.use_container(container)
    try:
        clock.advance(days=26)
        assert tasks.notice_expiring_subscriptions() == 0  # four days left
        clock.advance(days=1)
        assert tasks.notice_expiring_subscriptions() == 1
        assert tasks.notice_expiring_subscriptions() == 0  # once a period
    finally:
        tasks.use_container(None)  # type: ignore[arg-type]
    (notice,) = [n for n in told(container, p.seller) if n.type == "subscription_expiring"]
    assert notice.title == "Your Premium plan ends soon"
    assert notice.data["plan"] == "premium"
    assert notice.link == "/premium"


def test_the_daily_cleanup_deletes_read_notifications_after_90_days_and_keeps_unread_ones(
    container: Container, clock: FixedClock
) -> None:
    p = People(container)
    container.listings.reject_listing(Actor.user(p.staff), listing_of(container, p, "Old"), "No.")
    container.listings.approve_listing(Actor.user(p.staff), listing_of(container, p))
    approved, rejected = told(container, p.seller)
    with container.read_your_writes():  # the cleanup sees it read
        container.notifications.mark_read(Actor.user(p.seller), rejected.id)
    tasks.use_container(container)
    try:
        clock.advance(days=89)
        assert tasks.prune_read_notifications() == 0  # read, but not 90 days old
        clock.advance(days=2)
        assert tasks.prune_read_notifications() == 1
        assert tasks.prune_read_notifications() == 0
    finally:
        tasks.use_container(None)  # type: ignore[arg-type]
    assert [n.id for n in told(container, p.seller)] == [approved.id]  # unread, however old
    with container.store.reader.connect() as conn:
        assert views.unread_count(conn, p.seller) == 1


def test_the_projector_emits_each_notification_and_the_unread_count_on_the_users_channel(
    idle_container: Container, clock: FixedClock
) -> None:
    c = idle_container
    p = People(c)
    published: list[tuple[str, dict[str, Any]]] = []
    runner = ProjectionRunner(
        [NotificationsProjector()],
        c.app.recorder,
        c.app.mapper,
        c.store,
        publish=lambda messages: published.extend((c, json.loads(body)) for c, body in messages),
    )
    listing = listing_of(c, p)
    c.listings.approve_listing(Actor.user(p.staff), listing)
    while runner.process_batch(live=True):
        pass
    with c.store.reader.connect() as conn:
        (row,) = views.notifications_after(conn, p.seller, 0, 10)
        assert views.position_of(conn, p.seller, row.id) == row.position
        assert views.position_of(conn, p.buyer, row.id) is None
    to_seller = [m for m in published if m[0] == f"notifications:{p.seller}"]
    assert to_seller == [
        (f"notifications:{p.seller}", {"position": row.position, "frame": views.frame_of(row)}),
        (
            f"notifications:{p.seller}",
            {"position": row.position, "frame": {"type": "unread_count", "unread_count": 1}},
        ),
    ]
    assert set(to_seller[0][1]["frame"]) == {"id", "title", "message", "data", "created_at"}
    assert to_seller[0][1]["frame"]["created_at"].endswith("+00:00")
    published.clear()
    c.notifications.mark_read(Actor.user(p.seller), row.id)
    runner.process_batch(live=True)
    assert [frame for _, frame in published] == [
        {"position": published[0][1]["position"], "frame": views.unread_frame(0)}
    ]
    published.clear()
    runner.process_batch(live=False)  # catching up or rebuilding publishes nothing
    assert published == []


def test_any_batch_size_projects_what_one_event_at_a_time_does(
    idle_container: Container, clock: FixedClock
) -> None:
    c = idle_container
    p = People(c)
    c.payments.credit_deposit(OPERATOR, p.buyer, uuid.uuid4(), 2 * PRICE)
    for title in ("One", "Two"):
        listing = listing_of(c, p, title)
        c.listings.approve_listing(Actor.user(p.staff), listing)
        escrow = c.escrows.purchase(Actor.user(p.buyer), listing).id
        c.escrows.deliver(Actor.user(p.seller), escrow, {"login": "l", "password": "p"})
        clock.advance(minutes=1)
        c.escrows.dispute(Actor.user(p.buyer), escrow, "Broken")
        c.escrows.resolve_dispute(Actor.user(p.staff), escrow, "release", "Works for us.")
    tables = NotificationsProjector.tables
    expected = one_event_at_a_time(c, tables)
    with c.store.reader.connect() as conn:
        first = views.notifications_of(conn, p.seller, 0, 1)[1][0]
    c.notifications.mark_all_read(Actor.user(p.buyer))
    c.notifications.mark_read(Actor.user(p.seller), first.id)
    expected = one_event_at_a_time(c, tables)
    assert sum(1 for row in expected["notifications"] if row[8]) >= 2  # is_read
    assert_every_batch_size_agrees(c, ["notifications"], tables, expected)


def test_a_message_sent_through_the_chats_tells_only_whoever_has_no_socket_on_the_room(
    container: Container,
) -> None:
    p = People(container)
    room = container.chats.open_room(Actor.user(p.buyer), p.seller, None, "Hello?")
    container.presence.enter(room, p.buyer)  # the buyer watches the room; the seller does not
    container.chats.post(Actor.user(p.seller), room, "Hi, still for sale")
    assert [(n.type, n.message) for n in told(container, p.seller)] == [("message", "Hello?")]
    assert told(container, p.buyer) == []
