"""Our projection runtime, on eventsourcing's recorder and mapper.

Each projector owns some tables and a tracking row (name, position, version). A runner reads a
batch of notifications after the tracked position, applies them and moves the tracking rows, in
one SQL transaction per stage (the projectors whose frames reach sockets first, then the rest):
a crash at any point leaves either a stage's whole batch or none of it, so each event is applied
exactly once. Runners follow new events through a wake-up signal (an
in-process signal after each local save, PostgreSQL LISTEN for other processes' saves) and
publish the positions they reach on a PositionBoard that read-your-writes waits on.
"""

from __future__ import annotations

import functools
import inspect
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from select import select as readable_of
from typing import Any, ClassVar

import msgspec
import psycopg
import sqlalchemy.exc
import structlog
from eventsourcing.persistence import ApplicationRecorder, Mapper, Notification
from eventsourcing.persistence import InterfaceError as StoreInterfaceError
from eventsourcing.persistence import OperationalError as StoreOperationalError
from eventsourcing.utils import get_topic
from psycopg import sql
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Engine,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    bindparam,
    create_engine,
    event,
    select,
    text,
    update,
)

log = structlog.get_logger(__name__)

# What a database server that is down or restarting raises, through each of our three clients
# (eventsourcing's recorder, SQLAlchemy, psycopg): the API answers 503, workers retry.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    StoreOperationalError,
    StoreInterfaceError,
    sqlalchemy.exc.OperationalError,
    sqlalchemy.exc.InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)

metadata = MetaData()
ANALYZE_AFTER = 5000  # events applied in one catch-up that warrant fresh planner statistics
# Seconds between a failing runner's retries, at most: after a database restart the read models
# resume within this, inside a command's read-your-writes wait (2 s by default).
MAX_BACKOFF = 1.0

tracking = Table(
    "projection_tracking",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("position", BigInteger, nullable=False),
    Column("version", Integer, nullable=False),
)


MOVE_TRACKING = (
    update(tracking)
    .where(tracking.c.name.in_(bindparam("names", expanding=True)))
    .values(position=bindparam("last"))
)
NOTIFY = text("SELECT pg_notify(:channel, :payload)")

# Realtime: a projector's messages for a channel ("room:<id>", "user:<id>", "listings"),
# published after the batch that made them commits, as JSON ``{"position": <event>, ...}``: a
# socket's ``{"frame": {...}}`` to send, or ``{"close": {"code", "session"}}`` to close a
# user's sockets. The composition root passes the publisher (Redis, or the API process's own
# channels). Publishing is best effort: a client that missed a frame gets it from the read
# model when it reconnects with the last id it saw. A batch's messages go in one call, in
# commit order: (channel, message) pairs.
Publish = Callable[[Sequence[tuple[str, bytes]]], None]


@dataclass(frozen=True)
class Frame:
    """One realtime message; ``position`` is the event it came from (commit order)."""

    position: int
    channel: str
    message: dict[str, Any]

    def encode(self) -> bytes:
        return msgspec.json.encode({"position": self.position, **self.message})


