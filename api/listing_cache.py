"""Anonymous listing pages and details, kept encoded in each API process.

An entry belongs to one generation: the positions of every read model on the process's
PositionBoard, taken *before* the read that made it, so its body is at least that fresh.
Any projected event moves the board, which starts a new (empty) generation. Read-your-writes
holds because a command waits until the board has its event before it answers, and the next
read then looks in a newer generation than any body made before the event.

Only anonymous answers are kept: they carry nothing of the caller (``is_favorited`` is false
for everyone). The key is the whole URL, host and query string as sent, because the body's
links and image URLs are built from it; two spellings of one query are two entries.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from weakref import WeakKeyDictionary

from projections.runtime import PositionBoard

Generation = tuple[tuple[str, int], ...]
MAX_ENTRIES = 2048  # per process; a URL a client makes up evicts the oldest entry
MAX_AGE = 30.0  # seconds; a backstop should the board stop hearing of new positions


class ListingResponses:
    """Encoded bodies by URL, for the board's current generation only."""

    def __init__(
        self,
        board: PositionBoard,
        max_entries: int = MAX_ENTRIES,
        max_age: float = MAX_AGE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._board = board
        self._max_entries = max_entries
        self._max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._generation: Generation = ()
        self._bodies: dict[str, tuple[bytes, float]] = {}

    def generation(self) -> Generation:
        """The positions a body read from now on is at least as fresh as."""
        return tuple(sorted(self._board.snapshot().items()))

    def find(self, url: str, generation: Generation) -> bytes | None:
        with self._lock:
            if generation != self._generation:
                self._generation = generation
                self._bodies.clear()
                return None
            found = self._bodies.get(url)
        if found is None or self._clock() - found[1] > self._max_age:
            return None
        return found[0]

    def keep(self, url: str, generation: Generation, body: bytes) -> None:
        """Keep ``body``, read after ``generation`` was taken, unless the board moved since."""
        if not generation:  # no read model registered: nothing would ever invalidate it
            return
        with self._lock:
            if generation != self._generation:
                return
            if url not in self._bodies and len(self._bodies) >= self._max_entries:
                del self._bodies[next(iter(self._bodies))]
            self._bodies[url] = (body, self._clock())

    def __len__(self) -> int:
        return len(self._bodies)


_per_board: WeakKeyDictionary[PositionBoard, ListingResponses] = WeakKeyDictionary()
_per_board_lock = threading.Lock()


def responses_for(board: PositionBoard) -> ListingResponses:
    """The one cache of a process's board (a test process holds several containers)."""
    with _per_board_lock:
        cache = _per_board.get(board)
        if cache is None:
            cache = _per_board[board] = ListingResponses(board)
        return cache
