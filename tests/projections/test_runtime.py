"""The projection runtime: exactly-once under crashes, batches, rebuilds, signalled waits."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
import uuid
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from application.actor import Actor
from projections.registry import PROJECTORS
from projections.runtime import PositionBoard, ProjectionRunner, tracking
from projections.users import UsersProjector, users
from tests.conftest import FixedClock, PgSchemas, make_settings, process_env
from tests.projections.batches import rows_of
from wibestore.container import Container, build
from wibestore.seed import SEED
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
READ_MODELS = tuple(p.name for p in PROJECTORS)


def make_backlog(container: Container, users_count: int, updates: int) -> list[Any]:
    ids = [container.accounts.register(f"user{i}@example.uz", PASSWORD) for i in range(users_count)]
    for n in range(updates):
        container.accounts.update_profile(
            Actor.user(ids[n % users_count]), {"full_name": f"Name {n}", "bio": f"bio {n}"}
        )
    return ids


def table_rows(container: Container) -> list[tuple[Any, ...]]:
    with container.store.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(users).order_by(users.c.id))]


def position(container: Container, name: str = "users") -> int:
    return container.store.positions().get(name, 0)


def test_a_projector_killed_mid_batch_resumes_to_exactly_a_rebuild(
    idle_container: Container, settings: Settings
) -> None:
    make_backlog(idle_container, users_count=40, updates=1200)
    head = idle_container.app.recorder.max_notification_id()
    assert head is not None
    env = process_env(settings, PROJECTION_BATCH_SIZE="7")
    kills = 0
    for _ in range(3):
        before = position(idle_container)
        proc = subprocess.Popen(
            [sys.executable, "-m", "wibestore.cli", "project"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while position(idle_container) <= before and time.monotonic() < deadline:
            time.sleep(0.002)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if position(idle_container) < head:
            kills += 1
    assert kills >= 1, "every run finished before it could be killed; make the backlog larger"

    finisher = subprocess.Popen(
        [sys.executable, "-m", "wibestore.cli", "project"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while position(idle_container) < head and time.monotonic() < deadline:
        time.sleep(0.02)
    finisher.send_signal(signal.SIGTERM)
    assert finisher.wait(timeout=20) == 0
    assert position(idle_container) == head
    resumed = table_rows(idle_container)

    runner = idle_container.runners[0]
    runner.rebuild_schema()
    runner.catch_up()
    assert table_rows(idle_container) == resumed
    assert len(resumed) == 40


def test_catching_up_applies_many_events_per_transaction(idle_container: Container) -> None:
    make_backlog(idle_container, users_count=5, updates=95)
    head = idle_container.app.recorder.max_notification_id()
    assert head == 5 * 3 + 95  # a registration: the user, its verification link, its e-mail key
    runner = idle_container.runners[0]
    runner.batch_size = 50
    assert runner.process_batch() == 50
    assert position(idle_container) == 50
    assert runner.catch_up() == head - 50
    assert position(idle_container) == head


def test_a_failure_inside_a_batch_writes_nothing_of_it(idle_container: Container) -> None:
    make_backlog(idle_container, users_count=3, updates=20)
    runner = idle_container.runners[0]

    def crash(i: int) -> None:
        if i == 10:
            raise RuntimeError("power cut")

    with pytest.raises(RuntimeError):
        runner.process_batch(before_commit=crash)
    assert position(idle_container) == 0
    assert table_rows(idle_container) == []
    runner.catch_up()
    assert len(table_rows(idle_container)) == 3


def test_a_new_projector_version_rebuilds_its_read_model(idle_container: Container) -> None:
    make_backlog(idle_container, users_count=4, updates=4)
    idle_container.runners[0].catch_up()
    original = table_rows(idle_container)

    class UsersV2(UsersProjector):
        version = UsersProjector.version + 1

    store = idle_container.store
    v2 = ProjectionRunner(
        [UsersV2()], idle_container.app.recorder, idle_container.app.mapper, store
    )
    with store.engine.begin() as conn:
        conn.execute(users.delete())  # make the old rows visibly wrong
    v2.ensure_schema()
    assert position(idle_container) == 0
    v2.catch_up()
    assert table_rows(idle_container) == original
    with store.engine.connect() as conn:
        version = conn.execute(
            select(tracking.c.version).where(tracking.c.name == "users")
        ).scalar_one()
    assert version == UsersV2.version


def test_read_models_split_from_a_retired_one_are_rebuilt_on_an_existing_database(
    idle_container: Container,
) -> None:
    """The money read models were one projector, "money": a database it wrote gets the four
    read models that replace it rebuilt from 0, and loses the retired tracking row."""
    app, store = idle_container.app, idle_container.store
    buyer, seller = make_backlog(idle_container, users_count=2, updates=0)
    idle_container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 500_000_00)
    idle_container.payments.credit_deposit(Actor.platform("seed"), seller, uuid.uuid4(), 100_000_00)
    idle_container.subscriptions.subscribe(Actor.user(seller), "premium", "monthly")
    runner = idle_container.runners[0]
    runner.catch_up()
    split = [p for p in runner.projectors if "money" in p.replaces]
    tables = [table for p in split for table in p.tables]
    projected = rows_of(idle_container, tables)
    head = app.recorder.max_notification_id()
    with store.writing() as conn:  # as the last release left it
        conn.execute(tracking.delete().where(tracking.c.name.in_([p.name for p in split])))
        conn.execute(tracking.insert().values(name="money", position=head, version=1))

    fresh = ProjectionRunner([p() for p in PROJECTORS], app.recorder, app.mapper, store)
    fresh.ensure_schema()
    positions = store.positions()
    assert "money" not in positions
    assert {p.name: positions[p.name] for p in split} == dict.fromkeys(
        ("wallets", "transactions", "escrows", "subscriptions"), 0
    )
    assert rows_of(idle_container, tables) == {name: [] for name in projected}
    fresh.catch_up()
    assert rows_of(idle_container, tables) == projected
    assert set(store.positions().values()) == {head}


def test_two_runners_of_one_projection_never_apply_an_event_twice(
    idle_container: Container, backend: str
) -> None:
    make_backlog(idle_container, users_count=10, updates=300)
    head = idle_container.app.recorder.max_notification_id()
    store = idle_container.store
    runners = [
        ProjectionRunner(
            [UsersProjector()],
            idle_container.app.recorder,
            idle_container.app.mapper,
            store,
            batch_size=5,
        )
        for _ in range(2)
    ]
    errors: list[BaseException] = []
    drained: list[ProjectionRunner] = []

    def drain(r: ProjectionRunner) -> None:
        for _ in range(500):
            try:
                if r.process_batch() == 0:
                    drained.append(r)
                    return
            except Exception as e:  # SQLite may refuse the loser's write: it retries
                errors.append(e)

    threads = [threading.Thread(target=drain, args=(r,)) for r in runners]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(drained) == 2, errors[-3:]  # neither gave up before the end of the log
    assert position(idle_container) == head
    if backend == "postgres":  # the tracking rows' lock makes the second runner wait
        assert errors == []
    else:  # SQLite's one writer: the loser is told the database is locked, nothing else
        unexpected = [e for e in errors if not isinstance(e, OperationalError)]
        unexpected += [e for e in errors if "locked" not in str(e)]
        assert unexpected == []
    concurrent = table_rows(idle_container)
    idle_container.runners[0].rebuild_schema()
    idle_container.runners[0].catch_up()
    assert table_rows(idle_container) == concurrent


class CountingBoard(PositionBoard):
    """Counts how often a waiter looks at the positions: a signalled wait looks once per
    change it is told of, a polling one once per tick however little changed."""

    looks = 0

    def reached(self, position: int) -> bool:
        self.looks += 1
        return super().reached(position)


def test_read_your_writes_is_woken_by_the_projectors_not_by_polling() -> None:
    board = CountingBoard()
    board.register("users", 0)
    board.register("games", 0)
    outcome: list[bool] = []
    waiter = threading.Thread(target=lambda: outcome.append(board.wait_for(5, timeout=60)))
    waiter.start()
    board.advance(["users"], 5)  # one read model is there, the other is not yet
    waiter.join(timeout=0.5)
    assert waiter.is_alive() and outcome == []
    board.advance(["games"], 7)
    waiter.join(timeout=30)
    assert outcome == [True]
    # once when it began, once per advance: half a second of polling would have looked more
    assert board.looks <= 3


def test_a_following_projector_is_woken_by_each_save_not_by_its_idle_timeout(
    idle_container: Container,
) -> None:
    """The runner polls only every ``idle_timeout`` (an hour here): the saves must wake it."""
    runner = idle_container.runners[0]
    stop = threading.Event()
    follower = threading.Thread(
        target=runner.follow, args=(idle_container.wakeup, stop), kwargs={"idle_timeout": 3600}
    )
    follower.start()
    try:
        for i in range(3):  # after the first, the runner is surely waiting when a save lands
            idle_container.accounts.register(f"woken{i}@example.uz", PASSWORD)
            head = idle_container.app.recorder.max_notification_id()
            assert head is not None
            assert idle_container.board.wait_for(head, timeout=30), f"save {i} woke nothing"
    finally:
        stop.set()
        idle_container.wakeup.ring()
        follower.join(timeout=10)
    assert not follower.is_alive()
    assert len(table_rows(idle_container)) == 3


def test_a_command_answer_sees_its_own_write(container: Container) -> None:
    with container.read_your_writes():
        user_id = container.accounts.register("fresh@example.uz", PASSWORD)
    with container.store.engine.connect() as conn:
        row = conn.execute(select(users).where(users.c.id == user_id)).first()
    assert row is not None


def test_the_project_command_rebuilds_on_request(
    idle_container: Container, settings: Settings
) -> None:
    make_backlog(idle_container, users_count=3, updates=3)
    out = subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "project", "--rebuild", "users"],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "users: rebuilt 12 events" in out.stdout  # 3 registrations of 3 events, 3 updates
    assert len(table_rows(idle_container)) == 3


def test_positions_of_another_deployment_on_the_same_server_are_ignored(
    container: Container, backend: str, tmp_path: Any, clock: FixedClock
) -> None:
    if backend != "postgres":
        pytest.skip("only PostgreSQL deployments can share a server")
    other_schemas = PgSchemas()
    other_schemas.create()
    other = build(
        make_settings("postgres", tmp_path / "other", other_schemas),
        clock=clock,
        fast_passwords=True,
    )
    try:
        other.start()
        for i in range(3):
            with other.read_your_writes():
                other.accounts.register(f"elsewhere{i}@example.uz", PASSWORD)
        time.sleep(0.2)  # give a stray NOTIFY every chance to arrive
        assert set(container.board.snapshot().values()) == {0}
    finally:
        other.close()
        other_schemas.drop()


def test_projectors_following_side_by_side_never_fail_a_batch(container: Container) -> None:
    """Several projectors write one read database at once (SQLite's single writer included)."""
    ids = [container.accounts.register(f"busy{i}@example.uz", PASSWORD) for i in range(4)]

    def work(i: int) -> None:
        for n in range(15):
            with container.read_your_writes():
                container.accounts.update_profile(Actor.user(ids[i]), {"bio": f"{i}-{n}"})
                container.catalogue.add_game(SEED, f"Game {i} {n}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lag = container.projection_lag()
    outcome = {name: (v["lag_events"], v["failures"]) for name, v in lag.items()}
    assert outcome == dict.fromkeys(READ_MODELS, (0, 0))


def test_the_first_stage_commits_and_publishes_before_the_other_read_models_apply(
    idle_container: Container,
) -> None:
    """A socket's frame does not wait for read models no socket needs; a crash after the first
    stage leaves the others to apply the batch again, and the first does not apply it twice."""
    c = idle_container
    staff = c.accounts.create_user(SEED, "staff@example.uz", PASSWORD, staff=True)
    user = c.accounts.register("user@example.uz", PASSWORD)
    c.catalogue.add_game(SEED, "Game")
    c.accounts.ban(Actor.user(staff), user, "Scamming")
    head = c.app.recorder.max_notification_id()
    published: list[tuple[str, bytes]] = []
    runner = ProjectionRunner(
        [p() for p in PROJECTORS], c.app.recorder, c.app.mapper, c.store, publish=published.extend
    )
    first = {p.name for p in PROJECTORS if p.first}
    assert first == {"users", "notifications", "chats", "live"}
    stages: list[int] = []

    def crash_in_the_second_stage(i: int) -> None:
        if i == 0:
            stages.append(i)
        if len(stages) == 2:
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        runner.process_batch(crash_in_the_second_stage, live=True)
    positions = c.store.positions()
    assert {name for name in READ_MODELS if positions[name] == head} == first
    assert {positions[name] for name in READ_MODELS if name not in first} == {0}
    assert f"user:{user}" in [channel for channel, _ in published]  # the ban closes sockets
    told = len(published)
    assert runner.process_batch(live=True) == head
    assert set(c.store.positions().values()) == {head}
    assert len(published) == told  # the first stage had it all: nothing applied twice
    with c.store.engine.connect() as conn:
        assert conn.execute(select(users.c.id).where(users.c.id == user)).scalar() == user

    # A batch with nothing for the other read models is one transaction, as without stages.
    other = c.accounts.register("other@example.uz", PASSWORD)
    room = c.chats.open_room(Actor.user(staff), other)
    runner.process_batch(live=True)
    c.chats.post(Actor.user(other), room, "Hello?")
    stages.clear()
    runner.process_batch(crash_in_the_second_stage, live=True)  # does not get there
    assert stages == [0]
    assert set(c.store.positions().values()) == {c.app.recorder.max_notification_id()}
    assert f"room:{room}" in [channel for channel, _ in published[told:]]


def test_rebuilding_one_read_model_replays_only_it(idle_container: Container) -> None:
    make_backlog(idle_container, users_count=3, updates=10)
    for i in range(3):
        idle_container.catalogue.add_game(SEED, f"Game {i}")
    runner = idle_container.runners[0]
    runner.catch_up()
    users_before = table_rows(idle_container)
    head = idle_container.app.recorder.max_notification_id()
    runner.rebuild_schema(["users"])
    assert idle_container.store.positions() == {
        **dict.fromkeys(READ_MODELS, head),
        "users": 0,
    }
    runner.catch_up()  # a second Game.Added for the games table would break its primary key
    assert table_rows(idle_container) == users_before
    assert set(idle_container.store.positions().values()) == {head}


def test_a_bulk_catch_up_leaves_planner_statistics_on_postgres(
    idle_container: Container, backend: str
) -> None:
    if backend != "postgres":
        pytest.skip("planner statistics are PostgreSQL's")
    make_backlog(idle_container, users_count=3, updates=3)
    idle_container.runners[0].catch_up()
    idle_container.runners[0].analyze()
    with idle_container.store.reader.connect() as conn:
        analyzed = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_user_tables WHERE schemaname = :s "
                "AND relname = 'listings' AND last_analyze IS NOT NULL"
            ),
            {"s": idle_container.store.schema},
        ).scalar_one()
    assert analyzed == 1
