"""Every read model the product serves, in one list (order is creation order)."""

from __future__ import annotations

from projections.games import GamesProjector
from projections.listings import ListingsProjector
from projections.money import MoneyProjector
from projections.runtime import Projector
from projections.sessions import SessionsProjector
from projections.users import UsersProjector

PROJECTORS: tuple[type[Projector], ...] = (
    UsersProjector,
    GamesProjector,
    ListingsProjector,
    MoneyProjector,
    SessionsProjector,
)
