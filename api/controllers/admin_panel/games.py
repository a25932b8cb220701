"""CONTRACT §7 and §2.12: staff edit the game catalogue (add, edit, deactivate) and see its
inactive games too. Answers in the public catalogue's shapes (api/controllers/games.py)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, delete, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy import Engine, select

from api.accepted import ACCEPTED, unless_caught_up
from api.controllers.games import CATALOGUE_PAGE, GameDetail, detail_of, game_detail
from api.dependencies import Inject, ReadYourWrites, staff_only
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import query_of
from api.schemas import Body
from application.actor import Actor
from application.catalogue import Catalogue
from domain.game import COLOR_PATTERN, MAX_NAME, MAX_SLUG, MAX_SORT_ORDER, SLUG_PATTERN
from projections.games import games
from projections.listings.queries import active_counts_by_game

Req = Request[Any, Any, Any]
Slug = Annotated[str, Meta(min_length=1, max_length=MAX_SLUG, pattern=SLUG_PATTERN)]
Name = Annotated[str, Meta(min_length=1, max_length=MAX_NAME)]
Icon = Annotated[str, Meta(max_length=500)]
Color = Annotated[str, Meta(pattern=COLOR_PATTERN)]
SortOrder = Annotated[int, Meta(ge=0, le=MAX_SORT_ORDER)]
Description = Annotated[str, Meta(max_length=5000)]
Url = Annotated[str, Meta(max_length=500)]


class NewGame(Body):
    name: Name
    slug: Slug | None = None
    icon: Icon = "🎮"
    image: Url | None = None
    color: Color = "#3B82F6"
    description: Description = ""
    sort_order: SortOrder = 0


class GameChanges(Body):
    name: Name | UnsetType = UNSET
    icon: Icon | UnsetType = UNSET
    image: Url | UnsetType | None = UNSET
    color: Color | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    sort_order: SortOrder | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        names = ("name", "icon", "image", "color", "description", "sort_order")
        return {n: getattr(self, n) for n in names if getattr(self, n) is not UNSET}


class AdminGamesController(Controller):
    path = "/api/v1/admin-panel/games"
    tags = ["admin"]
    guards = [staff_only]

    @get("/", operation_id="admin_games", sync_to_thread=True, operation_class=PAGING_DOC)
    def list_games(self, request: Req, reader: Inject[Engine]) -> Page[GameDetail]:
        w = query_of(request, Paging).window(default_limit=CATALOGUE_PAGE)
        with reader.connect() as conn:
            rows = list(conn.execute(select(games).order_by(games.c.sort_order, games.c.name)))
            counts = active_counts_by_game(conn)
        base = str(request.base_url)
        page = [
            game_detail(r, base, counts.get(r.id, 0)) for r in rows[w.offset : w.offset + w.limit]
        ]
        return page_of(request, w, len(rows), page)

    @post(
        "/", status_code=201, operation_id="admin_add_game", sync_to_thread=True, responses=ACCEPTED
    )
    def add(
        self,
        request: Req,
        actor: Inject[Actor],
        catalogue: Inject[Catalogue],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[NewGame],
    ) -> GameDetail:
        with read_your_writes() as written:
            catalogue.add_game(
                actor,
                data.name,
                slug=data.slug,
                icon=data.icon,
                image=data.image,
                color=data.color,
                description=data.description,
                sort_order=data.sort_order,
            )
        slug = data.slug or catalogue.game_slug(data.name)
        unless_caught_up(written, f"/api/v1/games/{slug}/", "Game added.", slug=slug)
        return detail_of(request, reader, slug, include_inactive=True)

    @patch("/{slug:str}/", operation_id="admin_edit_game", sync_to_thread=True, responses=ACCEPTED)
    def edit(
        self,
        request: Req,
        actor: Inject[Actor],
        catalogue: Inject[Catalogue],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        slug: FromPath[str],
        data: JSONBody[GameChanges],
    ) -> GameDetail:
        active = None if data.is_active is UNSET else data.is_active
        with read_your_writes() as written:
            catalogue.edit_game(actor, slug, data.changes(), active=active)
        unless_caught_up(written, f"/api/v1/games/{slug}/", "Game updated.", slug=slug)
        return detail_of(request, reader, slug, include_inactive=True)

    @delete(
        "/{slug:str}/", status_code=204, operation_id="admin_deactivate_game", sync_to_thread=True
    )
    def deactivate(
        self,
        actor: Inject[Actor],
        catalogue: Inject[Catalogue],
        read_your_writes: Inject[ReadYourWrites],
        slug: FromPath[str],
    ) -> None:
        with read_your_writes():
            catalogue.deactivate_game(actor, slug)
