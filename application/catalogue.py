"""Catalogue: the games listings are filed under. Staff curate it; the platform seeds it
(``wibestore seed-catalogue``, acting as ``Actor.platform("seed")``)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.actor import Actor, staff_or_system
from application.marketplace import Marketplace
from domain.errors import Conflict
from domain.game import Category, Game, category_id, game_id, slugify


class Catalogue:
    def __init__(self, app: Marketplace) -> None:
        self.app = app

    def add_game(self, actor: Actor, name: str, **details: Any) -> UUID:
        staff_or_system(self.app, actor)
        game = Game.add(name, **details)
        try:
            self.app.save(game)
        except IntegrityError as e:
            raise Conflict(
                f"A game with the slug '{game.slug}' already exists.", field="slug"
            ) from e
        return game.id

    def add_category(
        self, actor: Actor, name: str, *, slug: str | None = None, parent_slug: str | None = None
    ) -> UUID:
        staff_or_system(self.app, actor)
        if parent_slug is not None:
            self.app.load(category_id(parent_slug), Category, "Parent category not found.")
        category = Category.add(name, slug=slug, parent_slug=parent_slug)
        try:
            self.app.save(category)
        except IntegrityError as e:
            raise Conflict(
                f"A category with the slug '{category.slug}' already exists.", field="slug"
            ) from e
        return category.id

    def has_category(self, slug: str) -> bool:
        return self.app.find(category_id(slug), Category) is not None

    def edit_game(
        self, actor: Actor, slug: str, changes: dict[str, Any], *, active: bool | None = None
    ) -> None:
        """Change a game's details and, when ``active`` says so, (de)activate it: one save."""
        staff_or_system(self.app, actor)
        game = self.game(slug)
        game.edit(changes)
        if active is True:
            game.reactivate()
        elif active is False:
            game.deactivate()
        self.app.save(game)

    def deactivate_game(self, actor: Actor, slug: str) -> None:
        self.edit_game(actor, slug, {}, active=False)

    def game(self, slug: str) -> Game:
        return self.app.load(game_id(slug), Game, "Game not found.")

    def has_game(self, slug: str) -> bool:
        return self.app.find(game_id(slug), Game) is not None

    @staticmethod
    def game_slug(name: str) -> str:
        return slugify(name)
