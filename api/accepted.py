"""202 Accepted: a command is committed, but the read model its answer is built from has not
caught up with it (the projector is stopped or far behind; see projections/freshness.py).

Reading that read model would answer stale data or a 404 for something that exists, so the
command answers what it knows for sure: the id (and the status when it has it), a ``Location``
to poll, and its usual message. Commands whose answer can be built from what they saved (a
deposit's transaction and checkout link, a user and their tokens) answer normally instead.

``Accepted`` is raised rather than returned so that handlers keep their one typed answer;
api/errors.py and api/idempotency.py turn it into the 202 (an Idempotency-Key replays it).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import MediaType, Response
from litestar.openapi import ResponseSpec

from projections.freshness import Written


class Accepted(Exception):
    """The command is committed; answer 202 with ``data`` and a ``Location`` to poll."""

    def __init__(self, location: str, message: str, **data: Any) -> None:
        super().__init__(message)
        self.location, self.message, self.data = location, message, data


def unless_caught_up(written: Written, location: str, message: str, **data: Any) -> None:
    """Raise ``Accepted`` when the command's read models did not catch up in time."""
    if not written.caught_up:
        raise Accepted(location, message, **{k: str(v) for k, v in data.items()})


def accepted_body(exc: Accepted) -> dict[str, Any]:
    return {"success": True, "message": exc.message, "data": exc.data}


def accepted_response(_: Any, exc: Accepted) -> Response[Any]:
    return Response(
        accepted_body(exc),
        status_code=202,
        media_type=MediaType.JSON,
        headers={"Location": exc.location},
    )


class AcceptedBody(msgspec.Struct):
    success: bool
    message: str
    data: dict[str, str]


# The answer of a command whose read model has not caught up: `responses=ACCEPTED` on its route.
ACCEPTED = {
    202: ResponseSpec(
        data_container=AcceptedBody,
        description="Committed; the read model has not caught up yet: poll the Location.",
        examples=[],
    )
}
