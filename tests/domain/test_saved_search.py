"""SavedSearches: a user's saved searches, numbered 1, 2, 3... in one aggregate."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from domain.errors import DomainError, NotFound
from domain.saved_search import MAX_SAVED_SEARCHES, SavedSearches

NOW = datetime(2026, 11, 30, 12, tzinfo=UTC)


def searches() -> SavedSearches:
    s = SavedSearches(uuid.uuid4())
    s.collect_events()
    return s


def names(s: SavedSearches) -> list[str]:
    return [type(e).__name__ for e in s.collect_events()]


def test_searches_are_numbered_and_never_reuse_a_number() -> None:
    s = searches()
    assert s.save("PUBG", {"game": "pubg-mobile"}, True, True, NOW) == 1
    assert s.save("Cheap", {"max_price": "100000"}, False, True, NOW) == 2
    s.remove(2)
    assert s.save("Again", {}, True, True, NOW) == 3
    assert names(s) == ["Saved", "Saved", "Removed", "Saved"]
    with pytest.raises(NotFound):
        s.search(2)


def test_a_change_records_only_what_changed() -> None:
    s = searches()
    s.save("PUBG", {}, True, True, NOW)
    s.collect_events()
    s.change(1, {"name": "PUBG", "is_active": False})
    events = s.collect_events()
    assert [e.changes for e in events] == [{"is_active": False}]  # type: ignore[attr-defined]
    s.change(1, {"is_active": False})
    assert names(s) == []


@pytest.mark.parametrize(
    "query",
    [
        {"_type_": "uuid_hex", "_data_": "0" * 32},  # posing as the store's own encoding
        {"game": {"nested": 1}},
        {"": 1},
        {"q": "x" * 2_001},
    ],
)
def test_filters_are_flat_named_values_of_bounded_size(query: dict[str, object]) -> None:
    with pytest.raises(DomainError):
        searches().save("x", query, True, True, NOW)


def test_names_are_required_and_the_number_of_searches_bounded() -> None:
    s = searches()
    with pytest.raises(DomainError):
        s.save("  ", {}, True, True, NOW)
    for i in range(MAX_SAVED_SEARCHES):
        s.save(f"s{i}", {}, True, True, NOW)
    with pytest.raises(DomainError):
        s.save("one more", {}, True, True, NOW)
    with pytest.raises(DomainError):
        s.change(1, {"owner_id": "x"})
