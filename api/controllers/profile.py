"""CONTRACT §2.2: the caller's own pages under ``/api/v1/profile/``: the User (the same as
``/auth/me/``, edited the same way), their listings and favourites, their purchases and sales
as escrow cards, the seller's dashboard and the referral link. Every page needs a signed-in
caller."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

import msgspec
from litestar import Controller, Request, delete, get, patch, post, put
from litestar.params import FromPath, JSONBody
from msgspec import UNSET, Meta, UnsetType
from sqlalchemy import Connection, Engine, Row

from api.controllers.auth import JSON_OR_MULTIPART, update_profile
from api.controllers.listings import listing_page
from api.controllers.notifications import notification_page
from api.dependencies import Caller, Inject, ReadYourWrites, signed_in
from api.errors import ApiError
from api.listing_query import OWN_OR_STAFF_DOC, OwnOrStaffSearch
from api.listing_schemas import Favorite, Listing, favorite_from_row, listing_from_row
from api.money_schemas import Dashboard, EscrowCard, dashboard_of, escrow_card_from_row
from api.notification_schemas import Notification
from api.pagination import PAGING_DOC, Page, Paging, page_of, window
from api.query import query_of
from api.schemas import Body, Message, User, iso, user_from_row
from application.accounts import Accounts
from application.actor import Actor
from application.notifications import Notifications
from application.saved_searches import SavedSearchService
from projections import escrows as escrow_views
from projections import referrals as referral_views
from projections import saved_searches as saved_search_views
from projections.listings import queries as listing_views

Req = Request[Any, Any, Any]


SearchName = Annotated[str, Meta(max_length=100)]
QueryParams = Annotated[dict[str, Any], Meta(max_length=30)]


class SavedSearch(msgspec.Struct):
    id: int
    name: str
    query_params: dict[str, Any]
    notify_email: bool
    is_active: bool
    last_notified_at: str | None
    created_at: str


class SavedSearchBody(Body):
    """POST and PUT: the whole saved search (``name`` required)."""

    name: SearchName
    query_params: QueryParams = msgspec.field(default_factory=dict)
    notify_email: bool = True
    is_active: bool = True


class SavedSearchPatch(Body):
    name: SearchName | UnsetType = UNSET
    query_params: QueryParams | UnsetType = UNSET
    notify_email: bool | UnsetType = UNSET
    is_active: bool | UnsetType = UNSET

    def changes(self) -> dict[str, Any]:
        return {
            f: getattr(self, f)
            for f in self.__struct_fields__
            if not isinstance(getattr(self, f), UnsetType)
        }


def saved_search_of(row: Any) -> SavedSearch:
    """From the read model's row, or from what a command saved (never notified yet)."""
    return SavedSearch(
        id=row.id,
        name=row.name,
        query_params=dict(row.query_params),
        notify_email=row.notify_email,
        is_active=row.is_active,
        last_notified_at=iso(getattr(row, "last_notified_at", None)),
        created_at=iso(row.created_at) or "",
    )


class Referral(msgspec.Struct):
    referral_code: str
    referral_url: str
    referred_count: int


def listing_cards(conn: Connection, rows: list[Any], viewer_id: UUID) -> dict[UUID, Row[Any]]:
    """The listing card of each escrow on a page, in one query."""
    return listing_views.cards_of(conn, {row.listing_id for row in rows}, viewer_id)


def escrow_page(
    request: Req, reader: Engine, caller: Caller, escrows_of: Callable[..., Any]
) -> Page[EscrowCard]:
    """A page of the caller's escrows (as buyer or as seller), as cards."""
    w = window(request)
    with reader.connect() as conn:
        total, rows = escrows_of(conn, caller.id, w.offset, w.limit)
        cards = listing_cards(conn, rows, caller.id)
    base = str(request.base_url)
    results = []
    for row in rows:
        card = cards.get(row.listing_id)
        results.append(escrow_card_from_row(row, listing_from_row(card, base) if card else None))
    return page_of(request, w, total, results)


