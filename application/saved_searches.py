"""Saved searches: the caller's own, and nobody else's (CONTRACT §2.2).

Who may: every command takes the acting user and works on their own ``SavedSearches`` only;
another user's ids are simply not among theirs (404). The platform owns none.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from application.actor import Actor
from application.marketplace import Marketplace
from application.ports import Clock
from domain.saved_search import SavedSearches as Searches


class SavedSearch(msgspec.Struct, frozen=True):
    id: int
    name: str
    query_params: dict[str, Any]
    notify_email: bool
    is_active: bool
    created_at: datetime


class SavedSearchService:
    def __init__(self, app: Marketplace, *, clock: Clock) -> None:
        self.app = app
        self.clock = clock

    def save(
        self,
        actor: Actor,
        name: str,
        query_params: dict[str, Any],
        notify_email: bool = True,
        is_active: bool = True,
    ) -> SavedSearch:
        def command() -> SavedSearch:
            searches = self._own(actor)
            search_id = searches.save(name, query_params, notify_email, is_active, self.clock.now())
            self.app.save(searches)
            return _of(searches, search_id)

        return self.app.retrying(command)

    def change(self, actor: Actor, search_id: int, changes: dict[str, Any]) -> SavedSearch:
        def command() -> SavedSearch:
            searches = self._own(actor)
            searches.change(search_id, changes)
            self.app.save(searches)
            return _of(searches, search_id)

        return self.app.retrying(command)

    def remove(self, actor: Actor, search_id: int) -> None:
        def command() -> None:
            searches = self._own(actor)
            searches.remove(search_id)
            self.app.save(searches)

        self.app.retrying(command)

    def _own(self, actor: Actor) -> Searches:
        owner_id = actor.id()
        found = self.app.find(Searches.create_id(owner_id), Searches)
        return found or Searches(owner_id)


def _of(searches: Searches, search_id: int) -> SavedSearch:
    return SavedSearch(id=search_id, **searches.search(search_id))
