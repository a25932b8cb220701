"""CONTRACT §2.12 AD3-AD5 and the seed's admin listing endpoints: staff moderate listings."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody
from msgspec import UNSET

from api.accepted import ACCEPTED, unless_caught_up
from api.auth import container_of, require_staff
from api.controllers.listings import (
    any_status_filter,
    listing_detail,
    listing_filter,
    listing_location,
    listing_page,
)
from api.dependencies import Inject, ReadYourWrites, staff_only
from api.listing_schemas import Listing, ModerationBody, RejectBody
from api.pagination import Page
from api.schemas import Message
from application.actor import Actor
from application.listings import Listings

Req = Request[Any, Any, Any]


class ModerationController(Controller):
    path = "/api/v1/admin-panel/listings"
    tags = ["admin"]
    guards = [staff_only]

    @get("/", operation_id="admin_listings", sync_to_thread=True)
    def all_listings(self, request: Req) -> Page[Listing]:
        staff = require_staff(request)
        return listing_page(request, any_status_filter(request), staff)

    @get("/pending/", operation_id="admin_pending_listings", sync_to_thread=True)
    def pending(self, request: Req) -> Page[Listing]:
        staff = require_staff(request)
        f = listing_filter(request, ("pending",))
        f.ordering = (("created_at", False),)  # oldest first: the moderation queue
        return listing_page(request, f, staff)

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
        self, request: Req, listing_id: FromPath[UUID], data: JSONBody[ModerationBody]
    ) -> Listing:
        staff = require_staff(request)
        container = container_of(request)
        with container.read_your_writes() as written:
            if data.status == "active":
                container.listings.approve_listing(Actor.user(staff.id), listing_id)
            elif data.status == "rejected":
                container.listings.reject_listing(Actor.user(staff.id), listing_id, data.reason)
            if data.is_premium is not UNSET:
                container.listings.set_listing_premium(
                    Actor.user(staff.id), listing_id, data.is_premium
                )
        unless_caught_up(written, listing_location(listing_id), "Listing updated.", id=listing_id)
        return listing_detail(request, listing_id, staff)
