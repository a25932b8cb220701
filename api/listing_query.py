"""The query of a listing page (CONTRACT §2.4 L1, §1.6-1.7) as a typed Struct.

Listing pages read it with ``query_of(request, ListingSearch)`` when they compute an answer
(api/query.py says why not as Litestar parameters: an anonymous page is mostly answered from
api/listing_cache.py without reading its query at all). The types decide what is refused,
with the usual 400 envelope; the domain reads amounts (``parse_amount``), a game's slug or id
and the ordering.
"""

from __future__ import annotations

from typing import Annotated, Literal, get_args
from uuid import UUID

from msgspec import Meta

from api.errors import ApiError
from api.pagination import Paging
from api.query import documented
from domain.game import game_id
from domain.money import parse_amount
from projections.listings import queries as q

Ordering = tuple[tuple[str, bool], ...]  # (field, descending)
NEWEST_FIRST: Ordering = (("created_at", True),)
OLDEST_FIRST: Ordering = (("created_at", False),)
MAX_SEARCH = 200

# The statuses a seller's or staff's list may name (none: all of them). "blocked" is an active
# listing of a banned seller, out of the catalogue until the ban is lifted.
ProfileStatus = Literal["pending", "active", "rejected", "reserved", "sold", "archived", "blocked"]


def _doc(text: str) -> Meta:
    return Meta(description=text)


class ListingSearch(Paging, frozen=True, kw_only=True):
    """What a listing page may ask for: its filters, its ordering and its page."""

    search: (
        Annotated[
            str,
            Meta(
                max_length=MAX_SEARCH,
                description="Words that must all appear (title, description, game, seller).",
            ),
        ]
        | None
    ) = None
    min_price: Annotated[str, _doc("Lowest price, an amount such as 150000.50.")] | None = None
    max_price: Annotated[str, _doc("Highest price.")] | None = None
    game: Annotated[str, _doc("A game's slug or id.")] | None = None
    game_id: Annotated[str, _doc("Alias of game.")] | None = None
    seller: Annotated[UUID, _doc("The seller's user id.")] | None = None
    seller_id: Annotated[UUID, _doc("Alias of seller.")] | None = None
    is_premium: Annotated[bool, _doc("Only premium (or only other) listings.")] | None = None
    level: Annotated[str, _doc("Level contains this.")] | None = None
    rank: Annotated[str, _doc("Rank contains this.")] | None = None
    has_warranty: Annotated[bool, _doc("With (or without) a warranty.")] | None = None
    ordering: (
        Annotated[
            str,
            _doc(
                "Comma-separated fields, each optionally with '-' (descending): "
                + ", ".join(sorted(q.ORDERABLE))
            ),
        ]
        | None
    ) = None

    def filter(
        self,
        statuses: tuple[str, ...] = ("active",),
        default_order: Ordering = q.DEFAULT_ORDER,
        *,
        hide_under_review: bool = True,
    ) -> q.ListingFilter:
        return q.ListingFilter(
            statuses=statuses,
            hide_under_review=hide_under_review,
            search=(self.search or "").strip() or None,
            min_price=parse_amount(self.min_price, "min_price") if self.min_price else None,
            max_price=parse_amount(self.max_price, "max_price") if self.max_price else None,
            game_id=_game(self.game or self.game_id),
            seller_id=self.seller or self.seller_id,
            is_premium=self.is_premium,
            level=self.level,
            rank=self.rank,
            has_warranty=self.has_warranty,
            ordering=default_order if self.ordering is None else _ordering(self.ordering),
        )


class OwnOrStaffSearch(ListingSearch, frozen=True, kw_only=True):
    """A seller's own list or staff's: any status, or the one named."""

    status: Annotated[ProfileStatus, _doc("Only listings in this status.")] | None = None

    def of_any_status(self) -> q.ListingFilter:
        """Newest first unless ordered; listings under review included."""
        statuses = (self.status,) if self.status else PROFILE_STATUSES
        return self.filter(statuses, NEWEST_FIRST, hide_under_review=False)


PROFILE_STATUSES: tuple[str, ...] = get_args(ProfileStatus)
SEARCH_DOC = documented(ListingSearch)
OWN_OR_STAFF_DOC = documented(OwnOrStaffSearch)


def field_error(field: str, message: str) -> ApiError:
    return ApiError(400, "INVALID", f"{field}: {message}", {field: [message]})


def _game(ref: str | None) -> UUID | None:
    if not ref:
        return None
    try:
        return UUID(ref)
    except ValueError:
        return game_id(ref.strip().lower())  # a slug: game ids follow from slugs


def _ordering(raw: str) -> Ordering:
    fields = []
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name = part.lstrip("-")
        if name not in q.ORDERABLE:
            raise field_error(
                "ordering",
                f"Unknown ordering field '{name}'; use one of {', '.join(sorted(q.ORDERABLE))}.",
            )
        fields.append((name, part.startswith("-")))
    return tuple(fields)
