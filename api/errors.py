"""Every error leaves the API in the contract's envelope (CONTRACT §1.5):
``{"success": false, "error": {"code", "message", "details"}}``. This is the one module that
turns exceptions into HTTP answers, so handlers hold no try/except."""

from __future__ import annotations

import re
from typing import Any

import structlog
from eventsourcing.persistence import IntegrityError
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from api.accepted import Accepted, accepted_response
from api.logs import request_secrets, safe_traceback
from application.accounts import AvatarRejected
from application.errors import (
    AuthenticationFailed,
    GoogleRejected,
    IncorrectPassword,
    ServiceUnavailable,
    Throttled,
    TokenInvalid,
)
from application.ports import ImageRejected
from domain.errors import Conflict, DomainError, Forbidden, NotFound
from domain.wallet import InsufficientFunds
from projections.runtime import DATABASE_DOWN

log = structlog.get_logger(__name__)

HTTP_CODES = {
    400: "INVALID",
    401: "NOT_AUTHENTICATED",
    402: "INSUFFICIENT_FUNDS",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "RESOURCE_CONFLICT",
    413: "REQUEST_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE",
    429: "THROTTLED",
    503: "SERVICE_UNAVAILABLE",
}
DATABASE_RETRY_AFTER = 5  # seconds; the container's settings.database_retry_after wins


