"""Typed query strings decoded where they are read: a handler's query as a msgspec Struct.

Litestar parses the query parameters a handler declares before every call. A listing page
served from api/listing_cache.py would pay that on each hit (about 50 µs, a third of a cached
anonymous page), although a hit never reads them. So those pages describe their query as a
Struct, decode it in one msgspec call when (and only when) they compute an answer, and
``documented`` lists its fields in the route's OpenAPI operation all the same.

Blank values (``?min_price=``, as a form sends an empty input) count as not given; of a
repeated parameter the first counts; unknown parameters are ignored (CONTRACT §1.7). A value
of the wrong type answers 400 in the envelope every validation error has (api/errors.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi
from litestar import Request
from litestar.enums import ParamType
from litestar.exceptions import ValidationException
from litestar.openapi.spec import OpenAPIFormat, OpenAPIType, Operation, Parameter, Schema

S = TypeVar("S", bound=msgspec.Struct)


def query_of(request: Request[Any, Any, Any], kind: type[S]) -> S:
    """The request's query string as a ``kind``."""
    given = {name: values[0] for name, values in request.query_params.dict().items() if values}
    try:
        return msgspec.convert({k: v for k, v in given.items() if v != ""}, kind, strict=False)
    except msgspec.ValidationError as e:
        message, _, at = str(e).rpartition(" - at `$.")
        key = at.rstrip("`") if message else ""
        raise ValidationException(
            detail=str(e), extra=[{"key": key, "message": message or str(e), "source": "query"}]
        ) from e


def documented(kind: type[msgspec.Struct]) -> type[Operation]:
    """An OpenAPI Operation class (a route's ``operation_class``) whose parameters include
    ``kind``'s fields as optional query parameters."""
    parameters = [_parameter(field) for field in mi.type_info(kind).fields]  # type: ignore[attr-defined]

    @dataclass
    class QueryOperation(Operation):
        def __post_init__(self) -> None:
            self.parameters = [*(self.parameters or []), *parameters]

    return QueryOperation


def _parameter(field: mi.Field) -> Parameter:
    kind, description = field.type, None
    if isinstance(kind, mi.UnionType):  # X | None
        kind = next(t for t in kind.types if not isinstance(t, mi.NoneType))
    if isinstance(kind, mi.Metadata):
        description = (kind.extra_json_schema or {}).get("description")
        kind = kind.type
    return Parameter(
        name=field.encode_name,
        param_in=ParamType.QUERY,
        required=False,
        description=description,
        schema=_schema(kind),
    )


def _schema(kind: mi.Type) -> Schema:
    if isinstance(kind, mi.StrType):
        return Schema(
            type=OpenAPIType.STRING,
            min_length=kind.min_length,
            max_length=kind.max_length,
            pattern=kind.pattern,
        )
    if isinstance(kind, mi.IntType):
        return Schema(type=OpenAPIType.INTEGER, minimum=kind.ge, maximum=kind.le)
    if isinstance(kind, mi.BoolType):
        return Schema(type=OpenAPIType.BOOLEAN)
    if isinstance(kind, mi.UUIDType):
        return Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)
    if isinstance(kind, mi.LiteralType):
        return Schema(type=OpenAPIType.STRING, enum=list(kind.values))
    raise TypeError(f"no query-string form for {kind!r}")
