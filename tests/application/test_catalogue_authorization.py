"""The application decides who curates the catalogue: active staff (checked against the event
store) and the platform's own seed; anyone else is refused and nothing is written."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from application.actor import Actor, NotAllowed
from domain.game import Game, game_id
from wibestore.container import Container
from wibestore.seed import SEED

PASSWORD = "Sup3r-Secret!"


def commands(container: Container, actor: Actor) -> list[Callable[[], Any]]:
    catalogue = container.catalogue
    return [
        lambda: catalogue.add_game(actor, "Tetris 99"),
        lambda: catalogue.add_category(actor, "Puzzles"),
        lambda: catalogue.edit_game(actor, "chess", {"name": "Chess 2"}),
        lambda: catalogue.edit_game(actor, "chess", {}, active=False),
        lambda: catalogue.deactivate_game(actor, "chess"),
    ]


def not_curators(container: Container) -> list[Actor]:
    user = container.accounts.register("player@example.uz", PASSWORD)
    banned = container.accounts.create_user(
        Actor.platform("operator"), "banned@example.uz", PASSWORD, staff=True
    )
    container.accounts.ban(Actor.platform("operator"), banned, "fraud")
    return [
        Actor.user(user),  # a user who is not staff
        Actor.user(uuid.uuid4()),  # nobody the event store knows
        Actor.user(banned),  # staff once, banned since
    ]


def test_only_staff_or_the_platform_curate_the_catalogue(container: Container) -> None:
    container.catalogue.add_game(SEED, "Chess")
    refused = not_curators(container)
    before = container.app.recorder.max_notification_id()
    for actor in refused:
        for command in commands(container, actor):
            with pytest.raises(NotAllowed):
                command()
    assert container.app.recorder.max_notification_id() == before  # nothing was written
    chess = container.app.load(game_id("chess"), Game)
    assert (chess.name, chess.is_active) == ("Chess", True)


def test_staff_and_the_seed_curate_it(container: Container) -> None:
    staff = Actor.user(
        container.accounts.create_user(
            Actor.platform("operator"), "mod@example.uz", PASSWORD, staff=True
        )
    )
    container.catalogue.add_game(SEED, "Chess")
    container.catalogue.edit_game(staff, "chess", {"name": "Chess 2"}, active=False)
    chess = container.app.load(game_id("chess"), Game)
    assert (chess.name, chess.is_active) == ("Chess 2", False)
    container.catalogue.edit_game(SEED, "chess", {}, active=True)
    container.catalogue.add_category(staff, "Board games")
    assert container.catalogue.has_category("board-games")
    assert container.app.load(game_id("chess"), Game).is_active
