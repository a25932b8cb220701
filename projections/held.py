"""A batch's writes to one table, held back so that a batch of events costs a few statements.

Projectors see events one at a time, but the runner commits a whole batch in one transaction.
Writing each event's change as its own statement made SQLAlchemy build, compile and send a
statement per event (a projector's main cost under load). Instead a projector records:

- ``insert(row)``: a new row. Later changes and increments of that key fold into it.
- ``change(key, values)``: columns set to values; several changes of a key merge.
- ``add(key, column, n)``: a counter moved by ``n``; several moves of a key add up.

``write(conn)`` sends one multi-row INSERT, then one executemany UPDATE per set of columns.
Anything that reads the table in the middle of a batch calls ``write`` first, so it sees every
event before it. A column is either set or counted for a key within one batch, never both: the
two do not commute, and mixing them is a programming error (ValueError).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, Table, Update, bindparam, update

KEY = "held_key"  # the bind name of the key; a column's own name is reserved by SQLAlchemy
ADD = "held_add_"  # the prefix of an increment's bind name, likewise


class HeldRows:
    def __init__(self, table: Table) -> None:
        (key,) = table.primary_key.columns
        self.table = table
        self.key_name = key.name
        self._setter = update(table).where(key == bindparam(KEY))
        self._adders: dict[tuple[str, ...], Update] = {}
        self.new: dict[Any, dict[str, Any]] = {}
        self.changes: dict[Any, dict[str, Any]] = {}
        self.increments: dict[Any, dict[str, int]] = {}

    def clear(self) -> None:
        """Forget what is held (a new batch begins; the last one may have rolled back)."""
        self.new.clear()
        self.changes.clear()
        self.increments.clear()

    def insert(self, row: dict[str, Any]) -> None:
        self.new[row[self.key_name]] = row

    def row(self, key: Any) -> dict[str, Any] | None:
        """The new row of ``key`` when this batch inserted it, else None."""
        return self.new.get(key)

    def change(self, key: Any, values: dict[str, Any]) -> None:
        row = self.new.get(key)
        if row is not None:
            row.update(values)
            return
        counted = self.increments.get(key)
        if counted is not None and not counted.keys().isdisjoint(values):
            raise ValueError(f"{self.table.name}: {sorted(values)} both set and counted")
        self.changes.setdefault(key, {}).update(values)

    def add(self, key: Any, column: str, n: int) -> None:
        row = self.new.get(key)
        if row is not None:
            row[column] += n
            return
        if column in self.changes.get(key, ()):
            raise ValueError(f"{self.table.name}: {column} both set and counted")
        counts = self.increments.setdefault(key, {})
        counts[column] = counts.get(column, 0) + n

    def write(self, conn: Connection) -> None:
        if self.new:
            # one INSERT per set of columns: a later change may name a column others lack
            inserts: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
            for row in self.new.values():
                inserts[tuple(sorted(row))].append(row)
            for rows in inserts.values():
                conn.execute(self.table.insert(), rows)
            self.new.clear()
        for rows in _by_columns(self.changes).values():
            conn.execute(self._setter, rows)
        self.changes.clear()
        for columns, rows in _by_columns(self.increments, prefix=ADD).items():
            conn.execute(self._adder(columns), rows)
        self.increments.clear()

    def _adder(self, columns: tuple[str, ...]) -> Update:
        statement = self._adders.get(columns)
        if statement is None:
            c = self.table.c
            statement = self._setter.values(
                {name: c[name] + bindparam(ADD + name) for name in columns}
            )
            self._adders[columns] = statement
        return statement


def _by_columns(
    held: dict[Any, dict[str, Any]], prefix: str = ""
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """Rows of executemany parameters, grouped by the columns they write."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for key, values in held.items():
        params = {prefix + name: value for name, value in values.items()}
        grouped[tuple(sorted(values))].append({KEY: key, **params})
    return grouped
