"""What the batch-size tests share: project one event at a time, then at other batch sizes,
and compare every row of the read models' tables."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, select

from wibestore.container import Container

BATCH_SIZES = (2, 3, 7, 1000)


def rows_of(container: Container, tables: Sequence[Table]) -> dict[str, list[tuple[Any, ...]]]:
    with container.store.engine.connect() as conn:
        return {
            table.name: [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key))]
            for table in tables
        }


def one_event_at_a_time(
    container: Container, tables: Sequence[Table]
) -> dict[str, list[tuple[Any, ...]]]:
    runner = container.runners[0]
    runner.batch_size = 1
    runner.catch_up()
    return rows_of(container, tables)


def assert_every_batch_size_agrees(
    container: Container,
    names: Sequence[str],
    tables: Sequence[Table],
    expected: dict[str, list[tuple[Any, ...]]],
) -> None:
    """Rebuild ``names`` at each of BATCH_SIZES; the tables must equal ``expected`` each time."""
    runner = container.runners[0]
    for batch_size in BATCH_SIZES:
        runner.rebuild_schema(names)
        runner.batch_size = batch_size
        runner.catch_up()
        assert rows_of(container, tables) == expected, f"batch size {batch_size}"
