"""Page-number pagination (CONTRACT §1.6): ``page`` (1-based) + ``limit``/``page_size``,
``offset`` still honoured, answered as ``{count, next, previous, results}`` where ``next``
carries ``page=``."""

from __future__ import annotations

from typing import Any, Generic, TypeVar
from urllib.parse import urlencode

import msgspec
from litestar import Request

from api.errors import ApiError

T = TypeVar("T")
DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Page(msgspec.Struct, Generic[T]):
    count: int
    next: str | None
    previous: str | None
    results: list[T]


class Window(msgspec.Struct, frozen=True):
    page: int
    limit: int
    offset: int


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
    limit = _int(request, "limit") or _int(request, "page_size") or default_limit
    limit = max(1, min(limit, MAX_LIMIT))
    page = _int(request, "page")
    offset = _int(request, "offset")
    if page is not None:
        if page < 1:
            raise ApiError(404, "NOT_FOUND", "Invalid page.")
        return Window(page=page, limit=limit, offset=(page - 1) * limit)
    offset = max(offset or 0, 0)
    return Window(page=offset // limit + 1, limit=limit, offset=offset)


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
