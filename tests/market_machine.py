"""The base of our hypothesis state machines: a fresh embedded (SQLite) marketplace per run,
with the games seeded, ``users_count`` registered users and one staff member."""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, ClassVar

from hypothesis.stateful import RuleBasedStateMachine

from application.actor import Actor
from domain.errors import DomainError
from tests.conftest import FixedClock, make_settings
from wibestore.container import build
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"


class MarketMachine(RuleBasedStateMachine):
    """Counts, over every run of the machine, how often each command was carried out and
    refused (by its name): a rule whose command never succeeds tests only its refusals."""

    users_count: ClassVar[int] = 3
    carried_out: ClassVar[Counter[str]]
    refusals: ClassVar[Counter[str]]

    @classmethod
    def run(cls, settings: Any) -> None:
        """Run the machine under hypothesis ``settings``, counting from zero."""
        cls.carried_out, cls.refusals = Counter(), Counter()
        cls.TestCase.settings = settings
        cls.TestCase().runTest()

    @classmethod
    def check_each_succeeded(cls, commands: Iterable[str]) -> None:
        """Each command was carried out at least once over the run. (Hypothesis enables a
        random subset of the rules in each example, so how often varies widely from run to
        run: typically tens of times now that rules pick targets they can succeed on, but a
        rule enabled in few examples may run only a handful of times.)"""
        short = {
            c: f"{cls.carried_out[c]} carried out, {cls.refusals[c]} refused"
            for c in commands
            if cls.carried_out[c] == 0
        }
        assert not short, f"rules that never reached their success path: {short}"

    def __init__(self) -> None:
        super().__init__()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = FixedClock()
        self.container = build(
            make_settings("sqlite", Path(self.tmp.name)), clock=self.clock, fast_passwords=True
        )
        self.container.start()
        self.app = self.container.app
        with self.container.read_your_writes():
            seed_games(self.container.catalogue)
            self.users = [
                self.container.accounts.register(f"u{i}@example.uz", PASSWORD)
                for i in range(self.users_count)
            ]
            self.staff = self.container.accounts.create_user(
                Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
            )

    def teardown(self) -> None:
        self.container.close()
        self.tmp.cleanup()

    def _prepare(self, command: Callable[..., Any], *args: Any) -> Any:
        """A command that makes a rule's target (not counted): its result, or None when
        refused."""
        try:
            with self.container.read_your_writes():
                return command(*args)
        except DomainError:
            return None

    def _attempt(self, command: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """Run a command: (True, its result), or (False, None) when refused. A refusal must be
        a DomainError and must write nothing."""
        before = self.app.recorder.max_notification_id()
        name = getattr(command, "__name__", "?")
        try:
            with self.container.read_your_writes():
                result = command(*args)
        except DomainError:
            assert self.app.recorder.max_notification_id() == before
            self.refusals[name] += 1
            return False, None
        self.carried_out[name] += 1
        return True, result
