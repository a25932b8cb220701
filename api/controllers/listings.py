"""CONTRACT §2.4 listings, §2.3 game listings, §2.2 profile listings and favourites."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import anyio.to_thread
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.serialization import encode_json
from msgspec import UNSET

from api.accepted import ACCEPTED, unless_caught_up
from api.auth import authenticate, client_address, container_of, optional_user
from api.errors import ApiError
from api.listing_cache import responses_for
from api.listing_schemas import (
    Favorite,
    Listing,
    ListingFields,
    favorite_from_row,
    listing_from_row,
)
from api.pagination import Page, page_of, window
from api.schemas import Message
from application.actor import Actor
from domain.game import game_id
from domain.money import parse_amount
from projections import listing_queries as q

Req = Request[Any, Any, Any]
TRUE, FALSE = {"true", "1", "yes"}, {"false", "0", "no"}
REQUIRED_TO_CREATE = ("title", "description", "price")


def query_error(field: str, message: str) -> ApiError:
    return ApiError(400, "INVALID", f"{field}: {message}", {field: [message]})


def _bool(request: Req, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    if raw.lower() in TRUE:
        return True
    if raw.lower() in FALSE:
        return False
    raise query_error(name, "Must be true or false.")


def _uuid(request: Req, *names: str) -> UUID | None:
    for name in names:
        raw = request.query_params.get(name)
        if raw:
            try:
                return UUID(raw)
            except ValueError as e:
                raise query_error(name, "Must be a valid UUID.") from e
    return None


def _game(request: Req) -> UUID | None:
    raw = request.query_params.get("game") or request.query_params.get("game_id")
    if not raw:
        return None
    try:
        return UUID(raw)
    except ValueError:
        return game_id(raw.strip().lower())  # a slug: game ids follow from slugs


def _ordering(request: Req) -> tuple[tuple[str, bool], ...]:
    raw = request.query_params.get("ordering")
    if not raw:
        return q.DEFAULT_ORDER
    fields = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name = part.lstrip("-")
        if name not in q.ORDERABLE:
            raise query_error(
                "ordering",
                f"Unknown ordering field '{name}'; use one of {', '.join(sorted(q.ORDERABLE))}.",
            )
        fields.append((name, part.startswith("-")))
    return tuple(fields)


def _price(request: Req, name: str) -> int | None:
    raw = request.query_params.get(name)
    return parse_amount(raw, name) if raw not in (None, "") else None


def listing_filter(request: Req, statuses: tuple[str, ...] = ("active",)) -> q.ListingFilter:
    search = (request.query_params.get("search") or "").strip()
    if len(search) > 200:
        raise query_error("search", "Ensure this field has no more than 200 characters.")
    return q.ListingFilter(
        statuses=statuses,
        search=search or None,
        min_price=_price(request, "min_price"),
        max_price=_price(request, "max_price"),
        game_id=_game(request),
        seller_id=_uuid(request, "seller", "seller_id"),
        is_premium=_bool(request, "is_premium"),
        level=request.query_params.get("level") or None,
        rank=request.query_params.get("rank") or None,
        has_warranty=_bool(request, "has_warranty"),
        ordering=_ordering(request),
    )


def require_whole_listing(data: ListingFields) -> None:
    """POST and PUT carry the whole listing: game, title, description, price."""
    missing = ["game_id"] if data.game_ref() is None else []
    missing += [f for f in REQUIRED_TO_CREATE if getattr(data, f) is UNSET]
    if missing:
        raise query_error(missing[0], "This field is required.")


def listing_page(request: Req, f: q.ListingFilter, viewer: Any) -> Page[Listing]:
    w = window(request)
    with container_of(request).store.reader.connect() as conn:
        total, rows = q.search(conn, f, w.offset, w.limit, viewer.id if viewer else None)
    base = str(request.base_url)
    return page_of(request, w, total, [listing_from_row(r, base) for r in rows])


def listing_location(listing_id: UUID) -> str:
    return f"/api/v1/listings/{listing_id}/"


def listing_detail(request: Req, listing_id: UUID, viewer: Any) -> Listing:
    with container_of(request).store.reader.connect() as conn:
        row = q.detail(conn, listing_id, viewer.id if viewer else None)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Listing not found.")
    return listing_from_row(row, str(request.base_url))


async def public_json(request: Req, answer: Callable[[Any], Any]) -> Response[Any]:
    """``answer(viewer)`` encoded. Anonymous callers share one body per URL and read-model
    generation (api/listing_cache.py) and skip the thread hop when it is there already;
    callers with a token get their own (``is_favorited``), computed every time."""
    if "authorization" in request.headers:
        own = await anyio.to_thread.run_sync(lambda: encode_json(answer(optional_user(request))))
        return encoded(own)
    cache = responses_for(container_of(request).board)
    url = f"{request.base_url} {request.url}"
    generation = cache.generation()  # before the read: what it reads is at least this fresh
    body = cache.find(url, generation)
    if body is None:
        body = await anyio.to_thread.run_sync(lambda: encode_json(answer(None)))
        cache.keep(url, generation, body)
    return encoded(body)


def encoded(body: bytes) -> Response[Any]:
    """JSON already encoded: the same bytes and headers Litestar gives a returned Struct."""
    return Response(body, media_type=MediaType.JSON)


class ListingsController(Controller):
    path = "/api/v1/listings"
    tags = ["listings"]

    @get("/", operation_id="listings")
    async def search(self, request: Req) -> Response[Page[Listing]]:
        return await public_json(
            request, lambda viewer: listing_page(request, listing_filter(request), viewer)
        )

    @post(
        "/", status_code=201, operation_id="create_listing", sync_to_thread=True, responses=ACCEPTED
    )
    def create(self, request: Req, data: JSONBody[ListingFields]) -> Listing:
        user = authenticate(request)
        require_whole_listing(data)
        game = data.game_ref() or ""
        container = container_of(request)
        with container.read_your_writes() as written:
            listing_id = container.listings.create_listing(
                Actor.user(user.id), game, data.changes(), data.credentials()
            )
        unless_caught_up(written, listing_location(listing_id), "Listing created.", id=listing_id)
        return listing_detail(request, listing_id, user)

    @get("/{listing_id:uuid}/", operation_id="listing")
    async def detail(self, request: Req, listing_id: FromPath[UUID]) -> Response[Listing]:
        return await public_json(
            request, lambda viewer: listing_detail(request, listing_id, viewer)
        )

    @patch(
        "/{listing_id:uuid}/",
        operation_id="update_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def update(
        self, request: Req, listing_id: FromPath[UUID], data: JSONBody[ListingFields]
    ) -> Listing:
        return self._edit(request, listing_id, data)

    @put(
        "/{listing_id:uuid}/",
        operation_id="replace_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def replace(
        self, request: Req, listing_id: FromPath[UUID], data: JSONBody[ListingFields]
    ) -> Listing:
        require_whole_listing(data)
        return self._edit(request, listing_id, data)

    @staticmethod
    def _edit(request: Req, listing_id: UUID, data: ListingFields) -> Listing:
        user = authenticate(request)
        changes = data.changes()
        if (game := data.game_ref()) is not None:
            changes["game"] = game
        container = container_of(request)
        with container.read_your_writes() as written:
            container.listings.edit_listing(
                Actor.user(user.id), listing_id, changes, data.credentials()
            )
        unless_caught_up(written, listing_location(listing_id), "Listing updated.", id=listing_id)
        return listing_detail(request, listing_id, user)

    @delete(
        "/{listing_id:uuid}/", status_code=204, operation_id="delete_listing", sync_to_thread=True
    )
    def remove(self, request: Req, listing_id: FromPath[UUID]) -> None:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes():
            container.listings.delete_listing(Actor.user(user.id), listing_id)

    @post("/{listing_id:uuid}/favorite/", operation_id="favorite", sync_to_thread=True)
    def favorite(self, request: Req, listing_id: FromPath[UUID]) -> Response[Message]:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes():
            added = container.listings.favorite(Actor.user(user.id), listing_id)
        if added:
            return Response(Message(success=True, message="Added to favorites."), status_code=201)
        return Response(Message(success=True, message="Already in favorites."), status_code=200)

    @delete(
        "/{listing_id:uuid}/favorite/",
        status_code=200,
        operation_id="unfavorite",
        sync_to_thread=True,
    )
    def unfavorite(self, request: Req, listing_id: FromPath[UUID]) -> Message:
        user = authenticate(request)
        container = container_of(request)
        with container.read_your_writes():
            container.listings.unfavorite(Actor.user(user.id), listing_id)
        return Message(success=True, message="Removed from favorites.")

    @post(
        "/{listing_id:uuid}/view/",
        status_code=200,
        operation_id="record_view",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def view(self, request: Req, listing_id: FromPath[UUID]) -> dict[str, Any]:
        user = optional_user(request)
        actor = Actor.user(user.id) if user else None
        container = container_of(request)
        with container.read_your_writes() as written:
            container.listings.record_view(actor, listing_id, address=client_address(request))
        unless_caught_up(written, listing_location(listing_id), "View recorded.", id=listing_id)
        return {
            "success": True,
            "views_count": listing_detail(request, listing_id, user).views_count,
        }


class GameListingsController(Controller):
    path = "/api/v1/games"
    tags = ["games"]

    @get("/{slug:str}/listings/", operation_id="game_listings")
    async def game_listings(self, request: Req, slug: FromPath[str]) -> Response[Page[Listing]]:
        def answer(viewer: Any) -> Page[Listing]:
            f = listing_filter(request)
            f.game_id = game_id(slug)
            return listing_page(request, f, viewer)

        return await public_json(request, answer)


PROFILE_STATUSES = ("pending", "active", "rejected", "reserved", "sold", "archived", "blocked")


def any_status_filter(request: Req) -> q.ListingFilter:
    """Every visible status, or the one ``?status=`` names; newest first unless ordered."""
    status = request.query_params.get("status")
    if status and status not in PROFILE_STATUSES:
        raise query_error("status", f"Unknown status; use one of {', '.join(PROFILE_STATUSES)}.")
    f = listing_filter(request, (status,) if status else PROFILE_STATUSES)
    if not request.query_params.get("ordering"):
        f.ordering = (("created_at", True),)
    return f


class ProfileListingsController(Controller):
    path = "/api/v1/profile"
    tags = ["profile"]

    @get("/listings/", operation_id="profile_listings", sync_to_thread=True)
    def my_listings(self, request: Req) -> Page[Listing]:
        user = authenticate(request)
        f = any_status_filter(request)
        f.seller_id = user.id
        return listing_page(request, f, user)

    @get("/favorites/", operation_id="profile_favorites", sync_to_thread=True)
    def my_favorites(self, request: Req) -> Page[Favorite]:
        user = authenticate(request)
        w = window(request)
        with container_of(request).store.reader.connect() as conn:
            total, rows = q.favorites_of(conn, user.id, w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, total, [favorite_from_row(r, base) for r in rows])