class ApiError(Exception):
    """Raised by the API layer itself for answers that no deeper layer decides."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.details = details or {}
        self.headers = headers or {}


def envelope(
    status: int,
    code: str,
    message: str,
    details: dict[str, list[str]] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    return Response(
        {"success": False, "error": {"code": code, "message": message, "details": details or {}}},
        status_code=status,
        media_type=MediaType.JSON,
        headers=headers,
    )


def _field_details(error: DomainError) -> dict[str, list[str]]:
    return {error.field: [error.message]} if error.field else {}


def domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if isinstance(exc, Throttled):
        return envelope(
            429, "THROTTLED", exc.message, headers={"Retry-After": str(exc.retry_after)}
        )
    if isinstance(exc, AuthenticationFailed):
        return envelope(401, "AUTHENTICATION_FAILED", exc.message)
    if isinstance(exc, AvatarRejected):  # worded as the body's other field errors are
        return envelope(400, "INVALID", f"avatar: {exc.message}", _field_details(exc))
    if isinstance(exc, InsufficientFunds):
        return envelope(402, "INSUFFICIENT_FUNDS", exc.message)
    if isinstance(exc, Forbidden):
        return envelope(403, "PERMISSION_DENIED", exc.message)
    if isinstance(exc, NotFound):
        return envelope(404, "NOT_FOUND", exc.message)
    if isinstance(exc, Conflict) and not exc.field:
        return envelope(409, "RESOURCE_CONFLICT", exc.message)
    # Field errors are validation errors, except a wrong current password: a broken rule.
    code = (
        "INVALID"
        if exc.field and not isinstance(exc, IncorrectPassword)
        else ("BUSINESS_LOGIC_ERROR")
    )
    return envelope(400, code, exc.message, _field_details(exc))


def socket_error(exc: DomainError | ApiError) -> dict[str, Any]:
    """The error frame a socket sends for a refused message (the socket stays open): the
    code and message its REST twin would answer."""
    if isinstance(exc, ApiError):
        return {"type": "error", "code": exc.code, "message": exc.message}
    body = domain_error(None, exc).content["error"]  # type: ignore[arg-type]
    return {"type": "error", "code": body["code"], "message": body["message"]}


def token_invalid(_: Request[Any, Any, Any], exc: TokenInvalid) -> Response[Any]:
    return envelope(401, "TOKEN_NOT_VALID", exc.message)


def google_rejected(_: Request[Any, Any, Any], exc: GoogleRejected) -> Response[Any]:
    return envelope(400, "BUSINESS_LOGIC_ERROR", exc.message)


def image_rejected(request: Request[Any, Any, Any], exc: ImageRejected) -> Response[Any]:
    """An uploaded file that is not an image we take: 400, under the form field it came in
    (the route's ``opt["files"]``, e.g. ``image`` or ``images``)."""
    field = request.route_handler.opt.get("files", "image")
    return envelope(400, "INVALID", exc.message, {field: [exc.message]})


def api_error(_: Request[Any, Any, Any], exc: ApiError) -> Response[Any]:
    return envelope(exc.status, exc.code, exc.message, exc.details, exc.headers)


def service_unavailable(_: Request[Any, Any, Any], exc: ServiceUnavailable) -> Response[Any]:
    log.warning("dependency.unavailable", dependency=exc.dependency, error=str(exc.__cause__))
    return envelope(
        503,
        "SERVICE_UNAVAILABLE",
        exc.message,
        {"dependency": [exc.dependency]},
        headers={"Retry-After": str(exc.retry_after)},
    )


def integrity_error(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    return envelope(
        409, "RESOURCE_CONFLICT", "This record was changed by another request; try again."
    )


def database_unavailable(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The event store or the read models' server is unreachable (restarting, say)."""
    log.warning("database_unavailable", path=request.url.path, error=str(exc).splitlines()[0])
    container = getattr(request.app.state, "container", None)
    retry_after = getattr(
        getattr(container, "settings", None), "database_retry_after", DATABASE_RETRY_AFTER
    )
    return service_unavailable(request, ServiceUnavailable("database", retry_after))


def validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    details: dict[str, list[str]] = {}
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            key, message = _field_message(
                str(item.get("key") or ""), str(item.get("message", "Invalid value."))
            )
            if item.get("source") == "query":
                message = _query_message(message)
            details.setdefault(key, []).append(message)
    if details:
        field, messages = next(iter(details.items()))
        message = messages[0] if field == "body" else f"{field}: {messages[0]}"
        return envelope(400, "INVALID", message, details)
    return _bad_request(_readable(exc.detail) or "Invalid request.")


def _field_message(key: str, message: str) -> tuple[str, str]:
    """msgspec reports ``Expected `str`, got `int` - at `$.email```: name the field."""
    unknown = _UNKNOWN_FIELD.search(message)
    if unknown:
        return unknown.group(1), "Unknown field."
    located = _AT_PATH.search(message)
    if located:
        field = located.group(1)
        return field, _plain(field, message[: located.start()].strip())
    if key in ("", "data", "body"):
        if message in ("'data'", "data"):  # Litestar's word for a POST that has no body
            return "body", "A request body is required."
        missing = _MISSING_FIELD.search(message)
        if missing:
            return missing.group(1), "This field is required."
        return "body", message
    field = key.removeprefix("$.")
    return field, _plain(field, message)


def _plain(field: str, message: str) -> str:
    """msgspec's constraint messages, in the words a person filling a form expects."""
    if "matching regex" in message:
        return "Enter a valid email address." if "email" in field else "Enter a valid value."
    longest = re.search(r"length <= (\d+)", message)
    if longest:
        return f"Ensure this field has no more than {longest.group(1)} characters."
    shortest = re.search(r"length >= (\d+)", message)
    if shortest:
        return f"Ensure this field has at least {shortest.group(1)} characters."
    return message


def _query_message(message: str) -> str:
    """A query parameter's type error in the words these parameters always answered with."""
    for pattern, words in _QUERY_WORDS:
        if pattern.match(message):
            return words
    return message


_QUERY_WORDS = (
    (re.compile(r"Expected `int( \| null)?`"), "A valid integer is required."),
    (re.compile(r"Expected `bool( \| null)?`"), "Must be true or false."),
    (re.compile(r"Invalid UUID"), "Must be a valid UUID."),
)
_UNKNOWN_FIELD = re.compile(r"unknown field `([^`]+)`")
_MISSING_FIELD = re.compile(r"missing required field `([^`]+)`")
_AT_PATH = re.compile(r"\s*-\s*at `\$\.?([^`]*)`$")


def _bad_request(message: str) -> Response[Any]:
    lowered = message.lower()
    parse_failure = any(w in lowered for w in ("malformed", "decode", "truncated", "json"))
    code = "PARSE_ERROR" if parse_failure else "INVALID"
    return envelope(400, code, message)


def http_error(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    status = exc.status_code
    if status == 400:
        return _bad_request(_readable(exc.detail) or "Invalid request.")
    code = HTTP_CODES.get(status, "ERROR")
    message = _readable(exc.detail)
    if isinstance(exc, NotAuthorizedException):
        code = "NOT_AUTHENTICATED"
        message = message or "Authentication credentials were not provided."
    if status == 404:
        message = "Not found."
    elif status == 405:
        message = "Method not allowed."
    headers = dict(exc.headers or {})
    return envelope(status, code, message or "Request failed.", headers=headers or None)


def undecodable(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    """A body (or a part of one) that is not UTF-8: the client's mistake, not ours."""
    return envelope(400, "PARSE_ERROR", "The request body is not valid UTF-8.")


def unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """500, logged without the request's body or credentials (see api/logs.py)."""
    log.error(
        "unhandled",
        path=request.url.path,
        method=request.method,
        error=type(exc).__name__,
        exception=safe_traceback(exc, request_secrets(request)),
    )
    return envelope(HTTP_500_INTERNAL_SERVER_ERROR, "INTERNAL_ERROR", "An error occurred.")


def _readable(detail: Any) -> str:
    return str(detail).strip() if detail else ""


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ApiError: api_error,
    Accepted: accepted_response,
    ServiceUnavailable: service_unavailable,
    DomainError: domain_error,
    TokenInvalid: token_invalid,
    GoogleRejected: google_rejected,
    ImageRejected: image_rejected,
    IntegrityError: integrity_error,
    **dict.fromkeys(DATABASE_DOWN, database_unavailable),
    ValidationException: validation_error,
    HTTPException: http_error,
    UnicodeDecodeError: undecodable,
    Exception: unexpected,
}
