"""The OpenAPI document tells the truth about failures.

Litestar documents the answers a handler returns; every error, though, leaves through
``api/errors.py`` in the contract's envelope, which Litestar cannot see. ``document_errors``
adds to every operation the statuses it can answer and their envelope schema (replacing
Litestar's own 400 shape, which we never send), and marks request bodies that refuse unknown
fields with ``additionalProperties: false``. It runs once, on the built document, so no
controller repeats it.

Which operation answers what, by rule (kept next to the code that decides it):
- every ``/api/v1`` operation: 400 (bad parameters or body), 401 (a bad, expired or revoked
  token: public pages refuse a bad token too, so the frontend refreshes it), 403, 404 (no such
  object, not yours, or a page past the last), 429 (api/ratelimit.py), 503 (a dependency down);
- with a body (POST, PUT, PATCH, DELETE): also 409, 413, 415 and 422;
- money commands (purchase, withdraw, subscription purchase): also 402;
- provider webhooks answer the contract's own shapes, and ``/health/detailed/`` its report
  (503 when a dependency is down; 401 for a bearer token that is not valid; 429 over the
  anonymous rate limit, so the health token cannot be guessed at speed).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import (
    Components,
    OpenAPI,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    OpenAPIType,
    Reference,
    Schema,
)

ENVELOPE = "ErrorEnvelope"
REASONS = {
    400: "Malformed request: a parameter or body field fails validation (details name them).",
    401: "No access token, or a bad, expired or revoked one.",
    402: "The wallet's available balance does not cover it.",
    403: "The caller may not do this.",
    404: "No such object (or not the caller's to see), or a page past the last.",
    409: "Conflicts with the current state: already bought, a taken e-mail, a retry in flight.",
    413: "The request body is larger than allowed.",
    415: "The body is not JSON (or multipart, where a handler takes files).",
    422: "Unprocessable: e.g. an Idempotency-Key reused with another body.",
    429: "Over the rate limit; Retry-After says when to try again.",
    503: "A dependency (database, Redis, payment provider) is unavailable; Retry-After says "
    "when to try again.",
}
RETRY_AFTER = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER), description="Seconds to wait before a retry."
    )
}
API = "/api/v1/"
WEBHOOKS = "/api/v1/payments/webhooks/"
MONEY_COMMANDS = frozenset({"purchase", "withdraw", "purchase_subscription"})
BODY_METHODS = ("post", "put", "patch", "delete")


def document_errors(openapi: OpenAPI) -> OpenAPI:
    components = openapi.components if isinstance(openapi.components, Components) else None
    if components is None:
        components = openapi.components = Components()
    schemas = components.schemas if components.schemas is not None else {}
    components.schemas = schemas
    schemas[ENVELOPE] = _envelope_schema()
    schemas["WebhookAnswer"] = _webhook_schema()
    _refuse_unknown_fields(schemas)
    for path, item in (openapi.paths or {}).items():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            operation.responses = responses
            if path.startswith(WEBHOOKS):
                for status in (400, 404):
                    responses[str(status)] = _response(status, "WebhookAnswer")
            elif path.startswith(API):
                for status in _statuses(method, operation.operation_id):
                    responses[str(status)] = _response(status, ENVELOPE)
            elif path.rstrip("/") == "/health/detailed" and "200" in responses:
                responses["401"] = _response(401, ENVELOPE)  # a bearer token that is not valid
                responses["429"] = _response(429, ENVELOPE)
                ok = responses["200"]
                if isinstance(ok, OpenAPIResponse):
                    responses["503"] = OpenAPIResponse(
                        description="A dependency is down (same report).", content=ok.content
                    )
    return openapi


def _statuses(method: str, operation_id: str | None) -> list[int]:
    statuses = {400, 401, 403, 404, 429, 503}
    if method in BODY_METHODS:
        statuses |= {409, 413, 415, 422}
    if operation_id in MONEY_COMMANDS:
        statuses.add(402)
    return sorted(statuses)


def _response(status: int, schema: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=REASONS.get(status, "Refused."),
        content={
            "application/json": OpenAPIMediaType(
                schema=Reference(ref=f"#/components/schemas/{schema}")
            )
        },
        headers=dict(RETRY_AFTER) if status in (429, 503) else None,
    )


def _envelope_schema() -> Schema:
    text = Schema(type=OpenAPIType.STRING)
    return Schema(
        title=ENVELOPE,
        type=OpenAPIType.OBJECT,
        required=["success", "error"],
        properties={
            "success": Schema(type=OpenAPIType.BOOLEAN, const=False),
            "error": Schema(
                type=OpenAPIType.OBJECT,
                required=["code", "message", "details"],
                properties={
                    "code": text,
                    "message": text,
                    "details": Schema(
                        type=OpenAPIType.OBJECT,
                        additional_properties=Schema(type=OpenAPIType.ARRAY, items=text),
                        description="Field name -> its messages.",
                    ),
                },
            ),
        },
        description="Every error answer (CONTRACT §1.5).",
    )


def _webhook_schema() -> Schema:
    """CONTRACT §2.6 P10: ``{"error": ...}`` or ``{"status": "error", "message": ...}``."""
    text = Schema(type=OpenAPIType.STRING)
    return Schema(
        title="WebhookAnswer",
        type=OpenAPIType.OBJECT,
        properties={"error": text, "status": text, "message": text},
    )


def _refuse_unknown_fields(schemas: dict[str, Any]) -> None:
    """Request bodies decoded with ``forbid_unknown_fields`` say so in their schema."""
    strict = {
        cls.__name__
        for cls in _structs(msgspec.Struct)
        if cls.__module__.startswith("api.") and cls.__struct_config__.forbid_unknown_fields
    }
    for schema in schemas.values():
        if isinstance(schema, Schema) and schema.title in strict:
            schema.additional_properties = False


def _structs(base: type[msgspec.Struct]) -> list[type[msgspec.Struct]]:
    found = []
    for sub in base.__subclasses__():
        found.append(sub)
        found += _structs(sub)
    return found
