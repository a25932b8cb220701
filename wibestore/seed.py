"""Demo data: two users and the games catalogue the frontend expects by slug."""

from __future__ import annotations

import uuid

from application.actor import Actor
from application.catalogue import Catalogue
from application.services import Services

DEMO_STAFF = ("admin@wibestore.local", "Staff-Demo-2026!")
DEMO_USER = ("gamer@wibestore.local", "Player-Demo-2026!")

# (slug, name, icon, color) in the order the catalogue shows them.
GAMES: tuple[tuple[str, str, str, str], ...] = (
    ("pubg-mobile", "PUBG Mobile", "🔫", "#F2A900"),
    ("steam", "Steam", "🎮", "#1B2838"),
    ("free-fire", "Free Fire", "🔥", "#FF5722"),
    ("standoff2", "Standoff 2", "🎯", "#2E7D32"),
    ("mobile-legends", "Mobile Legends", "⚔️", "#1565C0"),
    ("clash-of-clans", "Clash of Clans", "🏰", "#FBC02D"),
    ("codm", "Call of Duty Mobile", "💥", "#424242"),
    ("roblox", "Roblox", "🧱", "#E53935"),
    ("csgo", "CS2 / CS:GO", "🎯", "#F57C00"),
    ("dota2", "Dota 2", "🛡️", "#B71C1C"),
    ("valorant", "Valorant", "🔺", "#FF4655"),
    ("genshin", "Genshin Impact", "✨", "#7E57C2"),
    ("fortnite", "Fortnite", "🪂", "#512DA8"),
    ("minecraft", "Minecraft", "⛏️", "#4CAF50"),
    ("brawl-stars", "Brawl Stars", "⭐", "#FFB300"),
    ("clash-royale", "Clash Royale", "👑", "#1E88E5"),
    ("league-of-legends", "League of Legends", "🏆", "#C89B3C"),
    ("apex-legends", "Apex Legends", "🦾", "#DA292A"),
    ("gta-v", "GTA V", "🚗", "#388E3C"),
    ("world-of-tanks", "World of Tanks", "🪖", "#6D4C41"),
    ("warface", "Warface", "🎖️", "#455A64"),
    ("honkai-star-rail", "Honkai: Star Rail", "🚂", "#5C6BC0"),
    ("pokemon-go", "Pokémon GO", "⚡", "#FFCA28"),
    ("fifa-mobile", "EA FC Mobile", "⚽", "#00897B"),
    ("efootball", "eFootball", "🥅", "#0D47A1"),
    ("rust", "Rust", "🪓", "#BF360C"),
    ("overwatch-2", "Overwatch 2", "🦸", "#F99E1A"),
    ("rainbow-six-siege", "Rainbow Six Siege", "🛡️", "#37474F"),
    ("world-of-warcraft", "World of Warcraft", "🐉", "#0277BD"),
    ("hearthstone", "Hearthstone", "🃏", "#8D6E63"),
    ("lost-ark", "Lost Ark", "🗡️", "#6A1B9A"),
    ("escape-from-tarkov", "Escape from Tarkov", "🎒", "#3E2723"),
    ("pubg-pc", "PUBG: Battlegrounds", "🪖", "#F9A825"),
    ("war-thunder", "War Thunder", "✈️", "#546E7A"),
    ("arena-breakout", "Arena Breakout", "🏃", "#263238"),
    ("wild-rift", "LoL: Wild Rift", "🌀", "#00ACC1"),
    ("epic-games", "Epic Games", "🏪", "#212121"),
    ("playstation", "PlayStation Network", "🕹️", "#003791"),
    ("xbox", "Xbox", "❎", "#107C10"),
    ("other", "Other games", "🎮", "#3B82F6"),
)


# (slug, name, parent slug)
CATEGORIES: tuple[tuple[str, str, str | None], ...] = (
    ("mobile", "Mobile games", None),
    ("pc", "PC games", None),
    ("console", "Console", None),
    ("mobile-shooters", "Mobile shooters", "mobile"),
    ("mobile-moba", "Mobile MOBA", "mobile"),
    ("pc-shooters", "PC shooters", "pc"),
    ("pc-mmo", "MMO and RPG", "pc"),
    ("platforms", "Platform accounts", None),
)


SEED = Actor.platform("seed")


def seed_games(catalogue: Catalogue) -> int:
    for slug, name, parent in CATEGORIES:
        if not catalogue.has_category(slug):
            catalogue.add_category(SEED, name, slug=slug, parent_slug=parent)
    added = 0
    for order, (slug, name, icon, color) in enumerate(GAMES):
        if not catalogue.has_game(slug):
            catalogue.add_game(SEED, name, slug=slug, icon=icon, color=color, sort_order=order)
            added += 1
    return added


DEMO_BALANCE = 5_000_000 * 100  # 5,000,000 UZS, in tiyin


def seed_users(services: Services) -> list[tuple[str, str, bool]]:
    out = []
    for (email, password), staff in ((DEMO_STAFF, True), (DEMO_USER, False)):
        if services.accounts.find_user_by_email(email) is None:
            user_id = services.accounts.create_user(
                Actor.platform("seed"),
                email,
                password,
                staff=staff,
                full_name="WibeStore Admin" if staff else "Demo Gamer",
            )
            if not staff:  # something to buy with in the demo (a deposit like any other)
                services.payments.credit_deposit(
                    Actor.platform("seed"), user_id, uuid.uuid4(), DEMO_BALANCE, provider="demo"
                )
        out.append((email, password, staff))
    return out
