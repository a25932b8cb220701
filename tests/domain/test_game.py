"""Game: the catalogue entry."""

from __future__ import annotations

import pytest

from domain.game import Game, InvalidGame, game_id, slugify


def test_adding_a_game_derives_its_slug_and_id() -> None:
    game = Game.add("Pokémon GO", icon="⚡")
    assert game.slug == "pokemon-go"
    assert game.id == game_id("pokemon-go")
    assert [type(e).__name__ for e in game.collect_events()] == ["Added"]


def test_an_edit_records_only_real_changes() -> None:
    game = Game.add("Dota 2", slug="dota2")
    game.collect_events()
    game.edit({"name": "Dota 2", "sort_order": 3})
    events = game.collect_events()
    assert [type(e).__name__ for e in events] == ["Edited"]
    assert events[0].changes == {"sort_order": 3}  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "changes", [{"slug": "x"}, {"color": "red"}, {"name": "  "}, {"sort_order": -1}]
)
def test_bad_edits_are_refused(changes: dict[str, object]) -> None:
    game = Game.add("Dota 2", slug="dota2")
    game.collect_events()
    with pytest.raises(InvalidGame):
        game.edit(changes)
    assert game.collect_events() == []


def test_deactivating_twice_records_once() -> None:
    game = Game.add("Dota 2")
    game.collect_events()
    game.deactivate()
    game.deactivate()
    game.reactivate()
    assert [type(e).__name__ for e in game.collect_events()] == ["Deactivated", "Reactivated"]


def test_a_name_without_letters_or_digits_has_no_slug() -> None:
    assert slugify("!!!") == ""
    with pytest.raises(InvalidGame):
        Game.add("!!!")


def test_a_category_is_found_by_its_slug_and_never_its_own_parent() -> None:
    from domain.game import Category, category_id

    shooters = Category.add("Mobile shooters", parent_slug="mobile")
    assert (shooters.slug, shooters.id) == ("mobile-shooters", category_id("mobile-shooters"))
    with pytest.raises(InvalidGame):
        Category.add("Loop", slug="loop", parent_slug="loop")
