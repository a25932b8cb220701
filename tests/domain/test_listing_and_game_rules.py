"""The bounds of a listing's and a game's fields live in the domain (the API's request schemas
are built from them), so a command refuses what a request would have been refused."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import pytest

from domain.game import MAX_NAME, MAX_SORT_ORDER, Game, InvalidGame
from domain.listing import (
    MAX_DESCRIPTION,
    MAX_FEATURE,
    MAX_FEATURES,
    MAX_SHORT,
    MAX_SKINS,
    MAX_TITLE,
    MAX_WARRANTY_DAYS,
    InvalidListing,
    Listing,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OFFER = {"title": "Conqueror account", "description": "Glacier M416", "price": 1_500_000}


def offer(**fields: Any) -> Listing:
    return Listing.offer(uuid4(), uuid4(), NOW, **{**OFFER, **fields})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", "x" * (MAX_TITLE + 1)),
        ("description", "x" * (MAX_DESCRIPTION + 1)),
        ("level", "x" * (MAX_SHORT + 1)),
        ("rank", "x" * (MAX_SHORT + 1)),
        ("features", ["x"] * (MAX_FEATURES + 1)),
        ("features", ["x" * (MAX_FEATURE + 1)]),
        ("warranty_days", MAX_WARRANTY_DAYS + 1),
        ("skins_count", MAX_SKINS + 1),
        ("skins_count", -1),
        ("login_method", "fax"),
    ],
)
def test_a_listing_out_of_bounds_is_refused_when_offered_and_when_edited(
    field: str, value: Any
) -> None:
    with pytest.raises(InvalidListing) as refused:
        offer(**{field: value})
    assert refused.value.field == field
    listing = offer()
    with pytest.raises(InvalidListing):
        listing.edit(listing.seller_id, {field: value})
    assert listing.version == 1  # nothing was recorded


def test_a_listing_at_its_bounds_is_fine() -> None:
    listing = offer(
        title="x" * MAX_TITLE,
        level="x" * MAX_SHORT,
        features=["x" * MAX_FEATURE] * MAX_FEATURES,
        warranty_days=MAX_WARRANTY_DAYS,
        skins_count=MAX_SKINS,
    )
    assert listing.status == "pending"


@pytest.mark.parametrize(
    ("details", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "x" * 121}, "slug"),
        ({"color": "blue"}, "color"),
        ({"sort_order": MAX_SORT_ORDER + 1}, "sort_order"),
    ],
)
def test_a_game_out_of_bounds_is_refused(details: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidGame) as refused:
        Game.add("Tetris 99", **details)
    assert refused.value.field == field


def test_a_game_name_has_a_longest() -> None:
    with pytest.raises(InvalidGame):
        Game.add("x" * (MAX_NAME + 1))
    assert Game.add("x" * MAX_NAME, slug="tetris").slug == "tetris"
