"""`wibestore audit`: a clean ledger exits 0 with its three files; a read model that disagrees
with the replay (or a ledger that breaks an invariant) exits 1 and says where."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
import uuid
from pathlib import Path

from sqlalchemy import update

from application.actor import Actor
from projections.wallets import wallets
from tests.conftest import process_env
from wibestore.container import Container
from wibestore.seed import seed_games
from wibestore.settings import Settings

PASSWORD = "Sup3r-Secret!"
UZS = 100


def audit(settings: Settings, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wibestore.cli", "audit", "--out", str(out)],
        env=process_env(settings),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_audit_passes_a_clean_ledger_and_fails_a_tampered_read_model(
    container: Container, settings: Settings, tmp_path: Path
) -> None:
    app = container.app
    seed_games(container.catalogue)
    staff = container.accounts.create_user(
        Actor.platform("operator"), "staff@example.uz", PASSWORD, staff=True
    )
    seller = container.accounts.register("seller@example.uz", PASSWORD)
    buyer = container.accounts.register("buyer@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), buyer, uuid.uuid4(), 500_000 * UZS)
    listing = container.listings.create_listing(
        Actor.user(seller),
        "pubg-mobile",
        {"title": "Acc", "description": "D", "price": 100_000 * UZS},
    )
    container.listings.approve_listing(Actor.user(staff), listing)
    escrow = container.escrows.purchase(Actor.user(buyer), listing)
    container.escrows.confirm_purchase(Actor.user(buyer), escrow.id)
    assert container.board.wait_for(app.recorder.max_notification_id() or 0, 10)

    clean = audit(settings, tmp_path / "clean")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "PASS" in clean.stdout
    report = json.loads((tmp_path / "clean" / "audit-report.json").read_text())
    assert report["ok"] is True
    assert all(i["holds"] for i in report["invariants"].values())
    assert report["totals_minor_units"]["deposits_credited"] == 500_000 * UZS
    assert (
        (tmp_path / "clean" / "audit-summary.txt")
        .read_text()
        .startswith("WibeStore ledger audit: PASS")
    )
    with (tmp_path / "clean" / "escrow-ledger.csv").open() as f:
        rows = list(csv.DictReader(f))
    movements = [(r["kind"], r["amount"]) for r in rows if r["escrow"] == str(escrow.id)]
    assert movements == [
        ("escrow_hold", str(100_000 * UZS)),
        ("escrow_capture", str(100_000 * UZS)),
        ("credit", str(90_000 * UZS)),
        ("credit", str(10_000 * UZS)),
    ]

    with container.store.engine.begin() as conn:  # someone edits a balance behind our back
        conn.execute(
            update(wallets)
            .where(wallets.c.owner_id == seller)
            .values(available=wallets.c.available + 1)
        )
    tampered = audit(settings, tmp_path / "tampered")
    assert tampered.returncode == 1
    assert "FAIL" in tampered.stdout
    report = json.loads((tmp_path / "tampered" / "audit-report.json").read_text())
    assert report["read_models"]["agree"] is False
    assert str(seller) in report["read_models"]["differences"][0]


def test_the_fast_decoder_gives_the_mappers_events(container: Container) -> None:
    from projections.audit import FastDecoder

    app = container.app
    seed_games(container.catalogue)
    user = container.accounts.register("ann@example.uz", PASSWORD)
    container.payments.credit_deposit(Actor.platform("seed"), user, uuid.uuid4(), 500_000 * UZS)
    container.payments.request_withdrawal(Actor.user(user), 10_000 * UZS, "visa")
    fast = FastDecoder(app.mapper)
    for n in app.recorder.select_notifications(1, 1000):
        slow = app.mapper.to_domain_event(n)
        quick = fast((n.id, n.originator_id, n.originator_version, n.topic, n.state))
        assert type(quick) is type(slow)
        assert quick.__dict__ == slow.__dict__
