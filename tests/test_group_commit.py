"""Group commit: concurrent saves share transactions, and a save that loses a race inside a
group fails alone."""

from __future__ import annotations

import uuid

from adapters.group_commit import GroupCommitRecorder
from application.actor import Actor
from domain.errors import Conflict
from domain.wallet import InsufficientFunds, Wallet, wallet_id
from tests.test_application import race
from wibestore.container import Container

PASSWORD = "Sup3r-Secret!"
UZS = 100


def recorder(container: Container) -> GroupCommitRecorder:
    r = container.app.recorder
    assert isinstance(r, GroupCommitRecorder)
    return r


def test_concurrent_commands_share_transactions_and_each_keeps_its_own_outcome(
    container: Container,
) -> None:
    app = container.app
    users = [container.accounts.register(f"u{i}@example.uz", PASSWORD) for i in range(40)]
    before = (recorder(container).groups, recorder(container).saves)
    results = race(
        40,
        lambda i: container.payments.credit_deposit(
            Actor.platform("seed"), users[i], uuid.uuid4(), 5_000 * UZS
        ),
    )
    assert results == [None] * 40
    groups = recorder(container).groups - before[0]
    saves = recorder(container).saves - before[1]
    assert saves == 40
    assert groups < saves, "40 simultaneous saves never shared a transaction"
    for user in users:
        wallet = app.find(wallet_id(user), Wallet)
        assert wallet is not None and wallet.available == 5_000 * UZS
    ids = [n.id for n in app.recorder.select_notifications(1, 10_000)]
    assert ids == sorted(set(ids))


def test_a_save_that_conflicts_inside_a_group_fails_alone(container: Container) -> None:
    """Twenty withdrawals from one wallet race alongside twenty deposits to other wallets:
    the deposits all land, whoever shared their transaction."""
    app = container.app
    users = [container.accounts.register(f"u{i}@example.uz", PASSWORD) for i in range(21)]
    container.payments.credit_deposit(Actor.platform("seed"), users[0], uuid.uuid4(), 30_000 * UZS)

    def act(i: int) -> object:
        if i % 2:
            return container.payments.request_withdrawal(Actor.user(users[0]), 10_000 * UZS, "visa")
        container.payments.credit_deposit(
            Actor.platform("seed"), users[1 + i // 2], uuid.uuid4(), 2_000 * UZS
        )
        return "deposited"

    results = race(40, act)
    assert results.count("deposited") == 20
    granted = [r for r in results if isinstance(r, uuid.UUID)]
    assert len(granted) == 3
    refused = [r for r in results if r != "deposited" and not isinstance(r, uuid.UUID)]
    assert len(refused) == 17
    # a refusal of the wallet's own (or a race lost too often), never the group's failure
    assert all(isinstance(r, InsufficientFunds | Conflict) for r in refused), refused
    wallet = app.find(wallet_id(users[0]), Wallet)
    assert wallet is not None
    assert (wallet.available, wallet.pending_withdrawal) == (0, 30_000 * UZS)
