"""The profile's money pages read a page in a fixed number of queries, however many rows."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from litestar.testing import TestClient
from sqlalchemy import event

from tests.api.test_listings import approved
from tests.api.test_payments import pay
from wibestore.container import Container

Client = TestClient[Any]


@contextmanager
def counted_selects(container: Container) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        # the page's queries only: the projector threads share the engine, and one may still
        # be looking for its next batch (or publishing the last one's frames) meanwhile
        if threading.current_thread().name.startswith("projector-"):
            return
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = container.store.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def buy(client: Client, market: dict[str, Any], n: int) -> None:
    for i in range(n):
        listing = approved(client, market, title=f"Account {i}")
        r = client.post(
            "/api/v1/payments/purchase/", headers=market["buyer"], json={"listing_id": listing}
        )
        assert r.status_code == 201, r.text


def selects_for(client: Client, container: Container, path: str, who: dict[str, str]) -> int:
    with counted_selects(container) as statements:
        r = client.get(path, headers=who)
    assert r.status_code == 200, r.text
    return len(statements)


def test_purchases_and_sales_pages_do_not_query_once_per_row(
    client: Client, market: dict[str, Any], container: Container
) -> None:
    pay(client, market["buyer"], "5000000")
    buy(client, market, 1)
    one = {
        path: selects_for(client, container, path, who)
        for path, who in (
            ("/api/v1/profile/purchases/", market["buyer"]),
            ("/api/v1/profile/sales/", market["seller"]),
        )
    }
    buy(client, market, 2)
    for path, who in (
        ("/api/v1/profile/purchases/", market["buyer"]),
        ("/api/v1/profile/sales/", market["seller"]),
    ):
        r = client.get(path, headers=who)
        assert r.json()["count"] == 3
        assert all(row["listing"] is not None for row in r.json()["results"])
        assert selects_for(client, container, path, who) == one[path]
