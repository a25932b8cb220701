"""Catalogue: the games listings are filed under (staff curate it)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from application.marketplace import Marketplace
from domain.errors import Conflict
from domain.game import Category, Game, category_id, game_id, slugify


class Catalogue:
    def __init__(self, app: Marketplace) -> None:
        self.app = app

    def add_game(self, name: str, **details: Any) -> UUID:
        game = Game.add(name, **details)
        try:
            self.app.save(game)
        except IntegrityError as e:
            raise Conflict(
                f"A game with the slug '{game.slug}' already exists.", field="slug"
            ) from e
        return game.id

    def add_category(
        self, name: str, *, slug: str | None = None, parent_slug: str | None = None
    ) -> UUID:
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

    def edit_game(self, slug: str, changes: dict[str, Any]) -> None:
        game = self.game(slug)
        game.edit(changes)
        self.app.save(game)

    def deactivate_game(self, slug: str) -> None:
        game = self.game(slug)
        game.deactivate()
        self.app.save(game)

    def reactivate_game(self, slug: str) -> None:
        game = self.game(slug)
        game.reactivate()
        self.app.save(game)

    def game(self, slug: str) -> Game:
        return self.app.load(game_id(slug), Game, "Game not found.")

    def has_game(self, slug: str) -> bool:
        return self.app.find(game_id(slug), Game) is not None

    @staticmethod
    def game_slug(name: str) -> str:
        return slugify(name)
