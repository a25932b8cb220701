"""The root of every business-rule error the domain raises."""

from __future__ import annotations


class DomainError(Exception):
    """A command broke a business rule; the message is fit to show to the user."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    """The thing a command names does not exist (or is not visible to its caller)."""


class Conflict(DomainError):
    """The command lost a race or collides with existing state (a taken e-mail, say)."""


class Forbidden(DomainError):
    """The caller may not do this to that object (it is someone else's)."""
