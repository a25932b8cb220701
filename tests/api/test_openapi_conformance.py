"""Every operation answers only what the OpenAPI document says, as a normal user and as staff:
no server error, no undocumented status, no answer outside its schema (schemathesis generates
the requests from the document, against a real uvicorn serving the app over the real stores)."""

from __future__ import annotations

import inspect
import re
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok

from api.app import create_app
from application.actor import Actor
from tests.api.conftest import PASSWORD
from wibestore.container import Container

EXAMPLES_PER_OPERATION = 6  # x ~80 operations x 2 roles x 2 backends: about a minute in all
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.response_schema_conformance,
]


@pytest.fixture
def served(container: Container) -> Iterator[str]:
    """The app on a real uvicorn, on a free port of this machine, in a thread."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(container), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def callers(container: Container, served: str) -> list[dict[str, str]]:
    """A normal user and a staff member, each with a fresh access token."""
    headers = []
    for role in ("user", "staff"):
        email = f"{role}@example.uz"
        with container.read_your_writes():
            container.accounts.create_user(
                Actor.platform("operator"), email, PASSWORD, staff=role == "staff"
            )
        r = httpx.post(f"{served}/api/v1/auth/login/", json={"email": email, "password": PASSWORD})
        assert r.status_code == 200, r.text
        headers.append({"Authorization": f"Bearer {r.json()['data']['tokens']['access']}"})
    return headers


def test_every_operation_answers_as_documented(served: str, callers: list[dict[str, str]]) -> None:
    schema = schemathesis.openapi.from_url(f"{served}/api/v1/schema/openapi.json")
    schema.config.update(base_url=served)
    failures: dict[str, str] = {}
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the document itself is valid
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            derandomize=True,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.explicit, Phase.generate],  # report the first failure, unshrunk
        )
        def answers_as_documented(case: Any) -> None:
            for headers in callers:
                case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

        try:
            answers_as_documented()
        except (Exception, FailureGroup) as e:  # one failure must not hide the others
            failures[operation.label] = str(e)[:2000]
    assert operations >= 70, operations
    assert not failures, "\n\n".join(f"{label}\n{text}" for label, text in failures.items())


def test_every_command_that_can_answer_202_documents_it(container: Container) -> None:
    """A handler that calls ``unless_caught_up`` (itself or through a method of its
    controller) may answer 202 Accepted: its operation says so."""
    app = create_app(container)
    documented = app.openapi_schema.paths or {}
    may_accept, documents = set(), set()
    for route in app.routes:
        item = documented.get(re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path))
        for handler in getattr(route, "route_handlers", []):
            if item is None or not handler.operation_id:
                continue
            fn = handler.fn
            while hasattr(fn, "func"):  # a handler served on several paths is wrapped once per path
                fn = fn.func
            source = inspect.getsource(fn)
            controller = fn.__globals__.get(fn.__qualname__.split(".")[0])
            helpers = [
                inspect.getsource(getattr(controller, name))
                for name in re.findall(r"self\.(_\w+)\(", source)
                if hasattr(controller, name)
            ]
            if any("unless_caught_up(" in text for text in [source, *helpers]):
                for method in handler.http_methods:
                    may_accept.add(getattr(item, method.lower()).operation_id)
    for item in documented.values():
        for method in ("get", "post", "put", "patch", "delete"):
            operation = getattr(item, method, None)
            if operation is not None and "202" in (operation.responses or {}):
                documents.add(operation.operation_id)
    assert may_accept == documents
    assert len(may_accept) >= 15
