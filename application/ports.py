"""The ports the application talks through. Adapters (adapters/) implement them at the edge and
the composition root (wibestore/container.py) chooses which; nothing here knows how.

The last section holds the ports of the entry points (the API's idempotency records and request
counters, the sandbox checkout page): declared here too, so that every adapter implements a
port of this one module.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import UTC, date, datetime
from typing import Any, Protocol
from uuid import UUID

import msgspec


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


# --- accounts -------------------------------------------------------------------------------
class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def matches(self, password_hash: str | None, password: str) -> bool: ...

    def matches_any(self, hashes: Iterable[str], password: str) -> bool: ...


class Claims(msgspec.Struct, frozen=True):
    """What a verified token says."""

    user_id: UUID
    token_type: str
    jti: str
    issued_at: float
    session_id: UUID | None = None
    expires_at: float | None = None  # seconds since the epoch (``exp``)


class TokenIssuer(Protocol):
    """Access and refresh tokens; ``decode`` raises TokenInvalid (application/errors.py)."""

    def new_token_id(self) -> str: ...

    def access(
        self,
        user_id: UUID,
        at: datetime,
        extra: dict[str, Any] | None = None,
        session_id: UUID | None = None,
    ) -> str: ...

    def refresh(self, user_id: UUID, session_id: UUID, token_id: str, at: datetime) -> str: ...

    def decode(self, token: str, token_type: str) -> Claims: ...


class LoginThrottle(Protocol):
    """Counts failed sign-ins per (e-mail, client address) and per e-mail, and locks for a
    while (adapters/throttle.py)."""

    def seconds_locked(self, email: str, address: str) -> int: ...

    def attempt(self, email: str, address: str) -> int: ...

    def succeeded(self, email: str, address: str) -> None: ...


class GoogleAccount(msgspec.Struct, frozen=True):
    email: str
    name: str
    email_verified: bool
    subject: str


class GoogleIdentity(Protocol):
    """Turns what the Google button gave the browser into a verified Google account, or
    raises GoogleRejected (application/errors.py)."""

    def from_id_token(self, credential: str) -> GoogleAccount: ...

    def from_access_token(self, access_token: str) -> GoogleAccount: ...


class Email(msgspec.Struct, frozen=True):
    to: str
    subject: str
    body: str


class Mailer(Protocol):
    def send(self, email: Email) -> None: ...


class SmsSender(Protocol):
    """Sends a text message to a phone (+998...). No real SMS provider yet: the adapters log
    it or write it to a file (adapters/sms.py)."""

    def send(self, phone: str, text: str) -> None: ...


# --- secrets at rest --------------------------------------------------------------------------
class CredentialsVault(Protocol):
    """Seals a value bound to an aggregate id; ``open`` raises ValueError for a value that was
    not sealed for that id with this key."""

    def seal(self, value: dict[str, Any], bound_to: UUID) -> str: ...

    def open(self, sealed: str, bound_to: UUID) -> dict[str, Any]: ...


# --- uploads --------------------------------------------------------------------------------
MAX_IMAGE_BYTES = 5 * 1024 * 1024  # an upload larger than this is refused unread


class ImageRejected(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CleanImage(msgspec.Struct, frozen=True):
    name: str  # uploads/YYYY/MM/DD/<hex>.<ext>
    thumbnail_name: str
    data: bytes
    width: int
    height: int
    content_type: str


class ImageProcessor(Protocol):
    def clean(self, raw: bytes, today: date) -> CleanImage:
        """The image decoded and encoded again, without metadata; ImageRejected if it is not
        an image we take."""
        ...

    def thumbnail(self, data: bytes) -> bytes: ...


class MediaStore(Protocol):
    """Where uploaded files live (local disk; S3 would implement the same four methods)."""

    def save(self, name: str, data: bytes) -> str:
        """Store ``data`` under ``name`` (a relative POSIX path); return its URL."""
        ...

    def read(self, name: str) -> bytes: ...

    def url(self, name: str) -> str: ...

    def delete(self, name: str) -> None:
        """Remove ``name`` if it is there."""
        ...


# --- chats ------------------------------------------------------------------------------------
class Presence(Protocol):
    """Who has a socket open on a chat room now, across every API process (a message to
    someone watching the room needs no notification). Entries expire unless refreshed, so a
    process that died leaves no one "present" for long."""

    def enter(self, room_id: UUID, user_id: UUID) -> str:
        """Record a socket; returns its ticket for ``refresh`` and ``leave``."""
        ...

    def refresh(self, tickets: Collection[str]) -> None:
        """Keep these tickets alive (all of a process's open sockets, in one call)."""
        ...

    def leave(self, ticket: str) -> None: ...

    def present(self, room_id: UUID) -> frozenset[UUID]:
        """The users with a live socket on the room; empty when this cannot be known (then
        everyone is notified, which is the safe side)."""
        ...


# --- work done later, elsewhere ---------------------------------------------------------------
class TaskQueue(Protocol):
    """Work handed to a worker (or run in this process, the embedded default). Enqueueing
    raises ServiceUnavailable (application/errors.py) when the queue cannot take it: nothing
    has been committed yet, so the caller can undo what it did."""

    def send_email(self, email: Email) -> None: ...

    def make_thumbnail(self, name: str, thumbnail_name: str) -> None: ...

    def deliver_webhook(self, provider: str, body: bytes, signature: str) -> None: ...


# --- payments -------------------------------------------------------------------------------
class PayableDeposit(Protocol):
    """What a provider needs of a deposit (the Deposit aggregate and a DepositSummary are)."""

    @property
    def id(self) -> UUID: ...

    @property
    def user_id(self) -> UUID: ...

    @property
    def amount(self) -> int: ...


class PaymentProvider(Protocol):
    """Takes the payer to a checkout page; reports the outcome later with a signed webhook."""

    name: str

    def checkout_url(self, deposit: PayableDeposit, base_url: str) -> str: ...


class SandboxCheckout(PaymentProvider, Protocol):
    """The sandbox provider, whose checkout page our API serves (development and demos)."""

    def opens_checkout(self, deposit_id: UUID, token: str) -> bool:
        """Whether ``token`` is the one its checkout link carries."""
        ...

    def webhook(self, deposit: PayableDeposit, confirmed: bool) -> tuple[bytes, str]:
        """The provider's report of the payer's choice: (raw body, signature header)."""
        ...


class ProviderWebhooks(Protocol):
    """Payment providers' webhooks, verified and applied (adapters/webhooks.py)."""

    signature_header: str

    def handle(
        self, provider: str, body: bytes, signature: str | None
    ) -> tuple[int, dict[str, Any]]: ...


# --- read models the application asks ---------------------------------------------------------
class NotificationStates(Protocol):
    """What the notifications read model says of a user's notifications (the notifications
    are derived there from events; the application records only what the user read)."""

    def state_of(self, user_id: UUID, notification_id: UUID) -> tuple[int, bool] | None:
        """(log position, whether read) of the user's notification; None when they have no
        notification of that id (anyone else's included)."""
        ...

    def unread_up_to(self, user_id: UUID) -> tuple[int, int]:
        """(the log position of the user's newest notification, how many are unread); (0, 0)
        for a user without any."""
        ...


# --- ports of the entry points (the API) ------------------------------------------------------
class IdempotencyRecords(Protocol):
    """Idempotency-Key records (api/idempotency.py); ServiceUnavailable when they cannot be
    read or written."""

    def claim(self, key: str, record: str, ttl: int) -> str | None:
        """Claim ``key`` (returns None), or return what is stored under it."""
        ...

    def put(self, key: str, record: str, ttl: int) -> None: ...

    def drop(self, key: str) -> None: ...


class RequestCounter(Protocol):
    """Requests per client in fixed windows (api/ratelimit.py)."""

    async def hit(self, key: str, limit: int) -> tuple[int, int]:
        """Count one request under ``key``: (requests in the window, seconds until it resets)."""
        ...
