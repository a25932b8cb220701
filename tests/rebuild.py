"""Read models as they stand against a rebuild from position 0: after a crash or an outage,
every row of every read-model table must be what replaying the whole log gives."""

from __future__ import annotations

from tests.ledger import settled
from tests.projections.batches import rows_of
from wibestore.container import Container


def assert_read_models_equal_a_rebuild(container: Container, timeout: float = 20) -> None:
    settled(container, timeout)
    runner = container.runners[0]
    tables = [table for projector in runner.projectors for table in projector.tables]
    standing = rows_of(container, tables)
    runner.rebuild_schema()
    runner.catch_up()
    rebuilt = rows_of(container, tables)
    for table in tables:
        assert standing[table.name] == rebuilt[table.name], f"{table.name} differs from a rebuild"
