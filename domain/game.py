"""The Game aggregate: one entry of the catalogue listings are filed under."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError

NAMESPACE = uuid.UUID("9b0f3c5e-2c43-4d7e-8f0e-6a8d1f9c2b17")
EDITABLE = frozenset({"name", "icon", "image", "color", "description", "sort_order"})
# The rules of a game's fields (the API's request schema is built from them).
COLOR_PATTERN = r"^#[0-9A-Fa-f]{6}$"
SLUG_PATTERN = r"^[a-z0-9-]+$"
MAX_NAME, MAX_SLUG = 100, 120
MAX_SORT_ORDER = 100_000
_COLOR = re.compile(COLOR_PATTERN)
_SLUG = re.compile(SLUG_PATTERN)


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


def game_id(slug: str) -> UUID:
    """A game's id follows from its slug, so two games can never share a slug."""
    return uuid.uuid5(NAMESPACE, f"game:{slug}")


class Game(Aggregate):
    class Added(Aggregate.Created):
        slug: str
        name: str
        icon: str
        image: str | None
        color: str
        description: str
        sort_order: int

    class Edited(Aggregate.Event):
        changes: dict[str, Any]

    class Deactivated(Aggregate.Event):
        pass

    class Reactivated(Aggregate.Event):
        pass

    @staticmethod
    def create_id(slug: str, **_: Any) -> UUID:
        return game_id(slug)

    @classmethod
    def add(
        cls,
        name: str,
        *,
        slug: str | None = None,
        icon: str = "🎮",
        image: str | None = None,
        color: str = "#3B82F6",
        description: str = "",
        sort_order: int = 0,
    ) -> Game:
        check_game_fields({"name": name, "color": color, "sort_order": sort_order})
        if slug and (len(slug) > MAX_SLUG or not _SLUG.match(slug)):
            raise InvalidGame("A slug is lower-case letters, digits and '-'.", field="slug")
        slug = slug or slugify(name)
        if not slug:
            raise InvalidGame("A game needs a name made of letters or digits.", field="name")
        return cls._create(
            cls.Added,
            slug=slug,
            name=name.strip(),
            icon=icon,
            image=image,
            color=color,
            description=description,
            sort_order=sort_order,
        )

    @event(Added)
    def __init__(
        self,
        slug: str,
        name: str,
        icon: str,
        image: str | None,
        color: str,
        description: str,
        sort_order: int,
    ) -> None:
        self.slug = slug
        self.name = name
        self.icon = icon
        self.image = image
        self.color = color
        self.description = description
        self.sort_order = sort_order
        self.is_active = True

    def edit(self, changes: dict[str, Any]) -> None:
        unknown = set(changes) - EDITABLE
        if unknown:
            raise InvalidGame(f"{sorted(unknown)[0]} cannot be changed.", field=sorted(unknown)[0])
        check_game_fields(changes)
        effective = {k: v for k, v in changes.items() if getattr(self, k) != v}
        if effective:
            self._edited(effective)

    @event(Edited)
    def _edited(self, changes: dict[str, Any]) -> None:
        for name, value in changes.items():
            setattr(self, name, value)

    def deactivate(self) -> None:
        if self.is_active:
            self._deactivated()

    @event(Deactivated)
    def _deactivated(self) -> None:
        self.is_active = False

    def reactivate(self) -> None:
        if not self.is_active:
            self._reactivated()

    @event(Reactivated)
    def _reactivated(self) -> None:
        self.is_active = True


def check_game_fields(fields: dict[str, Any]) -> None:
    if "name" in fields and not str(fields["name"]).strip():
        raise InvalidGame("A game needs a name.", field="name")
    if "name" in fields and len(fields["name"]) > MAX_NAME:
        raise InvalidGame(f"A game's name has at most {MAX_NAME} characters.", field="name")
    if "color" in fields and not _COLOR.match(str(fields["color"])):
        raise InvalidGame("Color must look like #RRGGBB.", field="color")
    if "sort_order" in fields and not 0 <= int(fields["sort_order"]) <= MAX_SORT_ORDER:
        raise InvalidGame(f"Sort order must be between 0 and {MAX_SORT_ORDER}.", field="sort_order")


class InvalidGame(DomainError):
    pass


def category_id(slug: str) -> UUID:
    return uuid.uuid5(NAMESPACE, f"category:{slug}")


class Category(Aggregate):
    """A shelf of the catalogue (Mobile, PC, Shooters...); categories nest under a parent."""

    class Added(Aggregate.Created):
        slug: str
        name: str
        parent_slug: str | None

    @staticmethod
    def create_id(slug: str, **_: Any) -> UUID:
        return category_id(slug)

    @classmethod
    def add(cls, name: str, *, slug: str | None = None, parent_slug: str | None = None) -> Category:
        slug = slug or slugify(name)
        if not slug or not name.strip():
            raise InvalidGame("A category needs a name made of letters or digits.", field="name")
        if parent_slug == slug:
            raise InvalidGame("A category cannot be its own parent.", field="parent")
        return cls._create(cls.Added, slug=slug, name=name.strip(), parent_slug=parent_slug)

    @event(Added)
    def __init__(self, slug: str, name: str, parent_slug: str | None) -> None:
        self.slug = slug
        self.name = name
        self.parent_slug = parent_slug
