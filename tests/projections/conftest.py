from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import FixedClock
from wibestore.container import Container, build
from wibestore.settings import Settings


@pytest.fixture
def idle_container(settings: Settings, clock: FixedClock) -> Iterator[Container]:
    """A container whose projectors do not run: the test drives them."""
    c = build(settings, clock=clock, fast_passwords=True)
    c.start(projectors=False)
    yield c
    c.close()