class Projector:
    """One read model. Subclasses register handlers on ``apply`` (a singledispatchmethod)."""

    name: ClassVar[str]
    version: ClassVar[int]
    tables: ClassVar[tuple[Table, ...]]
    # Tracking rows of retired read models this one took over (a split or a rename): its
    # rebuild deletes them, so no stale position lingers in the read store.
    replaces: ClassVar[tuple[str, ...]] = ()
    # A runner commits and publishes these read models' part of a batch first, in a
    # transaction of its own, so a socket's frame does not wait for read models no socket
    # needs. Set on the projectors that emit and on those they read while applying; the
    # others must not read the tables of a ``first`` one while applying (they would see the
    # whole batch applied there, not only the events before theirs).
    first: ClassVar[bool] = False

    @functools.singledispatchmethod
    def apply(self, event: object, conn: Connection) -> None:
        """Events this read model does not care about change nothing."""

    def after_create(self, conn: Connection, store: ReadStore) -> None:
        """Extra DDL once the tables exist (indexes SQLAlchemy cannot express portably)."""

    def begin_batch(self, conn: Connection, position: int) -> None:
        """A batch's transaction begins, this read model being at ``position``."""

    def end_batch(self, conn: Connection, position: int) -> None:
        """Write what ``apply`` held back; ``position`` is where the tracking row moves to in
        this same transaction, if it commits."""

    # The runner sets these: ``position`` is the event ``apply`` is given (its notification
    # id), ``outbox`` the realtime frames of the batch, emptied as each batch begins and
    # published once it has committed.
    position: int = 0
    outbox: list[Frame]

    def emit(self, channel: str, message: dict[str, Any], position: int | None = None) -> None:
        """A message for ``channel`` (``{"frame": ...}`` or ``{"close": ...}``), published if
        this batch commits; ``position`` defaults to the event being applied."""
        at = self.position if position is None else position
        self.outbox.append(Frame(at, channel, message))

    @classmethod
    def topics(cls) -> frozenset[str]:
        registry = inspect.getattr_static(cls, "apply").dispatcher.registry
        return frozenset(get_topic(t) for t in registry if t is not object)


