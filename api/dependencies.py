"""What a handler is given instead of fetching it: the caller its guards let in, the acting
user as the application knows it (an ``Actor``), and the application's services.

Guards run before the handler (Litestar's ``guards=``): ``signed_in`` checks the bearer token
(401) and ``staff_only`` also the staff flag (403), both against the users read model, in one
query on a worker thread. The guard leaves the ``Caller`` in the request's state, where the
``caller`` and ``actor`` dependencies find it. Staff-only commands check again in the
application, against the event store (application/actor.py): the guard answers fast, the
application decides.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol, TypeAlias, TypeVar
from uuid import UUID

import anyio.to_thread
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler
from litestar.params import SkipValidation
from sqlalchemy import Engine

from api.auth import authenticate, container_of, token_session
from api.errors import ApiError
from application.accounts import Accounts
from application.actor import Actor
from application.catalogue import Catalogue
from application.chats import Chats
from application.escrows import Escrows
from application.fraud import FraudReviews
from application.listings import Listings
from application.notifications import Notifications
from application.payments import Payments
from application.phone_codes import PhoneCodes
from application.ports import Clock, ProviderWebhooks, SandboxCheckout
from application.ports import IdempotencyRecords as IdempotencyStore
from application.reports import Reports
from application.reviews import Reviews
from application.saved_searches import SavedSearchService
from application.subscriptions import Subscriptions
from application.uploads import Uploads
from projections.freshness import Written

Connection = ASGIConnection[Any, Any, Any, Any]
T = TypeVar("T")

# A handler names what it needs by parameter name and type: ``actor: Inject[Actor]``,
# ``listings: Inject[Listings]``. Built in this process, so not validated again per request.
Inject: TypeAlias = NamedDependency[SkipValidation[T]]


class Caller(msgspec.Struct, frozen=True):
    """The signed-in caller: their users read-model row, as the token check found it."""

    id: UUID
    is_staff: bool
    session_id: UUID | None
    row: Any  # a SQLAlchemy Row of projections.users.USER_ROW, for the caller's own profile

    @property
    def actor(self) -> Actor:
        return Actor.user(self.id)


def caller_of(connection: Connection) -> Caller:
    row = authenticate(connection)
    return Caller(
        id=row.id,
        is_staff=bool(row.is_staff),
        session_id=token_session(connection),
        row=row,
    )


async def signed_in(connection: Connection, _: BaseRouteHandler) -> None:
    connection.state.caller = await anyio.to_thread.run_sync(caller_of, connection)


async def staff_only(connection: Connection, _: BaseRouteHandler) -> None:
    caller: Caller = await anyio.to_thread.run_sync(caller_of, connection)
    if not caller.is_staff:
        raise ApiError(
            403, "PERMISSION_DENIED", "You do not have permission to perform this action."
        )
    connection.state.caller = caller


def _caller(request: Request[Any, Any, Any]) -> Caller:
    caller: Caller = request.state.caller  # AttributeError: the handler lacks its guard
    return caller


def _actor(request: Request[Any, Any, Any]) -> Actor:
    return _caller(request).actor


def _optional_caller(request: Request[Any, Any, Any]) -> Caller | None:
    """On a public endpoint: None when anonymous; 401 for a bad token (the frontend then
    refreshes it, as everywhere)."""
    if request.headers.get("authorization") is None:
        return None
    return caller_of(request)


def _service(name: str) -> Provide:
    def provide(request: Request[Any, Any, Any]) -> Any:
        return getattr(container_of(request), name)

    return Provide(provide, sync_to_thread=False)


SERVICES: dict[str, type] = {
    "accounts": Accounts,
    "phone_codes": PhoneCodes,
    "saved_searches": SavedSearchService,
    "fraud": FraudReviews,
    "catalogue": Catalogue,
    "uploads": Uploads,
    "listings": Listings,
    "payments": Payments,
    "subscriptions": Subscriptions,
    "escrows": Escrows,
    "reports": Reports,
    "reviews": Reviews,
    "notifications": Notifications,
    "chats": Chats,
}


class ReadYourWrites(Protocol):
    def __call__(self, *, refusals_only: bool = False) -> AbstractContextManager[Written]: ...


def _read_your_writes(request: Request[Any, Any, Any]) -> ReadYourWrites:
    """``with read_your_writes() as written:`` around a command: the answer waits (bounded)
    for the read models to have its events; ``written.caught_up`` says whether they did."""
    return container_of(request).read_your_writes


# What handlers use besides the services: the read models they query (``reader.connect()``);
# and money handlers the clock, the payment provider (None where none is configured), the
# Idempotency-Key records, and the provider webhooks with their delivery through the task queue.
SendWebhook = Callable[[str, bytes, str], None]


def _reader(request: Request[Any, Any, Any]) -> Engine:
    return container_of(request).store.reader


def _clock(request: Request[Any, Any, Any]) -> Clock:
    return container_of(request).clock


def _payment_provider(request: Request[Any, Any, Any]) -> SandboxCheckout | None:
    return container_of(request).payment_provider


def _idempotency(request: Request[Any, Any, Any]) -> IdempotencyStore:
    return container_of(request).idempotency


def _webhooks(request: Request[Any, Any, Any]) -> ProviderWebhooks:
    return container_of(request).webhooks


def _send_webhook(request: Request[Any, Any, Any]) -> SendWebhook:
    return container_of(request).task_queue.deliver_webhook


EDGES: dict[str, Provide] = {
    name: Provide(provide, sync_to_thread=False)
    for name, provide in (
        ("reader", _reader),
        ("clock", _clock),
        ("payment_provider", _payment_provider),
        ("idempotency", _idempotency),
        ("webhooks", _webhooks),
        ("send_webhook", _send_webhook),
    )
}


DEPENDENCIES: dict[str, Provide] = {
    **EDGES,
    "read_your_writes": Provide(_read_your_writes, sync_to_thread=False),
    "caller": Provide(_caller, sync_to_thread=False),
    "actor": Provide(_actor, sync_to_thread=False),
    "optional_caller": Provide(_optional_caller, sync_to_thread=True),
    **{name: _service(name) for name in SERVICES},
}
