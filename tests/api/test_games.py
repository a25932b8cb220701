"""CONTRACT §2.3 games, and staff curation of the catalogue."""

from __future__ import annotations

from typing import Any

import pytest
from litestar.testing import TestClient

from application.actor import Actor
from tests.api.conftest import PASSWORD, bearer, error, register
from wibestore.container import Container
from wibestore.seed import GAMES, SEED, seed_games

GAME_LIST_FIELDS = {
    "id",
    "name",
    "slug",
    "icon",
    "image",
    "color",
    "active_listings_count",
    "listings_count",
}


@pytest.fixture
def seeded(container: Container) -> Container:
    with container.read_your_writes():
        seed_games(container.catalogue)
    return container


@pytest.fixture
def staff(client: TestClient[Any], container: Container) -> dict[str, str]:
    with container.read_your_writes():
        container.accounts.create_user(
            Actor.platform("operator"), "boss@example.uz", PASSWORD, staff=True
        )
    login = client.post(
        "/api/v1/auth/login/", json={"email": "boss@example.uz", "password": PASSWORD}
    )
    return bearer(login.json()["data"]["tokens"]["access"])


def test_games_lists_the_whole_active_catalogue_in_order(
    client: TestClient[Any], seeded: Container
) -> None:
    body = client.get("/api/v1/games/").json()
    assert body["count"] == len(GAMES)
    assert body["next"] is None
    slugs = [g["slug"] for g in body["results"]]
    assert slugs[:8] == [
        "pubg-mobile",
        "steam",
        "free-fire",
        "standoff2",
        "mobile-legends",
        "clash-of-clans",
        "codm",
        "roblox",
    ]
    assert {"csgo", "dota2", "valorant", "genshin"} <= set(slugs)
    assert set(body["results"][0]) == GAME_LIST_FIELDS


def test_a_game_detail_by_slug(client: TestClient[Any], seeded: Container) -> None:
    game = client.get("/api/v1/games/pubg-mobile/").json()
    assert game["name"] == "PUBG Mobile"
    assert game["listings_count"] == game["active_listings_count"] == 0
    assert game["is_active"] is True
    assert game["created_at"].endswith("+05:00")


@pytest.mark.parametrize("slug", ["no-such-game", "x" * 300, "UPPER"])
def test_an_unknown_game_is_404(client: TestClient[Any], seeded: Container, slug: str) -> None:
    response = client.get(f"/api/v1/games/{slug}/")
    assert response.status_code == 404
    assert error(response)["code"] == "NOT_FOUND"


def test_staff_add_edit_and_deactivate_a_game(
    client: TestClient[Any], staff: dict[str, str]
) -> None:
    added = client.post(
        "/api/v1/admin-panel/games/",
        headers=staff,
        json={"name": "Tetris 99", "icon": "🧩", "color": "#112233"},
    )
    assert added.status_code == 201, added.text
    assert added.json()["slug"] == "tetris-99"
    edited = client.patch(
        "/api/v1/admin-panel/games/tetris-99/",
        headers=staff,
        json={"description": "Blocks.", "sort_order": 5},
    )
    assert edited.status_code == 200
    assert (edited.json()["description"], edited.json()["sort_order"]) == ("Blocks.", 5)
    assert client.get("/api/v1/games/tetris-99/").status_code == 200
    gone = client.delete("/api/v1/admin-panel/games/tetris-99/", headers=staff)
    assert gone.status_code == 204
    assert client.get("/api/v1/games/tetris-99/").status_code == 404
    assert client.get("/api/v1/games/").json()["count"] == 0
    back = client.patch(
        "/api/v1/admin-panel/games/tetris-99/", headers=staff, json={"is_active": True}
    )
    assert back.json()["is_active"] is True
    listed = client.get("/api/v1/admin-panel/games/", headers=staff).json()
    assert [g["slug"] for g in listed["results"]] == ["tetris-99"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "X", "color": "blue"}, "color"),
        ({"name": "X", "sort_order": -5}, "sort_order"),
        ({"name": "X", "slug": "Bad Slug"}, "slug"),
        ({"name": "X", "is_active": "yes"}, "is_active"),
        ({"name": "x" * 101}, "name"),
    ],
)
def test_bad_new_games_are_400(
    client: TestClient[Any], staff: dict[str, str], body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/v1/admin-panel/games/", headers=staff, json=body)
    assert response.status_code == 400
    assert field in error(response)["details"]


def test_a_duplicate_slug_is_400(client: TestClient[Any], staff: dict[str, str]) -> None:
    client.post("/api/v1/admin-panel/games/", headers=staff, json={"name": "Dota 2"})
    again = client.post("/api/v1/admin-panel/games/", headers=staff, json={"name": "DOTA 2"})
    assert again.status_code == 400
    assert "slug" in error(again)["details"]


def test_editing_an_unknown_game_is_404(client: TestClient[Any], staff: dict[str, str]) -> None:
    response = client.patch("/api/v1/admin-panel/games/nope/", headers=staff, json={"name": "Nope"})
    assert response.status_code == 404


def test_catalogue_curation_is_for_staff_only(client: TestClient[Any]) -> None:
    anonymous = client.post("/api/v1/admin-panel/games/", json={"name": "Mine"})
    assert anonymous.status_code == 401
    user = bearer(register(client)["tokens"]["access"])
    forbidden = client.post("/api/v1/admin-panel/games/", headers=user, json={"name": "Mine"})
    assert forbidden.status_code == 403
    assert error(forbidden)["code"] == "PERMISSION_DENIED"
    assert client.get("/api/v1/admin-panel/games/", headers=user).status_code == 403


def test_categories_come_as_a_tree(client: TestClient[Any], seeded: Container) -> None:
    body = client.get("/api/v1/games/categories/").json()
    roots = {c["slug"]: c for c in body["results"]}
    assert body["count"] == len(roots) == 4
    assert roots["mobile"]["parent"] is None
    children = {c["slug"]: c for c in roots["mobile"]["children"]}
    assert set(children) == {"mobile-shooters", "mobile-moba"}
    assert children["mobile-moba"]["parent"] == roots["mobile"]["id"]
    assert children["mobile-moba"]["children"] == []


def test_a_category_under_an_unknown_parent_is_refused(container: Container) -> None:
    from domain.errors import NotFound

    with pytest.raises(NotFound):
        container.catalogue.add_category(SEED, "Orphans", parent_slug="nowhere")
