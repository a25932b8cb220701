"""The ports the application talks through; adapters live beside them, chosen in bootstrap."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

import msgspec


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class Email(msgspec.Struct, frozen=True):
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class GoogleAccount(msgspec.Struct, frozen=True):
    email: str
    name: str
    email_verified: bool
    subject: str


class GoogleIdentity(Protocol):
    """Turns what the Google button gave the browser into a verified Google account."""

    def from_id_token(self, credential: str) -> GoogleAccount: ...

    def from_access_token(self, access_token: str) -> GoogleAccount: ...


class LoginThrottle(Protocol):
    """Counts failed sign-ins per (e-mail, client address) and per e-mail, and locks for a
    while (application/throttle.py)."""

    def seconds_locked(self, email: str, address: str) -> int: ...

    def attempt(self, email: str, address: str) -> int: ...

    def succeeded(self, email: str, address: str) -> None: ...
