"""Reading the event log for the audit: every event from position 1 to the end, fast.

On PostgreSQL one server-side cursor streams the rows (as cheap as a raw scan); a reader thread
fetches the next batch while the current one is checked; only money events are decoded, and
by a decoder several times cheaper than the mapper's.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID, SafeUUID

import msgspec
from eventsourcing.persistence import ApplicationRecorder, Mapper, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.utils import get_topic, resolve_topic
from psycopg import sql
from psycopg.rows import tuple_row

from projections.audit.ledger import LISTING_EVENTS, MONEY_TYPES

BATCH = 5000


def money_topics() -> list[str]:
    topics = [get_topic(cls) for cls in LISTING_EVENTS]
    for aggregate in MONEY_TYPES:
        for value in vars(aggregate).values():
            if isinstance(value, type) and issubclass(value, aggregate.Event):
                topics.append(get_topic(value))
    return sorted(set(topics))


@dataclass
class Scan:
    scanned: int = 0


def _uuid_from_hex(data: str) -> UUID:
    """``UUID(hex)`` without its argument parsing (a third of the decoding time): the same
    two slots ``UUID.__init__`` sets, from 32 hex digits the transcoder wrote."""
    value = int(data, 16)
    if len(data) != 32 or value >> 128:
        return UUID(data)
    u = object.__new__(UUID)
    object.__setattr__(u, "int", value)
    object.__setattr__(u, "is_safe", SafeUUID.unknown)
    return u


LogRow = tuple[int, Any, int, str, bytes]  # notification id, originator id, version, topic, state


class FastDecoder:
    """Domain events from stored JSON, several times cheaper than the mapper's json + hook:
    msgspec parses, and only the values the transcoder tagged (``{"_type_", "_data_"}``) are
    revived. Stores with a cipher or a compressor go through the mapper."""

    def __init__(self, mapper: Mapper[Any]) -> None:
        self.mapper = mapper
        self.usable = not mapper.cipher and not mapper.compressor
        self.names = mapper.transcoder.names  # type: ignore[attr-defined]
        self.leaves = {name: t.decode for name, t in self.names.items()}
        if "uuid_hex" in self.leaves:
            self.leaves["uuid_hex"] = _uuid_from_hex
        self.json = msgspec.json.Decoder()
        self.classes: dict[str, type] = {}

    def __call__(self, row: LogRow) -> Any:
        _, originator_id, originator_version, topic, state_bytes = row
        if not self.usable:
            return self.mapper.to_domain_event(
                StoredEvent(originator_id, originator_version, topic, state_bytes)
            )
        cls = self.classes.get(topic)
        if cls is None:
            cls = self.classes[topic] = resolve_topic(topic)
        state = self.json.decode(state_bytes)
        for key, value in state.items():
            kind = type(value)
            if kind is dict:
                tag = value.get("_type_")
                if tag is not None and len(value) == 2 and type(value["_data_"]) is str:
                    state[key] = self.leaves[tag](value["_data_"])  # a UUID, a datetime...
                else:
                    state[key] = self._revive(value)
            elif kind is list:
                state[key] = self._revive(value)
        state["originator_id"] = originator_id
        state["originator_version"] = originator_version
        class_version = getattr(cls, "class_version", 1)
        from_version = state.pop("class_version", 1)
        while from_version < class_version:  # upcast old events as the mapper would
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", state)
        return event

    def _revive(self, value: Any) -> Any:
        if type(value) is list:
            return [self._revive(v) for v in value]
        if type(value) is dict:
            if len(value) == 2 and "_type_" in value and "_data_" in value:
                return self.names[value["_type_"]].decode(self._revive(value["_data_"]))
            return {k: self._revive(v) for k, v in value.items()}
        return value


def innermost(recorder: Any) -> Any:
    """The store's own recorder under any wrapper that exposes it as ``inner`` (the group-commit
    recorder does): the audit reads the log directly, not through what batches the writes."""
    while (inner := getattr(recorder, "inner", None)) is not None:
        recorder = inner
    return recorder


def _batches(recorder: ApplicationRecorder, log_end: int) -> Generator[list[LogRow], None, None]:
    """The log up to ``log_end`` in batches of plain rows. On PostgreSQL one server-side
    cursor streams them (as cheap as a raw scan); elsewhere the recorder's own pages."""
    recorder = innermost(recorder)
    if isinstance(recorder, PostgresApplicationRecorder):
        datastore = recorder.datastore
        query = sql.SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {}.{} WHERE notification_id <= %s ORDER BY notification_id"
        ).format(sql.Identifier(datastore.schema), sql.Identifier(recorder.events_table_name))
        with (
            datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor(name="wibestore_audit", row_factory=tuple_row, binary=True) as cursor,
        ):
            cursor.execute(query, (log_end,))
            while rows := cursor.fetchmany(BATCH):
                yield rows
        return
    start = 1
    while start <= log_end:
        page = recorder.select_notifications(start, BATCH, stop=log_end)
        if not page:
            return
        yield [(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in page]
        start = page[-1].id + 1


def money_events(
    recorder: ApplicationRecorder,
    mapper: Mapper[Any],
    log_end: int,
    progress: Callable[[int, int], None] | None,
    counter: Scan,
) -> Iterator[tuple[int, Any]]:
    """Every event of the log is read (the audit sees all of it); only money events are
    decoded. A reader thread fetches the next batch while this one is checked."""
    topics = frozenset(money_topics())
    decode = FastDecoder(mapper)
    batches = _batches(recorder, log_end)
    with ThreadPoolExecutor(1, thread_name_prefix="audit-read") as reader:
        pending = reader.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = reader.submit(next, batches, None)
            counter.scanned += len(batch)
            for row in batch:
                if row[3] in topics:
                    yield row[0], decode(row)
            if progress is not None:
                progress(batch[-1][0], log_end)
        reader.submit(batches.close).result()  # the cursor closes in the thread that used it
    if progress is not None:
        progress(log_end, log_end)
