"""CONTRACT §2.4 listings, with their images (L9: multipart, read as /upload/ reads files), and
the listing pages other prefixes answer with too (``listing_page``, ``listing_detail``: a
game's listings, the profile's, the moderation queue)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Controller, MediaType, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from litestar.serialization import encode_json
from msgspec import UNSET
from sqlalchemy import Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.auth import client_address, container_of
from api.controllers.uploads import files, files_of, read_bounded
from api.dependencies import Caller, Inject, ReadYourWrites, caller_of, signed_in
from api.errors import ApiError
from api.listing_cache import responses_for
from api.listing_query import SEARCH_DOC, ListingSearch, field_error
from api.listing_schemas import Listing, ListingFields, ListingImage, listing_from_row
from api.pagination import Page, Window, page_of
from api.query import query_of
from api.schemas import Body, Message, absolute
from application.actor import Actor
from application.listings import ListingImage as StoredImage
from application.listings import Listings
from application.ports import MAX_IMAGE_BYTES as MAX_BYTES
from domain.listing import MAX_IMAGES
from projections.listings import queries as q

Req = Request[Any, Any, Any]
REQUIRED_TO_CREATE = ("title", "description", "price")


class ViewCount(msgspec.Struct):
    success: bool
    views_count: int


class ListingImages(msgspec.Struct):
    success: bool
    message: str
    data: list[ListingImage]


class RemoveImage(Body):
    image_id: str


def require_whole_listing(data: ListingFields) -> None:
    """POST and PUT carry the whole listing: game, title, description, price."""
    missing = ["game_id"] if data.game_ref() is None else []
    missing += [f for f in REQUIRED_TO_CREATE if getattr(data, f) is UNSET]
    if missing:
        raise field_error(missing[0], "This field is required.")


def search_page(request: Req, reader: Engine, viewer: Caller | None) -> Page[Listing]:
    """The active listings the request's query asks for."""
    query = query_of(request, ListingSearch)
    return listing_page(request, reader, query.filter(), query.window(), viewer)


def listing_page(
    request: Req, reader: Engine, f: q.ListingFilter, w: Window, viewer: Caller | None
) -> Page[Listing]:
    with reader.connect() as conn:
        total, rows = q.search(conn, f, w.offset, w.limit, viewer.id if viewer else None)
    base = str(request.base_url)
    return page_of(request, w, total, [listing_from_row(r, base) for r in rows])


def listing_location(listing_id: UUID) -> str:
    return f"/api/v1/listings/{listing_id}/"


def listing_detail(
    request: Req, reader: Engine, listing_id: UUID, viewer: Caller | None
) -> Listing:
    with reader.connect() as conn:
        row = q.detail(conn, listing_id, viewer.id if viewer else None)
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Listing not found.")
    return listing_from_row(row, str(request.base_url))


