"""Idempotency-Key for money commands (deposit, withdraw, purchase, subscription purchase).

Keys are scoped per user and kept 24 hours. The first request with a key claims it (a short
"in flight" claim, so a crashed request frees its key after a minute); its answer is stored and
every retry with the same key and the same body gets that answer again, byte for byte. The same
key with another body answers 422; a retry while the first is still running answers 409.
Answers of 5xx are not stored: the client may retry them.

Without Redis (unreachable) a key cannot be checked, so a request carrying one answers 503 with
Retry-After before anything runs. If Redis fails after the command committed, the answer is
still the command's (it is done); only the record is lost, and the key's one-minute claim
stops a quick retry from running it twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

import msgspec
import structlog
from litestar import MediaType, Request, Response

from api.accepted import Accepted, accepted_body
from api.errors import ApiError, api_error, domain_error
from application.errors import ServiceUnavailable
from application.ports import IdempotencyRecords
from domain.errors import DomainError

log = structlog.get_logger(__name__)

KEEP_SECONDS = 24 * 3600
IN_FLIGHT_SECONDS = 60
HEADER = "Idempotency-Key"


def once(
    store: IdempotencyRecords,
    request: Request[Any, Any, Any],
    user_id: Any,
    body: Any,
    command: Callable[[], tuple[int, Any]],
) -> Response[Any]:
    """Run ``command`` (which returns status and content) at most once per Idempotency-Key."""
    key = request.headers.get(HEADER)
    if key is None:
        status, content, headers = _outcome(request, command)
        return _respond(status, content, headers)
    if not 1 <= len(key) <= 255:
        raise ApiError(400, "INVALID", f"{HEADER} must be 1 to 255 characters.")
    slot = f"idempotency:{user_id}:{key}"
    fingerprint = fingerprint_of(request.method, request.url.path, body)
    stored = store.claim(slot, json.dumps({"fp": fingerprint}), IN_FLIGHT_SECONDS)
    if stored is not None:
        record = json.loads(stored)
        if record["fp"] != fingerprint:
            raise ApiError(
                422,
                "IDEMPOTENCY_KEY_REUSED",
                f"This {HEADER} was already used with a different request.",
            )
        if "status" not in record:
            raise ApiError(
                409,
                "IDEMPOTENCY_IN_PROGRESS",
                f"A request with this {HEADER} is still in progress; retry shortly.",
            )
        return _respond(
            record["status"], record["body"].encode(), record.get("headers"), replayed=True
        )
    try:
        status, content, headers = _outcome(request, command)
    except BaseException:
        _forget(store, slot)
        raise
    try:
        if status >= 500:
            store.drop(slot)
        else:
            record = {"fp": fingerprint, "status": status, "body": content.decode()}
            if headers:
                record["headers"] = headers
            store.put(slot, json.dumps(record), KEEP_SECONDS)
    except ServiceUnavailable as e:  # the command is done: answer it, lose only the record
        log.warning("idempotency.record_lost", slot=slot, error=str(e.__cause__ or e))
    return _respond(status, content, headers=headers)


def _forget(store: IdempotencyRecords, slot: str) -> None:
    try:
        store.drop(slot)
    except ServiceUnavailable as e:  # the claim expires by itself within IN_FLIGHT_SECONDS
        log.warning("idempotency.claim_kept", slot=slot, error=str(e.__cause__ or e))


def fingerprint_of(method: str, path: str, body: Any) -> str:
    """What makes two requests "the same": method, path (trailing slash or not) and body."""
    request = f"{method} {path.rstrip('/')} ".encode()
    return hashlib.sha256(request + msgspec.json.encode(body)).hexdigest()


def _outcome(
    request: Request[Any, Any, Any], command: Callable[[], tuple[int, Any]]
) -> tuple[int, bytes, dict[str, str]]:
    """The command's answer as (status, JSON bytes, headers), business errors included."""
    headers: dict[str, str] = {}
    try:
        status, content = command()
    except Accepted as e:
        status, content, headers = 202, accepted_body(e), {"Location": e.location}
    except DomainError as e:
        response = domain_error(request, e)
        status, content = response.status_code or 400, response.content
    except ApiError as e:
        response = api_error(request, e)
        status, content = response.status_code or 400, response.content
    return status, msgspec.json.encode(content), headers


def _respond(
    status: int, content: bytes, headers: dict[str, str] | None = None, replayed: bool = False
) -> Response[Any]:
    headers = {**(headers or {}), **({"Idempotent-Replayed": "true"} if replayed else {})}
    return Response(content, status_code=status, media_type=MediaType.JSON, headers=headers or None)
