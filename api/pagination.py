"""Page-number pagination (CONTRACT §1.6): ``page`` (1-based) + ``limit``/``page_size``,
``offset`` still honoured, answered as ``{count, next, previous, results}`` where ``next``
carries ``page=``.

A handler reads them as a typed ``Paging`` (``query_of(request, Paging)``, api/query.py,
documented by ``operation_class=PAGING_DOC``) and asks it for its ``window()``;
``window(request)`` reads the same parameters by hand, for handlers not moved to ``Paging``
yet. Either way ``Paging.window`` decides.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request
from msgspec import Meta

from api.errors import ApiError
from api.query import documented

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
MAX_OFFSET = 2**31  # no list is that long: a page beyond it is beyond the last


class Page(msgspec.Struct, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


class Window(msgspec.Struct, frozen=True):
    page: int
    limit: int
    offset: int


class Paging(msgspec.Struct, frozen=True, kw_only=True):
    """The pagination parameters a request sent."""

    page: Annotated[int, Meta(description="1-based page number.")] | None = None
    limit: Annotated[int, Meta(description=f"Rows per page (at most {MAX_LIMIT}).")] | None = None
    page_size: Annotated[int, Meta(description="Alias of limit.")] | None = None
    offset: Annotated[int, Meta(description="Rows to skip, when no page is given.")] | None = None

    def window(self, default_limit: int = DEFAULT_LIMIT) -> Window:
        """The rows to answer: ``limit`` (else ``page_size``, else the default; at most
        MAX_LIMIT) rows from ``page`` or, without one, from ``offset``. 404 for a page < 1 or
        one no list reaches (its offset would not fit the database's integers)."""
        limit = max(1, min(self.limit or self.page_size or default_limit, MAX_LIMIT))
        if self.page is not None:
            if not 1 <= self.page <= MAX_OFFSET // limit:
                raise ApiError(404, "NOT_FOUND", "Invalid page.")
            return Window(page=self.page, limit=limit, offset=(self.page - 1) * limit)
        offset = min(max(self.offset or 0, 0), MAX_OFFSET)
        return Window(page=offset // limit + 1, limit=limit, offset=offset)


PAGING_DOC = documented(Paging)


def _int(request: Request[Any, Any, Any], name: str) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)
    except ValueError as e:
        raise ApiError(
            400,
            "INVALID",
            f"{name}: A valid integer is required.",
            {name: ["A valid integer is required."]},
        ) from e


def window(request: Request[Any, Any, Any], default_limit: int = DEFAULT_LIMIT) -> Window:
    return Paging(
        limit=_int(request, "limit"),
        page_size=_int(request, "page_size"),
        page=_int(request, "page"),
        offset=_int(request, "offset"),
    ).window(default_limit)


def page_of(request: Request[Any, Any, Any], w: Window, count: int, results: list[T]) -> Page[T]:
    if w.page > 1 and w.offset >= count and request.query_params.get("page") is not None:
        raise ApiError(404, "NOT_FOUND", "Invalid page.")
    has_next = w.offset + w.limit < count
    has_previous = w.offset > 0
    return Page(
        count=count,
        next=_link(request, w.page + 1, w.limit) if has_next else None,
        previous=_link(request, w.page - 1, w.limit) if has_previous else None,
        results=results,
    )


def _link(request: Request[Any, Any, Any], page: int, limit: int) -> str:
    params = {
        k: v
        for k, v in request.query_params.items()
        if k not in {"page", "offset", "limit", "page_size"}
    }
    params["page"] = str(page)
    params["limit"] = str(limit)
    return str(request.url.with_replacements(query=urlencode(params)))
