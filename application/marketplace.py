"""The Marketplace: one eventsourcing Application holding every aggregate, so a command that
changes several aggregates saves them in one transaction."""

from __future__ import annotations

from application.accounts import Accounts, TokenPair
from application.catalogue import Catalogue
from application.payments import Payments


class Marketplace(Accounts, Catalogue, Payments):
    name = "Marketplace"


__all__ = ["Marketplace", "TokenPair"]
