"""The listings read model: search, cards, details, favourites and views.

It keeps its own small copies of seller and game names (from User and Game events), so its
search text is rebuilt from its own events alone and a rebuild never reads another read model.

- ``tables``: listings, the names their search text is made of, favourites;
- ``projector``: ListingsProjector;
- ``queries``: search, cards and details (with the seller and the game joined in).
"""

from __future__ import annotations

from projections.listings.projector import ListingsProjector
from projections.listings.tables import (
    favorites,
    listing_games,
    listing_reports,
    listing_sellers,
    listings,
    search_text,
)

__all__ = [
    "ListingsProjector",
    "favorites",
    "listing_games",
    "listing_reports",
    "listing_sellers",
    "listings",
    "search_text",
]
