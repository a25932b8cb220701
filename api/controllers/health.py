"""CONTRACT §6: liveness and a detailed check of every dependency, with projection lag."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get
from sqlalchemy import text

from api.auth import container_of


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
        checks.update(container.degraded())  # rate_limits, login_throttle: "ok" or "degraded..."
        try:
            checks["projections"] = container.projection_lag()
        except Exception as e:
            checks["projections"] = f"error: {e}".splitlines()[0][:200]
        degraded = any(str(checks[k]).startswith("error") for k in ("database", "cache"))
        body = {"status": "degraded" if degraded else "ok", "checks": checks}
        return Response(body, status_code=503 if degraded else 200)

    @staticmethod
    def _celery(container: Any) -> str:
        if container.celery.conf.task_always_eager:
            return "ok"
        try:
            replies = container.celery.control.ping(timeout=1.0)
        except Exception as e:
            return f"error: {e}".splitlines()[0][:200]
        return "ok" if replies else "warning: no workers responding"