async def public_json(request: Req, answer: Callable[[Caller | None], Any]) -> Response[Any]:
    """``answer(viewer)`` encoded. Anonymous callers share one body per URL and read-model
    generation (api/listing_cache.py) and skip the thread hop when it is there already;
    callers with a token get their own (``is_favorited``), computed every time (the token is
    checked on the same worker thread)."""
    if "authorization" in request.headers:
        own = await anyio.to_thread.run_sync(lambda: encode_json(answer(caller_of(request))))
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

    @get("/", operation_id="listings", operation_class=SEARCH_DOC)
    async def search(self, request: Req, reader: Inject[Engine]) -> Response[Page[Listing]]:
        return await public_json(request, lambda viewer: search_page(request, reader, viewer))

    @post(
        "/",
        status_code=201,
        operation_id="create_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
        guards=[signed_in],
    )
    def create(
        self,
        request: Req,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        data: JSONBody[ListingFields],
    ) -> Listing:
        require_whole_listing(data)
        game = data.game_ref() or ""
        with read_your_writes() as written:
            listing_id = listings.create_listing(
                caller.actor, game, data.changes(), data.credentials()
            )
        unless_caught_up(written, listing_location(listing_id), "Listing created.", id=listing_id)
        return listing_detail(request, reader, listing_id, caller)

    @get("/{listing_id:uuid}/", operation_id="listing")
    async def detail(
        self, request: Req, reader: Inject[Engine], listing_id: FromPath[UUID]
    ) -> Response[Listing]:
        return await public_json(
            request, lambda viewer: listing_detail(request, reader, listing_id, viewer)
        )

    @patch(
        "/{listing_id:uuid}/",
        operation_id="update_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
        guards=[signed_in],
    )
    def update(
        self,
        request: Req,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        listing_id: FromPath[UUID],
        data: JSONBody[ListingFields],
    ) -> Listing:
        return self._edit(request, caller, listings, read_your_writes, reader, listing_id, data)

    @put(
        "/{listing_id:uuid}/",
        operation_id="replace_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
        guards=[signed_in],
    )
    def replace(
        self,
        request: Req,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        listing_id: FromPath[UUID],
        data: JSONBody[ListingFields],
    ) -> Listing:
        require_whole_listing(data)
        return self._edit(request, caller, listings, read_your_writes, reader, listing_id, data)

    @staticmethod
    def _edit(
        request: Req,
        caller: Caller,
        listings: Listings,
        read_your_writes: ReadYourWrites,
        reader: Engine,
        listing_id: UUID,
        data: ListingFields,
    ) -> Listing:
        changes = data.changes()
        if (game := data.game_ref()) is not None:
            changes["game"] = game
        with read_your_writes() as written:
            listings.edit_listing(caller.actor, listing_id, changes, data.credentials())
        unless_caught_up(written, listing_location(listing_id), "Listing updated.", id=listing_id)
        return listing_detail(request, reader, listing_id, caller)

    @delete(
        "/{listing_id:uuid}/",
        status_code=204,
        operation_id="delete_listing",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def remove(
        self,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
    ) -> None:
        with read_your_writes():
            listings.delete_listing(caller.actor, listing_id)

    @post(
        "/{listing_id:uuid}/favorite/",
        operation_id="favorite",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def favorite(
        self,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
    ) -> Response[Message]:
        with read_your_writes():
            added = listings.favorite(caller.actor, listing_id)
        if added:
            return Response(Message(success=True, message="Added to favorites."), status_code=201)
        return Response(Message(success=True, message="Already in favorites."), status_code=200)

    @delete(
        "/{listing_id:uuid}/favorite/",
        status_code=200,
        operation_id="unfavorite",
        sync_to_thread=True,
        guards=[signed_in],
    )
    def unfavorite(
        self,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
    ) -> Message:
        with read_your_writes():
            listings.unfavorite(caller.actor, listing_id)
        return Message(success=True, message="Removed from favorites.")

    @post(
        "/{listing_id:uuid}/view/",
        status_code=200,
        operation_id="record_view",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def view(
        self,
        request: Req,
        optional_caller: Inject[Caller | None],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        listing_id: FromPath[UUID],
    ) -> ViewCount:
        actor = optional_caller.actor if optional_caller else None
        with read_your_writes() as written:
            listings.record_view(actor, listing_id, address=client_address(request))
        unless_caught_up(written, listing_location(listing_id), "View recorded.", id=listing_id)
        listing = listing_detail(request, reader, listing_id, optional_caller)
        return ViewCount(success=True, views_count=listing.views_count)


class ListingImagesController(Controller):
    """A listing's images (L9): multipart in, read as /upload/ reads its files. Its own
    controller for its one guard: both routes, their OPTIONS too, need a signed-in caller."""

    path = "/api/v1/listings"
    tags = ["listings"]
    guards = [signed_in]

    @post(
        "/{listing_id:uuid}/images/",
        status_code=201,
        operation_id="add_listing_images",
        opt=files("images"),
        request_max_body_size=MAX_IMAGES * MAX_BYTES + 512 * 1024,
    )
    async def add(
        self,
        request: Req,
        actor: Inject[Actor],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
    ) -> ListingImages:
        raws = [await read_bounded(f) for f in await files_of(request, MAX_IMAGES)]

        def attach() -> list[StoredImage]:
            with read_your_writes():
                return listings.attach_listing_images(actor, listing_id, raws)

        base = str(request.base_url)
        data = [
            ListingImage(
                id=image.id,
                image=absolute(image.url, base) or image.url,
                is_primary=image.is_primary,
                sort_order=image.sort_order,
            )
            for image in await anyio.to_thread.run_sync(attach)
        ]
        return ListingImages(success=True, message=f"{len(data)} image(s) uploaded.", data=data)

    @delete(
        "/{listing_id:uuid}/images/",
        status_code=200,
        operation_id="remove_listing_image",
        sync_to_thread=True,
    )
    def remove(
        self,
        actor: Inject[Actor],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
        data: JSONBody[RemoveImage],
    ) -> Message:
        with read_your_writes():
            listings.remove_listing_image(actor, listing_id, data.image_id)
        return Message(success=True, message="Image deleted.")
