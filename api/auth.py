"""Who is calling: the bearer access token, checked against the users read model."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar.connection import ASGIConnection

from api.errors import ApiError
from api.proxies import TrustedProxies
from application.errors import TokenInvalid
from projections.sessions import token_holder_row
from wibestore.container import Container


def container_of(request: ASGIConnection[Any, Any, Any, Any]) -> Container:
    container: Container = request.app.state.container
    return container


def bearer_token(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenInvalid("Authorization header must be 'Bearer <token>'")
    return token.strip()


def authenticate(request: ASGIConnection[Any, Any, Any, Any]) -> Any:
    """The caller's users row; 401 when the token is missing, bad, or revoked (its session was
    logged out or revoked, its user reset the password, was banned or deleted since, or is
    inactive). One query, whose answer is as fresh as the read models (projections/sessions.py).
    """
    token = bearer_token(request)
    if token is None:
        raise ApiError(401, "NOT_AUTHENTICATED", "Authentication credentials were not provided.")
    return token_holder(container_of(request), token)


def token_holder(container: Container, token: str) -> Any:
    """The users row of an access token's holder (``authenticate``'s check, for a token that
    came some other way: a socket's ``?token=``); TokenInvalid when it is not good."""
    claims = container.tokens.decode(token, "access")
    with container.store.reader.connect() as conn:
        row = token_holder_row(conn, claims.user_id, claims.session_id)
    if row is None or not row.is_active or row.deleted_at is not None:
        raise TokenInvalid("User not found or inactive")
    if row.session_revoked:
        raise TokenInvalid("Token is blacklisted")
    if row.tokens_valid_after is not None and claims.issued_at < row.tokens_valid_after:
        raise TokenInvalid("Token is no longer valid")
    return row


def token_session(request: ASGIConnection[Any, Any, Any, Any]) -> UUID | None:
    """The session (sign-in) of the caller's access token, once ``authenticate`` passed."""
    token = bearer_token(request)
    if token is None:
        return None
    return container_of(request).tokens.decode(token, "access").session_id


def require_staff(request: ASGIConnection[Any, Any, Any, Any]) -> Any:
    row = authenticate(request)
    if not row.is_staff:
        raise ApiError(
            403, "PERMISSION_DENIED", "You do not have permission to perform this action."
        )
    return row


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str:
    """The client's IP: the peer, or what our trusted proxies say it is (api/proxies.py)."""
    peer = request.client.host if request.client else "unknown"
    proxies: TrustedProxies = request.app.state.proxies
    if not proxies.networks:
        return peer
    return proxies.client(peer, request.headers.getall("x-forwarded-for", []))


def optional_user(request: ASGIConnection[Any, Any, Any, Any]) -> Any | None:
    """The caller on a public endpoint: None when anonymous, 401 for a bad token (so the
    frontend refreshes it, as it does everywhere)."""
    if request.headers.get("authorization") is None:
        return None
    return authenticate(request)