class ProfileController(Controller):
    path = "/api/v1/profile"
    tags = ["profile"]
    guards = [signed_in]

    @get("/", operation_id="profile", sync_to_thread=False)
    def profile(self, request: Req, caller: Inject[Caller]) -> User:
        return user_from_row(caller.row, str(request.base_url))

    @patch("/", operation_id="update_profile", opt=JSON_OR_MULTIPART)
    async def update(
        self,
        request: Req,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
    ) -> User:
        return await update_profile(request, actor, accounts, read_your_writes)

    @put("/", operation_id="replace_profile", opt=JSON_OR_MULTIPART)
    async def replace(
        self,
        request: Req,
        actor: Inject[Actor],
        accounts: Inject[Accounts],
        read_your_writes: Inject[ReadYourWrites],
    ) -> User:
        return await update_profile(request, actor, accounts, read_your_writes)

    # --- listings ---------------------------------------------------------------------------
    @get(
        "/listings/",
        operation_id="profile_listings",
        sync_to_thread=True,
        operation_class=OWN_OR_STAFF_DOC,
    )
    def my_listings(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Listing]:
        query = query_of(request, OwnOrStaffSearch)
        f = query.of_any_status()
        f.seller_id = caller.id
        return listing_page(request, reader, f, query.window(), caller)

    @get(
        "/favorites/",
        operation_id="profile_favorites",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
    )
    def my_favorites(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Favorite]:
        w = query_of(request, Paging).window()
        with reader.connect() as conn:
            total, rows = listing_views.favorites_of(conn, caller.id, w.offset, w.limit)
        base = str(request.base_url)
        return page_of(request, w, total, [favorite_from_row(r, base) for r in rows])

    # --- money ------------------------------------------------------------------------------
    @get("/purchases/", operation_id="profile_purchases", sync_to_thread=True)
    def purchases(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[EscrowCard]:
        return escrow_page(request, reader, caller, escrow_views.purchases_of)

    @get("/sales/", operation_id="profile_sales", sync_to_thread=True)
    def sales(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[EscrowCard]:
        return escrow_page(request, reader, caller, escrow_views.sales_of)

    @get("/referral/", operation_id="profile_referral", sync_to_thread=True)
    def referral(
        self, actor: Inject[Actor], accounts: Inject[Accounts], reader: Inject[Engine]
    ) -> Referral:
        """The caller's referral code and link, and how many signed up with it."""
        link = accounts.referral_link(actor)
        with reader.connect() as conn:
            count = referral_views.referred_count(conn, actor.id())
        return Referral(referral_code=link.code, referral_url=link.url, referred_count=count)

    # --- saved searches (CONTRACT §2.2): the caller's own; another's number is 404 ---------
    @get("/saved-searches/", operation_id="saved_searches", sync_to_thread=True)
    def saved_searches(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[SavedSearch]:
        w = window(request)
        with reader.connect() as conn:
            total, rows = saved_search_views.searches_of(conn, caller.id, w.offset, w.limit)
        return page_of(request, w, total, [saved_search_of(r) for r in rows])

    @post("/saved-searches/", status_code=201, operation_id="save_search", sync_to_thread=True)
    def save_search(
        self,
        actor: Inject[Actor],
        saved_searches: Inject[SavedSearchService],
        read_your_writes: Inject[ReadYourWrites],
        data: JSONBody[SavedSearchBody],
    ) -> SavedSearch:
        with read_your_writes():
            saved = saved_searches.save(
                actor, data.name, data.query_params, data.notify_email, data.is_active
            )
        return saved_search_of(saved)

    @get("/saved-searches/{search_id:int}/", operation_id="saved_search", sync_to_thread=True)
    def saved_search(
        self, caller: Inject[Caller], reader: Inject[Engine], search_id: FromPath[int]
    ) -> SavedSearch:
        with reader.connect() as conn:
            row = saved_search_views.search_of(conn, caller.id, search_id)
        if row is None:
            raise ApiError(404, "NOT_FOUND", "Saved search not found.")
        return saved_search_of(row)

    @patch(
        "/saved-searches/{search_id:int}/", operation_id="change_saved_search", sync_to_thread=True
    )
    def change_search(
        self,
        actor: Inject[Actor],
        saved_searches: Inject[SavedSearchService],
        read_your_writes: Inject[ReadYourWrites],
        search_id: FromPath[int],
        data: JSONBody[SavedSearchPatch],
    ) -> SavedSearch:
        with read_your_writes():
            changed = saved_searches.change(actor, search_id, data.changes())
        return saved_search_of(changed)

    @put(
        "/saved-searches/{search_id:int}/", operation_id="replace_saved_search", sync_to_thread=True
    )
    def replace_search(
        self,
        actor: Inject[Actor],
        saved_searches: Inject[SavedSearchService],
        read_your_writes: Inject[ReadYourWrites],
        search_id: FromPath[int],
        data: JSONBody[SavedSearchBody],
    ) -> SavedSearch:
        with read_your_writes():
            changed = saved_searches.change(actor, search_id, msgspec.structs.asdict(data))
        return saved_search_of(changed)

    @delete(
        "/saved-searches/{search_id:int}/", operation_id="delete_saved_search", sync_to_thread=True
    )
    def delete_search(
        self,
        actor: Inject[Actor],
        saved_searches: Inject[SavedSearchService],
        read_your_writes: Inject[ReadYourWrites],
        search_id: FromPath[int],
    ) -> None:
        with read_your_writes():
            saved_searches.remove(actor, search_id)

    @get("/dashboard/", operation_id="profile_dashboard", sync_to_thread=True)
    def dashboard(self, caller: Inject[Caller], reader: Inject[Engine]) -> Dashboard:
        with reader.connect() as conn:
            listed = listing_views.seller_counts(conn, caller.id)
            sold = escrow_views.seller_sales(conn, caller.id)
        return Dashboard(**dashboard_of(listed, sold))

    # --- notifications (CONTRACT §2.2; the same as /notifications/, §2.9) ------------------
    @get(
        "/notifications/",
        operation_id="profile_notifications",
        sync_to_thread=True,
        operation_class=PAGING_DOC,
    )
    def notifications(
        self, request: Req, caller: Inject[Caller], reader: Inject[Engine]
    ) -> Page[Notification]:
        return notification_page(request, reader, caller)

    @patch(
        "/notifications/{notification_id:uuid}/read/",
        operation_id="profile_read_notification",
        sync_to_thread=True,
    )
    def read_notification(
        self,
        actor: Inject[Actor],
        notifications: Inject[Notifications],
        read_your_writes: Inject[ReadYourWrites],
        notification_id: FromPath[UUID],
    ) -> Message:
        with read_your_writes():
            notifications.mark_read(actor, notification_id)
        return Message(success=True, message="Notification marked as read.")
