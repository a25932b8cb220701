"""The Litestar application factory: ``uvicorn --factory api.app:create_app``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import structlog
from litestar import Litestar, Request, get
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.logging import LoggingConfig
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from api.auth import bearer_token, client_address, container_of
from api.controllers.admin_panel.dashboard import DashboardController
from api.controllers.admin_panel.fraud import FraudController
from api.controllers.admin_panel.games import AdminGamesController
from api.controllers.admin_panel.listings import ModerationController
from api.controllers.admin_panel.money import MoneyAdminController
from api.controllers.admin_panel.reports import AdminReportsController
from api.controllers.admin_panel.users import AdminUsersController
from api.controllers.auth import AuthController
from api.controllers.chats import ChatsController
from api.controllers.games import GamesController
from api.controllers.health import HealthController, presents_health_token
from api.controllers.listings import ListingImagesController, ListingsController
from api.controllers.notifications import NotificationsController
from api.controllers.payments import PaymentsController, SandboxCheckoutController
from api.controllers.profile import ProfileController
from api.controllers.reports import ReportsController
from api.controllers.reviews import ReviewsController
from api.controllers.subscriptions import SubscriptionsController
from api.controllers.uploads import UploadController
from api.controllers.ws import SOCKETS
from api.dependencies import DEPENDENCIES
from api.errors import EXCEPTION_HANDLERS, ApiError
from api.openapi import document_errors
from api.proxies import TrustedProxies
from api.ratelimit import RateLimiter, client_key, parse_limits, scope_is_health, scope_of
from api.realtime import Realtime
from api.security_headers import security_headers
from application.errors import TokenInvalid
from wibestore import heap
from wibestore.container import Container, build
from wibestore.logs import configure_logging

log = structlog.get_logger(__name__)

JSON_METHODS = frozenset({"POST", "PUT", "PATCH"})
CORS_HEADERS = [
    "accept",
    "authorization",
    "content-type",
    "user-agent",
    "x-csrftoken",
    "x-requested-with",
    "idempotency-key",
]


def require_json(request: Request[Any, Any, Any]) -> None:
    """415 for a body of the wrong kind: JSON everywhere, multipart where a handler takes files."""
    if request.method not in JSON_METHODS:
        return
    has_body = request.headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in request.headers
    )
    if not has_body:
        return
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    opt = request.route_handler.opt
    if opt.get("raw_body"):  # provider webhooks: the handler checks the signed bytes itself
        return
    takes_json = opt.get("json", not opt.get("multipart"))
    if opt.get("multipart") and content_type == "multipart/form-data":
        return
    if takes_json and (content_type == "application/json" or content_type.endswith("+json")):
        return
    raise ApiError(
        415,
        "UNSUPPORTED_MEDIA_TYPE",
        f'Unsupported media type "{content_type or "none"}" in request.',
    )


async def throttle(request: Request[Any, Any, Any]) -> None:
    """429 once a client is over its scope's limit (see api/ratelimit.py)."""
    container = container_of(request)
    limiter: RateLimiter = request.app.state.rate_limiter
    if not limiter.limits:
        return
    scope = scope_of(request.url.path, request.method)
    if scope is None or (scope_is_health(request.url.path) and presents_health_token(request)):
        return  # monitoring holding the health token is not limited; guesses at it are
    user_id = None
    if scope != "auth":
        try:
            token = bearer_token(request)
            if token is not None:
                user_id = str(container.tokens.decode(token, "access").user_id)
        except TokenInvalid:
            user_id = None  # the handler answers 401; count the call against the address
    if scope == "user" and user_id is None:
        scope = "anon"
    await limiter.check(scope, client_key(request, user_id, client_address(request)))


async def before_request(request: Request[Any, Any, Any]) -> None:
    """Async, so that no request pays a thread hop before its handler."""
    await throttle(request)
    require_json(request)


@get("/api/v1/docs/", include_in_schema=False)
async def docs() -> Redirect:
    return Redirect("/api/v1/schema/swagger")


def media_files(root: Path) -> Any:
    """Uploaded files at /media/ (in production nginx serves this directory instead)."""
    root.mkdir(parents=True, exist_ok=True)
    return create_static_files_router(path="/media", directories=[root], include_in_schema=False)


def create_app(container: Container | None = None) -> Litestar:
    configure_logging()
    owned = container is None
    the_container = container or build()
    settings = the_container.settings
    # The API's own parts: who the client is behind our proxies, and its request limits.
    proxies = TrustedProxies(settings.trusted_proxies)
    limiter = RateLimiter(parse_limits(settings.rate_limits), the_container.request_counts)
    realtime = Realtime(the_container)  # a ChannelsPlugin per app: its backend is per lifecycle

    async def start(app: Litestar) -> None:
        app.state.container = the_container
        if owned:
            import anyio.to_thread

            await anyio.to_thread.run_sync(the_container.start)
        await realtime.start(app)
        if owned:  # a server process, not a test's app
            heap.settle()

    async def stop(app: Litestar) -> None:
        await realtime.stop(app)
        if owned:
            the_container.close()

    app = Litestar(
        route_handlers=[
            AuthController,
            ProfileController,
            GamesController,
            AdminGamesController,
            ListingsController,
            ModerationController,
            PaymentsController,
            SandboxCheckoutController,
            MoneyAdminController,
            AdminUsersController,
            DashboardController,
            FraudController,
            SubscriptionsController,
            ReportsController,
            AdminReportsController,
            ReviewsController,
            NotificationsController,
            ChatsController,
            UploadController,
            ListingImagesController,
            media_files(the_container.settings.media_dir),
            HealthController,
            *SOCKETS,
            docs,
        ],
        dependencies=DEPENDENCIES,
        exception_handlers=EXCEPTION_HANDLERS,
        # api/errors.py logs unexpected errors itself, masked; Litestar's own would print locals
        logging_config=LoggingConfig(log_exceptions="never"),
        before_request=before_request,
        before_send=[security_headers(settings.is_production)],
        on_startup=[start],
        state=State({"proxies": proxies, "rate_limiter": limiter, "realtime": realtime}),
        on_shutdown=[stop],
        cors_config=CORSConfig(
            allow_origins=["*"]
            if not settings.is_production and not settings.cors_origins
            else list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=CORS_HEADERS,
            allow_credentials=True,
        ),
        openapi_config=OpenAPIConfig(
            title="WibeStore API",
            version="1.0.0",
            path="/api/v1/schema",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        request_max_body_size=1024 * 1024,
        debug=False,
    )
    document_errors(app.openapi_schema)
    return app
