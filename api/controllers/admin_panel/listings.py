"""CONTRACT §2.12 AD3-AD5 and the seed's admin listing endpoints: staff moderate listings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET
from sqlalchemy import Engine

from api.accepted import ACCEPTED, unless_caught_up
from api.controllers.listings import listing_detail, listing_location, listing_page
from api.dependencies import Caller, Inject, ReadYourWrites, staff_only
from api.listing_query import (
    OLDEST_FIRST,
    OWN_OR_STAFF_DOC,
    SEARCH_DOC,
    ListingSearch,
    OwnOrStaffSearch,
)
from api.listing_schemas import Listing, ModerationBody, RejectBody
from api.pagination import Page
from api.query import query_of
from api.schemas import Message
from application.actor import Actor
from application.listings import Listings

Req = Request[Any, Any, Any]


class ModerationController(Controller):
    path = "/api/v1/admin-panel/listings"
    tags = ["admin"]
    guards = [staff_only]

    @get(
        "/",
        operation_id="admin_listings",
        sync_to_thread=True,
        operation_class=OWN_OR_STAFF_DOC,
    )
    def all_listings(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Listing]:
        query = query_of(request, OwnOrStaffSearch)
        return listing_page(request, reader, query.of_any_status(), query.window(), caller)

    @get(
        "/pending/",
        operation_id="admin_pending_listings",
        sync_to_thread=True,
        operation_class=SEARCH_DOC,
    )
    def pending(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Listing]:
        query = query_of(request, ListingSearch)
        f = query.filter(("pending",))
        f.ordering = OLDEST_FIRST  # the moderation queue, whatever ``ordering`` says
        return listing_page(request, reader, f, query.window(), caller)

    @post(
        "/{listing_id:uuid}/approve/",
        status_code=200,
        operation_id="approve_listing",
        sync_to_thread=True,
    )
    def approve(
        self,
        actor: Inject[Actor],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
    ) -> Message:
        with read_your_writes():
            listings.approve_listing(actor, listing_id)
        return Message(success=True, message="Listing approved.")

    @post(
        "/{listing_id:uuid}/reject/",
        status_code=200,
        operation_id="reject_listing",
        sync_to_thread=True,
    )
    def reject(
        self,
        actor: Inject[Actor],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        listing_id: FromPath[UUID],
        data: JSONBody[RejectBody | None] = None,
    ) -> Message:
        with read_your_writes():
            listings.reject_listing(actor, listing_id, data.reason if data else "")
        return Message(success=True, message="Listing rejected.")

    @patch(
        "/{listing_id:uuid}/",
        operation_id="moderate_listing",
        sync_to_thread=True,
        responses=ACCEPTED,
    )
    def moderate(
        self,
        request: Req,
        caller: Inject[Caller],
        listings: Inject[Listings],
        read_your_writes: Inject[ReadYourWrites],
        reader: Inject[Engine],
        listing_id: FromPath[UUID],
        data: JSONBody[ModerationBody],
    ) -> Listing:
        with read_your_writes() as written:
            listings.moderate_listing(
                caller.actor,
                listing_id,
                status=None if data.status is UNSET else data.status,
                reason=data.reason,
                is_premium=None if data.is_premium is UNSET else data.is_premium,
            )
        unless_caught_up(written, listing_location(listing_id), "Listing updated.", id=listing_id)
        return listing_detail(request, reader, listing_id, caller)
