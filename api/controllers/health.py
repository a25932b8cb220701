"""CONTRACT §6: liveness and a detailed check of every dependency, with projection lag.

Anyone may ask whether each dependency is up; only staff (their bearer token) and monitoring
(``HEALTH_TOKEN``, as ``X-Health-Token`` or ``Authorization: Bearer``) see the details: the
projections' positions and the error texts, which can name hosts, ports and schemas.
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy import text

from api.auth import container_of, optional_user


def _check(fn: Any) -> str:
    try:
        fn()
        return "ok"
    except Exception as e:  # a health check reports failures, it does not raise them
        return f"error: {e}".splitlines()[0][:200]


class HealthController(Controller):
    path = "/health"
    tags = ["health"]
    include_in_schema = True

    @get("/", operation_id="health")
    async def health(self) -> dict[str, str]:
        return {"status": "ok"}

    @get("/detailed/", operation_id="health_detailed", sync_to_thread=True)
    def detailed(self, request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
        container = container_of(request)

        def database() -> None:
            with container.store.reader.connect() as conn:
                conn.execute(text("SELECT 1"))
            container.app.recorder.max_notification_id()

        def cache() -> None:
            if container.redis is not None:
                container.redis.ping()

        checks: dict[str, Any] = {"database": _check(database), "cache": _check(cache)}
        checks["celery"] = (  # the broker is that Redis: no 6 s of reconnecting to learn it
            "error: broker unreachable"
            if checks["cache"].startswith("error") and container.settings.redis_url
            else self._celery(container)
        )
        checks.update(container.degraded())  # rate_limits, login_throttle...: "ok" or "degraded..."
        checks["sockets"] = request.app.state.realtime.status
        if container.settings.sandbox_payments_in_production:
            checks["payments"] = "warning: sandbox provider in production, money is not real"
        try:
            checks["projections"] = container.projection_lag()
        except Exception as e:
            checks["projections"] = f"error: {e}".splitlines()[0][:200]
        degraded = any(str(checks[k]).startswith("error") for k in ("database", "cache"))
        if not _may_see_details(request, database_up=checks["database"] == "ok"):
            checks = {name: _up_or_down(value) for name, value in checks.items()}
        body = {"status": "degraded" if degraded else "ok", "checks": checks}
        return Response(body, status_code=503 if degraded else 200)

    @staticmethod
    def _celery(container: Any) -> str:
        if container.task_queue.in_process:
            return "ok"
        try:
            replies = container.task_queue.ping(timeout=1.0)
        except Exception as e:
            return f"error: {e}".splitlines()[0][:200]
        return "ok" if replies else "warning: no workers responding"


def _up_or_down(check: Any) -> str:
    """ "ok", "warning" or "error": the word only, never the text after it."""
    return str(check).split(":", 1)[0] if isinstance(check, str) else "ok"


def presents_health_token(request: Request[Any, Any, Any]) -> bool:
    """The request carries ``HEALTH_TOKEN`` (``X-Health-Token`` or ``Authorization: Bearer``)."""
    expected = container_of(request).settings.health_token.encode()
    authorization = request.headers.get("authorization", "")
    bearer = authorization[7:].strip() if authorization[:7].lower() == "bearer " else ""
    return any(
        expected and presented and hmac.compare_digest(presented.encode(), expected)
        for presented in (request.headers.get("x-health-token", ""), bearer)
    )


def _may_see_details(request: Request[Any, Any, Any], database_up: bool) -> bool:
    """Monitoring with the health token, or a staff member; a bad bearer token is a 401.
    With the database down a staff token cannot be checked: monitoring uses the health token."""
    if presents_health_token(request):
        return True
    if not database_up:
        return False
    user = optional_user(request)
    return bool(user is not None and user.is_staff)
