"""The Marketplace: one eventsourcing Application holding every aggregate, so a command that
changes several aggregates saves them in one transaction."""

from __future__ import annotations

from application.accounts import Accounts, TokenPair
from application.catalogue import Catalogue
from application.listings import Listings


class Marketplace(Accounts, Catalogue, Listings):
    name = "Marketplace"


__all__ = ["Marketplace", "TokenPair"]
