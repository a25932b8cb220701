"""Inbox: given a user's inbox, when they read one notification or all, then these events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from domain.inbox import Inbox, inbox_id

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


def names(inbox: Inbox) -> list[str]:
    return [type(e).__name__ for e in inbox.collect_events()]


def test_an_inbox_is_the_users_own_by_its_id() -> None:
    user = uuid.uuid4()
    assert Inbox(user_id=user).id == inbox_id(user)
    assert inbox_id(user) != inbox_id(uuid.uuid4())


def test_reading_one_notification_records_which() -> None:
    inbox = Inbox(user_id=uuid.uuid4())
    notification = uuid.uuid4()
    assert inbox.read(notification, 7, NOW) is True
    read = inbox.collect_events()[-1]
    assert isinstance(read, Inbox.Read)
    assert (read.notification_id, read.at) == (notification, NOW)


def test_read_all_records_the_newest_position_it_covers() -> None:
    inbox = Inbox(user_id=uuid.uuid4())
    assert inbox.read_all(40, NOW) is True
    all_read = inbox.collect_events()[-1]
    assert isinstance(all_read, Inbox.AllRead)
    assert (all_read.up_to, all_read.at) == (40, NOW)
    assert inbox.read_all_up_to == 40


def test_what_read_all_covered_is_not_read_again() -> None:
    inbox = Inbox(user_id=uuid.uuid4())
    inbox.read_all(40, NOW)
    assert inbox.read(uuid.uuid4(), 40, NOW) is False
    assert inbox.read(uuid.uuid4(), 12, NOW) is False
    assert inbox.read_all(40, NOW) is False
    assert inbox.read_all(39, NOW) is False
    assert names(inbox) == ["Opened", "AllRead"]


def test_notifications_newer_than_read_all_are_read_one_by_one_and_all_again() -> None:
    inbox = Inbox(user_id=uuid.uuid4())
    inbox.read_all(40, NOW)
    assert inbox.read(uuid.uuid4(), 41, NOW) is True
    assert inbox.read_all(55, NOW) is True
    assert names(inbox) == ["Opened", "AllRead", "Read", "AllRead"]
