"""The base of our hypothesis state machines: a fresh embedded (SQLite) marketplace per run,
with the games seeded, ``users_count`` registered users and one staff member."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from hypothesis.stateful import RuleBasedStateMachine

from domain.errors import DomainError
from tests.conftest import FixedClock, make_settings
from wibestore.container import build
from wibestore.seed import seed_games

PASSWORD = "Sup3r-Secret!"


class MarketMachine(RuleBasedStateMachine):
    users_count: ClassVar[int] = 3

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
                "staff@example.uz", PASSWORD, staff=True
            )
        self.refused = 0

    def teardown(self) -> None:
        self.container.close()
        self.tmp.cleanup()

    def _attempt(self, command: Callable[..., Any], *args: Any) -> tuple[bool, Any]:
        """Run a command: (True, its result), or (False, None) when refused. A refusal must be
        a DomainError and must write nothing."""
        before = self.app.recorder.max_notification_id()
        try:
            with self.container.read_your_writes():
                return True, command(*args)
        except DomainError:
            assert self.app.recorder.max_notification_id() == before
            self.refused += 1
            return False, None
