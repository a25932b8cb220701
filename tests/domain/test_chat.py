"""ChatRoom: one room per pair and listing, messages numbered in their room, read marks that
only move forward, and a state that stays small (counts and marks, no messages), so that a
snapshot of a long room is as small as one of a new room."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from eventsourcing.domain import Snapshot

from domain.chat import (
    ChatRoom,
    EmptyMessage,
    MessageTooLong,
    NotAParticipant,
    direct_room_id,
    message_id,
    order_room_id,
)

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)
ANN, BOB, EVE, STAFF = (uuid.uuid4() for _ in range(4))


def room() -> ChatRoom:
    r = ChatRoom.direct(ANN, BOB, None, NOW)
    r.collect_events()
    return r


def test_a_pair_has_one_room_per_listing_whoever_opens_it() -> None:
    listing = uuid.uuid4()
    assert ChatRoom.direct(ANN, BOB, None, NOW).id == ChatRoom.direct(BOB, ANN, None, NOW).id
    assert ChatRoom.direct(ANN, BOB, listing, NOW).id == direct_room_id(BOB, ANN, listing)
    assert ChatRoom.direct(ANN, BOB, listing, NOW).id != ChatRoom.direct(ANN, BOB, None, NOW).id
    escrow = uuid.uuid4()
    assert ChatRoom.for_order(escrow, listing, ANN, BOB, NOW).id == order_room_id(escrow)


def test_messages_are_numbered_and_name_who_to_notify() -> None:
    r = room()
    first = r.post(ANN, "hello", NOW)
    second = r.post(BOB, "hi", NOW, present=frozenset({ANN}))
    events = r.collect_events()
    assert [(e.seq, e.sender_id, e.notify) for e in events] == [  # type: ignore[attr-defined]
        (1, ANN, [BOB]),  # Bob is not watching the room: he is notified
        (2, BOB, []),  # Ann is: she is not
    ]
    assert (first, second) == (message_id(r.id, 1), message_id(r.id, 2))
    assert r.read_up_to == {str(ANN): 1, str(BOB): 2}  # a sender has read up to their own


@pytest.mark.parametrize(
    ("sender", "content", "error"),
    [
        (ANN, "", EmptyMessage),
        (ANN, " \n\t", EmptyMessage),
        (ANN, "x" * 2001, MessageTooLong),
        (EVE, "hi", NotAParticipant),
    ],
)
def test_bad_messages_and_strangers_are_refused(
    sender: uuid.UUID, content: str, error: type[Exception]
) -> None:
    r = room()
    with pytest.raises(error):
        r.post(sender, content, NOW)
    assert r.collect_events() == [] and r.seq == 0


def test_a_message_of_2000_characters_and_an_unknown_type_are_taken_as_text() -> None:
    r = room()
    r.post(ANN, "y" * 2000, NOW, message_type="rocket")
    (event,) = r.collect_events()
    assert event.message_type == "text"  # type: ignore[attr-defined]


def test_read_marks_only_move_forward() -> None:
    r = room()
    for text in ("a", "b", "c"):
        r.post(ANN, text, NOW)
    r.collect_events()
    assert r.read(BOB, NOW, up_to=2) is True
    assert r.read(BOB, NOW, up_to=1) is False  # older: nothing to record
    assert r.read(BOB, NOW, up_to=2) is False  # the same: nothing either
    assert r.read(BOB, NOW, up_to=99) is True  # beyond the last: up to the last
    assert r.read(BOB, NOW) is False
    assert [e.seq for e in r.collect_events()] == [2, 3]  # type: ignore[attr-defined]
    with pytest.raises(NotAParticipant):
        r.read(EVE, NOW)


def test_staff_join_once_and_their_line_takes_a_number() -> None:
    r = room()
    r.post(ANN, "help", NOW)
    r.join(STAFF, NOW)
    r.join(STAFF, NOW)
    assert r.participants == [ANN, BOB, STAFF] and r.seq == 2
    r.post(STAFF, "here", NOW)
    assert r.seq == 3


def test_a_long_rooms_snapshot_is_as_small_as_a_new_ones() -> None:
    short, long = room(), room()
    short.post(BOB, "one", NOW)
    short.post(ANN, "two", NOW)
    for i in range(1000):
        long.post(ANN if i % 2 else BOB, f"message {i}", NOW)
    short.collect_events()
    long.collect_events()
    sizes = [len(repr(Snapshot.take(r).state)) for r in (short, long)]
    assert sizes[1] <= sizes[0] + 10  # a few more digits, no messages
    restored = Snapshot.take(long).mutate(None)
    assert isinstance(restored, ChatRoom)
    assert restored.seq == 1000 and restored.read_up_to == long.read_up_to