class ReadStore:
    """The read-model database: SQLite under the data dir, or PostgreSQL schema ``read``."""

    def __init__(self, url: str, schema: str, *, pool_size: int, max_overflow: int) -> None:
        """Pool sizes (PostgreSQL) come from the settings: READ_POOL_SIZE, READ_MAX_OVERFLOW."""
        self.url = url
        self.is_postgres = url.startswith("postgresql")
        self.schema = schema
        # One channel per read-model schema: deployments sharing a server never cross-talk.
        self.positions_channel = f"wibestore_positions_{schema}"[:63]
        if self.is_postgres:
            self.engine: Engine = create_engine(
                url,
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_recycle=1800,
                # No pool_pre_ping (a round trip per checkout, measured +40-70 us a query):
                # the first statement that meets a connection a restart killed fails (503) and
                # SQLAlchemy then discards every connection of the pool, so the next one works.
                # psycopg prepares statements it sees often; a generic plan cannot see a LIKE
                # pattern or a price band, and was measured 6x slower for filtered searches.
                # Read models commit without waiting for their WAL to reach the disk: a crash
                # can lose the last moments of a projector's batches, but each batch's tracking
                # row goes with them, so the projector applies those events again from the log
                # (which commits durably). Nothing is lost; the fsync leaves the chain from a
                # command to its socket frame.
                connect_args={
                    "options": "-c plan_cache_mode=force_custom_plan -c synchronous_commit=off"
                },
                execution_options={"schema_translate_map": {None: schema}},
            )
        else:
            self.engine = create_engine(
                url, connect_args={"timeout": 30, "check_same_thread": False}
            )
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        # Queries read in autocommit: no BEGIN/ROLLBACK round trips around a single SELECT.
        self.reader: Engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def create_schema(self) -> None:
        with self.writing() as conn:
            if self.is_postgres:
                conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            tracking.create(conn, checkfirst=True)

    def writing(self) -> Any:
        """A transaction for writes (projector batches, schema changes)."""
        return self.engine.execution_options(sqlite_immediate=True).begin()

    def positions(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {r.name: r.position for r in conn.execute(select(tracking))}

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    options = conn.get_execution_options()
    if options.get("isolation_level") == "AUTOCOMMIT":
        return
    # Writers take the write lock up front: a deferred transaction that reads and then
    # writes gets SQLITE_BUSY at once (no busy wait) when another writer is active.
    immediate = options.get("sqlite_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class PositionBoard:
    """The positions projectors have reached; read-your-writes waits here, signalled."""

    def __init__(self) -> None:
        self._positions: dict[str, int] = {}
        self._changed = threading.Condition()

    def register(self, name: str, position: int) -> None:
        with self._changed:
            self._positions[name] = max(position, self._positions.get(name, 0))
            self._changed.notify_all()

    def advance(self, names: Iterable[str], position: int) -> None:
        """The read models ``names`` have reached ``position``."""
        with self._changed:
            moved = False
            for name in names:
                if name in self._positions and position > self._positions[name]:
                    self._positions[name] = position
                    moved = True
            if moved:
                self._changed.notify_all()

    def snapshot(self) -> dict[str, int]:
        with self._changed:
            return dict(self._positions)

    def reached(self, position: int) -> bool:
        return all(p >= position for p in self._positions.values())

    def wait_for(self, position: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.reached(position), timeout)


class Wakeup:
    """A counter that runners wait on; rung after every save this process learns of."""

    def __init__(self) -> None:
        self._generation = 0
        self._cond = threading.Condition()

    def ring(self, *_: Any) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    @property
    def generation(self) -> int:
        return self._generation

    def wait(self, seen: int, timeout: float) -> int:
        with self._cond:
            self._cond.wait_for(lambda: self._generation != seen, timeout)
            return self._generation


def lock_positions(names: Sequence[str]) -> Select[tuple[str, int]]:
    """The tracking rows of ``names``, locked (a stage's transaction begins with it)."""
    c = tracking.c
    return select(c.name, c.position).where(c.name.in_(names)).with_for_update()


@dataclass(frozen=True)
class Stage:
    projectors: list[Projector]
    later: list[Projector]  # the projectors of the stages after it
    lock_positions: Select[tuple[str, int]]  # its rows and the later ones': built once


class Batch:
    """What a batch's stages share: the log read from each start position, and its events
    decoded once."""

    def __init__(self) -> None:
        self.read: dict[int, Sequence[Notification]] = {}
        self.events: dict[int, object] = {}

    def event(self, notification: Notification, mapper: Mapper[Any]) -> object:
        if notification.id not in self.events:
            self.events[notification.id] = mapper.to_domain_event(notification)
        return self.events[notification.id]


class ProjectionRunner:
    """Runs a group of projectors over one read of the event log.

    Each batch of notifications is read and decoded once and applied by every projector of the
    group that is behind it and handles its topic, in two stages: the ``first`` projectors,
    then the others. A stage commits in ONE transaction together with its projectors' tracking
    rows, then publishes its frames. A projector rebuilt from 0 catches up inside the group:
    the others skip what they already have.
    """

    def __init__(
        self,
        projectors: Sequence[Projector],
        recorder: ApplicationRecorder,
        mapper: Mapper[Any],
        store: ReadStore,
        board: PositionBoard | None = None,
        batch_size: int = 1000,
        publish: Publish | None = None,
    ) -> None:
        self.projectors = list(projectors)
        self.publish = publish
        self.recorder = recorder
        self.mapper = mapper
        self.store = store
        self.board = board
        self.batch_size = batch_size
        self.names = [p.name for p in self.projectors]
        self.name = "+".join(self.names)
        self._topics = {p.name: p.topics() for p in self.projectors}
        self.failures = 0  # batches that failed and were retried, shown on /health/detailed/
        groups = [
            g
            for g in ([p for p in projectors if p.first], [p for p in projectors if not p.first])
            if g
        ]
        self.stages = []
        for i, group in enumerate(groups):
            later = [p for g in groups[i + 1 :] for p in g]
            self.stages.append(Stage(group, later, lock_positions([p.name for p in group + later])))

    def ensure_schema(self) -> None:
        """Create the tables; rebuild from position 0 a projector whose version changed."""
        with self.store.engine.connect() as conn:
            rows = {
                r.name: r
                for r in conn.execute(select(tracking).where(tracking.c.name.in_(self.names)))
            }
        stale = [
            p.name
            for p in self.projectors
            if p.name not in rows or rows[p.name].version != p.version
        ]
        if stale:
            self.rebuild_schema(stale)
        if self.board is not None:
            for name, row in rows.items():
                if name not in stale:
                    self.board.register(name, row.position)

    def rebuild_schema(self, names: Sequence[str] | None = None) -> None:
        """Empty the read models of ``names`` (default: the whole group) back to position 0."""
        chosen = [p for p in self.projectors if names is None or p.name in names]
        with self.store.writing() as conn:
            for projector in chosen:
                for table in reversed(projector.tables):
                    table.drop(conn, checkfirst=True)
                for table in projector.tables:
                    table.create(conn)
                projector.after_create(conn, self.store)
                gone = (projector.name, *projector.replaces)
                conn.execute(tracking.delete().where(tracking.c.name.in_(gone)))
                conn.execute(
                    tracking.insert().values(
                        name=projector.name, position=0, version=projector.version
                    )
                )
        for projector in chosen:
            if self.board is not None:
                self.board.register(projector.name, 0)
            log.info("projection.reset", projection=projector.name, version=projector.version)

    def process_batch(
        self, before_commit: Callable[[int], None] | None = None, *, live: bool = False
    ) -> int:
        """Apply the next batch of events, a transaction per stage; return how many were read.

        ``live`` (following new events, not catching up or rebuilding): publish each stage's
        realtime frames after it commits. ``before_commit(i)`` is called after the i-th event
        of a stage's batch is applied (tests crash there)."""
        batch, read = Batch(), 0
        for stage in self.stages:
            count, joined = self._process_stage(stage, batch, before_commit, live)
            read = max(read, count)
            if joined:
                break
        return read

    def _process_stage(
        self,
        stage: Stage,
        batch: Batch,
        before_commit: Callable[[int], None] | None,
        live: bool,
    ) -> tuple[int, bool]:
        """Apply ``stage``'s part of the batch; the later stages join it when the batch has
        nothing for them (a chat message's: one transaction, as without stages). Returns how
        many events were read and whether they joined."""
        with self.store.writing() as conn:
            locked = {r.name: r.position for r in conn.execute(stage.lock_positions)}
            start = min(locked[p.name] for p in stage.projectors) + 1
            if start not in batch.read:  # the stages are mostly at one position: one read
                batch.read[start] = self.recorder.select_notifications(
                    start=start, limit=self.batch_size
                )
            notifications = batch.read[start]
            if not notifications:  # then the later stages are done too, unless behind it
                return 0, all(locked[p.name] >= start - 1 for p in stage.later)
            joined = all(
                locked[p.name] >= start - 1
                and not any(
                    n.id > locked[p.name] and n.topic in self._topics[p.name] for n in notifications
                )
                for p in stage.later
            )
            members = stage.projectors + stage.later if joined else stage.projectors
            positions = {p.name: locked[p.name] for p in members}
            for projector in members:
                projector.outbox = []
                projector.begin_batch(conn, positions[projector.name])
            for i, notification in enumerate(notifications):
                behind = [
                    p
                    for p in members
                    if positions[p.name] < notification.id
                    and notification.topic in self._topics[p.name]
                ]
                if behind:
                    event = batch.event(notification, self.mapper)
                    for projector in behind:
                        projector.position = notification.id
                        projector.apply(event, conn)
                if before_commit is not None:
                    before_commit(i)
            last = notifications[-1].id
            for projector in members:
                projector.end_batch(conn, max(positions[projector.name], last))
            moving = sorted(name for name, position in positions.items() if position < last)
            if moving:
                # the rows are locked FOR UPDATE above: nothing else can have moved them
                conn.execute(MOVE_TRACKING, {"names": moving, "last": last})
                if self.store.is_postgres:
                    conn.execute(
                        NOTIFY,
                        {
                            "channel": self.store.positions_channel,
                            "payload": f"{','.join(moving)}:{last}",
                        },
                    )
        if self.board is not None:
            self.board.advance(list(positions), last)
        if live and self.publish is not None:
            frames = [f for p in members for f in p.outbox]
            self._publish(
                sorted(frames, key=lambda f: f.position)
            )  # stable: per-projector order kept
        return len(notifications), joined

    def _publish(self, frames: list[Frame]) -> None:
        assert self.publish is not None
        if not frames:
            return
        try:
            self.publish([(frame.channel, frame.encode()) for frame in frames])
        except Exception:  # Redis down: clients catch up from the read model
            log.warning("realtime.publish_failed", frames=len(frames), exc_info=True)

    def catch_up(self) -> int:
        total = 0
        while (n := self.process_batch()) > 0:
            total += n
        if total >= ANALYZE_AFTER and self.store.is_postgres:
            self.analyze()
        if self.board is not None:
            positions = self.store.positions()
            for name in self.names:
                self.board.advance([name], positions.get(name, 0))
        return total

    def analyze(self) -> None:
        """Fresh planner statistics after a bulk load: without them PostgreSQL sorted the
        whole listings table for the first page (measured 23 ms against 0.2 ms)."""
        with self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            for projector in self.projectors:
                for table in projector.tables:
                    c.exec_driver_sql(f'ANALYZE "{self.store.schema}"."{table.name}"')

    def follow(self, wakeup: Wakeup, stop: threading.Event, idle_timeout: float = 1.0) -> None:
        """Catch up, then apply new events as they arrive, until ``stop`` is set.

        Errors are logged and retried with backoff, so a bad moment of the database or a
        poisoned event never silently ends the projection (its lag shows on /health/detailed/).
        """
        backoff = 0.05
        while not stop.is_set():
            # A save that commits after this look rings after it: the wait below returns at
            # once. So a batch shorter than a full one needs no second, empty read to know
            # that it was the last (half of all batches were such reads).
            seen = wakeup.generation
            try:
                read = self.process_batch(live=True)
                backoff = 0.05
            except Exception:
                self.failures += 1
                log.exception("projection.failed", projection=self.name)
                stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)
                continue
            if read < self.batch_size:
                wakeup.wait(seen, idle_timeout)


class PgListener:
    """One LISTEN connection per process: new events ring the wake-up, projection positions
    advance the board. Reconnects on failure."""

    def __init__(self, conninfo: str, handlers: dict[str, Callable[[str], None]]) -> None:
        self.conninfo = conninfo
        self.handlers = handlers
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="pg-listener", daemon=True)
        self.connected = threading.Event()
        # ``close`` writes to this pipe: the thread waits on it and on the connection at once,
        # so it stops at once (a polling timeout made every close wait half a second).
        self._wake_read, self._wake_write = os.pipe()

    def start(self) -> None:
        self.thread.start()
        self.connected.wait(5)

    def close(self) -> None:
        if self.stop.is_set():
            return
        self.stop.set()
        os.write(self._wake_write, b"x")
        self.thread.join(timeout=2)
        if not self.thread.is_alive():
            os.close(self._wake_read)
            os.close(self._wake_write)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                with psycopg.connect(self.conninfo, autocommit=True) as conn:
                    for channel in self.handlers:
                        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(channel)))
                    self.connected.set()
                    for channel in self.handlers:  # catch what happened while we were away
                        self.handlers[channel]("")
                    self._dispatch(conn)  # any that came with the LISTEN answers
                    while not self.stop.is_set():
                        readable, _, _ = readable_of([conn.fileno(), self._wake_read], [], [])
                        if self._wake_read in readable:
                            return
                        self._dispatch(conn)  # a lost connection raises here
            except Exception:
                if self.stop.is_set():
                    return
                log.exception("pg_listener.failed")
                self.stop.wait(1.0)

    def _dispatch(self, conn: psycopg.Connection[Any]) -> None:
        """Hand what has arrived to the handlers, without waiting for more."""
        for note in conn.notifies(timeout=0.0):
            handler = self.handlers.get(note.channel)
            if handler is not None:
                handler(note.payload)


def run_all(
    runners: Iterable[ProjectionRunner], wakeup: Wakeup, stop: threading.Event
) -> list[threading.Thread]:
    threads = []
    for runner in runners:
        thread = threading.Thread(
            target=runner.follow, args=(wakeup, stop), name=f"projector-{runner.name}", daemon=True
        )
        thread.start()
        threads.append(thread)
    return threads


def projection_lag(runners: Iterable[ProjectionRunner], store: ReadStore) -> dict[str, Any]:
    """Each read model's position, the event log's head, and how far behind it is (health)."""
    positions = store.positions()
    lag: dict[str, Any] = {}
    for runner in runners:
        head = runner.recorder.max_notification_id() or 0
        for name in runner.names:
            lag[name] = {
                "position": positions.get(name, 0),
                "head": head,
                "lag_events": max(head - positions.get(name, 0), 0),
                "failures": runner.failures,
            }
    return lag
