"""Errors of the application layer (the domain's own rule errors live in domain/)."""

from __future__ import annotations

from domain.errors import DomainError, Forbidden


class AuthenticationFailed(DomainError):
    def __init__(self, message: str = "No active account found with the given credentials") -> None:
        super().__init__(message)


class Throttled(DomainError):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {seconds} seconds.")
        self.retry_after = seconds


class PermissionDenied(Forbidden):
    def __init__(self, message: str = "You do not have permission to perform this action.") -> None:
        super().__init__(message)


class IncorrectPassword(DomainError):
    def __init__(self, message: str = "Current password is incorrect.", field: str | None = None):
        super().__init__(message, field=field)


class InvalidToken(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid token.")


class TokenInvalid(Exception):
    """The token is missing, malformed, tampered with, expired, of the wrong type or revoked."""

    def __init__(self, message: str = "Token is invalid or expired") -> None:
        super().__init__(message)
        self.message = message


class GoogleRejected(Exception):
    """Google did not vouch for the credential (or sign-in with Google is not configured)."""

    def __init__(self, message: str = "Invalid Google access token.") -> None:
        super().__init__(message)
        self.message = message


class ServiceUnavailable(Exception):
    """A dependency the request cannot be served safely without is down (the database; Redis
    for idempotency records and the task queue): 503 with Retry-After, and the client tries
    again later. Nothing is written: a command's events are saved all or none, never twice."""

    def __init__(self, dependency: str, retry_after: int = 5, message: str = "") -> None:
        super().__init__(message or f"{dependency} is unavailable")
        self.dependency, self.retry_after = dependency, retry_after
        self.message = message or "The service is temporarily unavailable; try again shortly."
