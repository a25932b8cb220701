"""Errors of the application layer (the domain's own rule errors live in domain/)."""

from __future__ import annotations

from domain.errors import DomainError


class AuthenticationFailed(DomainError):
    def __init__(self, message: str = "No active account found with the given credentials") -> None:
        super().__init__(message)


class Throttled(DomainError):
    def __init__(self, seconds: int) -> None:
        super().__init__(f"Request was throttled. Expected available in {seconds} seconds.")
        self.retry_after = seconds


class IncorrectPassword(DomainError):
    def __init__(self, message: str = "Current password is incorrect.", field: str | None = None):
        super().__init__(message, field=field)


class InvalidToken(DomainError):
    def __init__(self) -> None:
        super().__init__("Invalid token.")
