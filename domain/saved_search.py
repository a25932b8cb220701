"""A user's saved searches (CONTRACT §2.2, §3.11): named sets of catalogue filters.

One ``SavedSearches`` aggregate per user holds them all and numbers them 1, 2, 3... (the
contract's integer ids): a user has a few, never thousands, and every change is the owner's,
so one aggregate per user costs nothing in contention and gives ids without a sequence.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from typing import Any
from uuid import UUID

from eventsourcing.domain import Aggregate, event

from domain.errors import DomainError, NotFound

NAMESPACE = uuid.UUID("6b0e1c52-93a4-4d8f-a1e7-2f5c9d3b8e61")
MAX_SAVED_SEARCHES = 50
MAX_NAME = 100
MAX_QUERY_BYTES = 2_000
_PARAM = re.compile(r"[A-Za-z][A-Za-z0-9_\-]{0,49}")
FIELDS = frozenset({"name", "query_params", "notify_email", "is_active"})


class SavedSearches(Aggregate):
    @staticmethod
    def create_id(owner_id: UUID) -> UUID:
        return uuid.uuid5(NAMESPACE, f"saved-searches:{owner_id}")

    class Started(Aggregate.Created):
        owner_id: UUID

    class Saved(Aggregate.Event):
        search_id: int
        name: str
        query_params: dict[str, Any]
        notify_email: bool
        is_active: bool
        at: datetime

    class Changed(Aggregate.Event):
        search_id: int
        changes: dict[str, Any]

    class Removed(Aggregate.Event):
        search_id: int

    @event(Started)
    def __init__(self, owner_id: UUID) -> None:
        self.owner_id = owner_id
        self.searches: dict[int, dict[str, Any]] = {}
        self.last_id = 0

    def search(self, search_id: int) -> dict[str, Any]:
        found = self.searches.get(search_id)
        if found is None:
            raise NotFound("Saved search not found.")
        return found

    def save(
        self,
        name: str,
        query_params: dict[str, Any],
        notify_email: bool,
        is_active: bool,
        at: datetime,
    ) -> int:
        if len(self.searches) >= MAX_SAVED_SEARCHES:
            raise DomainError(f"You can keep at most {MAX_SAVED_SEARCHES} saved searches.")
        self._saved(
            self.last_id + 1, _name(name), _query(query_params), notify_email, is_active, at
        )
        return self.last_id

    @event(Saved)
    def _saved(
        self,
        search_id: int,
        name: str,
        query_params: dict[str, Any],
        notify_email: bool,
        is_active: bool,
        at: datetime,
    ) -> None:
        self.last_id = search_id
        self.searches[search_id] = {
            "name": name,
            "query_params": query_params,
            "notify_email": notify_email,
            "is_active": is_active,
            "created_at": at,
        }

    def change(self, search_id: int, changes: dict[str, Any]) -> None:
        current = self.search(search_id)
        unknown = set(changes) - FIELDS
        if unknown:
            raise DomainError(f"Unknown saved search field: {sorted(unknown)[0]}.")
        checked = dict(changes)
        if "name" in checked:
            checked["name"] = _name(checked["name"])
        if "query_params" in checked:
            checked["query_params"] = _query(checked["query_params"])
        effective = {k: v for k, v in checked.items() if current[k] != v}
        if effective:
            self._changed(search_id, effective)

    @event(Changed)
    def _changed(self, search_id: int, changes: dict[str, Any]) -> None:
        self.searches[search_id].update(changes)

    def remove(self, search_id: int) -> None:
        self.search(search_id)
        self._removed(search_id)

    @event(Removed)
    def _removed(self, search_id: int) -> None:
        del self.searches[search_id]


def _name(name: str) -> str:
    name = name.strip()
    if not name:
        raise DomainError("This field may not be blank.", field="name")
    if len(name) > MAX_NAME:
        raise DomainError(
            f"Ensure this field has no more than {MAX_NAME} characters.", field="name"
        )
    return name


def _query(query_params: dict[str, Any]) -> dict[str, Any]:
    """The catalogue's filters: a flat object of named scalars (or lists of them). Names start
    with a letter, so no value can pose as the event store's encoding of a typed value."""
    for key, value in query_params.items():
        values = value if isinstance(value, list) else [value]
        if not _PARAM.fullmatch(key) or not all(
            v is None or isinstance(v, str | int | float | bool) for v in values
        ):
            raise DomainError(
                "Filters are named values (letters, digits, _ and -) or lists of them.",
                field="query_params",
            )
    if len(json.dumps(query_params, separators=(",", ":"))) > MAX_QUERY_BYTES:
        raise DomainError(
            f"Keep the search's filters under {MAX_QUERY_BYTES} characters.",
            field="query_params",
        )
    return query_params
