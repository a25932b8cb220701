"""Read-your-writes: a command's answer waits (bounded) until every read model has its events.

The application says which position the calling thread's saves reached (``tracking_position``);
the projectors say which positions the read models reached (``PositionBoard``, signalled, not
polled). When the read models do not catch up within the timeout (a stopped or lagging
projector), the command is committed all the same, and its answer must come from what it saved
or be 202 Accepted (api/accepted.py), never from the read model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

import structlog

from projections.runtime import PositionBoard

log = structlog.get_logger(__name__)

PositionTracker = Callable[[], AbstractContextManager[Callable[[], int | None]]]


class Written:
    """What a command's read-your-writes wait found: ``caught_up`` is False when the read
    models had not reached the command's events within READ_YOUR_WRITES_TIMEOUT."""

    caught_up = True


class ReadYourWrites:
    def __init__(
        self, tracking_position: PositionTracker, board: PositionBoard, timeout: float
    ) -> None:
        self.tracking_position = tracking_position
        self.board = board
        self.timeout = timeout  # seconds (READ_YOUR_WRITES_TIMEOUT)
        self._stalled: dict[str, int] | None = None  # positions when a wait last ran out

    @contextmanager
    def __call__(self, *, refusals_only: bool = False) -> Iterator[Written]:
        """Run a command, then wait until every read model has its events.

        The yielded ``Written`` says afterwards whether they did. Once a wait has run out,
        commands do not wait again until a projector moves. ``refusals_only``: wait only when
        the command saved and then refused (a reused refresh token revokes its family), not
        when it succeeded with nothing the caller reads next.
        """
        written = Written()
        refused = False
        with self.tracking_position() as position:
            try:
                yield written
            except BaseException:
                refused = True
                raise
            finally:  # also when the command saved and then refused (a refresh token reused)
                reached = position()
                if reached is not None and (refused or not refusals_only):
                    written.caught_up = self._wait_for_read_models(reached)

    def _wait_for_read_models(self, reached: int) -> bool:
        # Projectors that have not moved since a wait last ran out are down, not slow: the
        # next commands do not wait for them again until they move.
        stalled = self._stalled is not None and self.board.snapshot() == self._stalled
        timeout = 0.0 if stalled else self.timeout
        if self.board.wait_for(reached, timeout):
            self._stalled = None
            return True
        self._stalled = self.board.snapshot()
        if not stalled:
            log.warning("read_your_writes.timeout", position=reached, positions=self._stalled)
        return False
