"""CONTRACT §2.3 games (public): the catalogue, its categories, a game and its listings (the
listing search of api/controllers/listings.py with the game's filter set). Staff edit the
catalogue at /admin-panel/games/ (api/controllers/admin_panel/games.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath
from sqlalchemy import Engine

from api.controllers.listings import listing_page, public_json
from api.dependencies import Caller, Inject
from api.errors import ApiError
from api.listing_query import SEARCH_DOC, ListingSearch
from api.listing_schemas import Listing
from api.pagination import PAGING_DOC, Page, Paging, page_of
from api.query import query_of
from api.schemas import absolute, iso
from domain.game import game_id
from projections.games import active_games, category_rows, game_by_slug
from projections.listings.queries import active_counts_by_game

Req = Request[Any, Any, Any]
CATALOGUE_PAGE = 100  # the frontend asks for no limit and expects every game (CONTRACT §2.3)


class GameList(msgspec.Struct):
    id: str
    name: str
    slug: str
    icon: str
    image: str | None
    color: str
    active_listings_count: int
    listings_count: int


class GameDetail(GameList):
    description: str
    is_active: bool
    sort_order: int
    created_at: str
    updated_at: str


class Category(msgspec.Struct):
    id: str
    name: str
    slug: str
    parent: str | None
    children: list[Category]


def category_tree(rows: list[Any]) -> list[Category]:
    """Root categories with their descendants nested under ``children``."""
    nodes = {
        r.id: Category(
            id=str(r.id),
            name=r.name,
            slug=r.slug,
            parent=str(r.parent_id) if r.parent_id else None,
            children=[],
        )
        for r in rows
    }
    roots = []
    for r in rows:
        if r.parent_id in nodes:
            nodes[r.parent_id].children.append(nodes[r.id])
        else:
            roots.append(nodes[r.id])
    return roots


def game_list(row: Any, base: str, count: int) -> GameList:
    return GameList(
        id=str(row.id),
        name=row.name,
        slug=row.slug,
        icon=row.icon,
        image=absolute(row.image, base),
        color=row.color,
        active_listings_count=count,
        listings_count=count,
    )


def game_detail(row: Any, base: str, count: int) -> GameDetail:
    return GameDetail(
        **msgspec.structs.asdict(game_list(row, base, count)),
        description=row.description,
        is_active=row.is_active,
        sort_order=row.sort_order,
        created_at=iso(row.created_at) or "",
        updated_at=iso(row.updated_at) or "",
    )


def detail_of(request: Req, reader: Engine, slug: str, *, include_inactive: bool) -> GameDetail:
    """The game of ``slug``; 404 when unknown (or inactive, unless ``include_inactive``)."""
    with reader.connect() as conn:
        row = game_by_slug(conn, slug, include_inactive=include_inactive)
        counts = active_counts_by_game(conn) if row is not None else {}
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Game not found.")
    return game_detail(row, str(request.base_url), counts.get(row.id, 0))


class GamesController(Controller):
    path = "/api/v1/games"
    tags = ["games"]

    @get("/", operation_id="games", sync_to_thread=True, operation_class=PAGING_DOC)
    def list_games(self, request: Req, reader: Inject[Engine]) -> Page[GameList]:
        """All active games (the frontend expects the whole catalogue on one page)."""
        w = query_of(request, Paging).window(default_limit=CATALOGUE_PAGE)
        with reader.connect() as conn:
            rows = active_games(conn)
            counts = active_counts_by_game(conn)
        base = str(request.base_url)
        page = [
            game_list(r, base, counts.get(r.id, 0)) for r in rows[w.offset : w.offset + w.limit]
        ]
        return page_of(request, w, len(rows), page)

    @get(
        "/categories/",
        operation_id="game_categories",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
    )
    def categories(self, request: Req, reader: Inject[Engine]) -> Page[Category]:
        w = query_of(request, Paging).window(default_limit=CATALOGUE_PAGE)
        with reader.connect() as conn:
            roots = category_tree(category_rows(conn))
        return page_of(request, w, len(roots), roots[w.offset : w.offset + w.limit])

    @get("/{slug:str}/", operation_id="game", sync_to_thread=True)
    def game(self, request: Req, reader: Inject[Engine], slug: FromPath[str]) -> GameDetail:
        return detail_of(request, reader, slug, include_inactive=False)

    @get("/{slug:str}/listings/", operation_id="game_listings", operation_class=SEARCH_DOC)
    async def game_listings(
        self, request: Req, reader: Inject[Engine], slug: FromPath[str]
    ) -> Response[Page[Listing]]:
        def answer(viewer: Caller | None) -> Page[Listing]:
            query = query_of(request, ListingSearch)
            f = query.filter()
            f.game_id = game_id(slug)
            return listing_page(request, reader, f, query.window(), viewer)

        return await public_json(request, answer)
